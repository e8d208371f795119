// libFuzzer target for the HTTP/1.1 head parser (native/core/http1.h) on arbitrary bytes.
//
// Input: byte 0 is the control byte: bits 0-1 the start offset (capped at the end), bit 2 a small
// max_head_bytes (16 + byte 1, else the default 16384), bit 3 an end cut at size * byte 1 / 256; the rest is
// the buffer, copied into an exact-size heap block of [0, end) so that AddressSanitizer sees any read past
// end. Invariants (abort on violation):
//   * the status is 0, -400, -431, -505, or a head length in (0, min(end - start, max_head_bytes)] whose last
//     four bytes are CR LF CR LF;
//   * fields[0] is the returned status; the SSE2 and the scalar paths fill the same fields;
//   * an accepted head: method in 0..7; version 0 or 1; Content-Length >= -2; flags within the six bits and
//     chunked only with transfer-encoding, never transfer-encoding with a Content-Length; count <= 100;
//     target, names and values inside the head and in order (target < name < ':' < value <= value end <
//     next name), each name followed by ':', ids in 0..15, HTTP/1.1 with exactly one Host id;
//   * the head alone ([start, start + status)) reads the same, and one byte less reads 0.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "core/http1.h"

namespace {

namespace h1 = mcp::http1;
namespace fld = h1::field;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_http1 invariant violated: %s\n", what);
  std::abort();
}

#define REQUIRE(condition)              \
  do {                                  \
    if (!(condition)) fail(#condition); \
  } while (0)

int32_t parse_copy(const uint8_t* bytes, std::size_t start, std::size_t end, std::size_t max, int32_t* fields,
                   bool scalar) {
  std::unique_ptr<uint8_t[]> copy(new uint8_t[end == 0 ? 1 : end]);
  if (end > 0) std::memcpy(copy.get(), bytes, end);
  const uint8_t* buf = end == 0 ? nullptr : copy.get();
  return scalar ? h1::parse_head_scalar(buf, start, end, max, fields) : h1::parse_head(buf, start, end, max, fields);
}

std::size_t defined_length(const int32_t* f) {
  return f[fld::kStatus] <= 0 ? 1 : static_cast<std::size_t>(fld::kFields + f[fld::kCount] * h1::kFieldStride);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t control = data[0];
  const uint8_t knob = data[1];
  const uint8_t* bytes = data + 2;
  const std::size_t length = size - 2;
  const std::size_t end = (control & 8) != 0 ? length * knob / 256 : length;
  const std::size_t start = (control & 3) < end ? (control & 3) : end;
  const std::size_t max = (control & 4) != 0 ? 16 + knob : h1::kDefaultMaxHeadBytes;

  int32_t f[h1::kFieldsLength];
  int32_t g[h1::kFieldsLength];
  const int32_t status = parse_copy(bytes, start, end, max, f, false);
  REQUIRE(f[fld::kStatus] == status);
  REQUIRE(parse_copy(bytes, start, end, max, g, true) == status);
  REQUIRE(std::memcmp(f, g, defined_length(f) * sizeof(int32_t)) == 0);
  if (status <= 0) {
    REQUIRE(status == h1::kIncomplete || status == h1::kBadRequest || status == h1::kTooLarge ||
            status == h1::kVersionNotSupported);
    return 0;
  }
  const std::size_t head_end = start + static_cast<std::size_t>(status);
  REQUIRE(head_end <= end && static_cast<std::size_t>(status) <= max);
  REQUIRE(std::memcmp(bytes + head_end - 4, "\r\n\r\n", 4) == 0);
  REQUIRE(f[fld::kMethod] >= 0 && f[fld::kMethod] <= 7);
  REQUIRE(f[fld::kVersion] == 0 || f[fld::kVersion] == 1);
  REQUIRE(f[fld::kContentLength] >= -2);
  const int32_t flags = f[fld::kFlags];
  REQUIRE((flags & ~63) == 0);
  REQUIRE((flags & h1::flag::kChunked) == 0 || (flags & h1::flag::kTransferEncoding) != 0);
  REQUIRE((flags & h1::flag::kTransferEncoding) == 0 || f[fld::kContentLength] == -1);
  REQUIRE(f[fld::kCount] >= 0 && f[fld::kCount] <= h1::kMaxHeaders);
  const auto at = [](int32_t offset) { return static_cast<std::size_t>(offset); };
  REQUIRE(f[fld::kTargetStart] >= 0 && at(f[fld::kTargetStart]) > start);
  REQUIRE(f[fld::kTargetStart] < f[fld::kTargetEnd]);
  std::size_t previous = at(f[fld::kTargetEnd]);
  int hosts = 0;
  for (int32_t k = 0; k < f[fld::kCount]; ++k) {
    const int32_t* e = f + fld::kFields + k * h1::kFieldStride;
    REQUIRE(e[0] >= 0 && e[0] < h1::kKnownHeaderCount);
    REQUIRE(e[1] >= 0 && at(e[1]) > previous && e[1] < e[2] && e[2] < e[3] && e[3] <= e[4]);
    REQUIRE(at(e[4]) + 2 <= head_end - 2);
    REQUIRE(bytes[e[2]] == ':');
    hosts += e[0] == h1::kHost ? 1 : 0;
    previous = at(e[4]);
  }
  REQUIRE(hosts <= 1 && (f[fld::kVersion] == 0 || hosts == 1));
  // The head alone reads the same; one byte less is incomplete.
  REQUIRE(parse_copy(bytes, start, head_end, max, g, false) == status);
  REQUIRE(std::memcmp(f, g, defined_length(f) * sizeof(int32_t)) == 0);
  REQUIRE(parse_copy(bytes, start, head_end - 1, max, g, false) == h1::kIncomplete);
  return 0;
}
