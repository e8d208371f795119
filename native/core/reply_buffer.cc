#include "core/reply_buffer.h"

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace mcp::jsonrpc {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr std::string_view kHead = "{\"jsonrpc\":\"2.0\",\"id\":";
constexpr std::string_view kTextResult = ",\"result\":{\"content\":[{\"type\":\"text\",\"text\":";

char* put(char* out, std::string_view bytes) {
  std::memcpy(out, bytes.data(), bytes.size());
  return out + bytes.size();
}

#if defined(__SSE2__)
// Whether eight units are all printable ASCII other than '"' and '\\'; if so, writes them as bytes.
inline bool copy_plain8(char* out, const char16_t* text) {
  const __m128i units = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text));
  // 0x20 <= unit < 0x80 as one unsigned compare of unit - 0x20 against 0x60 (signed, with the top bit flipped).
  const __m128i shifted = _mm_xor_si128(_mm_sub_epi16(units, _mm_set1_epi16(0x20)), _mm_set1_epi16(-0x8000));
  const __m128i printable = _mm_cmplt_epi16(shifted, _mm_set1_epi16(static_cast<int16_t>(0x60 - 0x8000)));
  const __m128i special = _mm_or_si128(_mm_cmpeq_epi16(units, _mm_set1_epi16('"')), _mm_cmpeq_epi16(units, _mm_set1_epi16('\\')));
  if (_mm_movemask_epi8(_mm_andnot_si128(special, printable)) != 0xFFFF) return false;
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_packus_epi16(units, units));
  return true;
}
#else
// Per-lane masks over four UTF-16 units in a 64-bit word: a lane's top bit is set where the unit is
// below `n` (units below 0x8000), or equal to `n`.
constexpr uint64_t kOnes = 0x0001000100010001ULL;
constexpr uint64_t kTops = 0x8000800080008000ULL;
inline uint64_t below(uint64_t w, uint64_t n) { return (w - n * kOnes) & ~w & kTops; }
inline uint64_t equal(uint64_t w, uint64_t n) { return below(w ^ (n * kOnes), 1); }

// Whether four units are all printable ASCII other than '"' and '\\' (each copied as one byte).
inline bool plain4(uint64_t w) {
  return ((w & 0xFF80FF80FF80FF80ULL) | below(w, 0x20) | equal(w, '"') | equal(w, '\\')) == 0;
}
#endif

char* put_two(char* out, unsigned c) {
  out[0] = static_cast<char>(0xC0 | (c >> 6));
  out[1] = static_cast<char>(0x80 | (c & 0x3F));
  return out + 2;
}

char* put_three(char* out, unsigned c) {
  out[0] = static_cast<char>(0xE0 | (c >> 12));
  out[1] = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
  out[2] = static_cast<char>(0x80 | (c & 0x3F));
  return out + 3;
}

