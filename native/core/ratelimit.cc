// Rate limiting (see ratelimit.h and docs/ratelimit.md section 1 for the formulas). Every formula here is
// written as the same sequence of double operations as src/ratelimit/js.ts: keep the two in step, operation
// for operation (a * b / c is never rewritten as a * (b / c), no std::fma, fp-contract off).
//
// Table: slots live in one vector (grown up to max_keys, then reused by eviction), an open-addressing index
// (linear probing, backward-shift erase) maps a key hash to its slot, and an intrusive doubly linked list
// orders the slots from most to least recently admitted. Nothing is allocated per check once the table and
// the sliding-log rings have reached their working size.
#if defined(__clang__)
#pragma clang fp contract(off)
#endif
#include "core/ratelimit.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

namespace mcp::ratelimit {
namespace {

constexpr uint64_t kMul1 = 0xa0761d6478bd642fULL;
constexpr uint64_t kMul2 = 0xe7037ed1a0b428dbULL;
constexpr uint64_t kMul3 = 0x8ebc6af09c88c6e3ULL;

#if defined(__SIZEOF_INT128__)
__extension__ typedef unsigned __int128 Wide;
#endif

// The 128-bit product of a and b, folded to 64 bits (high half xor low half).
inline uint64_t fold_mul(uint64_t a, uint64_t b) noexcept {
#if defined(__SIZEOF_INT128__)
  const Wide p = static_cast<Wide>(a) * b;
  return static_cast<uint64_t>(p) ^ static_cast<uint64_t>(p >> 64);
#else
  const uint64_t lo = a * b;
  return lo ^ (((a >> 32) * (b >> 32)) + (lo >> 29));
#endif
}

uint64_t draw_seed() {
  std::random_device device;
  uint64_t seed = 0;
  for (int i = 0; i < 4; ++i) seed = (seed << 16) ^ (static_cast<uint64_t>(device()) * kMul3);
  return seed | 1;
}

// The number of retries at now + r tried around the closed-form estimate (see retry_after()).
constexpr int kRetrySteps = 4;

}  // namespace

std::string_view spec_error_message(SpecError error) noexcept {
  switch (error) {
    case SpecError::kOk: return "";
    case SpecError::kAlgorithm:
      return "Expected algorithm to be one of token-bucket, sliding-window-log, sliding-window-counter, fixed-window";
    case SpecError::kLimit: return "Expected limit to be an integer in [1, 1000000000]";
    case SpecError::kLogLimit:
      return "Expected limit to be an integer in [1, 100000] for the sliding-window-log algorithm";
    case SpecError::kWindow: return "Expected windowMs to be a finite number in (0, 1000000000000]";
    case SpecError::kMaxKeys: return "Expected maxKeys to be an integer in [1, 100000000]";
  }
  return "";
}

SpecError validate(const Spec& spec, double max_keys) noexcept {
  if (static_cast<std::size_t>(spec.algorithm) >= kAlgorithmCount) return SpecError::kAlgorithm;
  if (!(spec.limit >= 1 && spec.limit <= kMaxLimit && std::floor(spec.limit) == spec.limit)) return SpecError::kLimit;
  if (spec.algorithm == Algorithm::kSlidingWindowLog && spec.limit > kMaxLogLimit) return SpecError::kLogLimit;
  if (!(spec.window_ms > 0 && spec.window_ms <= kMaxWindowMs)) return SpecError::kWindow;
  if (!(max_keys >= 1 && max_keys <= kMaxKeyCount && std::floor(max_keys) == max_keys)) return SpecError::kMaxKeys;
  return SpecError::kOk;
}

bool valid_cost(double cost) noexcept {
  return cost >= 1 && cost <= 9007199254740992.0 && std::floor(cost) == cost;
}

uint64_t hash_seed() noexcept {
  static const uint64_t seed = draw_seed();
  return seed;
}

uint64_t hash_key(std::string_view key) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(key.data());
  std::size_t n = key.size();
  uint64_t h = hash_seed() ^ fold_mul(static_cast<uint64_t>(n) ^ kMul1, kMul2);
  while (n >= 16) {
    uint64_t w0, w1;
    std::memcpy(&w0, p, 8);
    std::memcpy(&w1, p + 8, 8);
    h = fold_mul(w0 ^ h ^ kMul1, w1 ^ kMul2);
    p += 16;
    n -= 16;
  }
  uint64_t w0 = 0, w1 = 0;
  if (n >= 8) {
    std::memcpy(&w0, p, 8);
    std::memcpy(&w1, p + n - 8, 8);  // overlapping tail read: n in [8, 16)
  } else if (n > 0) {
    for (std::size_t i = 0; i < n; ++i) w0 |= static_cast<uint64_t>(p[i]) << (8 * i);
  }
  h = fold_mul(w0 ^ h ^ kMul1, w1 ^ kMul2 ^ static_cast<uint64_t>(key.size()));
  return fold_mul(h ^ kMul3, hash_seed() ^ kMul1);
}

