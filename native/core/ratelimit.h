// Rate limiting (docs/ratelimit.md): four algorithms (token bucket, fixed window, sliding-window counter,
// sliding-window log), a keyed table of per-key state with an LRU bound (KeyedLimiter), and a rule set that
// composes several keyed limiters over a request's scope keys (RuleSet). Inputs: a Spec, a 64-bit key, an
// integer cost >= 1 and the time `now` in milliseconds, passed in by the caller so that every decision is
// deterministic. Output: a Decision (allowed, remaining, retry-after, reset).
//
// src/ratelimit/js.ts is the pure-JS twin: every formula is the same sequence of IEEE double operations
// (no fused multiply-add: ratelimit.cc is built with fp-contract off), so both give bit-identical numbers.
// Keys are 64-bit hashes from a seed drawn once per process from std::random_device; no key string is kept.
#ifndef FASTERMCP_NATIVE_CORE_RATELIMIT_H_
#define FASTERMCP_NATIVE_CORE_RATELIMIT_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace mcp::ratelimit {

/// The algorithms, in the order of src/ratelimit/types.ts ALGORITHMS.
enum class Algorithm : uint8_t {
  kTokenBucket = 0,           ///< limit = burst; window_ms = time to refill from empty
  kSlidingWindowLog = 1,      ///< every admitted (time, cost) of the last window_ms
  kSlidingWindowCounter = 2,  ///< aligned windows; previous window weighted by the part still in view
  kFixedWindow = 3,           ///< aligned windows [k * window_ms, (k + 1) * window_ms)
};
inline constexpr std::size_t kAlgorithmCount = 4;

/// The scopes, in the order of src/ratelimit/types.ts SCOPES.
enum class Scope : uint8_t { kGlobal = 0, kClient = 1, kTool = 2, kClientTool = 3, kMethod = 4 };
inline constexpr std::size_t kScopeCount = 5;

inline constexpr double kMaxLimit = 1e9;
inline constexpr double kMaxLogLimit = 100000;  ///< sliding log: at most `limit` entries per key
inline constexpr double kMaxWindowMs = 1e12;
inline constexpr double kMaxKeyCount = 1e8;
inline constexpr double kDefaultMaxKeys = 100000;
inline constexpr int32_t kMaxId = 65535;  ///< method and tool ids of a RuleSet are in [0, kMaxId]

struct Spec {
  Algorithm algorithm = Algorithm::kTokenBucket;
  double limit = 1;      ///< integer in [1, 1e9] (sliding log: [1, 1e5])
  double window_ms = 1;  ///< finite, (0, 1e12]
};

/// Why a spec (or a RuleSet argument) is refused.
enum class SpecError : uint8_t {
  kOk = 0,
  kAlgorithm,  ///< not one of the four algorithms
  kLimit,      ///< limit not an integer in [1, 1e9]
  kLogLimit,   ///< sliding-window log with limit > 1e5
  kWindow,     ///< windowMs not finite in (0, 1e12]
  kMaxKeys,    ///< maxKeys not an integer in [1, 1e8]
};
/// One sentence per SpecError ("" for kOk); src/ratelimit/index.ts words its errors the same way.
std::string_view spec_error_message(SpecError error) noexcept;
SpecError validate(const Spec& spec, double max_keys) noexcept;

/// True when `cost` is an integer >= 1 (and at most 2^53).
bool valid_cost(double cost) noexcept;

/// What one check answered.
struct Decision {
  bool allowed = false;
  double remaining = 0;       ///< permits left (floor), never negative; -1: no rule applied (RuleSet)
  double retry_after_ms = 0;  ///< 0 when allowed; -1: never (cost > limit); else an integer >= 1
  double reset_ms = 0;        ///< ms until the key is back to its full limit with no further calls
  int32_t rule = -1;          ///< RuleSet only: see RuleSet::check
};

/// The process-wide hash seed (drawn once from std::random_device).
uint64_t hash_seed() noexcept;
/// Seeded 64-bit hash of a key's bytes (the JS string's UTF-8).
uint64_t hash_key(std::string_view key) noexcept;
/// Seeded 64-bit hash of two integers (scope keys built from ids and a client hash).
uint64_t hash_pair(uint64_t a, uint64_t b) noexcept;

/// One spec over a table of at most max_keys keys. Only an admitted check() stores anything: it inserts the
/// key (evicting the least recently admitted key when the table is full), updates its state and makes it the
/// most recently used. peek() and denied checks change nothing.
class KeyedLimiter {
 public:
  KeyedLimiter(Spec spec, std::size_t max_keys);

  bool check(uint64_t key, double cost, double now, Decision* out);
  bool peek(uint64_t key, double cost, double now, Decision* out) const;
  std::size_t size() const noexcept { return size_; }
  /// Bytes held by the table (slots, index, sliding-log buffers), capacity not size.
  std::size_t bytes() const noexcept;
  void clear() noexcept;

  const Spec& spec() const noexcept { return spec_; }
  std::size_t max_keys() const noexcept { return max_keys_; }
  /// Keys from most to least recently admitted (tests and the fuzz target).
  std::vector<uint64_t> lru_order() const;
  /// The token bucket's stored tokens of `key` (-1 when absent); for the fuzz target's invariants.
  double stored_tokens(uint64_t key) const noexcept;

