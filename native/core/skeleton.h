// Skeleton of a request (docs/jsonrpc-engine.md section 13): its line with the variable values cut out, and the
// record (and arguments' member list) its full scan gave. A client sends the same shape of request again and
// again: the same method, tool and argument members in the same order, the same `_meta`, written by the same
// serializer. Only the id and the arguments' string and number values change. A line that equals the skeleton
// byte for byte outside those values, each of them still a plain token of its kind, is valid JSON and the same
// JSON-RPC request as the one the skeleton was made from with other values, so its record is the skeleton's
// with every position after a value moved by how much that value grew or shrank: stage 1 and the walk are
// skipped. A line that does not match is scanned as always, so nothing is refused or accepted differently.
//
// Plain tokens only: a string value of printable ASCII without quote or backslash (its content is then its
// text, escapes and UTF-8 need no check), a number by the RFC 8259 grammar. Anything else is a miss.
#ifndef FASTERMCP_NATIVE_CORE_SKELETON_H_
#define FASTERMCP_NATIVE_CORE_SKELETON_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/records.h"

namespace mcp::jsonrpc {

class Skeleton {
 public:
  /// Most values a skeleton cuts out (the id and up to this many minus one argument values).
  static constexpr std::size_t kMaxValues = 16;
  /// Longest line a skeleton is made of: it keeps a copy for as long as the engine lives, and tool calls are
  /// mostly well under this.
  static constexpr std::size_t kMaxLineBytes = 16 * 1024;

  /// Makes the skeleton of the request in [line, line + size), whose record (positions relative to the source,
  /// the line at `offset`) is `record` and whose arguments' member list entry (ArgumentMembers format: record
  /// index, count, 4 positions per member) is `members`, or null when it has none. `router_version` is what the
  /// record's slots were looked up under. False (and the skeleton empty) when the request cannot have one.
  bool build(const uint8_t* line, std::size_t size, std::size_t offset, const int32_t* record, const int32_t* members,
             uint64_t router_version);

  /// When [line, line + size) matches: appends its record (flags OR'ed with `flags`) to `records`, and its member
  /// list entry to `members` when the skeleton has one, and returns true. `router_version` must be the one the
  /// skeleton was built under (else a miss: a slot may have changed).
  bool match(const uint8_t* line, std::size_t size, std::size_t offset, int32_t flags, uint64_t router_version,
             std::vector<int32_t>* records, std::vector<int32_t>* members) const;

  void clear() noexcept;
  bool empty() const noexcept { return values_ == 0; }

 private:
  // A value cut out of the skeleton's line: [start, end) is a string's content (inside its quotes) or a number.
  struct Value {
    uint32_t start;
    uint32_t end;
    bool string;
  };
  // A position (record field or member list entry) relative to the line, and how many values end at or before it:
  // it moves by the growth of those values.
  struct Position {
    uint32_t at;
    uint8_t after;
  };

  std::string line_;  // the line the skeleton was made from
  std::array<Value, kMaxValues> value_{};
  std::size_t values_ = 0;
  std::array<int32_t, kRecordStride> record_{};  // positions: see record_positions_
  std::array<Position, kRecordStride> record_positions_{};
  std::array<uint8_t, kRecordStride> record_fields_{};  // which record fields hold positions
  std::size_t record_position_count_ = 0;
  bool has_members_ = false;
  int32_t member_count_ = 0;
  std::vector<Position> member_positions_;  // 4 per member
  Position args_start_{};                   // the ARGS span, when there are members
  Position args_end_{};
  uint64_t router_version_ = 0;
};

}  // namespace mcp::jsonrpc

#endif  // FASTERMCP_NATIVE_CORE_SKELETON_H_