uint64_t hash_pair(uint64_t a, uint64_t b) noexcept {
  const uint64_t h = fold_mul(a ^ hash_seed() ^ kMul1, b ^ kMul2);
  return fold_mul(h ^ kMul3, hash_seed() ^ kMul1);
}

// ---- KeyedLimiter -------------------------------------------------------------------------------------

KeyedLimiter::KeyedLimiter(Spec spec, std::size_t max_keys) : spec_(spec), max_keys_(max_keys == 0 ? 1 : max_keys) {
  index_keys_.assign(16, 0);
  index_slots_.assign(16, 0);
  index_mask_ = 15;
}

uint32_t KeyedLimiter::find(uint64_t key) const noexcept {
  std::size_t i = static_cast<std::size_t>(key) & index_mask_;
  while (true) {
    const uint32_t s = index_slots_[i];
    if (s == 0) return kNone;
    if (index_keys_[i] == key) return s - 1;
    i = (i + 1) & index_mask_;
  }
}

void KeyedLimiter::index_put(uint64_t key, uint32_t slot) {
  std::size_t i = static_cast<std::size_t>(key) & index_mask_;
  while (index_slots_[i] != 0) i = (i + 1) & index_mask_;
  index_keys_[i] = key;
  index_slots_[i] = slot + 1;
}

void KeyedLimiter::index_erase(uint64_t key) {
  std::size_t i = static_cast<std::size_t>(key) & index_mask_;
  while (index_slots_[i] != 0 && index_keys_[i] != key) i = (i + 1) & index_mask_;
  if (index_slots_[i] == 0) return;
  // Backward shift: pull later members of the probe run into the hole when their home allows it.
  std::size_t j = i;
  while (true) {
    j = (j + 1) & index_mask_;
    if (index_slots_[j] == 0) break;
    const std::size_t home = static_cast<std::size_t>(index_keys_[j]) & index_mask_;
    if (((j - home) & index_mask_) >= ((j - i) & index_mask_)) {
      index_keys_[i] = index_keys_[j];
      index_slots_[i] = index_slots_[j];
      i = j;
    }
  }
  index_slots_[i] = 0;
  index_keys_[i] = 0;
}

void KeyedLimiter::index_grow() {
  const std::size_t capacity = index_slots_.size() * 2;
  index_keys_.assign(capacity, 0);
  index_slots_.assign(capacity, 0);
  index_mask_ = capacity - 1;
  for (uint32_t s = 0; s < slots_.size(); ++s) index_put(slots_[s].key, s);
}

void KeyedLimiter::unlink(uint32_t slot) noexcept {
  Slot& s = slots_[slot];
  if (s.prev != kNone) slots_[s.prev].next = s.next; else head_ = s.next;
  if (s.next != kNone) slots_[s.next].prev = s.prev; else tail_ = s.prev;
  s.prev = s.next = kNone;
}

void KeyedLimiter::push_front(uint32_t slot) noexcept {
  Slot& s = slots_[slot];
  s.prev = kNone;
  s.next = head_;
  if (head_ != kNone) slots_[head_].prev = slot;
  head_ = slot;
  if (tail_ == kNone) tail_ = slot;
}