 private:
  struct Slot {
    uint64_t key = 0;
    double a = 0;  // bucket: tokens;   fixed: window start;  counter: window index (floor(now / window_ms))
    double b = 0;  // bucket: last;     fixed: count;  counter: current window count
    double c = 0;  //                   counter: previous window count
    uint32_t prev = kNone;  // LRU neighbours (towards the head = most recent)
    uint32_t next = kNone;
    uint32_t log_head = 0;  // sliding log: ring buffer in logs_[slot]
    uint32_t log_count = 0;
    double log_used = 0;    // sliding log: sum of the costs in the ring
  };
  struct LogEntry {
    double time;
    double cost;
  };
  static constexpr uint32_t kNone = 0xFFFFFFFFu;

  uint32_t find(uint64_t key) const noexcept;  // slot index or kNone
  uint32_t insert(uint64_t key);               // a fresh slot for key (evicts when full)
  void index_put(uint64_t key, uint32_t slot);
  void index_erase(uint64_t key);
  void index_grow();
  void unlink(uint32_t slot) noexcept;
  void push_front(uint32_t slot) noexcept;
  bool decide(const Slot* slot, double cost, double now, Decision* out) const;
  bool admits(const Slot* slot, double cost, double now) const;
  void commit(Slot* slot, uint32_t index, bool fresh, double cost, double now);
  double retry_after(const Slot* slot, double cost, double now, double x) const;
  const LogEntry& log_at(uint32_t slot, uint32_t i) const noexcept;

  Spec spec_;
  std::size_t max_keys_;
  std::vector<Slot> slots_;
  std::vector<std::vector<LogEntry>> logs_;  // sliding log only, one ring per slot (kept across evictions)
  std::vector<uint64_t> index_keys_;         // open addressing, linear probing; index_slots_ 0 = empty
  std::vector<uint32_t> index_slots_;        // slot + 1
  std::size_t index_mask_ = 0;
  std::size_t log_bytes_ = 0;                // sum of the rings' sizes in bytes
  std::size_t size_ = 0;
  uint32_t head_ = kNone;  // most recently admitted
  uint32_t tail_ = kNone;  // least recently admitted: the next eviction
};

/// One rule of a RuleSet.
struct Rule {
  Spec spec;
  Scope scope = Scope::kGlobal;
  std::size_t max_keys = static_cast<std::size_t>(kDefaultMaxKeys);
};

/// Several rules checked together. A rule applies to a request when its method table and its tool table
/// match (setMatch; null = all; toolId -1 = "no routed name" matches only "all"). check(): every applying rule
/// is peeked; if any denies nothing is consumed anywhere and the first denying rule is reported; else every
/// applying rule commits. Keys per scope: global one key, client the client hash, tool the tool id,
/// client-tool (client hash, tool id), method the method id.
class RuleSet {
 public:
  explicit RuleSet(std::vector<Rule> rules);

  std::size_t rule_count() const noexcept { return limiters_.size(); }
  /// null (all) when `all_*` is true, else the listed ids (each in [0, kMaxId]; callers validate).
  void set_match(std::size_t rule, bool all_methods, const std::vector<int32_t>& method_ids, bool all_tools,
                 const std::vector<int32_t>& tool_ids);
  void set_method_cost(int32_t method_id, double cost);
  void set_tool_cost(int32_t tool_id, double cost);
  /// The tool's cost if set, else the method's if set, else 1.
  double cost_of(int32_t method_id, int32_t tool_id) const noexcept;

  static uint64_t client_hash(std::string_view client) noexcept { return hash_key(client); }
  /// -1 when admitted, else the index of the first denying rule. out->rule: the first denying rule, or (when
  /// admitted) the applying rule with the least remaining (-1 when none applies: remaining = -1).
  int32_t check(int32_t method_id, int32_t tool_id, uint64_t client_hash, double cost, double now, Decision* out);
  /// As check() but commits nothing.
  int32_t peek(int32_t method_id, int32_t tool_id, uint64_t client_hash, double cost, double now,
               Decision* out) const;

  const KeyedLimiter& limiter(std::size_t rule) const { return limiters_[rule]; }
  void clear() noexcept;

 private:
  struct Match {
    bool all_methods = true;
    bool all_tools = true;
    std::vector<uint8_t> methods;  // indexed by id
    std::vector<uint8_t> tools;
  };
  bool applies(std::size_t rule, int32_t method_id, int32_t tool_id) const noexcept;
  uint64_t key_of(std::size_t rule, int32_t method_id, int32_t tool_id, uint64_t client_hash) const noexcept;
  int32_t run(int32_t method_id, int32_t tool_id, uint64_t client_hash, double cost, double now, Decision* out,
              bool commit);

  std::vector<Scope> scopes_;
  std::vector<KeyedLimiter> limiters_;
  std::vector<Match> matches_;
  std::vector<double> method_costs_;  // 0 = unset
  std::vector<double> tool_costs_;
};

}  // namespace mcp::ratelimit

#endif  // FASTERMCP_NATIVE_CORE_RATELIMIT_H_
