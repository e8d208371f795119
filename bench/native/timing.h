// Timing for the C++ micro-benchmarks (bench/native/*_bench.cc): the best of three trials of about
// seconds / 3 each, in ns per call. `body(n)` gets the running call index, so it can vary its input.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>

namespace mcp::bench {

template <typename F>
double time_ns(double seconds, F&& body) {
  using Clock = std::chrono::steady_clock;
  double best = 1e30;
  for (int trial = 0; trial < 3; ++trial) {
    std::size_t n = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    do {
      for (int i = 0; i < 1024; ++i) body(n++);
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < seconds / 3);
    best = std::min(best, elapsed * 1e9 / static_cast<double>(n));
  }
  return best;
}

}  // namespace mcp::bench
