// libFuzzer target for the rate limiter (native/core/ratelimit.h): random op sequences against one
// KeyedLimiter and one two-rule RuleSet, with invariants checked after every step.
//
// Input: byte 0 picks the algorithm (bits 0-1), whether the clock may go back (bit 2) and a small or a full
// table (bit 3); byte 1 the limit, byte 2 the window; then 4 bytes per op: key and op (peek when bit 3),
// cost, time step (two bytes; signed when the clock may go back). Invariants (abort on violation):
//   * remaining in [0, limit]; retryAfterMs 0 when admitted, -1 iff cost > limit, else an integer >= 1;
//   * check() gives the same decision a peek() just before gave, and a denied check stores nothing;
//   * a retry after retryAfterMs with no other traffic is admitted, and 1 ms earlier is denied (when > 1);
//   * table size <= maxKeys; a bucket's stored tokens in [0, limit];
//   * with a monotone clock and no eviction: a fixed or counter window never admits more than `limit` within
//     one aligned window, and the log never more than `limit` within any windowMs;
//   * RuleSet: -1 iff admitted; a denied call changes nothing (the same call peeked again answers the same).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <vector>

#include "core/ratelimit.h"

namespace {

namespace rl = mcp::ratelimit;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_ratelimit invariant violated: %s\n", what);
  std::abort();
}

#define REQUIRE(condition)              \
  do {                                  \
    if (!(condition)) fail(#condition); \
  } while (0)

bool same(const rl::Decision& a, const rl::Decision& b) {
  return a.allowed == b.allowed && a.remaining == b.remaining && a.retry_after_ms == b.retry_after_ms &&
         a.reset_ms == b.reset_ms && a.rule == b.rule;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const auto algorithm = static_cast<rl::Algorithm>(data[0] & 3);
  const bool backwards = (data[0] & 4) != 0;
  const std::size_t max_keys = (data[0] & 8) ? 3 : 16;
  const double limit = 1 + data[1] % 16;
  const double window = (data[2] & 0x80) ? 1 + (data[2] & 0x7F) : 10.0 * (1 + data[2]) + 0.5 * (data[2] & 1);
  const rl::Spec spec{algorithm, limit, window};
  REQUIRE(rl::validate(spec, static_cast<double>(max_keys)) == rl::SpecError::kOk);
  rl::KeyedLimiter limiter(spec, max_keys);
  rl::RuleSet set({rl::Rule{spec, rl::Scope::kClient, max_keys},
                   rl::Rule{rl::Spec{rl::Algorithm::kFixedWindow, limit * 2, window}, rl::Scope::kGlobal, 1}});
  set.set_match(1, true, {}, false, {1, 3});

  std::map<uint64_t, std::vector<std::pair<double, double>>> admitted;  // key -> (time, cost)
  bool evicted = false;
  double now = 1000;
  for (std::size_t i = 3; i + 4 <= size; i += 4) {
    const uint64_t key = data[i] & 7;
    const bool peek_only = (data[i] & 8) != 0;
    const double cost = 1 + data[i + 1] % (static_cast<int>(limit) + 2);
    const int step = data[i + 2] | (data[i + 3] << 8);
    now += backwards ? static_cast<double>(static_cast<int16_t>(step)) / 4 : static_cast<double>(step % 4096);

    rl::Decision before, d;
    const bool would = limiter.peek(key, cost, now, &before);
    const std::size_t size_before = limiter.size();
    const bool allowed = peek_only ? limiter.peek(key, cost, now, &d) : limiter.check(key, cost, now, &d);
    REQUIRE(allowed == d.allowed && allowed == would && same(before, d));
    REQUIRE(d.remaining >= 0 && d.remaining <= limit);
    if (allowed) {
      REQUIRE(d.retry_after_ms == 0);
    } else {
      REQUIRE((d.retry_after_ms == -1) == (cost > limit));
      if (cost <= limit) {
        REQUIRE(d.retry_after_ms >= 1 && std::floor(d.retry_after_ms) == d.retry_after_ms);
        rl::Decision later;
        REQUIRE(limiter.peek(key, cost, now + d.retry_after_ms, &later));
        if (d.retry_after_ms > 1) REQUIRE(!limiter.peek(key, cost, now + (d.retry_after_ms - 1), &later));
      }
      REQUIRE(limiter.size() == size_before);
    }
    REQUIRE(limiter.size() <= max_keys);
    if (allowed && !peek_only) {
      if (size_before == max_keys && limiter.size() == max_keys && admitted.find(key) == admitted.end()) {
        evicted = true;
      }
      admitted[key].emplace_back(now, cost);
      if (algorithm == rl::Algorithm::kTokenBucket) {
        const double tokens = limiter.stored_tokens(key);
        REQUIRE(tokens >= 0 && tokens <= limit);
      }
      if (!backwards && !evicted && algorithm != rl::Algorithm::kTokenBucket) {
        double in_window = 0;
        const double start = std::floor(now / window) * window;
        for (const auto& [t, c] : admitted[key]) {
          const bool counts = algorithm == rl::Algorithm::kSlidingWindowLog ? t > now - window
                                                                             : std::floor(t / window) * window == start;
          if (counts) in_window += c;
        }
        REQUIRE(in_window <= limit);
      }
    }

    // The rule set: client = key, method id = key, tool id = key & 3 (the global rule counts tools 1 and 3).
    rl::Decision r1, r2;
    const int32_t result = set.check(static_cast<int32_t>(key), static_cast<int32_t>(key & 3), key, cost, now, &r1);
    REQUIRE((result == -1) == r1.allowed);
    if (result >= 0) {
      REQUIRE(set.peek(static_cast<int32_t>(key), static_cast<int32_t>(key & 3), key, cost, now, &r2) == result);
      REQUIRE(same(r1, r2));
      REQUIRE(r1.retry_after_ms == -1 || r1.retry_after_ms >= 1);
    }
    REQUIRE(set.limiter(0).size() <= max_keys && set.limiter(1).size() <= 1);
  }
  return 0;
}
