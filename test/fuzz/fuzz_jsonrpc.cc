// libFuzzer target for the JSON-RPC engine: framing + scan + routing on arbitrary bytes.
//
// Input: byte 0 picks the limits, byte 1 batch options, bytes 2-3 seed the chunk boundaries, the rest is
// the stream. The stream is fed as one chunk and again split into chunks (then end() each time), and
// scanned whole with scan(). Invariants (abort on violation):
//   * every span lies inside its source (chunk, carried(), replies()); fields a kind does not use are -1/0
//   * a batch record's count equals the number of IN_BATCH records after it
//   * the reply spans tile replies() in record order; every reply is the exact error reply for its record
//     (checked by parsing it with simdjson DOM, id replaced by null) with code -32700 or -32600, and its id
//     is the record's raw id or null
//   * the records do not depend on the chunking (apart from META_REPEATED, which compares within a call)
//   * META_REPEATED is set exactly on the calls' records whose META bytes equal the call's previous META
//   * id_text() is the call's raw ids joined in record order, or none exactly when one is not ASCII
//   * scan(): invalid_utf8 exactly when the body is not UTF-8; a body simdjson DOM accepts is never
//     invalid_json / invalid_utf8; a body the engine accepts as JSON is accepted by DOM (or only refused
//     by DOM for a number it cannot convert)
#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/engine.h"
#include "core/errors.h"
#include "core/records.h"
#include "core/response.h"
#include "core/router.h"
#include "core/scan.h"
#include "engine_fixture.h"

namespace {

namespace jr = mcp::jsonrpc;
namespace f = jr::field;

using fuzz::router;
using fuzz::scanner;

simdjson::dom::parser& dom_parser() {
  static simdjson::dom::parser instance;
  return instance;
}

std::string_view span(std::string_view source, const int32_t* record, std::size_t index) {
  const int32_t start = record[index];
  const int32_t end = record[index + 1];
  if (start == -1 && end == -1) return {};
  REQUIRE(start >= 0 && end >= start && static_cast<std::size_t>(end) <= source.size());
  return source.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(end - start));
}

bool has_span(const int32_t* record, std::size_t index) { return record[index] != -1; }

// Checks the reply of an invalid record: exact bytes apart from the id, which is the raw id or null.
void check_reply(std::string_view reply, std::string_view raw_id, jr::Reason reason, const jr::Limits& limits) {
  std::string expected;
  jr::append_error_reply(&expected, raw_id.empty() ? jr::kNullId : raw_id, reason, limits);
  REQUIRE(reply == expected);
  // The same reply with a null id must be JSON with the right code and message.
  const std::string_view head = "{\"jsonrpc\":\"2.0\",\"id\":";
  REQUIRE(reply.substr(0, head.size()) == head);
  const std::size_t id_end = head.size() + (raw_id.empty() ? jr::kNullId.size() : raw_id.size());
  const std::string with_null = std::string(head) + "null" + std::string(reply.substr(id_end));
  simdjson::dom::element root;
  REQUIRE(dom_parser().parse(with_null).get(root) == simdjson::SUCCESS);
  int64_t code = 0;
  REQUIRE(root["error"]["code"].get_int64().get(code) == simdjson::SUCCESS);
  REQUIRE(code == jr::kParseError || code == jr::kInvalidRequest);
  REQUIRE(code == jr::wire_code(reason));
  std::string_view message;
  REQUIRE(root["error"]["message"].get_string().get(message) == simdjson::SUCCESS);
  std::string expected_message;
  jr::append_reason_message(&expected_message, reason, limits);
  REQUIRE(message == expected_message);
}

