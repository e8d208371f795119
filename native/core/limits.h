// Per-engine limits (docs/jsonrpc-engine.md section 2). TS checks the ranges once, before anything
// crosses; the binding checks them again so the core never sees a value outside them.
#ifndef FASTERMCP_NATIVE_CORE_LIMITS_H_
#define FASTERMCP_NATIVE_CORE_LIMITS_H_

#include <cstdint>

namespace mcp::jsonrpc {

struct Limits {
  uint32_t max_message_bytes = 4194304;  ///< 1 .. 2^30: raw line length before the LF (CR and BOM included)
  uint32_t max_depth = 128;              ///< 1 .. 1024: the top-level object or array is depth 1
  uint32_t max_batch = 1000;             ///< 1 .. 100000: most elements in one batch array
  bool allow_batch = true;               ///< whether a top-level array is accepted as a batch
};

inline constexpr uint32_t kMaxMessageBytesLimit = 1u << 30;
inline constexpr uint32_t kMaxDepthLimit = 1024;
inline constexpr uint32_t kMaxBatchLimit = 100000;

/// Whether every limit lies in its range.
constexpr bool limits_in_range(const Limits& limits) noexcept {
  return limits.max_message_bytes >= 1 && limits.max_message_bytes <= kMaxMessageBytesLimit && limits.max_depth >= 1 &&
         limits.max_depth <= kMaxDepthLimit && limits.max_batch >= 1 && limits.max_batch <= kMaxBatchLimit;
}

}  // namespace mcp::jsonrpc

#endif  // FASTERMCP_NATIVE_CORE_LIMITS_H_
