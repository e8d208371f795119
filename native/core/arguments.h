// Arguments read for JS (docs/jsonrpc-engine.md section 11): the `arguments` of one engine call's requests
// whose params the record spans (PARAMS_SPANNED) become one JSON array text of values plus a table that
// says how each record's arguments are built from them. An object of plain member names is read member by
// member, as the scanner's walk listed them (no second pass over its bytes): its names get ids (KeyTable),
// its values go into the array. JS parses the array once and builds
// each object by assignment under the names it keeps by id: V8's JSON.parse spends about 60-70 ns on every
// object it makes, a fresh object assigned under known names much less. Anything else (an object with an
// escaped, unusual or new-beyond-the-table name, more than kMaxArgumentMembers members, an array, a
// scalar) is one value taken whole. src/jsonrpc/arguments.ts is the pure-JS twin.
#ifndef FASTERMCP_NATIVE_CORE_ARGUMENTS_H_
#define FASTERMCP_NATIVE_CORE_ARGUMENTS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mcp::jsonrpc {

/// Largest ARGS span read this way; JS parses longer arguments alone (BATCHED_ARGUMENTS_MAX in
/// src/transport/intake.ts), as joining them would copy them once more for little gain.
inline constexpr std::size_t kMaxReadArgumentsBytes = 1024;
/// Most members of an object read member by member; an object with more is taken whole.
inline constexpr std::size_t kMaxArgumentMembers = 32;

/// Member names with ids, for as long as the table lives: at most kMaxKeys names of at most kMaxKeyBytes
/// bytes each, so a client sending ever new names costs bounded memory (its objects are then taken whole).
class KeyTable {
 public:
  static constexpr std::size_t kMaxKeys = 256;
  static constexpr std::size_t kMaxKeyBytes = 64;

  /// The id of `name` (a member name's raw content between its quotes), added when new; -1 when it gets
  /// none: it holds a backslash (JSON.parse would decode an escape), it is "__proto__" (assignment would set
  /// the prototype, JSON.parse makes an own member), it is longer than kMaxKeyBytes, or the table is full.
  int32_t intern(std::string_view name);
  /// The name of `id` (0 <= id < size()).
  std::string_view name(int32_t id) const noexcept;
  std::size_t size() const noexcept { return offsets_.size() - 1; }

 private:
  static constexpr std::size_t kSlots = 2 * kMaxKeys;  // open addressing, at most half full
  std::array<uint16_t, kSlots> slots_{};                // id + 1; 0: empty
  std::vector<uint32_t> offsets_{0};                    // names_ offsets of ids 0.., and the end
  std::string names_;
};

/// What read_arguments leaves: `table` (int32) holds, for each record i < the record count, the offset of
/// its entry, or -1 when it has none; an entry is `count, first, id * count`: the arguments are an object
/// whose members are the names of the ids with the values first, first + 1, ... of `values`, in order; a
/// count of -1 says the arguments are value `first` itself. `values` is `[v0,v1,...]`, each value's JSON
/// text as the message holds it.
struct ArgumentsRead {
  std::vector<int32_t> table;
  std::string values;
  std::size_t value_count = 0;
  /// Whether `values` is all ASCII (JS then makes its string as Latin-1: a copy, no UTF-8 decoding).
  bool ascii = true;
};

/// The members the scanner's walk listed (Scanner::scan's `members`), in record order: for each request or
/// notification with PARAMS_SPANNED whose `arguments` is an object of at most kMaxReadArgumentsBytes with at
/// most kMaxArgumentMembers members and no escaped name, `record index, member count`, then per member its
/// name's raw content (start, end) and its value (start, end), spans as the record's own. Other arguments
/// have no entry: they are taken whole.
struct ArgumentMembers {
  const int32_t* data = nullptr;
  std::size_t size = 0;
};

/// Reads the arguments of `count` records (kRecordStride int32 each, as an engine call left them) with the
/// members its walk listed: every request or notification with PARAMS_SPANNED and an ARGS span of at most
/// kMaxReadArgumentsBytes gets an entry. Spans index `source` (the call's chunk or message) or, with
/// SRC_CARRY, `carried`; a span outside its source gives no entry, a member outside the ARGS span makes the
/// arguments be taken whole.
void read_arguments(const int32_t* records, std::size_t count, ArgumentMembers members, std::string_view source,
                    std::string_view carried, KeyTable* keys, ArgumentsRead* out);

}  // namespace mcp::jsonrpc

#endif  // FASTERMCP_NATIVE_CORE_ARGUMENTS_H_