// Checks the records of one call; appends a chunking-independent summary of each to `summaries`.
void check_call(const jr::Engine& engine, std::string_view input, const jr::Limits& limits,
                std::vector<std::string>* summaries) {
  const int32_t* records = engine.records();
  const std::size_t count = engine.record_count();
  const std::string_view replies = engine.replies();
  std::size_t reply_end = 0;
  std::size_t batch_left = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const int32_t* r = records + i * jr::kRecordStride;
    const int32_t kind = r[f::kKind];
    const int32_t flags = r[f::kFlags];
    REQUIRE(kind >= jr::kind::kRequest && kind <= jr::kind::kBatch);
    REQUIRE((flags & ~(0xFF | jr::flag::kMetaRepeated)) == 0);
    const bool carry = (flags & jr::flag::kSrcCarry) != 0;
    const bool in_batch = (flags & jr::flag::kInBatch) != 0;
    const int32_t id_kind = (flags & jr::flag::kIdKindMask) >> jr::flag::kIdKindShift;
    const std::string_view source = carry ? engine.carried() : input;
    const std::string_view message = span(source, r, f::kStart);
    const std::string_view id = span(source, r, f::kIdStart);
    const std::string_view method = span(source, r, f::kMethodStart);
    const std::string_view name = span(source, r, f::kNameStart);
    const bool is_reply = (flags & jr::flag::kBodyIsReply) != 0;
    const std::string_view body = span(is_reply ? replies : source, r, f::kBodyStart);
    // Batch bookkeeping.
    REQUIRE(in_batch == (batch_left > 0));
    if (batch_left > 0) --batch_left;
    if (kind == jr::kind::kBatch) {
      REQUIRE(r[f::kSlot] >= 1 && static_cast<uint32_t>(r[f::kSlot]) <= limits.max_batch);
      REQUIRE(limits.allow_batch);
      batch_left = static_cast<std::size_t>(r[f::kSlot]);
      REQUIRE(i + batch_left < count);
      REQUIRE(!has_span(r, f::kIdStart) && !has_span(r, f::kBodyStart) && id_kind == jr::id_kind::kNone);
    }
    if (kind == jr::kind::kInvalid) {
      const auto reason = static_cast<jr::Reason>(r[f::kReason]);
      REQUIRE(r[f::kReason] >= 1 && static_cast<std::size_t>(r[f::kReason]) < jr::kReasonCount);
      REQUIRE(r[f::kCode] == jr::wire_code(reason));
      REQUIRE(is_reply);
      REQUIRE(static_cast<std::size_t>(r[f::kBodyStart]) == reply_end);  // replies tile replies()
      reply_end = static_cast<std::size_t>(r[f::kBodyEnd]);
      REQUIRE(r[f::kSlot] == -1 && r[f::kNameSlot] == -1 && !has_span(r, f::kMethodStart) &&
              !has_span(r, f::kNameStart));
      REQUIRE(id_kind == (has_span(r, f::kIdStart) ? id_kind : jr::id_kind::kNull));
      REQUIRE(id_kind != jr::id_kind::kNone);
      if (has_span(r, f::kIdStart)) REQUIRE(id_kind == jr::id_kind::kString || id_kind == jr::id_kind::kNumber);
      if (reason == jr::Reason::kTooLarge) {
        REQUIRE(!has_span(r, f::kStart) && !carry && !in_batch);
      } else {
        REQUIRE(has_span(r, f::kStart));
      }
      if (jr::wire_code(reason) == jr::kParseError) REQUIRE(!has_span(r, f::kIdStart) && !in_batch);
      check_reply(body, id, reason, limits);
    } else {
      REQUIRE(r[f::kCode] == 0 && r[f::kReason] == 0 && !is_reply);
      REQUIRE(has_span(r, f::kStart) && !message.empty());
    }
    if (kind == jr::kind::kRequest) {
      REQUIRE(has_span(r, f::kIdStart) && has_span(r, f::kMethodStart));
      REQUIRE(id_kind == jr::id_kind::kString || id_kind == jr::id_kind::kNumber);
    }
    if (kind == jr::kind::kNotification) REQUIRE(!has_span(r, f::kIdStart) && id_kind == jr::id_kind::kNone);
    if (kind == jr::kind::kResponse || kind == jr::kind::kErrorResponse) {
      REQUIRE(has_span(r, f::kIdStart) && has_span(r, f::kBodyStart) && r[f::kSlot] == -1);
      REQUIRE(id_kind != jr::id_kind::kNone);
      if (kind == jr::kind::kResponse) REQUIRE(id_kind != jr::id_kind::kNull);
    }
    if (has_span(r, f::kNameStart)) REQUIRE(kind == jr::kind::kRequest || kind == jr::kind::kNotification);
    if (!has_span(r, f::kNameStart)) REQUIRE(r[f::kNameSlot] == -1);
    // ARGS, META and PARAMS_SPANNED: only requests and notifications with an object params, inside it.
    const bool call = kind == jr::kind::kRequest || kind == jr::kind::kNotification;
    const bool object_params = call && has_span(r, f::kBodyStart) && !body.empty() && body.front() == '{';
    for (const std::size_t field : {f::kArgsStart, f::kMetaStart}) {
      if (!has_span(r, field)) continue;
      REQUIRE(object_params);
      REQUIRE(r[field] > r[f::kBodyStart] && r[field + 1] < r[f::kBodyEnd] && r[field] < r[field + 1]);
    }
    if ((flags & jr::flag::kParamsSpanned) != 0) REQUIRE(object_params);
    if (summaries != nullptr) {
      // META_REPEATED compares within a call, so it depends on the chunking; it is checked per call below.
      std::string summary = std::to_string(kind) + "|" +
                            std::to_string(flags & ~(jr::flag::kSrcCarry | jr::flag::kMetaRepeated)) + "|" +
                            std::to_string(r[f::kSlot]) + "|" + std::to_string(r[f::kNameSlot]) + "|" +
                            std::to_string(r[f::kReason]) + "|";
      for (std::string_view text : {message, id, method, name, body}) {
        summary += std::to_string(text.size()) + ":";
        summary += text;
      }
      summaries->push_back(std::move(summary));
    }
  }
  REQUIRE(batch_left == 0);
  REQUIRE(reply_end == replies.size());
  REQUIRE(fuzz::meta_repeated_holds(engine, input));
}

