// libFuzzer target for the sandbox launcher's parsers (native/core/sandbox.h): /proc/<pid>/stat lines and
// /proc/<pid>/cgroup files, the two inputs it reads from the kernel (and the proc.ts twin reads alike).
//
// Input: byte 0 bit 0 picks the parser (0: stat, 1: cgroup); the rest is the line / file content. Properties
// (abort on violation):
//   stat:   the result is -1 or in [0, 2^53); with 1 tick per second it is the 100-tick result times 100
//           (exact arithmetic) or -1 (past 2^53); one extra trailing newline changes nothing unless the
//           line already ended with one.
//   cgroup: each folder is null or <mount root>/<controller> followed by nothing or an absolute path with
//           no empty, '.' or '..' component and no control byte; a final newline changes nothing.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/sandbox.h"

namespace {

namespace sb = mcp::sandbox;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_sandbox property violated: %s\n", what);
  std::abort();
}

void check_folder(const std::optional<std::string>& dir, std::string_view prefix) {
  if (!dir) return;
  if (dir->compare(0, prefix.size(), prefix) != 0) fail("folder outside its controller's mount");
  const std::string_view rest = std::string_view(*dir).substr(prefix.size());
  if (rest.empty()) return;
  if (rest[0] != '/') fail("folder does not continue with a slash");
  std::size_t start = 1;
  while (true) {
    const std::size_t slash = rest.find('/', start);
    const std::string_view part = rest.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty() || part == "." || part == "..") fail("empty, '.' or '..' component");
    for (unsigned char c : part) {
      if (c < 0x20 || c == 0x7f) fail("control byte in a folder");
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) == 0) {
    const int64_t r100 = sb::cpu_micros_from_stat(input, 100);
    if (r100 < -1 || r100 > (int64_t{1} << 53) - 1) fail("stat result out of range");
    const int64_t r1 = sb::cpu_micros_from_stat(input, 1);
    if (r100 >= 0 && r1 != -1 && r1 != r100 * 100) fail("1-tick and 100-tick results disagree");
    if (r100 == -1 && r1 >= 0) fail("1-tick result without a 100-tick one");
    if (input.empty() || input.back() != '\n') {
      if (sb::cpu_micros_from_stat(input + "\n", 100) != r100) fail("a trailing newline changed the result");
    }
  } else {
    const sb::CgroupDirs dirs = sb::cgroup_v1_dirs(input, "/sys/fs/cgroup");
    check_folder(dirs.memory, "/sys/fs/cgroup/memory");
    check_folder(dirs.pids, "/sys/fs/cgroup/pids");
    if (input.empty() || input.back() != '\n') {
      const sb::CgroupDirs again = sb::cgroup_v1_dirs(input + "\n", "/sys/fs/cgroup/");
      if (again.memory != dirs.memory || again.pids != dirs.pids) fail("a final newline changed the result");
    }
  }
  return 0;
}
