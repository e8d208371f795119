// response.h: JSON.stringify-compatible string escaping and the exact reply / response bytes.
#include "core/response.h"

#include <string>

#include "check.h"

namespace {

using mcp::jsonrpc::append_json_string;

std::string quoted(std::string_view text) {
  std::string out;
  append_json_string(&out, text);
  return out;
}

bool test_plain_strings_are_copied() {
  ASSERT_EQ(quoted(""), "\"\"");
  ASSERT_EQ(quoted("hello world"), "\"hello world\"");
  // JSON.stringify leaves '/', DEL, U+2028 and non-ASCII UTF-8 as they are.
  ASSERT_EQ(quoted("a/b\x7f"), "\"a/b\x7f\"");
  ASSERT_EQ(quoted("caf\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80\"");
  return true;
}

bool test_short_escapes() {
  ASSERT_EQ(quoted("\"\\"), "\"\\\"\\\\\"");
  ASSERT_EQ(quoted("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"");
  return true;
}

bool test_other_control_characters_use_lowercase_u_escapes() {
  ASSERT_EQ(quoted(std::string_view("\0", 1)), "\"\\u0000\"");
  ASSERT_EQ(quoted("\x01\x0b\x1f"), "\"\\u0001\\u000b\\u001f\"");
  ASSERT_EQ(quoted("a\x1e"
                   "b"),
            "\"a\\u001eb\"");
  return true;
}

bool test_every_byte_against_json_stringify_rules() {
  for (int c = 0; c < 0x80; ++c) {
    const char byte = static_cast<char>(c);
    const std::string out = quoted(std::string_view(&byte, 1));
    std::string expected;
    switch (c) {
      case '"':
        expected = "\"\\\"\"";
        break;
      case '\\':
        expected = "\"\\\\\"";
        break;
      case '\b':
        expected = "\"\\b\"";
        break;
      case '\f':
        expected = "\"\\f\"";
        break;
      case '\n':
        expected = "\"\\n\"";
        break;
      case '\r':
        expected = "\"\\r\"";
        break;
      case '\t':
        expected = "\"\\t\"";
        break;
      default:
        if (c < 0x20) {
          char buffer[16];
          std::snprintf(buffer, sizeof(buffer), "\"\\u%04x\"", c);
          expected = buffer;
        } else {
          expected = std::string("\"") + byte + "\"";
        }
    }
    ASSERT_EQ(out, expected);
  }
  return true;
}

bool test_result_response() {
  std::string out;
  mcp::jsonrpc::append_result_response(&out, "\"a\\u0062\"", "{\"ok\":true}");
  ASSERT_EQ(out, "{\"jsonrpc\":\"2.0\",\"id\":\"a\\u0062\",\"result\":{\"ok\":true}}");
  out.clear();
  mcp::jsonrpc::append_result_response(&out, "1.50", "[]");
  ASSERT_EQ(out, "{\"jsonrpc\":\"2.0\",\"id\":1.50,\"result\":[]}");
  return true;
}

bool test_error_response() {
  std::string out;
  mcp::jsonrpc::append_error_response(&out, "7", -32601, "Method not found: \"x\"");
  ASSERT_EQ(out,
            "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":-32601,\"message\":\"Method not found: \\\"x\\\"\"}}");
  out.clear();
  mcp::jsonrpc::append_error_response(&out, mcp::jsonrpc::kNullId, -32603, "boom", "{\"detail\":1}");
  ASSERT_EQ(
      out,
      "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32603,\"message\":\"boom\",\"data\":{\"detail\":1}}}");
  out.clear();
  mcp::jsonrpc::append_error_response(&out, "1", INT64_MIN, "");
  ASSERT_EQ(out, "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-9223372036854775808,\"message\":\"\"}}");
  return true;
}

bool test_error_reply_matches_spec_vector() {
  // test/vectors/scan/n_bad_version_keeps_id.json
  std::string out;
  mcp::jsonrpc::append_error_reply(&out, "\"a\\u0062\"", mcp::jsonrpc::Reason::kBadVersion, mcp::jsonrpc::Limits{});
  ASSERT_EQ(out,
            "{\"jsonrpc\":\"2.0\",\"id\":\"a\\u0062\",\"error\":{\"code\":-32600,\"message\":\"Invalid Request: "
            "\\\"jsonrpc\\\" must be \\\"2.0\\\"\"}}");
  out.clear();
  mcp::jsonrpc::Limits limits;
  limits.max_depth = 3;
  mcp::jsonrpc::append_error_reply(&out, mcp::jsonrpc::kNullId, mcp::jsonrpc::Reason::kTooDeep, limits);
  ASSERT_EQ(out,
            "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"Parse error: message nests "
            "deeper than 3 levels\"}}");
  return true;
}

}  // namespace

int main() {
  int failures = 0;
  RUN(test_plain_strings_are_copied);
  RUN(test_short_escapes);
  RUN(test_other_control_characters_use_lowercase_u_escapes);
  RUN(test_every_byte_against_json_stringify_rules);
  RUN(test_result_response);
  RUN(test_error_response);
  RUN(test_error_reply_matches_spec_vector);
  return failures == 0 ? 0 : 1;
}