// Engine::id_text after a call (docs/jsonrpc-engine.md section 12).
void check_id_text(jr::Engine* engine, std::string_view input) {
  std::string expected;
  bool ascii = true;
  for (std::size_t i = 0; i < engine->record_count(); ++i) {
    const int32_t* r = engine->records() + i * jr::kRecordStride;
    if (!has_span(r, f::kIdStart)) continue;
    const std::string_view id = span((r[f::kFlags] & jr::flag::kSrcCarry) != 0 ? engine->carried() : input, r, f::kIdStart);
    for (const char c : id) ascii = ascii && static_cast<uint8_t>(c) < 0x80;
    expected.append(id);
  }
  const std::string* text = engine->id_text(input);
  REQUIRE(ascii ? text != nullptr && *text == expected : text == nullptr);
}

// The chunking-independent records of `stream` fed as `chunks` (lengths) then end().
std::vector<std::string> run_stream(std::string_view stream, const std::vector<std::size_t>& chunks,
                                    const jr::Limits& limits) {
  jr::Engine engine(&router(), &scanner(), limits);
  std::vector<std::string> summaries;
  std::size_t at = 0;
  for (std::size_t length : chunks) {
    const std::string_view chunk = stream.substr(at, length);
    at += chunk.size();
    // A copy of exactly the chunk's bytes, so that reading past it is a heap overflow under ASan.
    std::vector<uint8_t> copy(chunk.begin(), chunk.end());
    REQUIRE(engine.feed(copy.data(), copy.size()));
    const std::string_view input(reinterpret_cast<const char*>(copy.data()), copy.size());
    check_call(engine, input, limits, &summaries);
    check_id_text(&engine, input);
  }
  engine.end();
  check_call(engine, {}, limits, &summaries);
  check_id_text(&engine, {});
  return summaries;
}