uint32_t KeyedLimiter::insert(uint64_t key) {
  uint32_t slot;
  if (size_ >= max_keys_) {
    // Full: the least recently admitted key makes room (its slot and sliding-log ring are reused).
    slot = tail_;
    unlink(slot);
    index_erase(slots_[slot].key);
  } else {
    if ((size_ + 1) * 2 > index_slots_.size()) index_grow();
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
    // Rings outlive clear(): a slot index that had one before gets it back.
    if (spec_.algorithm == Algorithm::kSlidingWindowLog && logs_.size() < slots_.size()) logs_.emplace_back();
    ++size_;
  }
  Slot& s = slots_[slot];
  s = Slot{};
  s.key = key;
  index_put(key, slot);
  push_front(slot);
  return slot;
}

const KeyedLimiter::LogEntry& KeyedLimiter::log_at(uint32_t slot, uint32_t i) const noexcept {
  const std::vector<LogEntry>& ring = logs_[slot];
  std::size_t at = static_cast<std::size_t>(slots_[slot].log_head) + i;
  if (at >= ring.size()) at -= ring.size();
  return ring[at];
}

// The decision for `cost` at `now` from the stored state (`slot` null: a key not in the table). With
// retry = false only out->allowed is meaningful (the retry-after search calls this).
namespace {

// A sliding-window counter's view of `now`: its current and previous window counts and the weight of the
// previous one still in view. Windows are numbered (index = floor(now / windowMs)) so that "the next window"
// is an exact test even when index * windowMs rounds; a clock behind the stored window counts in it.
struct CounterView {
  double curr = 0;
  double prev = 0;
  double start = 0;
  double weight = 0;
};

template <typename Slot>
CounterView counter_view(const Slot* slot, double now, double window) {
  double index = std::floor(now / window);
  CounterView v;
  if (slot != nullptr) {
    if (index <= slot->a) {
      index = slot->a;
      v.curr = slot->b;
      v.prev = slot->c;
    } else if (index == slot->a + 1) {
      v.prev = slot->b;
    }
  }
  v.start = index * window;
  v.weight = (window - (now - v.start)) / window;
  return v;
}

}  // namespace

