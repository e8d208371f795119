// HTTP/1.1 request-head parser (see http1.h). One pass over the lines; each scan is bounded by `limit`
// (min(end, start + max_head_bytes)), so nothing at or past `end` is ever read. Request-targets and field
// values, the long runs, are scanned 16 bytes at a time with SSE2 (part of x86-64, so no run-time check);
// names are short and go through a table.
#include "core/http1.h"

#include <array>
#include <cstring>
#include <string_view>

#if defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
#include <emmintrin.h>
#define FASTERMCP_HTTP1_SSE2 1
#endif

namespace mcp::http1 {
namespace {

constexpr uint8_t kCr = 13;
constexpr uint8_t kLf = 10;
constexpr uint8_t kSp = 32;
constexpr uint8_t kTab = 9;

// tchar of RFC 9110 section 5.6.2.
constexpr std::array<uint8_t, 256> make_tchar() {
  std::array<uint8_t, 256> t{};
  for (const char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<uint8_t>(c)] = 1;
  for (int c = '0'; c <= '9'; ++c) t[c] = 1;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = 1;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = 1;
  return t;
}
constexpr std::array<uint8_t, 256> kTchar = make_tchar();

// Field-value bytes: HTAB, SP, VCHAR, obs-text.
constexpr std::array<uint8_t, 256> make_value() {
  std::array<uint8_t, 256> t{};
  t[kTab] = 1;
  for (int c = 0x20; c <= 0xFF; ++c) t[c] = c != 0x7F;
  return t;
}
constexpr std::array<uint8_t, 256> kValue = make_value();

// request-target bytes: VCHAR, obs-text.
constexpr std::array<uint8_t, 256> make_target() {
  std::array<uint8_t, 256> t{};
  for (int c = 0x21; c <= 0xFF; ++c) t[c] = c != 0x7F;
  return t;
}
constexpr std::array<uint8_t, 256> kTarget = make_target();

inline bool is_ows(uint8_t c) { return c == kSp || c == kTab; }

// First index in [i, limit) whose byte is not a field-value byte (limit when none).
template <bool kSimd>
inline std::size_t scan_value(const uint8_t* buf, std::size_t i, std::size_t limit) {
#ifdef FASTERMCP_HTTP1_SSE2
  if constexpr (kSimd) {
    const __m128i ctl_max = _mm_set1_epi8(0x1F);
    const __m128i tab = _mm_set1_epi8(kTab);
    const __m128i del = _mm_set1_epi8(0x7F);
    while (limit - i >= 16) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(buf + i));
      // x <= 0x1F unsigned (a control) and not HTAB, or DEL
      const __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(x, ctl_max), x);
      const __m128i bad = _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(x, tab), ctl), _mm_cmpeq_epi8(x, del));
      const int mask = _mm_movemask_epi8(bad);
      if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
      i += 16;
    }
  }
#endif
  while (i < limit && kValue[buf[i]] != 0) ++i;
  return i;
}

// First index in [i, limit) whose byte is not a request-target byte (limit when none).
template <bool kSimd>
inline std::size_t scan_target(const uint8_t* buf, std::size_t i, std::size_t limit) {
#ifdef FASTERMCP_HTTP1_SSE2
  if constexpr (kSimd) {
    const __m128i sp = _mm_set1_epi8(0x20);
    const __m128i del = _mm_set1_epi8(0x7F);
    while (limit - i >= 16) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(buf + i));
      const __m128i bad = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(x, sp), x), _mm_cmpeq_epi8(x, del));
      const int mask = _mm_movemask_epi8(bad);
      if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
      i += 16;
    }
  }
#endif
  while (i < limit && kTarget[buf[i]] != 0) ++i;
  return i;
}

// First index in [i, limit) whose byte cannot be in a field-name, or is its ':' (a byte <= SP, >= DEL, or
// ':'); limit when none. The other non-tchar bytes are not looked for here: a name that matches a known
// header has none, and any other name goes through kTchar.
constexpr std::array<uint8_t, 256> make_name_stop() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c <= 0xFF; ++c) t[c] = c <= 0x20 || c >= 0x7F || c == ':';
  return t;
}
constexpr std::array<uint8_t, 256> kNameStop = make_name_stop();

template <bool kSimd>
inline std::size_t scan_name(const uint8_t* buf, std::size_t i, std::size_t limit) {
#ifdef FASTERMCP_HTTP1_SSE2
  if constexpr (kSimd) {
    const __m128i sp = _mm_set1_epi8(0x20);
    const __m128i del = _mm_set1_epi8(0x7F);
    const __m128i colon = _mm_set1_epi8(':');
    while (limit - i >= 16) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(buf + i));
      const __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(x, sp), x);
      const __m128i high = _mm_cmpeq_epi8(_mm_max_epu8(x, del), x);
      const __m128i stop = _mm_or_si128(_mm_or_si128(low, high), _mm_cmpeq_epi8(x, colon));
      const int mask = _mm_movemask_epi8(stop);
      if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
      i += 16;
    }
  }
