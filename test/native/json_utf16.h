// Test helpers for the reply buffer (test/native/reply_buffer_test.cc, test/fuzz/fuzz_reply.cc): a
// unit-at-a-time JSON.stringify of UTF-16 text, written from the rules alone (no fast paths) so the
// writer's word-at-a-time paths are checked against it, and a UTF-8 to UTF-16 decoder for vector text.
#ifndef FASTERMCP_TEST_NATIVE_JSON_UTF16_H_
#define FASTERMCP_TEST_NATIVE_JSON_UTF16_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace check {

inline void append_utf8(std::string* out, uint32_t point) {
  if (point < 0x80) {
    out->push_back(static_cast<char>(point));
  } else if (point < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (point >> 6)));
    out->push_back(static_cast<char>(0x80 | (point & 0x3F)));
  } else if (point < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (point >> 12)));
    out->push_back(static_cast<char>(0x80 | ((point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (point & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (point >> 18)));
    out->push_back(static_cast<char>(0x80 | ((point >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (point & 0x3F)));
  }
}

/// JSON.stringify(text) as UTF-8, one unit at a time (ECMA-262 QuoteJSONString).
inline std::string reference_json_string(std::u16string_view text) {
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size(); ++i) {
    const uint32_t c = text[i];
    const bool high = c >= 0xD800 && c <= 0xDBFF;
    const bool low = c >= 0xDC00 && c <= 0xDFFF;
    if (high && i + 1 < text.size() && text[i + 1] >= 0xDC00 && text[i + 1] <= 0xDFFF) {
      append_utf8(&out, 0x10000 + ((c - 0xD800) << 10) + (text[i + 1] - 0xDC00u));
      ++i;
    } else if (high || low || c < 0x20) {
      switch (c) {
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default: {
          char escape[8];
          std::snprintf(escape, sizeof(escape), "\\u%04x", static_cast<unsigned>(c));
          out += escape;
        }
      }
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else {
      append_utf8(&out, c);
    }
  }
  out += '"';
  return out;
}

/// The UTF-16 units of well-formed UTF-8 `bytes` (test text only: nothing is checked).
inline std::u16string utf16_of(std::string_view bytes) {
  std::u16string out;
  for (std::size_t i = 0; i < bytes.size();) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    uint32_t point = b;
    std::size_t more = 0;
    if (b >= 0xF0) {
      point = b & 0x07;
      more = 3;
    } else if (b >= 0xE0) {
      point = b & 0x0F;
      more = 2;
    } else if (b >= 0xC0) {
      point = b & 0x1F;
      more = 1;
    }
    for (std::size_t k = 1; k <= more && i + k < bytes.size(); ++k) {
      point = (point << 6) | (static_cast<unsigned char>(bytes[i + k]) & 0x3F);
    }
    i += more + 1;
    if (point >= 0x10000) {
      out.push_back(static_cast<char16_t>(0xD800 + ((point - 0x10000) >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + ((point - 0x10000) & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(point));
    }
  }
  return out;
}

}  // namespace check

#endif  // FASTERMCP_TEST_NATIVE_JSON_UTF16_H_