bool KeyedLimiter::decide(const Slot* slot, double cost, double now, Decision* out) const {
  const double limit = spec_.limit;
  const double window = spec_.window_ms;
  out->rule = -1;
  double x = 0;  // closed-form time to wait when denied
  switch (spec_.algorithm) {
    case Algorithm::kTokenBucket: {
      double tokens = slot != nullptr ? slot->a : limit;
      const double last = slot != nullptr ? slot->b : now;
      if (now > last) tokens = std::min(limit, tokens + ((now - last) * limit) / window);
      // Refill runs from max(now, last): a clock that went back waits for `last` first (from - now is 0 else).
      const double from = now > last ? now : last;
      out->allowed = cost <= tokens;
      const double after = out->allowed ? tokens - cost : tokens;
      out->remaining = std::floor(after);
      out->reset_ms = std::ceil((from - now) + ((limit - after) * window) / limit);
      x = (from - now) + ((cost - tokens) * window) / limit;
      break;
    }
    case Algorithm::kFixedWindow: {
      double start = std::floor(now / window) * window;
      double count = 0;
      if (slot != nullptr) {
        if (start <= slot->a) {  // same window, or the clock went back: stay in the stored window
          start = slot->a;
          count = slot->b;
        }
      }
      out->allowed = count + cost <= limit;
      const double after = out->allowed ? count + cost : count;
      out->remaining = limit - after;
      out->reset_ms = after == 0 ? 0 : std::ceil(start + window - now);
      x = start + window - now;
      break;
    }
    case Algorithm::kSlidingWindowCounter: {
      const CounterView v = counter_view(slot, now, window);
      const double curr = v.curr, prev = v.prev, start = v.start, weight = v.weight;
      const double estimate = prev * weight + curr;
      out->allowed = estimate + cost <= limit;
      const double after = out->allowed ? curr + cost : curr;
      out->remaining = std::max(0.0, std::floor(limit - (prev * weight + after)));
      out->reset_ms = after > 0   ? std::ceil(start + 2 * window - now)
                      : prev > 0  ? std::ceil(start + window - now)
                                  : 0;
      if (!out->allowed) {
        if (curr + cost <= limit) {
          x = (window - (now - start)) - ((limit - curr - cost) * window) / prev;
        } else {
          x = (start + window - now) + std::max(0.0, window - ((limit - cost) * window) / curr);
        }
      }
      break;
    }
    case Algorithm::kSlidingWindowLog: {
      const double cutoff = now - window;
      uint32_t first = 0;  // first entry still in the window
      double used = 0;
      double newest = -std::numeric_limits<double>::infinity();
      bool any = false;
      if (slot != nullptr) {
        const uint32_t index = static_cast<uint32_t>(slot - slots_.data());
        used = slot->log_used;
        while (first < slot->log_count && log_at(index, first).time <= cutoff) {
          used -= log_at(index, first).cost;
          ++first;
        }
        if (first < slot->log_count) {
          any = true;
          newest = log_at(index, slot->log_count - 1).time;
        }
        out->allowed = used + cost <= limit;
        if (!out->allowed && cost <= limit) {
          double freed = 0;
          for (uint32_t i = first; i < slot->log_count; ++i) {
            const LogEntry& e = log_at(index, i);
            freed += e.cost;
            if (used - freed + cost <= limit) {
              x = (e.time + window) - now;
              break;
            }
          }
        }
      } else {
        out->allowed = cost <= limit;
      }
      if (out->allowed && cost > 0) {  // cost 0: RuleSet reads a rule's numbers without a call
        used += cost;
        newest = any ? std::max(newest, now) : now;
        any = true;
      }
      out->remaining = limit - used;
      out->reset_ms = any ? std::ceil(newest + window - now) : 0;
      break;
    }
  }
  if (out->allowed) {
    out->retry_after_ms = 0;
  } else if (cost > limit) {
    out->retry_after_ms = -1;
  } else {
    out->retry_after_ms = retry_after(slot, cost, now, x);
  }
  return out->allowed;
}

bool KeyedLimiter::admits(const Slot* slot, double cost, double now) const {
  // Only the admission test of decide(), so that a denial here does not recurse into another retry search.
  const double limit = spec_.limit;
  const double window = spec_.window_ms;
  switch (spec_.algorithm) {
    case Algorithm::kTokenBucket: {
      double tokens = slot != nullptr ? slot->a : limit;
      const double last = slot != nullptr ? slot->b : now;
      if (now > last) tokens = std::min(limit, tokens + ((now - last) * limit) / window);
      return cost <= tokens;
    }
    case Algorithm::kFixedWindow: {
      const double start = std::floor(now / window) * window;
      const double count = slot != nullptr && start <= slot->a ? slot->b : 0;
      return count + cost <= limit;
    }
    case Algorithm::kSlidingWindowCounter: {
      const CounterView v = counter_view(slot, now, window);
      return v.prev * v.weight + v.curr + cost <= limit;
    }
    case Algorithm::kSlidingWindowLog: {
      if (slot == nullptr) return cost <= limit;
      const uint32_t index = static_cast<uint32_t>(slot - slots_.data());
      const double cutoff = now - window;
      double used = slot->log_used;
      for (uint32_t i = 0; i < slot->log_count && log_at(index, i).time <= cutoff; ++i) used -= log_at(index, i).cost;
      return used + cost <= limit;
    }
  }
  return false;
}

// retryAfterMs: r = max(1, ceil(x)) from the closed form, then corrected against the admission test itself so
// that the answer is exact in floating point: while a retry at now + r would still be denied, r + 1 (up to
// kRetrySteps times); then while r > 1 and now + r - 1 would be admitted, r - 1 (up to kRetrySteps times).
double KeyedLimiter::retry_after(const Slot* slot, double cost, double now, double x) const {
  double r = std::max(1.0, std::ceil(x));
  for (int i = 0; i < kRetrySteps && !admits(slot, cost, now + r); ++i) r += 1;
  for (int i = 0; i < kRetrySteps && r > 1 && admits(slot, cost, now + (r - 1)); ++i) r -= 1;
  return r;
}

