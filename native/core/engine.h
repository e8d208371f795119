// Engine: one connection's framer plus the thread's shared Scanner, and the output buffers of the last
// call (docs/jsonrpc-engine.md sections 1, 3 and 7). feed() takes NDJSON chunks, end() flushes the
// unterminated last line, scan() takes one whole message (an HTTP body). Each call replaces the records,
// carried() and replies() of the previous call.
#ifndef FASTERMCP_NATIVE_CORE_ENGINE_H_
#define FASTERMCP_NATIVE_CORE_ENGINE_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "core/arguments.h"
#include "core/framing.h"
#include "core/limits.h"
#include "core/ratelimit.h"
#include "core/records.h"
#include "core/scan.h"
#include "core/skeleton.h"

namespace mcp::jsonrpc {

class Router;

/// The text of one rule's -32029 reply, around the id and the retry-after number (rendered by
/// src/ratelimit/admission.ts, so both paths write the same bytes): `{"jsonrpc":"2.0","id":` ID `head`
/// MS `middle` MS `tail`; and `never` after the id when the call costs more than the rule can ever admit.
struct RuleReply {
  std::string head;
  std::string middle;
  std::string tail;
  std::string never;
};

/// Fused admission (docs/ratelimit.md section 8): requests checked against a rule set in the same call as
/// framing and scanning, keyed by the record's SLOT and NAME_SLOT and the client set by set_client().
struct Admission {
  ratelimit::RuleSet* rules = nullptr;  ///< not owned; null: no admission
  std::vector<RuleReply> replies;       ///< one per rule
  uint64_t client = 0;                  ///< RuleSet::client_hash of the caller
  double now = 0;                       ///< ms, set by the caller before each feed/scan
};

class Engine {
 public:
  /// Spans are int32: a chunk or message may be at most this long.
  static constexpr std::size_t kMaxInputBytes = static_cast<std::size_t>(std::numeric_limits<int32_t>::max());

  /// `router` and `scanner` must outlive the engine; `limits` must satisfy limits_in_range().
  Engine(const Router* router, Scanner* scanner, const Limits& limits) noexcept;

  /// Frames `chunk` and scans every line it completes. False (and no records) when the chunk is longer
  /// than kMaxInputBytes.
  bool feed(const uint8_t* chunk, std::size_t size);
  /// End of stream: the unterminated last line, if any, is scanned; the next feed starts a new stream.
  void end();
  /// Scans one whole message, without framing. False (and no records) beyond kMaxInputBytes.
  bool scan(const uint8_t* message, std::size_t size);
  /// Forgets the stream state and the output of the last call.
  void reset();

  /// Checks every request of the following calls against `admission.rules` (nullptr: none).
  void set_admission(Admission admission) { admission_ = std::move(admission); }
  Admission& admission() noexcept { return admission_; }

  std::size_t record_count() const noexcept { return records_.size() / kRecordStride; }
  const int32_t* records() const noexcept { return records_.data(); }
  std::string_view carried() const noexcept { return framer_.carried(); }
  std::string_view replies() const noexcept { return replies_; }
  /// Reads the arguments of the last call's records (arguments.h); `source` must be that call's chunk or
  /// message (a span outside it gives no entry). Member names keep their ids for the engine's life.
  const ArgumentsRead& read_arguments(std::string_view source);
  const KeyTable& keys() const noexcept { return keys_; }
  /// The ids of the last call's records as one text (id_text.h), or nullptr when they are not all ASCII;
  /// `source` as for read_arguments. Valid until the next call.
  const std::string* id_text(std::string_view source);
  const Limits& limits() const noexcept { return limits_; }
  /// Whether requests shaped like the last one scanned are matched against its skeleton (skeleton.h) instead of
  /// scanned (default on). Off, every message is scanned: the differential tests and fuzz target compare the two.
  void use_skeletons(bool on) noexcept {
    skeletons_ = on;
    skeleton_.clear();
  }
  /// Messages matched against a skeleton so far (not scanned).
  uint64_t skeleton_matches() const noexcept { return matches_; }

 private:
  void start_call();
  void scan_line(const Line& line, bool in_run);
  /// Indexes a run of the chunk's lines from `line` on (see Scanner::index_run); true when `line` is in it.
  /// *run_end is set past the lines this decided about (the run's, or only `line`'s when there is none).
  bool start_run(const Line& line, const uint8_t* chunk_end, const uint8_t** run_end);
  /// Fused admission over the records from `first` on, whose spans start at `base` for offset `offset`.
  void admit(std::size_t first, const uint8_t* base, std::size_t offset);
  /// Sets kMetaRepeated on the records from `first` on (spans as for admit), after admission: a refused
  /// request keeps no META.
  void mark_repeated_meta(std::size_t first, const uint8_t* base, std::size_t offset) noexcept;
  /// Appends the records of a message the skeleton matches (admitted and marked as scan_line would); false when
  /// it does not match. `flags` as Message::flags.
  bool match_skeleton(const uint8_t* data, std::size_t size, std::size_t offset, int32_t flags);
  /// Counts a message the skeleton did not match, and says whether its scan should make the next skeleton: at
  /// the 1st, 2nd, 4th, 8th... miss in a row, so a client whose requests never repeat a shape pays for few.
  bool missed() noexcept {
    ++misses_;
    return skeletons_ && (misses_ & (misses_ - 1)) == 0;
  }
  /// Makes the skeleton of the message just scanned, when it gave one record (the one at `first`); its member
  /// list entry, if any, starts at `members_from`.
  void build_skeleton(std::size_t first, std::size_t members_from, const uint8_t* data, std::size_t size,
                      std::size_t offset);

  const Router* router_;
  Scanner* scanner_;
  Limits limits_;
  Framer framer_;
  std::vector<int32_t> records_;
  std::string replies_;
  Admission admission_;
  /// The META bytes of the call's last record with one (inside the chunk or carried(), valid for the call);
  /// empty before the first.
  std::string_view last_meta_;
  KeyTable keys_;
  /// The members of the call's arguments as the scan listed them (ArgumentMembers), for read_arguments.
  std::vector<int32_t> argument_members_;
  ArgumentsRead arguments_;
  std::string id_text_;
  Skeleton skeleton_;
  bool skeletons_ = true;
  uint32_t misses_ = 0;  // messages in a row the skeleton did not match
  uint64_t matches_ = 0;
};

}  // namespace mcp::jsonrpc

#endif  // FASTERMCP_NATIVE_CORE_ENGINE_H_
