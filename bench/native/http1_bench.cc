// Core-only timing of the HTTP/1.1 head parser (no N-API): the difference to HeadParser.parse from JS
// (bench/http1.bench.ts) is the crossing's cost. Each head is parsed from its own exact-size buffer, best of
// three trials, with the SSE2 path (parse_head) and the portable one (parse_head_scalar).
// Usage: bench_http1 [seconds per case, default 0.5] [head file...]
//   With files: one line per file, "<ns parse_head> <ns parse_head_scalar>" (read by bench/http1.bench.ts).
//   Without: a built-in 8-header MCP POST head, printed as a table.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "timing.h"
#include "core/http1.h"

namespace {

namespace h1 = mcp::http1;

using mcp::bench::time_ns;

// {ns parse_head, ns parse_head_scalar} for one head; exits when the head is not accepted whole.
std::pair<double, double> measure(const std::string& head, double seconds) {
  std::vector<uint8_t> buf(head.begin(), head.end());
  int32_t fields[h1::kFieldsLength];
  if (h1::parse_head(buf.data(), 0, buf.size(), h1::kDefaultMaxHeadBytes, fields) !=
      static_cast<int32_t>(buf.size())) {
    std::fprintf(stderr, "bench_http1: a head is not accepted whole\n");
    std::exit(1);
  }
  volatile int32_t sink = 0;
  const double simd = time_ns(seconds, [&](std::size_t) {
    sink = h1::parse_head(buf.data(), 0, buf.size(), h1::kDefaultMaxHeadBytes, fields);
  });
  const double scalar = time_ns(seconds, [&](std::size_t) {
    sink = h1::parse_head_scalar(buf.data(), 0, buf.size(), h1::kDefaultMaxHeadBytes, fields);
  });
  (void)sink;
  return {simd, scalar};
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 0.5;
  if (argc > 2) {
    for (int i = 2; i < argc; ++i) {
      std::ifstream file(argv[i], std::ios::binary);
      const std::string head((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
      const auto [simd, scalar] = measure(head, seconds);
      std::printf("%.1f %.1f\n", simd, scalar);
    }
    return 0;
  }
  const std::string head =
      "POST /mcp HTTP/1.1\r\nHost: localhost:3000\r\nContent-Type: application/json\r\n"
      "Accept: application/json, text/event-stream\r\nContent-Length: 83\r\n"
      "Mcp-Session-Id: 7f3c2a9e-1b4d-4c8e-9f0a-2d6b8e1c3a5f\r\nMcp-Protocol-Version: 2025-06-18\r\n"
      "User-Agent: node\r\nConnection: keep-alive\r\n\r\n";
  const auto [simd, scalar] = measure(head, seconds);
  std::printf("8-header MCP POST (%zu bytes): parse_head %.1f ns, parse_head_scalar %.1f ns\n", head.size(), simd,
              scalar);
  return 0;
}
