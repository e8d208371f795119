// Whether bytes are all ASCII, eight at a time: for texts JS makes as Latin-1 strings (a copy, no UTF-8
// decoding), where a byte above 0x7f would be read as another character.
#ifndef FASTERMCP_NATIVE_CORE_ASCII_H_
#define FASTERMCP_NATIVE_CORE_ASCII_H_

#include <cstdint>
#include <cstring>
#include <string_view>

namespace mcp::jsonrpc {

inline bool is_ascii(std::string_view text) noexcept {
  const char* p = text.data();
  const char* end = p + text.size();
  uint64_t bits = 0;
  for (; end - p >= 8; p += 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    bits |= word;
  }
  for (; p < end; ++p) bits |= static_cast<uint8_t>(*p);
  return (bits & 0x8080808080808080ULL) == 0;
}

}  // namespace mcp::jsonrpc

#endif  // FASTERMCP_NATIVE_CORE_ASCII_H_
