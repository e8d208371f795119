// Tests of native/core/pipes.h: the shared vectors (test/vectors/pipes.json), that a grown pipe really
// holds what it reports, and the fallback to pipe-max-size for an unprivileged process.
#include <simdjson.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "check.h"
#include "vector_cases.h"
#include "core/pipes.h"

namespace {

namespace fs = std::filesystem;
namespace dom = simdjson::dom;
namespace pipes = mcp::pipes;

using check::failf;
using check::g_failure;
using check::read_file;

int errno_of(std::string_view name) {
  if (name == "EBADF") return EBADF;
  if (name == "EINVAL") return EINVAL;
  if (name == "EPERM") return EPERM;
  return -1;
}

int64_t int_or(dom::element e, const char* key, int64_t fallback) {
  int64_t v = 0;
  return e[key].get_int64().get(v) == simdjson::SUCCESS ? v : fallback;
}

dom::element member(dom::element e, const char* key) {
  dom::element v;
  if (e[key].get(v) != simdjson::SUCCESS) v = dom::element();
  return v;
}

/// One vector case; `ends` are closed by the caller.
bool run_case(dom::element c, int64_t page, std::vector<int>* ends) {
  std::string_view kind;
  std::string_view end;
  if (c["fd"].get_string().get(kind) != simdjson::SUCCESS || c["end"].get_string().get(end) != simdjson::SUCCESS) {
    return failf("case without fd or end");
  }
  int read_end = -1;
  int write_end = -1;
  if (kind == "pipe") {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return failf("pipe2 failed");
    read_end = fds[0];
    write_end = fds[1];
    ends->push_back(read_end);
    ends->push_back(write_end);
  } else if (kind == "file" || kind == "devnull") {
    const std::string path = kind == "devnull" ? "/dev/null" : (fs::temp_directory_path() / "fastermcp-pipes-test").string();
    read_end = write_end = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (read_end < 0) return failf("cannot open " + path);
    ends->push_back(read_end);
  } else if (kind == "closed") {
    read_end = write_end = open("/dev/null", O_RDONLY | O_CLOEXEC);
    close(read_end);
  } else {
    return failf("unknown fd kind " + std::string(kind));
  }
  const int fd = end == "write" ? write_end : read_end;
  const int64_t before = int_or(c, "beforePages", 0);
  if (before > 0 && pipes::grow(fd, before * page) != before * page) return failf("could not grow first");
  const int64_t ask = int_or(c, "askBytes", int_or(c, "askPages", 0) * page + int_or(c, "askPlus", 0));
  const int64_t got = pipes::grow(fd, ask);
  const dom::element expect = member(c, "expect");
  std::string_view err_name;
  if (expect["errno"].get_string().get(err_name) == simdjson::SUCCESS) {
    if (got != -errno_of(err_name)) return failf("got " + std::to_string(got) + ", expected -" + std::string(err_name));
    return true;
  }
  const int64_t pages = int_or(expect, "pages", -1);
  if (got != pages * page) return failf("got " + std::to_string(got) + " bytes, expected " + std::to_string(pages) + " pages");
  if (pipes::capacity(read_end) != got || pipes::capacity(write_end) != got) return failf("the ends disagree");
  return true;
}

int run_vectors(const fs::path& file, std::size_t* cases) {
  const int64_t page = sysconf(_SC_PAGESIZE);
  return check::run_vector_cases(file, "pipes", cases, [page](dom::element c) {
    std::vector<int> ends;
    const bool ok = run_case(c, page, &ends);
    for (int fd : ends) close(fd);
    return ok;
  });
}

/// A grown pipe takes exactly its capacity from a writer that does not block, and not one byte more.
bool test_capacity_is_real() {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
  const int64_t cap = pipes::grow(fds[1], 256 * 1024);
  bool ok = cap >= 256 * 1024;
  std::vector<char> bytes(static_cast<std::size_t>(cap > 0 ? cap : 1), 'x');
  int64_t written = 0;
  while (ok && written < cap) {
    const ssize_t n = write(fds[1], bytes.data(), static_cast<std::size_t>(cap - written));
    if (n <= 0) break;
    written += n;
  }
  ok = ok && written == cap && write(fds[1], "y", 1) == -1 && errno == EAGAIN;
  close(fds[0]);
  close(fds[1]);
  ASSERT_TRUE(ok);
  return true;
}

/// Unprivileged, asking above /proc/sys/fs/pipe-max-size gives that maximum (root may go beyond it, so
/// the check runs in a child that has given up root first).
bool test_unprivileged_gets_the_maximum() {
  const int64_t max = pipes::max_size();
  ASSERT_TRUE(max > 0);
  const pid_t pid = fork();
  ASSERT_TRUE(pid >= 0);
  if (pid == 0) {
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(2);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) _exit(3);
    const int64_t before = pipes::capacity(fds[0]);
    const int64_t got = pipes::grow(fds[0], max * 2);
    // The maximum, unless it is no larger than now (then the refusal, EPERM).
    _exit(max > before ? (got == max ? 0 : 4) : (got == -EPERM ? 0 : 5));
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: pipes_test <vectors dir>\n");
    return 2;
  }
  int failures = 0;
  std::size_t cases = 0;
  failures += run_vectors(fs::path(argv[1]) / "pipes.json", &cases);
  std::fprintf(stdout, "%s %zu vector cases\n", failures == 0 ? "ok  " : "FAIL", cases);
  RUN(test_capacity_is_real);
  RUN(test_unprivileged_gets_the_maximum);
  if (!g_failure.empty()) std::fprintf(stdout, "%s", g_failure.c_str());
  return failures == 0 ? 0 : 1;
}
