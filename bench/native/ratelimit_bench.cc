// Core-only timing of the rate limiter (no N-API): the difference to a check through the binding
// (RateLimiter.check from JS) is the crossing's cost. Cases: each algorithm's KeyedLimiter::check with 10k
// and 1M distinct keys cycling (maxKeys = the key count, so no eviction; the 1M case misses the caches), plus
// hash_key alone on a 16-byte key. Keys are hashed in the loop, as the binding does.
// Usage: bench_ratelimit [seconds per case, default 0.5]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "timing.h"
#include "core/ratelimit.h"

namespace {

namespace rl = mcp::ratelimit;

using mcp::bench::time_ns;

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 0.5;
  const char* const names[] = {"token-bucket", "sliding-window-log", "sliding-window-counter", "fixed-window"};
  std::printf("%-24s %10s %10s\n", "case (ns per check)", "10k keys", "1M keys");
  for (std::size_t a = 0; a < rl::kAlgorithmCount; ++a) {
    double ns[2];
    int column = 0;
    for (std::size_t key_count : {std::size_t{10000}, std::size_t{1000000}}) {
      std::vector<std::string> keys;
      keys.reserve(key_count);
      for (std::size_t i = 0; i < key_count; ++i) keys.push_back("client-" + std::to_string(i));
      rl::KeyedLimiter limiter(rl::Spec{static_cast<rl::Algorithm>(a), 100, 1000}, key_count);
      rl::Decision d;
      double now = 0;
      std::size_t admitted = 0;
      ns[column++] = time_ns(seconds, [&](std::size_t n) {
        now += 0.001;
        admitted += limiter.check(rl::hash_key(keys[n % key_count]), 1, now, &d) ? 1 : 0;
      });
      if (admitted == 0) std::printf("(nothing admitted)\n");
    }
    std::printf("%-24s %10.1f %10.1f\n", names[a], ns[0], ns[1]);
  }
  const std::string key = "client-123456789";
  uint64_t sink = 0;
  const double hash_ns = time_ns(seconds, [&](std::size_t n) { sink += rl::hash_key(key) + n; });
  std::printf("%-24s %10.1f\n", "hash_key (16 bytes)", hash_ns);
  return sink == 42 ? 1 : 0;
}