char* put_four(char* out, uint32_t point) {
  out[0] = static_cast<char>(0xF0 | (point >> 18));
  out[1] = static_cast<char>(0x80 | ((point >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((point >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (point & 0x3F));
  return out + 4;
}

char* escape_unit(char* out, unsigned unit) {
  out[0] = '\\';
  out[1] = 'u';
  out[2] = kHex[(unit >> 12) & 0xF];
  out[3] = kHex[(unit >> 8) & 0xF];
  out[4] = kHex[(unit >> 4) & 0xF];
  out[5] = kHex[unit & 0xF];
  return out + 6;
}

// A unit from 0x80 up as UTF-8, with the low surrogate at *next when the two pair (then *next moves past it);
// a lone surrogate, which has no UTF-8, is written by `lone`.
template <typename Lone>
char* put_non_ascii(char* out, unsigned c, const char16_t* text, std::size_t units, std::size_t* next, Lone lone) {
  if (c < 0x800) return put_two(out, c);
  if (c < 0xD800 || c > 0xDFFF) return put_three(out, c);
  const std::size_t i = *next;
  if (c <= 0xDBFF && i < units && text[i] >= 0xDC00 && text[i] <= 0xDFFF) {
    *next = i + 1;
    return put_four(out, 0x10000 + ((c - 0xD800) << 10) + (text[i] - 0xDC00u));
  }
  return lone(out, c);
}

// One unit that is not plain ASCII (or any unit), and the low surrogate of a pair: returns the end.
char* write_unit(char* out, const char16_t* text, std::size_t units, std::size_t* at) {
  std::size_t i = *at;
  const unsigned c = text[i++];
  if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
    *out++ = static_cast<char>(c);
  } else if (c < 0x80) {
    char letter = 0;
    switch (c) {
      case '"': letter = '"'; break;
      case '\\': letter = '\\'; break;
      case '\b': letter = 'b'; break;
      case '\f': letter = 'f'; break;
      case '\n': letter = 'n'; break;
      case '\r': letter = 'r'; break;
      case '\t': letter = 't'; break;
      default: break;
    }
    if (letter != 0) {
      out[0] = '\\';
      out[1] = letter;
      out += 2;
    } else {
      out = escape_unit(out, c);
    }
  } else {
    out = put_non_ascii(out, c, text, units, &i, escape_unit);  // JSON.stringify escapes a lone surrogate
  }
  *at = i;
  return out;
}

}  // namespace

char* write_json_string_utf16(char* out, const char16_t* text, std::size_t units) {
  *out++ = '"';
  std::size_t i = 0;
  while (i < units) {
    // A block of plain ASCII (most text is) is copied at once; any other block unit by unit, so text that
    // is mostly not ASCII is not tested block by block for every unit.
#if defined(__SSE2__)
    constexpr std::size_t kBlock = 8;
    if (i + kBlock <= units && copy_plain8(out, text + i)) {
      out += kBlock;
      i += kBlock;
      continue;
    }
#else
    constexpr std::size_t kBlock = 4;
    if (i + kBlock <= units) {
      uint64_t w;
      std::memcpy(&w, text + i, sizeof(w));
      if (plain4(w)) {
        for (std::size_t k = 0; k < kBlock; ++k) out[k] = static_cast<char>(text[i + k]);
        out += kBlock;
        i += kBlock;
        continue;
      }
    }
#endif
    const std::size_t stop = std::min(units, i + kBlock);
    while (i < stop) out = write_unit(out, text, units, &i);
  }
  *out++ = '"';
  return out;
}

char* write_utf8(char* out, std::u16string_view text) {
  const std::size_t units = text.size();
  std::size_t i = 0;
  while (i < units) {
    const unsigned c = text[i++];
    if (c < 0x80) {
      *out++ = static_cast<char>(c);
    } else {
      out = put_non_ascii(out, c, text.data(), units, &i, [](char* at, unsigned) { return put_three(at, 0xFFFD); });
    }
  }
  return out;
}

char* ReplyBuffer::reserve(std::size_t bytes) {
  if (capacity_ - size_ < bytes) {
    const std::size_t capacity = std::max(std::max<std::size_t>(capacity_ * 2, 64 * 1024), size_ + bytes);
    std::unique_ptr<char[]> grown(new char[capacity]);
    if (size_ != 0) std::memcpy(grown.get(), data_.get(), size_);
    data_ = std::move(grown);
    capacity_ = capacity;
  }
  return data_.get() + size_;
}

void ReplyBuffer::append_line(std::string_view json) {
  char* out = put(reserve(json.size() + 1), json);
  *out++ = '\n';
  size_ = static_cast<std::size_t>(out - data_.get());
}

void ReplyBuffer::set_members(std::u16string_view members) {
  members_.resize(3 * members.size());
  members_.resize(static_cast<std::size_t>(write_utf8(members_.data(), members) - members_.data()));
}

void ReplyBuffer::append_text_result(std::u16string_view raw_id, std::u16string_view text) {
  const std::size_t most = kHead.size() + 3 * raw_id.size() + kTextResult.size() +
                           json_string_utf16_bound(text.size()) + 2 + members_.size() + 3;
  char* out = reserve(most);
  out = put(out, kHead);
  out = write_utf8(out, raw_id);
  out = put(out, kTextResult);
  out = write_json_string_utf16(out, text.data(), text.size());
  out = put(out, "}]");
  out = put(out, members_);
  out = put(out, "}}\n");
  size_ = static_cast<std::size_t>(out - data_.get());
}

void ReplyBuffer::consume(std::size_t bytes) {
  if (bytes >= size_) {
    clear();
    return;
  }
  std::memmove(data_.get(), data_.get() + bytes, size_ - bytes);
  size_ -= bytes;
}

long ReplyBuffer::write_to(int fd) {
#if !defined(__unix__) && !defined(__APPLE__)
  (void)fd;
  return -ENOSYS;
#else
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return -errno;
  if ((flags & O_NONBLOCK) == 0) return -EWOULDBLOCK;
  if (size_ == 0) return 0;
  ssize_t written;
  do {
    written = write(fd, data_.get(), size_);
  } while (written < 0 && errno == EINTR);
  if (written < 0) return errno == EAGAIN ? static_cast<long>(size_) : -errno;
  consume(static_cast<std::size_t>(written));
  return static_cast<long>(size_);
#endif
}

void ReplyBuffer::clear() {
  size_ = 0;
  if (capacity_ > kKeepBytes) {
    data_.reset();
    capacity_ = 0;
  }
}

}  // namespace mcp::jsonrpc