#endif
  while (i < limit && kNameStop[buf[i]] == 0) ++i;
  return i;
}

// Index of the first CR of the first CR LF CR LF in buf[from, limit), or -1 (only on the slow paths:
// refusals and incomplete heads).
std::ptrdiff_t blank_line(const uint8_t* buf, std::size_t from, std::size_t limit) {
  if (limit < from + 4) return -1;
  std::size_t q = from + 3;  // candidate position of the final LF
  while (q < limit) {
    const void* found = std::memchr(buf + q, kLf, limit - q);
    if (found == nullptr) return -1;
    q = static_cast<std::size_t>(static_cast<const uint8_t*>(found) - buf);
    if (buf[q - 1] == kCr && buf[q - 2] == kLf && buf[q - 3] == kCr) return static_cast<std::ptrdiff_t>(q - 3);
    ++q;
  }
  return -1;
}

inline uint64_t load8(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint32_t load4(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Case-insensitive equality of n >= 4 bytes with a lower-case name of letters and '-': letters compare
// with bit 0x20 forced on both sides (only A-Z and a-z then match a letter), '-' exactly. So a match is
// made of tchar only. The name is a literal, so its words and masks fold into constants.
inline uint64_t case_mask8(uint64_t name_word) { return (name_word & 0x4040404040404040ULL) >> 1; }
inline uint32_t case_mask4(uint32_t name_word) { return (name_word & 0x40404040U) >> 1; }

inline bool equal_lower(const uint8_t* p, const char* name, std::size_t n) {
  const auto* q = reinterpret_cast<const uint8_t*>(name);
  if (n >= 8) {
    std::size_t k = 0;
    for (; k + 8 <= n; k += 8) {
      const uint64_t w = load8(q + k);
      if ((load8(p + k) | case_mask8(w)) != w) return false;
    }
    if (k == n) return true;
    const uint64_t w = load8(q + n - 8);
    return (load8(p + n - 8) | case_mask8(w)) == w;
  }
  const uint32_t a = load4(q), b = load4(q + n - 4);
  return (load4(p) | case_mask4(a)) == a && (load4(p + n - 4) | case_mask4(b)) == b;
}

inline int32_t header_id(const uint8_t* p, std::size_t n) {
  switch (n) {
    case 4:
      return equal_lower(p, "host", 4) ? kHost : kHeaderOther;
    case 6:
      if (equal_lower(p, "accept", 6)) return kAccept;
      if (equal_lower(p, "origin", 6)) return kOrigin;
      if (equal_lower(p, "expect", 6)) return kExpectHeader;
      return kHeaderOther;
    case 7:
      return equal_lower(p, "upgrade", 7) ? kUpgradeHeader : kHeaderOther;
    case 8:
      return equal_lower(p, "mcp-name", 8) ? kMcpName : kHeaderOther;
    case 10:
      if (equal_lower(p, "connection", 10)) return kConnection;
      if (equal_lower(p, "mcp-method", 10)) return kMcpMethod;
      return kHeaderOther;
    case 12:
      return equal_lower(p, "content-type", 12) ? kContentType : kHeaderOther;
    case 13:
      if (equal_lower(p, "authorization", 13)) return kAuthorization;
      if (equal_lower(p, "last-event-id", 13)) return kLastEventId;
      return kHeaderOther;
    case 14:
      if (equal_lower(p, "content-length", 14)) return kContentLengthHeader;
      if (equal_lower(p, "mcp-session-id", 14)) return kMcpSessionId;
      return kHeaderOther;
    case 17:
      return equal_lower(p, "transfer-encoding", 17) ? kTransferEncodingHeader : kHeaderOther;
    case 20:
      return equal_lower(p, "mcp-protocol-version", 20) ? kMcpProtocolVersion : kHeaderOther;
    default:
      return kHeaderOther;
  }
}

inline int32_t method_id(const uint8_t* p, std::size_t n) {
  switch (n) {
    case 3:
      if (std::memcmp(p, "GET", 3) == 0) return kGet;
      if (std::memcmp(p, "PUT", 3) == 0) return kPut;
      return kOther;
    case 4:
      if (std::memcmp(p, "POST", 4) == 0) return kPost;
      if (std::memcmp(p, "HEAD", 4) == 0) return kHead;
      return kOther;
    case 5:
      return std::memcmp(p, "PATCH", 5) == 0 ? kPatch : kOther;
    case 6:
      return std::memcmp(p, "DELETE", 6) == 0 ? kDelete : kOther;
    case 7:
      return std::memcmp(p, "OPTIONS", 7) == 0 ? kOptions : kOther;
    default:
      return kOther;
  }
}

// Case-insensitive equality for list members (any value bytes; the names are 5 to 10 letters and '-').
inline bool token_is(const uint8_t* p, std::size_t n, const char* name, std::size_t length) {
  if (n != length) return false;
  for (std::size_t k = 0; k < n; ++k) {
    if ((p[k] | 0x20) != static_cast<uint8_t>(name[k])) return false;
  }
  return true;
}

// Flags of the tokens of a Connection value: comma-separated, each trimmed of spaces and tabs.
int32_t connection_flags(const uint8_t* buf, std::size_t i, std::size_t end) {
  int32_t flags = 0;
  while (i < end) {
    while (i < end && (is_ows(buf[i]) || buf[i] == ',')) ++i;
    std::size_t j = i;
    while (j < end && buf[j] != ',') ++j;
    std::size_t e = j;
    while (e > i && is_ows(buf[e - 1])) --e;
    if (token_is(buf + i, e - i, "close", 5)) {
      flags |= flag::kClose;
    } else if (token_is(buf + i, e - i, "keep-alive", 10)) {
      flags |= flag::kKeepAlive;
    } else if (token_is(buf + i, e - i, "upgrade", 7)) {
      flags |= flag::kUpgrade;
    }
    i = j;
  }
  return flags;
}

// True when the last member of a Transfer-Encoding value (after its last comma, trimmed) is "chunked".
bool ends_chunked(const uint8_t* buf, std::size_t start, std::size_t end) {
  std::size_t s = end;
  while (s > start && buf[s - 1] != ',') --s;
  std::size_t e = end;
  while (s < e && is_ows(buf[s])) ++s;
  while (e > s && is_ows(buf[e - 1])) --e;
  return token_is(buf + s, e - s, "chunked", 7);
}

// The answer when the pass stopped early (a refusal, or the bytes ran out before the blank line): the
// refusal stands only if the head is complete; else 0 (wait for more) or -431 (it can never fit).
int32_t settle(const uint8_t* buf, std::size_t from, std::size_t limit, std::size_t start, std::size_t end,
               std::size_t max_head_bytes, int32_t refusal) {
  if (blank_line(buf, from, limit) >= 0) return refusal;
  return end - start >= max_head_bytes ? kTooLarge : kIncomplete;
}

template <bool kSimd>
int32_t read_head(const uint8_t* buf, std::size_t start, std::size_t end, std::size_t max_head_bytes,
                  int32_t* f) {
  std::size_t p = start;
  // Leading empty lines (RFC 9112 section 2.2).
  while (end - p >= 2 && buf[p] == kCr && buf[p + 1] == kLf) p += 2;
  const std::size_t limit = end - start > max_head_bytes ? start + max_head_bytes : end;
  const auto stop = [&](int32_t refusal) { return settle(buf, p, limit, start, end, max_head_bytes, refusal); };
  if (p >= limit) return stop(kBadRequest);

  // request-line = method SP request-target SP HTTP-version CRLF
  std::size_t i = p;
  while (i < limit && kTchar[buf[i]] != 0) ++i;
  if (i >= limit || i == p || buf[i] != kSp) return stop(kBadRequest);
  f[field::kMethod] = method_id(buf + p, i - p);
  const std::size_t target_start = ++i;
  i = scan_target<kSimd>(buf, i, limit);
  if (i >= limit || i == target_start || buf[i] != kSp) return stop(kBadRequest);
  f[field::kTargetStart] = static_cast<int32_t>(target_start);
  f[field::kTargetEnd] = static_cast<int32_t>(i);
  ++i;
  // "HTTP/" DIGIT "." DIGIT CRLF: a malformed one is -400, a well-formed one other than 1.0 or 1.1 -505.
  if (limit - i < 10) return stop(kBadRequest);
  const uint8_t* v = buf + i;
  const unsigned major = static_cast<unsigned>(v[5]) - '0';
  const unsigned minor = static_cast<unsigned>(v[7]) - '0';
  if (std::memcmp(v, "HTTP/", 5) != 0 || major > 9 || v[6] != '.' || minor > 9 || v[8] != kCr || v[9] != kLf) {
    return stop(kBadRequest);
  }
  if (major != 1 || minor > 1) return stop(kVersionNotSupported);
  f[field::kVersion] = static_cast<int32_t>(minor);
  i += 10;

  // field-line = field-name ":" OWS field-value OWS CRLF, up to an empty line
  int32_t count = 0;
  int32_t flags = 0;
  int32_t content_length = -1;
  std::size_t length_digits = 0, length_digits_end = 0;  // the first Content-Length without leading zeros
  int32_t hosts = 0;
  int32_t* out = f + field::kFields;
  std::size_t head_end;
  for (;;) {
    if (limit - i < 2) return stop(kBadRequest);
    if (buf[i] == kCr && buf[i + 1] == kLf) {
      head_end = i + 2;
      break;
    }
    if (count == kMaxHeaders) return stop(kTooLarge);
    const std::size_t name_start = i;
    i = scan_name<kSimd>(buf, i, limit);
    // An empty name covers obs-fold (a line starting with SP or HTAB); a space before ':' is not ':'.
    if (i >= limit || i == name_start || buf[i] != ':') return stop(kBadRequest);
    const std::size_t name_end = i++;
    const int32_t id = header_id(buf + name_start, name_end - name_start);
    if (id == kHeaderOther) {
      for (std::size_t k = name_start; k < name_end; ++k) {
        if (kTchar[buf[k]] == 0) return stop(kBadRequest);
      }
    }
    while (i < limit && is_ows(buf[i])) ++i;
    const std::size_t value_start = i;
    i = scan_value<kSimd>(buf, i, limit);
    if (limit - i < 2 || buf[i] != kCr || buf[i + 1] != kLf) return stop(kBadRequest);
    std::size_t value_end = i;
    while (value_end > value_start && is_ows(buf[value_end - 1])) --value_end;
    i += 2;
    out[0] = id;
    out[1] = static_cast<int32_t>(name_start);
    out[2] = static_cast<int32_t>(name_end);
    out[3] = static_cast<int32_t>(value_start);
    out[4] = static_cast<int32_t>(value_end);
    out += kFieldStride;
    ++count;
    switch (id) {
      case kHost:
        ++hosts;
        break;
      case kContentLengthHeader: {
        if (value_end == value_start) return stop(kBadRequest);
        int64_t n = 0;
        std::size_t digits = value_start;
        for (std::size_t k = value_start; k < value_end; ++k) {
          const unsigned d = static_cast<unsigned>(buf[k]) - '0';
          if (d > 9) return stop(kBadRequest);
          if (n == 0 && d == 0) digits = k + 1;
          n = n * 10 + d;
          if (n > INT32_MAX) n = int64_t{INT32_MAX} + 1;  // saturate: too big whatever follows
        }
        if (digits == value_end) digits = value_end - 1;  // "0", "000": keep one zero
        if (content_length != -1) {
          // Equal values have equal digits once leading zeros are gone (also above 2^31 - 1).
          const std::size_t length = value_end - digits;
          if (length != length_digits_end - length_digits ||
              std::memcmp(buf + digits, buf + length_digits, length) != 0) {
            return stop(kBadRequest);
          }
        } else {
          length_digits = digits;
          length_digits_end = value_end;
        }
        content_length = n > INT32_MAX ? kContentLengthTooBig : static_cast<int32_t>(n);
        break;
      }
      case kTransferEncodingHeader:
        flags |= flag::kTransferEncoding;
        if (ends_chunked(buf, value_start, value_end)) {
          flags |= flag::kChunked;
        } else {
          flags &= ~flag::kChunked;
        }
        break;
      case kConnection:
        flags |= connection_flags(buf, value_start, value_end);
        break;
      case kExpectHeader:
        flags |= flag::kExpect;
        break;
      case kUpgradeHeader:
        flags |= flag::kUpgrade;
        break;
      default:
        break;
    }
  }
  // The head is complete here: refusals need no settling.
  if ((flags & flag::kTransferEncoding) != 0 && content_length != -1) return kBadRequest;
  if (hosts > 1 || (hosts == 0 && minor == 1)) return kBadRequest;
  f[field::kContentLength] = content_length;
  f[field::kFlags] = flags;
  f[field::kCount] = count;
  return static_cast<int32_t>(head_end - start);
}

}  // namespace

int32_t parse_head(const uint8_t* buf, std::size_t start, std::size_t end, std::size_t max_head_bytes,
                   int32_t* fields) noexcept {
  const int32_t status = read_head<true>(buf, start, end, max_head_bytes, fields);
  fields[field::kStatus] = status;
  return status;
}

int32_t parse_head_scalar(const uint8_t* buf, std::size_t start, std::size_t end, std::size_t max_head_bytes,
                          int32_t* fields) noexcept {
  const int32_t status = read_head<false>(buf, start, end, max_head_bytes, fields);
  fields[field::kStatus] = status;
  return status;
}

}  // namespace mcp::http1
