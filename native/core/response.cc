#include "core/response.h"

#include <array>
#include <charconv>

namespace mcp::jsonrpc {
namespace {

constexpr std::string_view kHead = "{\"jsonrpc\":\"2.0\",\"id\":";

// For each byte: 0 copy as is, 'u' write \u00xx, else the letter after the backslash.
constexpr std::array<char, 256> make_escape_table() {
  std::array<char, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = 'u';
  table['\b'] = 'b';
  table['\f'] = 'f';
  table['\n'] = 'n';
  table['\r'] = 'r';
  table['\t'] = 't';
  table['"'] = '"';
  table['\\'] = '\\';
  return table;
}

constexpr std::array<char, 256> kEscape = make_escape_table();

void append_integer(std::string* out, int64_t value) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof(digits), value);
  out->append(digits, result.ptr);
}

}  // namespace

void append_json_string(std::string* out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  std::size_t run = 0;  // start of the pending run of bytes copied as they are
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char escape = kEscape[static_cast<unsigned char>(text[i])];
    if (escape == 0) continue;
    out->append(text.data() + run, i - run);
    run = i + 1;
    if (escape == 'u') {
      const auto byte = static_cast<unsigned char>(text[i]);
      const char sequence[6] = {'\\', 'u', '0', '0', kHex[byte >> 4], kHex[byte & 0xF]};
      out->append(sequence, sizeof(sequence));
    } else {
      const char sequence[2] = {'\\', escape};
      out->append(sequence, sizeof(sequence));
    }
  }
  out->append(text.data() + run, text.size() - run);
  out->push_back('"');
}

void append_result_response(std::string* out, std::string_view raw_id, std::string_view result_json) {
  out->append(kHead);
  out->append(raw_id);
  out->append(",\"result\":");
  out->append(result_json);
  out->push_back('}');
}

void append_error_response(std::string* out, std::string_view raw_id, int64_t code, std::string_view message,
                           std::string_view data_json) {
  out->append(kHead);
  out->append(raw_id);
  out->append(",\"error\":{\"code\":");
  append_integer(out, code);
  out->append(",\"message\":");
  append_json_string(out, message);
  if (!data_json.empty()) {
    out->append(",\"data\":");
    out->append(data_json);
  }
  out->append("}}");
}

void append_error_reply(std::string* out, std::string_view raw_id, Reason reason, const Limits& limits) {
  std::string message;
  append_reason_message(&message, reason, limits);
  append_error_response(out, raw_id, wire_code(reason), message);
}

}  // namespace mcp::jsonrpc