void KeyedLimiter::commit(Slot* s, uint32_t index, bool fresh, double cost, double now) {
  const double limit = spec_.limit;
  const double window = spec_.window_ms;
  switch (spec_.algorithm) {
    case Algorithm::kTokenBucket: {
      double tokens = fresh ? limit : s->a;
      const double last = fresh ? now : s->b;
      if (now > last) tokens = std::min(limit, tokens + ((now - last) * limit) / window);
      s->a = tokens - cost;
      s->b = now > last ? now : last;
      break;
    }
    case Algorithm::kFixedWindow: {
      const double start = std::floor(now / window) * window;
      if (fresh || start > s->a) {
        s->a = start;
        s->b = 0;
      }
      s->b += cost;
      break;
    }
    case Algorithm::kSlidingWindowCounter: {
      const double number = std::floor(now / window);  // the window index
      if (fresh) {
        s->a = number;
        s->b = 0;
        s->c = 0;
      } else if (number > s->a) {
        s->c = number == s->a + 1 ? s->b : 0;
        s->b = 0;
        s->a = number;
      }
      s->b += cost;
      break;
    }
    case Algorithm::kSlidingWindowLog: {
      std::vector<LogEntry>& ring = logs_[index];
      const double cutoff = now - window;
      double newest = now;
      if (!fresh) {
        while (s->log_count > 0 && log_at(index, 0).time <= cutoff) {
          s->log_used -= log_at(index, 0).cost;
          s->log_head = s->log_head + 1 == ring.size() ? 0 : s->log_head + 1;
          --s->log_count;
        }
        if (s->log_count > 0) newest = std::max(newest, log_at(index, s->log_count - 1).time);
      }
      if (s->log_count == ring.size()) {
        // Grow the ring (in order), doubling, never beyond `limit` entries (each entry holds cost >= 1).
        const std::size_t cap = std::min<std::size_t>(static_cast<std::size_t>(limit),
                                                      std::max<std::size_t>(4, ring.size() * 2));
        std::vector<LogEntry> grown(std::max<std::size_t>(cap, s->log_count + 1));
        for (uint32_t i = 0; i < s->log_count; ++i) grown[i] = log_at(index, i);
        log_bytes_ += (grown.size() - ring.size()) * sizeof(LogEntry);
        ring.swap(grown);
        s->log_head = 0;
      }
      std::size_t at = static_cast<std::size_t>(s->log_head) + s->log_count;
      if (at >= ring.size()) at -= ring.size();
      ring[at] = LogEntry{newest, cost};
      ++s->log_count;
      s->log_used += cost;
      break;
    }
  }
}

bool KeyedLimiter::check(uint64_t key, double cost, double now, Decision* out) {
  uint32_t index = find(key);
  if (!decide(index == kNone ? nullptr : &slots_[index], cost, now, out)) return false;
  const bool fresh = index == kNone;
  if (fresh) {
    index = insert(key);
  } else if (head_ != index) {
    unlink(index);
    push_front(index);
  }
  commit(&slots_[index], index, fresh, cost, now);
  return true;
}

bool KeyedLimiter::peek(uint64_t key, double cost, double now, Decision* out) const {
  const uint32_t index = find(key);
  return decide(index == kNone ? nullptr : &slots_[index], cost, now, out);
}

std::size_t KeyedLimiter::bytes() const noexcept {
  return sizeof(*this) + slots_.capacity() * sizeof(Slot) + logs_.capacity() * sizeof(std::vector<LogEntry>) +
         log_bytes_ + index_keys_.capacity() * sizeof(uint64_t) + index_slots_.capacity() * sizeof(uint32_t);
}