void check_scan(std::string_view body, const jr::Limits& limits) {
  jr::Engine engine(&router(), &scanner(), limits);
  std::vector<uint8_t> copy(body.begin(), body.end());
  REQUIRE(engine.scan(copy.data(), copy.size()));
  check_call(engine, body, limits, nullptr);
  check_id_text(&engine, body);
  const std::size_t count = engine.record_count();
  REQUIRE(count >= 1);
  const int32_t* first = engine.records();
  const auto reason = static_cast<jr::Reason>(first[f::kReason]);
  if (body.size() > limits.max_message_bytes) {
    REQUIRE(count == 1 && reason == jr::Reason::kTooLarge);
    return;
  }
  std::string_view text = body;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  const bool utf8 = simdjson::validate_utf8(text.data(), text.size());
  REQUIRE((reason == jr::Reason::kInvalidUtf8) == !utf8);
  if (!utf8) return;
  const bool parse_error = first[f::kCode] == jr::kParseError;
  const std::string_view trimmed = [&] {
    std::size_t a = 0;
    std::size_t b = text.size();
    while (a < b && (text[a] == ' ' || text[a] == '\t' || text[a] == '\r' || text[a] == '\n')) ++a;
    while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r' || text[b - 1] == '\n')) --b;
    return text.substr(a, b - a);
  }();
  if (trimmed.substr(0, 3) == "\xEF\xBB\xBF") {
    // DOM would drop a second BOM; for the engine it is an invalid character.
    REQUIRE(reason == jr::Reason::kInvalidJson);
    return;
  }
  simdjson::dom::element root;
  const simdjson::error_code dom_error = dom_parser().parse(text.data(), text.size()).get(root);
  if (dom_error == simdjson::SUCCESS) {
    REQUIRE(reason != jr::Reason::kInvalidJson);
  } else if (!parse_error || reason == jr::Reason::kTooDeep) {
    // The engine accepted the JSON (or stopped at depth): DOM may only refuse numbers or depth.
    REQUIRE(dom_error == simdjson::NUMBER_ERROR || dom_error == simdjson::BIGINT_ERROR ||
            dom_error == simdjson::NUMBER_OUT_OF_RANGE || dom_error == simdjson::DEPTH_ERROR ||
            reason == jr::Reason::kTooDeep);
  }
}

uint32_t next_random(uint32_t* state) {
  uint32_t x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  *state = x;
  return x;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  jr::Limits limits;
  const uint8_t shape = data[0];
  const uint8_t batch = data[1];
  limits.max_message_bytes = (shape & 0x80) != 0 ? jr::Limits{}.max_message_bytes : 8u + (shape & 0x3Fu) * 16u;
  limits.max_depth = 1u + ((shape >> 2) & 0x7u);
  if ((shape & 0x40) != 0) limits.max_depth = jr::Limits{}.max_depth;
  limits.max_batch = 1u + (batch & 0x7u);
  limits.allow_batch = (batch & 0x8u) == 0;
  uint32_t seed = (static_cast<uint32_t>(data[2]) << 8 | data[3]) * 2654435761u + 1u;
  const std::string_view stream(reinterpret_cast<const char*>(data + 4), size - 4);

  const std::vector<std::string> whole = run_stream(stream, {stream.size()}, limits);
  std::vector<std::size_t> chunks;
  for (std::size_t left = stream.size(); left > 0;) {
    const uint32_t pick = next_random(&seed);
    std::size_t length = (pick & 3u) == 0 ? 0 : 1 + (pick >> 4) % ((pick & 4u) != 0 ? 8u : 128u);
    if (length > left) length = left;
    chunks.push_back(length);
    left -= length;
  }
  const std::vector<std::string> split = run_stream(stream, chunks, limits);
  REQUIRE(whole == split);

  check_scan(stream, limits);
  return 0;
}
