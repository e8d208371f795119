// The RFC 8259 number grammar, shared by the scanner's walk (scan.cc) and the skeleton's match (skeleton.cc).
#ifndef FASTERMCP_NATIVE_CORE_JSON_NUMBER_H_
#define FASTERMCP_NATIVE_CORE_JSON_NUMBER_H_

#include <cstddef>
#include <string_view>

namespace mcp::jsonrpc {

// RFC 8259 number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?  `integer`: no fraction, no exponent.
inline bool is_json_number(std::string_view token, bool* integer) noexcept {
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  std::size_t i = 0;
  const std::size_t n = token.size();
  if (i < n && token[i] == '-') ++i;
  if (i >= n) return false;
  if (token[i] == '0') {
    ++i;
  } else if (token[i] >= '1' && token[i] <= '9') {
    while (i < n && digit(token[i])) ++i;
  } else {
    return false;
  }
  bool whole = true;
  if (i < n && token[i] == '.') {
    const std::size_t first = ++i;
    while (i < n && digit(token[i])) ++i;
    if (i == first) return false;
    whole = false;
  }
  if (i < n && (token[i] == 'e' || token[i] == 'E')) {
    ++i;
    if (i < n && (token[i] == '+' || token[i] == '-')) ++i;
    const std::size_t first = i;
    while (i < n && digit(token[i])) ++i;
    if (i == first) return false;
    whole = false;
  }
  if (i != n) return false;
  *integer = whole;
  return true;
}

}  // namespace mcp::jsonrpc

#endif  // FASTERMCP_NATIVE_CORE_JSON_NUMBER_H_
