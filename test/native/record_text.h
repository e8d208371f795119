// Test helper: the records of an engine call resolved against their sources (the chunk or message given
// to the call, carried(), replies()), in the vector form of docs/jsonrpc-engine.md section 9.
#ifndef FASTERMCP_TEST_NATIVE_RECORD_TEXT_H_
#define FASTERMCP_TEST_NATIVE_RECORD_TEXT_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/engine.h"
#include "core/errors.h"
#include "core/records.h"

namespace check {

struct RecordText {
  std::array<int32_t, mcp::jsonrpc::kRecordStride> fields{};
  bool spans_ok = true;  // every span lies inside its source (or is -1, -1)
  bool has_message = false, has_id = false, has_method = false, has_body = false, has_reply = false, has_name = false;
  bool has_arguments = false, has_meta = false;
  std::string message, id, method, body, reply, name, arguments, meta;

  int32_t at(std::size_t index) const { return fields[index]; }
  int32_t kind() const { return fields[mcp::jsonrpc::field::kKind]; }
  int32_t flags() const { return fields[mcp::jsonrpc::field::kFlags]; }
  int32_t id_kind() const { return (flags() & mcp::jsonrpc::flag::kIdKindMask) >> mcp::jsonrpc::flag::kIdKindShift; }
  bool carry() const { return (flags() & mcp::jsonrpc::flag::kSrcCarry) != 0; }
  bool in_batch() const { return (flags() & mcp::jsonrpc::flag::kInBatch) != 0; }
  int32_t slot() const { return fields[mcp::jsonrpc::field::kSlot]; }
  int32_t name_slot() const { return fields[mcp::jsonrpc::field::kNameSlot]; }
  int32_t code() const { return fields[mcp::jsonrpc::field::kCode]; }
  std::string_view reason() const {
    return mcp::jsonrpc::reason_name(static_cast<mcp::jsonrpc::Reason>(fields[mcp::jsonrpc::field::kReason]));
  }
};

inline constexpr std::array<std::string_view, 6> kKindNames = {"request",        "notification", "response",
                                                               "error_response", "invalid",      "batch"};
inline constexpr std::array<std::string_view, 4> kIdKindNames = {"none", "null", "string", "number"};

inline std::string_view kind_name(int32_t kind) {
  return kind >= 0 && kind < static_cast<int32_t>(kKindNames.size()) ? kKindNames[static_cast<std::size_t>(kind)]
                                                                     : std::string_view("unknown");
}

// Reads span [start, end) of `source`; false when it is not -1/-1 and not inside the source.
inline bool read_span(std::string_view source, int32_t start, int32_t end, bool* present, std::string* text) {
  *present = false;
  if (start == -1 && end == -1) return true;
  if (start < 0 || end < start || static_cast<std::size_t>(end) > source.size()) return false;
  *present = true;
  text->assign(source.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(end - start)));
  return true;
}

// The records the engine holds after a call that was given `input` (the chunk or message; "" for end()).
inline std::vector<RecordText> record_texts(const mcp::jsonrpc::Engine& engine, std::string_view input) {
  namespace f = mcp::jsonrpc::field;
  std::vector<RecordText> out;
  const int32_t* records = engine.records();
  for (std::size_t i = 0; i < engine.record_count(); ++i) {
    RecordText text;
    for (std::size_t j = 0; j < mcp::jsonrpc::kRecordStride; ++j) {
      text.fields[j] = records[i * mcp::jsonrpc::kRecordStride + j];
    }
    const std::string_view source = text.carry() ? engine.carried() : input;
    bool ok = read_span(source, text.at(f::kStart), text.at(f::kEnd), &text.has_message, &text.message);
    ok = read_span(source, text.at(f::kIdStart), text.at(f::kIdEnd), &text.has_id, &text.id) && ok;
    ok = read_span(source, text.at(f::kMethodStart), text.at(f::kMethodEnd), &text.has_method, &text.method) && ok;
    ok = read_span(source, text.at(f::kNameStart), text.at(f::kNameEnd), &text.has_name, &text.name) && ok;
    ok = read_span(source, text.at(f::kArgsStart), text.at(f::kArgsEnd), &text.has_arguments, &text.arguments) && ok;
    ok = read_span(source, text.at(f::kMetaStart), text.at(f::kMetaEnd), &text.has_meta, &text.meta) && ok;
    if ((text.flags() & mcp::jsonrpc::flag::kBodyIsReply) != 0) {
      ok =
          read_span(engine.replies(), text.at(f::kBodyStart), text.at(f::kBodyEnd), &text.has_reply, &text.reply) && ok;
    } else {
      ok = read_span(source, text.at(f::kBodyStart), text.at(f::kBodyEnd), &text.has_body, &text.body) && ok;
    }
    text.spans_ok = ok;
    out.push_back(std::move(text));
  }
  return out;
}

}  // namespace check

#endif  // FASTERMCP_TEST_NATIVE_RECORD_TEXT_H_