void KeyedLimiter::clear() noexcept {
  // Keeps every allocation (slots, index, rings) for reuse.
  slots_.clear();
  std::fill(index_slots_.begin(), index_slots_.end(), 0);
  std::fill(index_keys_.begin(), index_keys_.end(), 0);
  size_ = 0;
  head_ = tail_ = kNone;
}

std::vector<uint64_t> KeyedLimiter::lru_order() const {
  std::vector<uint64_t> keys;
  for (uint32_t s = head_; s != kNone; s = slots_[s].next) keys.push_back(slots_[s].key);
  return keys;
}

double KeyedLimiter::stored_tokens(uint64_t key) const noexcept {
  const uint32_t index = find(key);
  return index == kNone ? -1 : slots_[index].a;
}

// ---- RuleSet ------------------------------------------------------------------------------------------

RuleSet::RuleSet(std::vector<Rule> rules) {
  for (const Rule& rule : rules) {
    scopes_.push_back(rule.scope);
    limiters_.emplace_back(rule.spec, rule.max_keys);
    matches_.emplace_back();
  }
}

void RuleSet::set_match(std::size_t rule, bool all_methods, const std::vector<int32_t>& method_ids, bool all_tools,
                        const std::vector<int32_t>& tool_ids) {
  if (rule >= matches_.size()) return;
  Match& m = matches_[rule];
  m.all_methods = all_methods;
  m.all_tools = all_tools;
  m.methods.clear();
  m.tools.clear();
  for (const int32_t id : method_ids) {
    if (id < 0 || id > kMaxId) continue;
    if (static_cast<std::size_t>(id) >= m.methods.size()) m.methods.resize(static_cast<std::size_t>(id) + 1, 0);
    m.methods[static_cast<std::size_t>(id)] = 1;
  }
  for (const int32_t id : tool_ids) {
    if (id < 0 || id > kMaxId) continue;
    if (static_cast<std::size_t>(id) >= m.tools.size()) m.tools.resize(static_cast<std::size_t>(id) + 1, 0);
    m.tools[static_cast<std::size_t>(id)] = 1;
  }
}

void RuleSet::set_method_cost(int32_t method_id, double cost) {
  if (method_id < 0 || method_id > kMaxId) return;
  if (static_cast<std::size_t>(method_id) >= method_costs_.size()) method_costs_.resize(method_id + 1, 0);
  method_costs_[static_cast<std::size_t>(method_id)] = cost;
}

void RuleSet::set_tool_cost(int32_t tool_id, double cost) {
  if (tool_id < 0 || tool_id > kMaxId) return;
  if (static_cast<std::size_t>(tool_id) >= tool_costs_.size()) tool_costs_.resize(tool_id + 1, 0);
  tool_costs_[static_cast<std::size_t>(tool_id)] = cost;
}

double RuleSet::cost_of(int32_t method_id, int32_t tool_id) const noexcept {
  if (tool_id >= 0 && static_cast<std::size_t>(tool_id) < tool_costs_.size() && tool_costs_[tool_id] > 0)
    return tool_costs_[tool_id];
  if (method_id >= 0 && static_cast<std::size_t>(method_id) < method_costs_.size() && method_costs_[method_id] > 0)
    return method_costs_[method_id];
  return 1;
}

bool RuleSet::applies(std::size_t rule, int32_t method_id, int32_t tool_id) const noexcept {
  const Match& m = matches_[rule];
  if (!m.all_methods &&
      (method_id < 0 || static_cast<std::size_t>(method_id) >= m.methods.size() || m.methods[method_id] == 0))
    return false;
  if (!m.all_tools && (tool_id < 0 || static_cast<std::size_t>(tool_id) >= m.tools.size() || m.tools[tool_id] == 0))
    return false;
  return true;
}

uint64_t RuleSet::key_of(std::size_t rule, int32_t method_id, int32_t tool_id, uint64_t client_hash) const noexcept {
  switch (scopes_[rule]) {
    case Scope::kGlobal: return 0;
    case Scope::kClient: return client_hash;
    case Scope::kTool: return hash_pair(1, static_cast<uint64_t>(static_cast<int64_t>(tool_id)));
    case Scope::kClientTool: return hash_pair(client_hash, static_cast<uint64_t>(static_cast<int64_t>(tool_id)));
    case Scope::kMethod: return hash_pair(2, static_cast<uint64_t>(static_cast<int64_t>(method_id)));
  }
  return 0;
}

