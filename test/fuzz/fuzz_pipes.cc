// libFuzzer target for native/core/pipes.h: a sequence of grow and capacity calls on one pipe, through
// either end, with the invariants checked after every call.
//
// Input: 3 bytes per op. Byte 0: bit 0 the end (read/write), bits 1-2 the kind of ask (0-1: a size in
// [1, 4 MiB] from bytes 1-2 in KiB steps plus the low bits of byte 0; 2: 0 bytes; 3: 2^31 bytes). Sizes
// stay small enough that a run as root (no pipe-max-size cap) allocates little. Invariants (abort):
//   * an invalid ask answers -EINVAL and changes nothing;
//   * a success is at least the ask (or pipe-max-size, when the ask is above it and the process may not
//     exceed it), a power of two times the page size, no smaller than before, and what
//     capacity() reads through both ends; a refusal is -EPERM (or -ENOMEM) and changes nothing.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "core/pipes.h"

namespace {

namespace pipes = mcp::pipes;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_pipes invariant violated: %s\n", what);
  std::abort();
}

#define REQUIRE(condition)              \
  do {                                  \
    if (!(condition)) fail(#condition); \
  } while (0)

bool power_of_two_pages(int64_t bytes, int64_t page) {
  if (bytes <= 0 || bytes % page != 0) return false;
  const int64_t pages = bytes / page;
  return (pages & (pages - 1)) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return 0;
  const int64_t page = sysconf(_SC_PAGESIZE);
  const int64_t max = pipes::max_size();
  int64_t now = pipes::capacity(fds[0]);
  REQUIRE(now > 0 && now == pipes::capacity(fds[1]));
  for (size_t i = 0; i + 3 <= size && i < 3 * 64; i += 3) {
    const int fd = fds[data[i] & 1];
    const int kind = (data[i] >> 1) & 3;
    int64_t ask;
    if (kind == 2) ask = 0;
    else if (kind == 3) ask = int64_t{1} << 31;
    else ask = ((int64_t{data[i + 1]} << 8 | data[i + 2]) % 4096) * 1024 + (data[i] >> 3) + 1;
    const int64_t got = pipes::grow(fd, ask);
    if (kind >= 2) {
      REQUIRE(got == -EINVAL);
    } else if (got >= 0) {
      // Above pipe-max-size without CAP_SYS_RESOURCE: the maximum instead.
      REQUIRE(got >= ask || (ask > max && got == max));
      REQUIRE(got >= now);
      REQUIRE(power_of_two_pages(got, page));
      now = got;
    } else {
      REQUIRE(got == -EPERM || got == -ENOMEM);
    }
    REQUIRE(pipes::capacity(fds[0]) == now && pipes::capacity(fds[1]) == now);
  }
  close(fds[0]);
  close(fds[1]);
  return 0;
}
