// base64url decoding: a table-driven scalar loop, and an AVX2 loop chosen at run time (the addon is built
// without -march, as simdjson is). The vector loop only takes whole 32-character blocks well before the
// end; the last characters, where canonical padding bits are checked, always go through the scalar loop.
#include "core/base64url.h"

#include <array>
#include <cstdint>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define FASTERMCP_BASE64URL_AVX2 1
#endif

namespace mcp::jwt {
namespace {

constexpr std::array<int8_t, 256> make_table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 26; ++i) {
    t['A' + i] = static_cast<int8_t>(i);
    t['a' + i] = static_cast<int8_t>(26 + i);
  }
  for (int i = 0; i < 10; ++i) t['0' + i] = static_cast<int8_t>(52 + i);
  t['-'] = 62;
  t['_'] = 63;
  return t;
}
constexpr std::array<int8_t, 256> kValue = make_table();

// The sextet of each character already shifted into place for each position of a quad, so a quad decodes
// with four loads and three ORs; an invalid character carries bit 31 into the result.
constexpr std::array<uint32_t, 256> make_shifted(int shift) {
  std::array<uint32_t, 256> t{};
  for (std::size_t i = 0; i < 256; ++i) {
    t[i] = kValue[i] < 0 ? 0x80000000u : static_cast<uint32_t>(kValue[i]) << shift;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kShift18 = make_shifted(18);
constexpr std::array<uint32_t, 256> kShift12 = make_shifted(12);
constexpr std::array<uint32_t, 256> kShift6 = make_shifted(6);
constexpr std::array<uint32_t, 256> kShift0 = make_shifted(0);

// Decodes `n` characters at `p` into `o` (room for the decoded size); false on an invalid input.
bool decode_scalar(const unsigned char* p, std::size_t n, char* o) {
  if (n % 4 == 1) return false;
  while (n >= 4) {
    const uint32_t v = kShift18[p[0]] | kShift12[p[1]] | kShift6[p[2]] | kShift0[p[3]];
    if ((v & 0x80000000u) != 0) return false;
    o[0] = static_cast<char>(v >> 16);
    o[1] = static_cast<char>(v >> 8);
    o[2] = static_cast<char>(v);
    o += 3;
    p += 4;
    n -= 4;
  }
  if (n == 2) {
    const int a = kValue[p[0]], b = kValue[p[1]];
    if ((a | b) < 0 || (b & 0x0F) != 0) return false;
    o[0] = static_cast<char>((a << 2) | (b >> 4));
  } else if (n == 3) {
    const int a = kValue[p[0]], b = kValue[p[1]], c = kValue[p[2]];
    if ((a | b | c) < 0 || (c & 0x03) != 0) return false;
    o[0] = static_cast<char>((a << 2) | (b >> 4));
    o[1] = static_cast<char>(((b & 0x0F) << 4) | (c >> 2));
  }
  return true;
}

std::size_t decoded_size(std::size_t n) { return n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0); }

#ifdef FASTERMCP_BASE64URL_AVX2
// 32 characters -> 24 bytes per step. A character is classified by its high and low nibbles: each high
// nibble 2..7 has a class bit, and the low-nibble table holds the classes in which that low nibble is not
// a base64url character ('-' is 0x2D, '0'-'9' 0x30-39, 'A'-'Z' 0x41-5A, '_' 0x5F, 'a'-'z' 0x61-7A).
// Any other high nibble (controls, punctuation, bytes >= 0x80) has a class every low nibble refuses.
// The value is the character plus an offset chosen by the high nibble ('_' shares 0x5 with 'P'-'Z').
// The sextets are then packed: pairs into 12 bits, pairs of those into 24, and the three bytes of each
// 32-bit lane gathered to the front.
__attribute__((target("avx2"))) std::size_t decode_avx2(const unsigned char* p, std::size_t n, char* o,
                                                          bool* ok) {
  // Class bits: 0x01 hi=2, 0x02 hi=3, 0x04 hi=4 or 6, 0x08 hi=5, 0x10 hi=7, 0x20 any other.
  const __m256i lut_hi = _mm256_setr_epi8(0x20, 0x20, 0x01, 0x02, 0x04, 0x08, 0x04, 0x10, 0x20, 0x20, 0x20, 0x20,
                                          0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x01, 0x02, 0x04, 0x08, 0x04, 0x10,
                                          0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20);
  // For low nibble l: 0x20 always; 0x01 unless l == 0xD; 0x02 if l > 9; 0x04 if l == 0; 0x08 if l > 0xA
  // and l != 0xF; 0x10 if l > 0xA.
  const __m256i lut_lo = _mm256_setr_epi8(0x25, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x23, 0x3B,
                                          0x3B, 0x3A, 0x3B, 0x33, 0x25, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21,
                                          0x21, 0x21, 0x23, 0x3B, 0x3B, 0x3A, 0x3B, 0x33);
  // Offsets by high nibble: 2 -> +17 ('-' -> 62), 3 -> +4, 4 and 5 -> -65, 6 and 7 -> -71.
  const __m256i lut_offset = _mm256_setr_epi8(0, 0, 17, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 17, 4,
                                              -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  const __m256i underscore = _mm256_set1_epi8('_');
  const __m256i underscore_offset = _mm256_set1_epi8(63 - '_');
  const __m256i gather = _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1, 2, 1, 0, 6, 5, 4,
                                          10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7);
  std::size_t done = 0;
  // Each step writes 32 bytes (24 used): keep at least 44 characters (33 output bytes) ahead of it.
  while (n - done >= 44) {
    const __m256i in = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + done));
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi32(in, 4), nibble);
    const __m256i lo = _mm256_and_si256(in, nibble);
    const __m256i bad = _mm256_and_si256(_mm256_shuffle_epi8(lut_lo, lo), _mm256_shuffle_epi8(lut_hi, hi));
    if (!_mm256_testz_si256(bad, bad)) {
      *ok = false;
      return done;
    }
    const __m256i offset = _mm256_blendv_epi8(_mm256_shuffle_epi8(lut_offset, hi), underscore_offset,
                                              _mm256_cmpeq_epi8(in, underscore));
    const __m256i values = _mm256_add_epi8(in, offset);
    const __m256i pairs = _mm256_maddubs_epi16(values, _mm256_set1_epi32(0x01400140));
    const __m256i words = _mm256_madd_epi16(pairs, _mm256_set1_epi32(0x00011000));
    const __m256i packed = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(words, gather), lanes);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o), packed);
    o += 24;
    done += 32;
  }
  *ok = true;
  return done;
}

bool has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}
#endif

}  // namespace

bool base64url_decode_scalar(std::string_view in, std::string* out) {
  const std::size_t start = out->size();
  if (in.size() % 4 == 1) return false;
  out->resize(start + decoded_size(in.size()));
  return decode_scalar(reinterpret_cast<const unsigned char*>(in.data()), in.size(), out->data() + start);
}

bool base64url_decode(std::string_view in, std::string* out) {
  const std::size_t start = out->size();
  if (in.size() % 4 == 1) return false;
  out->resize(start + decoded_size(in.size()));
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  char* o = out->data() + start;
  std::size_t done = 0;
#ifdef FASTERMCP_BASE64URL_AVX2
  if (in.size() >= 44 && has_avx2()) {
    bool ok = true;
    done = decode_avx2(p, in.size(), o, &ok);
    if (!ok) return false;
  }
#endif
  return decode_scalar(p + done, in.size() - done, o + done / 4 * 3);
}

}  // namespace mcp::jwt
