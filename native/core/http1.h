// HTTP/1.1 request heads (RFC 9112) for the Streamable HTTP fast lane: parse_head() reads one head from
// buf[start, end) and describes it in an int32 array of offsets (the layout of src/http1/types.ts, repeated
// below); it builds no strings and allocates nothing. src/http1/js.ts is the pure-JS twin: same rules, same
// fields, checked against each other by test/vectors/http1-head.json and a differential test.
//
// It never reads outside [start, end). The rules (beyond RFC 9112's grammar) are those of
// src/http1/types.ts: leading CRLFs skipped; method 1*tchar (case-sensitive ids); request-target
// 1*(VCHAR / obs-text); HTTP/1.0 or HTTP/1.1 (another HTTP/d.d is -505); field-name 1*tchar directly
// followed by ':'; no obs-fold; field-value bytes HTAB / SP / VCHAR / obs-text; Content-Length 1*DIGIT,
// repeated lines with equal values; no Transfer-Encoding with Content-Length; one Host in HTTP/1.1, at most
// one in 1.0; at most kMaxHeaders lines and max_head_bytes bytes (else -431).
//
// The head is found and checked in one pass over its lines. A refusal met before the blank line is only
// reported once a blank line is known to exist within max_head_bytes (otherwise the head is incomplete, 0,
// or too large, -431), so the answer is the same as a parser that first looks for the blank line.
#ifndef FASTERMCP_NATIVE_CORE_HTTP1_H_
#define FASTERMCP_NATIVE_CORE_HTTP1_H_

#include <cstddef>
#include <cstdint>

namespace mcp::http1 {

/// Indices into the fields array (src/http1/types.ts HEAD_*).
namespace field {
inline constexpr int kStatus = 0;         ///< > 0 head length; 0 incomplete; -400, -431 or -505 refused
inline constexpr int kMethod = 1;         ///< Method
inline constexpr int kTargetStart = 2;    ///< request-target, absolute offsets
inline constexpr int kTargetEnd = 3;
inline constexpr int kVersion = 4;        ///< minor version: 0 or 1
inline constexpr int kContentLength = 5;  ///< -1 absent, kContentLengthTooBig above 2^31 - 1
inline constexpr int kFlags = 6;          ///< flag::*
inline constexpr int kCount = 7;          ///< header lines; kFieldStride ints each from kFields
inline constexpr int kFields = 8;         ///< id, name start, name end, value start, value end
}  // namespace field

inline constexpr int kFieldStride = 5;
inline constexpr int kMaxHeaders = 100;
inline constexpr int kFieldsLength = field::kFields + kMaxHeaders * kFieldStride;  ///< 508
inline constexpr std::size_t kDefaultMaxHeadBytes = 16 * 1024;
inline constexpr int32_t kContentLengthTooBig = -2;

/// Statuses other than a head length.
inline constexpr int32_t kIncomplete = 0;
inline constexpr int32_t kBadRequest = -400;
inline constexpr int32_t kTooLarge = -431;
inline constexpr int32_t kVersionNotSupported = -505;

/// Methods with an id (case-sensitive); everything else is kOther.
enum Method : int32_t { kOther = 0, kGet = 1, kPost = 2, kDelete = 3, kHead = 4, kOptions = 5, kPut = 6, kPatch = 7 };

namespace flag {
inline constexpr int32_t kTransferEncoding = 1;  ///< Transfer-Encoding is present
inline constexpr int32_t kChunked = 2;           ///< its last transfer coding is chunked
inline constexpr int32_t kClose = 4;             ///< Connection lists "close"
inline constexpr int32_t kKeepAlive = 8;         ///< Connection lists "keep-alive"
inline constexpr int32_t kUpgrade = 16;          ///< Connection lists "upgrade", or an Upgrade header
inline constexpr int32_t kExpect = 32;           ///< an Expect header
}  // namespace flag

/// Known header ids (names matched case-insensitively), as src/http1/types.ts KNOWN_HEADERS.
enum Header : int32_t {
  kHeaderOther = 0,
  kHost = 1,
  kContentType = 2,
  kContentLengthHeader = 3,
  kTransferEncodingHeader = 4,
  kConnection = 5,
  kAccept = 6,
  kOrigin = 7,
  kAuthorization = 8,
  kMcpSessionId = 9,
  kMcpProtocolVersion = 10,
  kMcpMethod = 11,
  kMcpName = 12,
  kLastEventId = 13,
  kExpectHeader = 14,
  kUpgradeHeader = 15,
};
inline constexpr int kKnownHeaderCount = 16;

/// Reads the head at buf[start, end) (start <= end; buf may be null when they are equal), fills `fields`
/// (kFieldsLength ints; only the status is meaningful unless it is > 0) and returns fields[kStatus].
/// max_head_bytes >= 1. Uses SSE2 on x86-64 to scan request-targets and field values.
int32_t parse_head(const uint8_t* buf, std::size_t start, std::size_t end, std::size_t max_head_bytes,
                   int32_t* fields) noexcept;

/// The same with byte-at-a-time scans only (the portable path; the tests compare both).
int32_t parse_head_scalar(const uint8_t* buf, std::size_t start, std::size_t end, std::size_t max_head_bytes,
                          int32_t* fields) noexcept;

}  // namespace mcp::http1

#endif  // FASTERMCP_NATIVE_CORE_HTTP1_H_
