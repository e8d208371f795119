// Record layout of the JSON-RPC engine (docs/jsonrpc-engine.md section 7): what one engine call leaves
// behind, RECORD_STRIDE int32 per message, in message order. Mirrors src/jsonrpc/records.ts.
#ifndef FASTERMCP_NATIVE_CORE_RECORDS_H_
#define FASTERMCP_NATIVE_CORE_RECORDS_H_

#include <cstddef>
#include <cstdint>

namespace mcp::jsonrpc {

/// int32 slots per record.
inline constexpr std::size_t kRecordStride = 20;

/// Field indexes inside one record.
namespace field {
inline constexpr std::size_t kKind = 0;          ///< kind:: value
inline constexpr std::size_t kFlags = 1;         ///< flag:: bits
inline constexpr std::size_t kStart = 2;         ///< message (or batch array) without surrounding whitespace
inline constexpr std::size_t kEnd = 3;           ///< -1 for too_large
inline constexpr std::size_t kIdStart = 4;       ///< raw id token, quotes and escapes as written, or -1
inline constexpr std::size_t kIdEnd = 5;
inline constexpr std::size_t kMethodStart = 6;   ///< raw method content without the quotes, or -1
inline constexpr std::size_t kMethodEnd = 7;
inline constexpr std::size_t kBodyStart = 8;     ///< params / result / error value; invalid: reply in replies()
inline constexpr std::size_t kBodyEnd = 9;
inline constexpr std::size_t kSlot = 10;         ///< route slot of the method, -1 unknown; batch: element count
inline constexpr std::size_t kNameSlot = 11;     ///< slot of the routed name, -1 none or unknown
inline constexpr std::size_t kNameStart = 12;    ///< raw routed name content without the quotes, or -1
inline constexpr std::size_t kNameEnd = 13;
inline constexpr std::size_t kCode = 14;         ///< invalid: -32700 or -32600; else 0
inline constexpr std::size_t kReason = 15;       ///< Reason (errors.h); 0 for valid records
inline constexpr std::size_t kArgsStart = 16;    ///< value of params member "arguments" (occurring once), or -1
inline constexpr std::size_t kArgsEnd = 17;
inline constexpr std::size_t kMetaStart = 18;    ///< value of params member "_meta" (occurring once), or -1
inline constexpr std::size_t kMetaEnd = 19;
}  // namespace field

/// Record kinds (field kKind).
namespace kind {
inline constexpr int32_t kRequest = 0;
inline constexpr int32_t kNotification = 1;
inline constexpr int32_t kResponse = 2;
inline constexpr int32_t kErrorResponse = 3;
inline constexpr int32_t kInvalid = 4;
inline constexpr int32_t kBatch = 5;
}  // namespace kind

/// Flag bits (field kFlags).
namespace flag {
inline constexpr int32_t kSrcCarry = 1 << 0;       ///< spans index carried(), else the chunk / message given
inline constexpr int32_t kInBatch = 1 << 1;        ///< an element of the batch announced by the batch record
inline constexpr int32_t kIdKindShift = 2;         ///< bits 2-3 hold the id kind (id_kind::)
inline constexpr int32_t kIdKindMask = 3 << kIdKindShift;
inline constexpr int32_t kMethodEscaped = 1 << 4;  ///< the method content contains a backslash escape
inline constexpr int32_t kNameEscaped = 1 << 5;    ///< the routed name content contains a backslash escape
inline constexpr int32_t kBodyIsReply = 1 << 6;    ///< BODY spans replies() (invalid records)
inline constexpr int32_t kParamsSpanned = 1 << 7;  ///< params is exactly its NAME, ARGS and META spans (section 7)
/// A request the engine's fused admission refused (docs/ratelimit.md section 8): the record is kInvalid with
/// kBodyIsReply (BODY spans the -32029 reply in replies()), CODE -32029, SLOT and NAME_SLOT kept, and the
/// decision in fields 16-19 (see limited::).
inline constexpr int32_t kLimited = 1 << 8;
/// A request or notification whose META holds the same bytes as the META of the closest earlier record of
/// the same call that has one (section 7): a reader that kept that value need not read this one.
inline constexpr int32_t kMetaRepeated = 1 << 9;
}  // namespace flag

/// Fields 16-19 of a kLimited record (they hold ARGS and META spans otherwise).
namespace limited {
inline constexpr std::size_t kRule = 16;        ///< the refusing rule's index
inline constexpr std::size_t kRetryAfter = 17;  ///< ms (an integer >= 1), or -1: never (the cost exceeds the limit)
inline constexpr std::size_t kRemaining = 18;   ///< permits left (clamped to int32)
inline constexpr std::size_t kReset = 19;       ///< ms until full again (clamped to int32)
inline constexpr int32_t kCode = -32029;        ///< the JSON-RPC error code (ErrorCode.RateLimited)
}  // namespace limited

/// Id kinds (flag bits 2-3).
namespace id_kind {
inline constexpr int32_t kNone = 0;
inline constexpr int32_t kNull = 1;
inline constexpr int32_t kString = 2;
inline constexpr int32_t kNumber = 3;
}  // namespace id_kind

}  // namespace mcp::jsonrpc

#endif  // FASTERMCP_NATIVE_CORE_RECORDS_H_