int32_t RuleSet::run(int32_t method_id, int32_t tool_id, uint64_t client_hash, double cost, double now,
                     Decision* out, bool commit) {
  // One applying rule (the usual case, and the engine's fused admission): one lookup that decides and
  // commits, instead of a peek and then a check. The numbers are the general path's: on an admitted call
  // the committed decision; on a refused one the retry-after of the check and the rest without this call.
  if (commit) {
    std::size_t only = limiters_.size();
    for (std::size_t r = 0; r < limiters_.size(); ++r) {
      if (!applies(r, method_id, tool_id)) continue;
      if (only != limiters_.size()) {
        only = limiters_.size() + 1;  // two or more: the general path
        break;
      }
      only = r;
    }
    if (only < limiters_.size()) {
      const uint64_t key = key_of(only, method_id, tool_id, client_hash);
      if (limiters_[only].check(key, cost, now, out)) {
        out->rule = static_cast<int32_t>(only);
        return -1;
      }
      const double retry = out->retry_after_ms;
      limiters_[only].peek(key, 0, now, out);
      out->allowed = false;
      out->retry_after_ms = retry;
      out->rule = static_cast<int32_t>(only);
      return static_cast<int32_t>(only);
    }
  }
  int32_t first_denied = -1;
  bool any = false;
  bool never = false;
  double retry = 0;
  for (std::size_t r = 0; r < limiters_.size(); ++r) {
    if (!applies(r, method_id, tool_id)) continue;
    any = true;
    Decision d;
    if (!limiters_[r].peek(key_of(r, method_id, tool_id, client_hash), cost, now, &d)) {
      if (first_denied < 0) first_denied = static_cast<int32_t>(r);
      if (d.retry_after_ms < 0) never = true; else retry = std::max(retry, d.retry_after_ms);
    }
  }
  out->retry_after_ms = 0;
  out->remaining = -1;
  out->reset_ms = 0;
  out->rule = -1;
  out->allowed = true;
  if (!any) return -1;
  double remaining = std::numeric_limits<double>::infinity();
  double reset = 0;
  int32_t least = -1;
  // Denied: nothing is consumed; remaining and reset are each applying rule's numbers without this call.
  // Admitted: every applying rule commits; its numbers after the call.
  const bool denied = first_denied >= 0;
  for (std::size_t r = 0; r < limiters_.size(); ++r) {
    if (!applies(r, method_id, tool_id)) continue;
    const uint64_t key = key_of(r, method_id, tool_id, client_hash);
    Decision d;
    if (denied) {
      limiters_[r].peek(key, 0, now, &d);
    } else if (commit) {
      limiters_[r].check(key, cost, now, &d);
    } else {
      limiters_[r].peek(key, cost, now, &d);
    }
    if (d.remaining < remaining) {
      remaining = d.remaining;
      least = static_cast<int32_t>(r);
    }
    reset = std::max(reset, d.reset_ms);
  }
  out->remaining = remaining;
  out->reset_ms = reset;
  if (denied) {
    out->allowed = false;
    out->retry_after_ms = never ? -1 : retry;
    out->rule = first_denied;
    return first_denied;
  }
  out->rule = least;
  return -1;
}

int32_t RuleSet::check(int32_t method_id, int32_t tool_id, uint64_t client_hash, double cost, double now,
                       Decision* out) {
  return run(method_id, tool_id, client_hash, cost, now, out, true);
}

int32_t RuleSet::peek(int32_t method_id, int32_t tool_id, uint64_t client_hash, double cost, double now,
                      Decision* out) const {
  return const_cast<RuleSet*>(this)->run(method_id, tool_id, client_hash, cost, now, out, false);
}

void RuleSet::clear() noexcept {
  for (auto& limiter : limiters_) limiter.clear();
}

}  // namespace mcp::ratelimit
