// The sandbox launcher (native/core/sandbox.h): the shared vectors (test/vectors/sandbox-*.json) against the
// parsers and the seccomp filter (every case through a BPF interpreter over the built program, the 'real'
// ones also in a forked child with the filter installed), then launches of /bin/sh, dd and this binary
// (re-executed with --child <mode>) checking each limit's effect, the fd layout, the session, the
// identity drop, the reaper's exit status and rusage, and the reported step + errno of a failed setup.
// Every wait is bounded (kWaitMs); no assertion depends on how long something took.
// Usage: sandbox_test <test/vectors directory>.
#include <simdjson.h>

#include <dirent.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "check.h"
#include "core/sandbox.h"

namespace {

namespace fs = std::filesystem;
namespace dom = simdjson::dom;
namespace sb = mcp::sandbox;

using check::failf;
using check::g_failure;
using check::read_file;

constexpr int kWaitMs = 30000;
std::string g_self;  // this binary, for --child modes

// --- A BPF interpreter for the instructions build_filter emits -----------------------------------------------

bool run_bpf(const std::vector<sock_filter>& program, const seccomp_data& data, uint32_t* result) {
  uint32_t a = 0;
  std::size_t pc = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(&data);
  while (pc < program.size()) {
    const sock_filter& in = program[pc];
    switch (in.code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (in.k + 4 > sizeof(data) || in.k % 4 != 0) return failf("bad load offset " + std::to_string(in.k));
        std::memcpy(&a, bytes + in.k, 4);
        ++pc;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
        pc += 1 + (a == in.k ? in.jt : in.jf);
        break;
      case BPF_JMP | BPF_JGE | BPF_K:
        pc += 1 + (a >= in.k ? in.jt : in.jf);
        break;
      case BPF_JMP | BPF_JSET | BPF_K:
        pc += 1 + ((a & in.k) != 0 ? in.jt : in.jf);
        break;
      case BPF_RET | BPF_K:
        *result = in.k;
        return true;
      default:
        return failf("unknown BPF opcode " + std::to_string(in.code));
    }
  }
  return failf("the program ran off its end");
}

// --- The seccomp vectors ----------------------------------------------------------------------------------

struct Named {
  const char* name;
  long value;
};
const Named kSyscalls[] = {
    {"socket", SYS_socket}, {"socketpair", SYS_socketpair}, {"clone", SYS_clone}, {"clone3", SYS_clone3},
#ifdef SYS_fork
    {"fork", SYS_fork}, {"vfork", SYS_vfork},
#endif
    {"kill", SYS_kill}, {"tkill", SYS_tkill}, {"tgkill", SYS_tgkill}, {"rt_sigqueueinfo", SYS_rt_sigqueueinfo},
    {"rt_tgsigqueueinfo", SYS_rt_tgsigqueueinfo}, {"pidfd_send_signal", SYS_pidfd_send_signal},
    {"ptrace", SYS_ptrace}, {"process_vm_readv", SYS_process_vm_readv}, {"process_vm_writev", SYS_process_vm_writev},
    {"keyctl", SYS_keyctl}, {"add_key", SYS_add_key}, {"bpf", SYS_bpf}, {"io_uring_setup", SYS_io_uring_setup},
    {"userfaultfd", SYS_userfaultfd}, {"unshare", SYS_unshare}, {"setns", SYS_setns}, {"getpid", SYS_getpid},
};
const Named kConstants[] = {
    {"CLONE_VM", CLONE_VM}, {"CLONE_FS", CLONE_FS}, {"CLONE_FILES", CLONE_FILES}, {"CLONE_SIGHAND", CLONE_SIGHAND},
    {"CLONE_THREAD", CLONE_THREAD}, {"CLONE_SYSVSEM", CLONE_SYSVSEM}, {"SIGCHLD", SIGCHLD},
};
const Named kErrnos[] = {{"EPERM", EPERM}, {"EACCES", EACCES}, {"ENOSYS", ENOSYS}};

bool lookup(const Named* table, std::size_t n, std::string_view name, long* out) {
  for (std::size_t i = 0; i < n; ++i) {
    if (name == table[i].name) {
      *out = table[i].value;
      return true;
    }
  }
  return false;
}

struct SeccompCase {
  std::string name;
  bool deny_network = false, deny_spawn = false, restrict_kill = false;
  long nr = -1;
  std::vector<std::string> args;  // symbols or decimal numbers
  bool x32 = false, foreign = false, real = false;
  std::string expect;
};

// An argument's 64-bit register value for a child whose pid is `pid`; buf is a scratch buffer.
template <typename U>
bool arg_value(const std::string& text, pid_t pid, void* buf, U* out) {
  if (text == "own") {
    *out = static_cast<U>(pid);
  } else if (text == "-own") {
    *out = static_cast<U>(-static_cast<int64_t>(pid));
  } else if (text == "buf") {
    *out = reinterpret_cast<uintptr_t>(buf);
  } else if (!text.empty() && (std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '-')) {
    *out = static_cast<U>(std::stoll(text));
  } else {
    uint64_t sum = 0;
    std::size_t start = 0;
    while (start <= text.size()) {
      const std::size_t bar = text.find('|', start);
      long v;
      if (!lookup(kConstants, std::size(kConstants), text.substr(start, bar - start), &v)) {
        return failf("unknown argument symbol " + text);
      }
      sum |= static_cast<uint64_t>(v);
      start = bar == std::string::npos ? text.size() + 1 : bar + 1;
    }
    *out = sum;
  }
  return true;
}

std::string decision_of(uint32_t ret) {
  const uint32_t action = ret & SECCOMP_RET_ACTION_FULL;
  if (action == SECCOMP_RET_ALLOW) return "allow";
  if (action == SECCOMP_RET_KILL_PROCESS) return "kill";
  if (action == SECCOMP_RET_ERRNO) {
    for (const Named& e : kErrnos) {
      if (static_cast<uint32_t>(e.value) == (ret & SECCOMP_RET_DATA)) return e.name;
    }
    return "errno " + std::to_string(ret & SECCOMP_RET_DATA);
  }
  return "action " + std::to_string(action);
}

bool check_bpf_case(const SeccompCase& c) {
  sb::Filter filter = sb::build_filter(c.deny_network, c.deny_spawn, c.restrict_kill);
  if (filter.empty()) {
    if (c.expect != "allow") return failf("no filter is built, expected " + c.expect);
    return true;
  }
  const pid_t pid = 4242;
  sb::patch_filter(&filter, pid);
  seccomp_data data{};
  data.nr = static_cast<int>(c.nr | (c.x32 ? 0x40000000 : 0));
#if defined(__x86_64__)
  data.arch = c.foreign ? AUDIT_ARCH_I386 : AUDIT_ARCH_X86_64;
#else
  data.arch = c.foreign ? AUDIT_ARCH_ARM : AUDIT_ARCH_AARCH64;
#endif
  char buf[128] = {};
  for (std::size_t i = 0; i < c.args.size() && i < 6; ++i) {
    if (!arg_value(c.args[i], pid, buf, &data.args[i])) return false;
  }
  uint32_t ret = 0;
  if (!run_bpf(filter.program, data, &ret)) return false;
  if (decision_of(ret) != c.expect) return failf("BPF says " + decision_of(ret) + ", expected " + c.expect);
  return true;
}

// Runs the case's system call in a forked child (own session) with the real filter installed.
bool check_real_case(const SeccompCase& c) {
  if (c.nr == SYS_kill && c.expect == "allow" && geteuid() != 0) return true;  // kill(1) needs root
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return failf("pipe2");
  const pid_t child = fork();
  if (child == 0) {
    long result[2] = {-2, 0};
    setsid();
    sb::Filter filter = sb::build_filter(c.deny_network, c.deny_spawn, c.restrict_kill);
    const pid_t self = getpid();
    alignas(16) char buf[128] = {};
    if (c.nr == SYS_clone3) reinterpret_cast<uint64_t*>(buf)[4] = SIGCHLD;  // clone_args.exit_signal
    uint64_t a[6] = {};
    for (std::size_t i = 0; i < c.args.size() && i < 6; ++i) arg_value(c.args[i], self, buf, &a[i]);
    if (!filter.empty()) {
      sb::patch_filter(&filter, self);
      sock_fprog prog{static_cast<unsigned short>(filter.program.size()), filter.program.data()};
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
        result[0] = -3;
        result[1] = errno;
        (void)!write(report[1], result, sizeof(result));
        _exit(1);
      }
    }
    const long nr = c.nr | (c.x32 ? 0x40000000 : 0);
    const long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    if (r == 0 && (c.nr == SYS_clone || c.nr == SYS_clone3)) _exit(0);  // the grandchild of an allowed fork
    result[0] = r;
    result[1] = r < 0 ? errno : 0;
    if (r > 0 && (c.nr == SYS_clone || c.nr == SYS_clone3)) waitpid(static_cast<pid_t>(r), nullptr, 0);
    (void)!write(report[1], result, sizeof(result));
    _exit(0);
  }
  close(report[1]);
  long result[2] = {0, 0};
  const ssize_t got = read(report[0], result, sizeof(result));
  close(report[0]);
  int status = 0;
  waitpid(child, &status, 0);
  if (got != sizeof(result)) return failf("the child reported nothing (status " + std::to_string(status) + ")");
  if (result[0] == -3) return failf("installing the filter failed: " + std::string(std::strerror(static_cast<int>(result[1]))));
  if (c.expect == "allow") {
    if (result[0] < 0) return failf("expected success, got " + std::string(std::strerror(static_cast<int>(result[1]))));
    return true;
  }
  long expected_errno;
  if (!lookup(kErrnos, std::size(kErrnos), c.expect, &expected_errno)) return failf("bad expect " + c.expect);
  if (result[0] != -1 || result[1] != expected_errno) {
    return failf("expected " + c.expect + ", got ret " + std::to_string(result[0]) + " errno " + std::to_string(result[1]));
  }
  return true;
}

// Field readers in the get(out) style (GCC 12 flags value_unsafe() chains over temporaries).
std::string_view str(dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get_string().get(v) != simdjson::SUCCESS) v = {};
  return v;
}
dom::array arr(dom::element e, const char* key) {
  dom::array v;
  if (e[key].get_array().get(v) != simdjson::SUCCESS) v = dom::array();
  return v;
}
dom::element elem(dom::element e, const char* key) {
  dom::element v;
  if (e[key].get(v) != simdjson::SUCCESS) v = dom::element();
  return v;
}

bool flag(dom::element flags, const char* name) {
  bool v = false;
  if (flags[name].get_bool().get(v) != simdjson::SUCCESS) v = false;
  return v;
}

int run_seccomp_vectors(const fs::path& file, std::size_t* count) {
  std::string json;
  dom::parser parser;
  dom::element doc;
  g_failure.clear();
  if (!read_file(file, &json) || parser.parse(json).get(doc) != simdjson::SUCCESS) {
    std::fprintf(stdout, "FAIL cannot load %s\n%s", file.c_str(), g_failure.c_str());
    return 1;
  }
  int failures = 0;
#if defined(__x86_64__)
  const std::string_view arch = "x86_64";
#else
  const std::string_view arch = "aarch64";
#endif
  for (dom::element e : arr(doc, "cases")) {
    SeccompCase c;
    c.name = std::string(str(e, "name"));
    std::string_view only;
    if (e["archOnly"].get_string().get(only) == simdjson::SUCCESS && only != arch) continue;
    const dom::element flags = elem(e, "flags");
    c.deny_network = flag(flags, "denyNetwork");
    c.deny_spawn = flag(flags, "denySpawn");
    c.restrict_kill = flag(flags, "restrictKill");
    g_failure.clear();
    bool ok = lookup(kSyscalls, std::size(kSyscalls), str(e, "syscall"), &c.nr) ||
              failf("unknown syscall " + std::string(str(e, "syscall")));
    for (dom::element a : arr(e, "args")) {
      int64_t n;
      std::string_view s;
      if (a.get_int64().get(n) == simdjson::SUCCESS) {
        c.args.push_back(std::to_string(n));
      } else if (a.get_string().get(s) == simdjson::SUCCESS) {
        c.args.emplace_back(s);
      }
    }
    bool b = false;
    c.x32 = e["x32"].get_bool().get(b) == simdjson::SUCCESS && b;
    std::string_view arch_field;
    c.foreign = e["arch"].get_string().get(arch_field) == simdjson::SUCCESS && arch_field == "foreign";
    std::string_view run;
    c.real = e["run"].get_string().get(run) == simdjson::SUCCESS && run == "real";
    c.expect = std::string(str(e, "expect"));
    ok = ok && check_bpf_case(c);
    if (ok && c.real) ok = check_real_case(c);
    ++*count;
    if (!ok) {
      std::fprintf(stdout, "FAIL seccomp: %s\n%s", c.name.c_str(), g_failure.c_str());
      ++failures;
    }
  }
  return failures;
}

int run_parser_vectors(const fs::path& dir, std::size_t* count) {
  int failures = 0;
  {
    std::string json;
    dom::parser parser;
    dom::element doc;
    if (!read_file(dir / "sandbox-proc-stat.json", &json) || parser.parse(json).get(doc) != simdjson::SUCCESS) {
      std::fprintf(stdout, "FAIL cannot load sandbox-proc-stat.json\n");
      return 1;
    }
    for (dom::element e : arr(doc, "cases")) {
      const std::string_view line = str(e, "line");
      int64_t ticks = 0;
      if (e["clockTicks"].get_int64().get(ticks) != simdjson::SUCCESS) ticks = 0;
      int64_t expect = -1;
      if (e["expect"].get_int64().get(expect) != simdjson::SUCCESS) expect = -1;
      const int64_t got = sb::cpu_micros_from_stat(line, ticks);
      ++*count;
      if (got != expect) {
        std::fprintf(stdout, "FAIL proc-stat: %s: got %lld, expected %lld\n",
                     std::string(str(e, "name")).c_str(), static_cast<long long>(got),
                     static_cast<long long>(expect));
        ++failures;
      }
    }
  }
  std::string json;
  dom::parser parser;
  dom::element doc;
  if (!read_file(dir / "sandbox-cgroup.json", &json) || parser.parse(json).get(doc) != simdjson::SUCCESS) {
    std::fprintf(stdout, "FAIL cannot load sandbox-cgroup.json\n");
    return failures + 1;
  }
  for (dom::element e : arr(doc, "cases")) {
    const sb::CgroupDirs got =
        sb::cgroup_v1_dirs(str(e, "content"), str(e, "mountRoot"));
    const dom::element expect = elem(e, "expect");
    bool ok = true;
    for (const char* key : {"memory", "pids"}) {
      const std::optional<std::string>& value = std::string_view(key) == "memory" ? got.memory : got.pids;
      std::string_view want;
      const bool is_string = expect[key].get_string().get(want) == simdjson::SUCCESS;
      if (is_string ? (!value || *value != want) : value.has_value()) ok = false;
    }
    ++*count;
    if (!ok) {
      std::fprintf(stdout, "FAIL cgroup: %s: got memory=%s pids=%s\n",
                   std::string(str(e, "name")).c_str(),
                   got.memory ? got.memory->c_str() : "null", got.pids ? got.pids->c_str() : "null");
      ++failures;
    }
  }
  return failures;
}

// --- Launch helpers ---------------------------------------------------------------------------------------

struct Exit {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  sb::ExitStatus status;
};

void on_exit(void* context, const sb::ExitStatus& status) {
  auto* e = static_cast<Exit*>(context);
  const std::lock_guard<std::mutex> lock(e->mutex);
  e->status = status;
  e->done = true;
  e->cv.notify_all();
}

bool wait_exit(Exit* e) {
  std::unique_lock<std::mutex> lock(e->mutex);
  return e->cv.wait_for(lock, std::chrono::milliseconds(kWaitMs), [e] { return e->done; });
}

struct Run {
  sb::ExitStatus status;
  std::string out;
  std::string err;
};

sb::LaunchSpec shell(const std::string& script) {
  sb::LaunchSpec spec;
  spec.file = "/bin/sh";
  spec.argv = {"sh", "-c", script};
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.cwd = "/";
  return spec;
}

sb::LaunchSpec self_child(const std::string& mode) {
  sb::LaunchSpec spec;
  spec.file = g_self;
  spec.argv = {"sandbox_test", "--child", mode};
  // The sanitizer runtimes of an ASan build: no leak check in a child that may not be allowed to clone.
  spec.env = {"ASAN_OPTIONS=detect_leaks=0"};
  spec.cwd = "/";
  return spec;
}

/// Launches, optionally writes `input` to the control socket, reads stdout/stderr to EOF (bounded) and waits.
bool run(const sb::LaunchSpec& spec, Run* out, const std::string& control_input = "", std::string* control_output = nullptr) {
  Exit exit;
  sb::LaunchResult r;
  const sb::Error e = sb::launch(spec, &r, on_exit, &exit);
  if (e) return failf("launch failed: " + sb::error_message(e, &spec));
  if (!control_input.empty()) (void)!write(r.control, control_input.data(), control_input.size());
  pollfd fds[3] = {{r.out, POLLIN, 0}, {r.err, POLLIN, 0}, {r.control, POLLIN, 0}};
  int open_count = 3;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kWaitMs);
  while (open_count > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || poll(fds, 3, static_cast<int>(left.count())) <= 0) {
      sb::kill_group(r.pid, SIGKILL);
      wait_exit(&exit);
      close(r.out);
      close(r.err);
      close(r.control);
      return failf("the child did not finish in time");
    }
    for (int i = 0; i < 3; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      const ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n <= 0) {
        fds[i].fd = -1;
        --open_count;
        continue;
      }
      std::string* sink = i == 0 ? &out->out : i == 1 ? &out->err : control_output;
      if (sink != nullptr) sink->append(buf, static_cast<std::size_t>(n));
    }
  }
  close(r.out);
  close(r.err);
  close(r.control);
  if (!wait_exit(&exit)) return failf("no exit callback in time");
  out->status = exit.status;
  if (out->status.pid != r.pid) return failf("exit status of another pid");
  return true;
}

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

// --- Launch tests -----------------------------------------------------------------------------------------

bool test_exit_env_cwd() {
  const std::string dir = "/tmp/sandbox_test_cwd_" + std::to_string(getpid());
  mkdir(dir.c_str(), 0755);
  sb::LaunchSpec spec = shell("echo \"$FOO|$HOME\"; pwd; echo oops >&2; exit 3");
  spec.env = {"FOO=bar baz"};
  spec.cwd = dir;
  Run r;
  const bool ok = run(spec, &r);
  rmdir(dir.c_str());
  ASSERT_TRUE(ok);
  ASSERT_EQ(r.out, "bar baz|\n" + dir + "\n");
  ASSERT_EQ(r.err, std::string("oops\n"));
  ASSERT_EQ(r.status.exit_code, 3);
  ASSERT_EQ(r.status.signal, 0);
  return true;
}

bool test_argv0() {
  sb::LaunchSpec spec;
  spec.file = "/bin/sh";
  spec.argv = {"custom-name", "-c", "echo $0"};
  Run r;
  spec.cwd = "/";
  ASSERT_TRUE(run(spec, &r));
  ASSERT_EQ(r.out, std::string("custom-name\n"));
  return true;
}

bool test_fds_and_control() {
  // Only 0-3 open; 0 is /dev/null; 3 is a socket whose peer is the parent's control end.
  Run r;
  std::string control;
  ASSERT_TRUE(run(shell("readlink /proc/$$/fd/0; echo hello >&3; read x <&3; echo \"got $x\""), &r, "world\n", &control));
  ASSERT_EQ(r.out, std::string("/dev/null\ngot world\n"));
  ASSERT_EQ(control, std::string("hello\n"));
  // Every open fd of the exec'd program (listed by it, minus the listing's own directory fd).
  Run fds;
  ASSERT_TRUE(run(self_child("fds"), &fds));
  ASSERT_EQ(fds.out, std::string("0 1 2 3\n"));
  return true;
}

bool test_session_signals_nnp() {
  Run r;
  ASSERT_TRUE(run(shell("read -r line < /proc/$$/stat; echo \"$$ $line\"; grep -E '^(SigIgn|SigBlk|NoNewPrivs|Seccomp):' "
                        "/proc/$$/status"),
                  &r));
  // "<pid> <pid> (sh) S <ppid> <pgrp> <session> ..."
  unsigned pid = 0, pid2 = 0, ppid = 0, pgrp = 0, session = 0;
  ASSERT_EQ(std::sscanf(r.out.c_str(), "%u %u (sh) %*c %u %u %u", &pid, &pid2, &ppid, &pgrp, &session), 5);
  ASSERT_EQ(pgrp, pid);
  ASSERT_EQ(session, pid);
  ASSERT_EQ(ppid, static_cast<unsigned>(getpid()));
  ASSERT_TRUE(contains(r.out, "SigIgn:\t0000000001000000\n"));  // only SIGXFSZ (25) ignored
  ASSERT_TRUE(contains(r.out, "SigBlk:\t0000000000000000\n"));
  ASSERT_TRUE(contains(r.out, "NoNewPrivs:\t1\n"));
  ASSERT_TRUE(contains(r.out, "Seccomp:\t0\n"));  // no flag set: no filter
  return true;
}

bool test_rlimit_data() {
  sb::LaunchSpec spec;
  spec.file = "/bin/dd";
  spec.argv = {"dd", "if=/dev/zero", "of=/dev/null", "bs=300M", "count=1"};
  spec.cwd = "/";
  spec.rlimits = {{RLIMIT_DATA, 64u << 20, 64u << 20}};
  Run r;
  ASSERT_TRUE(run(spec, &r));
  ASSERT_EQ(r.status.exit_code, 1);
  ASSERT_TRUE(contains(r.err, "memory exhausted"));
  // The same without the limit succeeds: the limit made the difference.
  spec.rlimits.clear();
  Run ok;
  ASSERT_TRUE(run(spec, &ok));
  ASSERT_EQ(ok.status.exit_code, 0);
  return true;
}

bool test_rlimit_cpu_and_rusage() {
  sb::LaunchSpec spec = shell("while :; do :; done");
  spec.rlimits = {{RLIMIT_CPU, 1, 2}};
  Run r;
  ASSERT_TRUE(run(spec, &r));
  ASSERT_EQ(r.status.signal, SIGXCPU);
  // The kernel sends SIGXCPU once the CPU time reaches the soft limit (1 s), counted in whole ticks.
  std::fprintf(stdout, "     SIGXCPU after %lld us user + %lld us system, maxrss %lld KiB\n",
               static_cast<long long>(r.status.user_micros), static_cast<long long>(r.status.system_micros),
               static_cast<long long>(r.status.max_rss_kib));
  // rusage's split of the CPU time is sampled; the signal itself is the kernel's account of >= 1 s.
  ASSERT_TRUE(r.status.user_micros + r.status.system_micros >= 500000);
  ASSERT_TRUE(r.status.user_micros + r.status.system_micros < 2000000);
  ASSERT_TRUE(r.status.max_rss_kib > 0);
  return true;
}

bool test_set_cpu_limit_and_cpu_micros() {
  Exit exit;
  sb::LaunchResult r;
  const sb::LaunchSpec spec = shell("while :; do :; done");
  ASSERT_FALSE(sb::launch(spec, &r, on_exit, &exit));
  // No limit at start; set one at run time.
  const sb::Error e = sb::set_cpu_limit(r.pid, 1);
  if (e) sb::kill_group(r.pid, SIGKILL);
  ASSERT_FALSE(e);
  int64_t seen = -1;
  while (true) {
    const int64_t micros = sb::cpu_micros(r.pid);
    if (micros > 0) {
      seen = micros;
      break;
    }
    if (micros < 0) break;
    usleep(1000);
  }
  ASSERT_TRUE(wait_exit(&exit));
  close(r.out);
  close(r.err);
  close(r.control);
  ASSERT_TRUE(seen > 0);
  ASSERT_EQ(exit.status.signal, SIGXCPU);
  ASSERT_EQ(sb::cpu_micros(r.pid), int64_t{-1});  // reaped: no /proc entry
  ASSERT_EQ(sb::set_cpu_limit(r.pid, 1).err, ESRCH);
  return true;
}

bool test_rlimit_nofile() {
  sb::LaunchSpec spec = self_child("nofile");
  spec.rlimits = {{RLIMIT_NOFILE, 16, 16}};
  Run r;
  ASSERT_TRUE(run(spec, &r));
  ASSERT_TRUE(contains(r.out, "errno=" + std::to_string(EMFILE) + "\n"));
  ASSERT_TRUE(contains(r.out, "highest=15\n"));
  return true;
}

bool test_rlimit_fsize() {
  const std::string dir = "/tmp/sandbox_test_fsize_" + std::to_string(getpid());
  mkdir(dir.c_str(), 0755);
  sb::LaunchSpec spec = shell("dd if=/dev/zero of=big bs=2000 count=1; echo rc=$?");
  spec.cwd = dir;
  spec.rlimits = {{RLIMIT_FSIZE, 1000, 1000}};
  Run r;
  const bool ok = run(spec, &r);
  unlink((dir + "/big").c_str());
  rmdir(dir.c_str());
  ASSERT_TRUE(ok);
  ASSERT_TRUE(contains(r.err, "File too large"));  // EFBIG, not killed by SIGXFSZ
  ASSERT_EQ(r.out, std::string("rc=1\n"));
  ASSERT_EQ(r.status.exit_code, 0);
  return true;
}

bool test_seccomp_in_launch() {
  sb::LaunchSpec spec = self_child("syscalls");
  spec.deny_network = true;
  spec.deny_spawn = true;
  spec.restrict_kill = true;
  Run r;
  ASSERT_TRUE(run(spec, &r));
  ASSERT_TRUE(contains(r.out, "socket=" + std::to_string(EACCES) + "\n"));
  ASSERT_TRUE(contains(r.out, "fork=" + std::to_string(EPERM) + "\n"));
  ASSERT_TRUE(contains(r.out, "thread=0\n"));  // pthread_create: clone3 ENOSYS, then clone(CLONE_THREAD)
  ASSERT_TRUE(contains(r.out, "kill1=" + std::to_string(EPERM) + "\n"));
  ASSERT_TRUE(contains(r.out, "killself=0\n"));
  ASSERT_TRUE(contains(r.out, "killgroup=0\n"));
  ASSERT_TRUE(contains(r.out, "control=ok\n"));  // fd 3 still works
  ASSERT_TRUE(contains(r.out, "pdeathsig=" + std::to_string(SIGKILL) + "\n"));
  ASSERT_EQ(r.status.exit_code, 0);
  // Without the flags the same calls succeed.
  sb::LaunchSpec open_spec = self_child("syscalls");
  Run o;
  ASSERT_TRUE(run(open_spec, &o));
  ASSERT_TRUE(contains(o.out, "socket=0\n"));
  ASSERT_TRUE(contains(o.out, "fork=0\n"));
  return true;
}

// seccomp_fd = 4: the filter is not installed in the child but handed over on fd 4 (for bwrap --seccomp 4).
bool test_seccomp_fd() {
  sb::LaunchSpec spec = self_child("seccomp-fd");
  spec.deny_network = true;
  spec.deny_spawn = true;
  spec.seccomp_fd = 4;
  Run r;
  ASSERT_TRUE(run(spec, &r));
  const sb::Filter expected = sb::build_filter(true, true, false);
  ASSERT_TRUE(contains(r.out, "fd4=0\ninsns=" + std::to_string(expected.program.size()) + "\n"));
  ASSERT_TRUE(contains(r.out, "before=0\n"));  // nothing installed by the launcher
  ASSERT_TRUE(contains(r.out, "install=0\n"));  // no_new_privs was set, so the exec'd program may install it
  ASSERT_TRUE(contains(r.out, "after=" + std::to_string(EACCES) + "\n"));
  ASSERT_EQ(r.status.exit_code, 0);
  // No flags, no program: fd 4 is not open (closed like every other fd above 3).
  sb::LaunchSpec none = self_child("seccomp-fd");
  none.seccomp_fd = 4;
  Run o;
  ASSERT_TRUE(run(none, &o));
  ASSERT_TRUE(contains(o.out, "fd4=" + std::to_string(EBADF) + "\n"));
  // Only 4, and never with restrict_kill (its own-pid rules need the final pid).
  sb::LaunchResult lr;
  sb::LaunchSpec bad = self_child("seccomp-fd");
  bad.seccomp_fd = 3;
  sb::Error e = sb::launch(bad, &lr, on_exit, nullptr);
  ASSERT_EQ(static_cast<int>(e.step), static_cast<int>(sb::Step::kSpec));
  bad.seccomp_fd = 4;
  bad.restrict_kill = true;
  e = sb::launch(bad, &lr, on_exit, nullptr);
  ASSERT_EQ(sb::error_message(e, &bad), std::string("invalid launch spec: seccomp_fd must be -1 or 4, and 4 excludes restrict_kill"));
  return true;
}

bool test_identity_drop() {
  if (geteuid() != 0) return true;
  const std::string dir = "/tmp/sandbox_test_uid_" + std::to_string(getpid());
  mkdir(dir.c_str(), 0700);
  chown(dir.c_str(), 65534, 65534);
  sb::LaunchSpec spec = shell("id -u; id -g; id -G; pwd");
  spec.uid = 65534;
  spec.gid = 65534;
  spec.cwd = dir;
  Run r;
  const bool ok = run(spec, &r);
  rmdir(dir.c_str());
  ASSERT_TRUE(ok);
  ASSERT_EQ(r.out, "65534\n65534\n65534\n" + dir + "\n");
  return true;
}

bool test_net_namespace() {
  if (geteuid() != 0) return true;
  sb::LaunchSpec spec = shell("tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
  spec.new_net_namespace = true;
  Run r;
  ASSERT_TRUE(run(spec, &r));
  ASSERT_EQ(r.out, std::string("lo\n"));
  return true;
}

bool test_cgroup_join() {
  const sb::Probe p = sb::probe();
  if (!p.cgroup_pids) return true;
  const std::string group = *p.cgroup_pids + "/sandbox_test_" + std::to_string(getpid());
  ASSERT_EQ(mkdir(group.c_str(), 0755), 0);
  sb::LaunchSpec spec = shell("grep ':pids:' /proc/$$/cgroup");
  spec.cgroup_procs = {group + "/cgroup.procs"};
  Run r;
  const bool ok = run(spec, &r);
  rmdir(group.c_str());
  ASSERT_TRUE(ok);
  ASSERT_TRUE(contains(r.out, "/sandbox_test_" + std::to_string(getpid()) + "\n"));
  // A missing cgroup is reported with its path.
  sb::LaunchSpec bad = shell("true");
  bad.cgroup_procs = {"/nonexistent/cgroup.procs"};
  sb::LaunchResult lr;
  const sb::Error e = sb::launch(bad, &lr, on_exit, nullptr);
  ASSERT_EQ(static_cast<int>(e.step), static_cast<int>(sb::Step::kCgroup));
  ASSERT_EQ(sb::error_message(e, &bad), std::string("write(/nonexistent/cgroup.procs) failed: No such file or directory"));
  return true;
}

bool test_setup_failures() {
  sb::LaunchResult r;
  sb::LaunchSpec spec = shell("true");
  spec.file = "/nonexistent/program";
  sb::Error e = sb::launch(spec, &r, on_exit, nullptr);
  ASSERT_EQ(static_cast<int>(e.step), static_cast<int>(sb::Step::kExecve));
  ASSERT_EQ(e.err, ENOENT);
  ASSERT_EQ(sb::error_message(e, &spec), std::string("execve(/nonexistent/program) failed: No such file or directory"));
  spec = shell("true");
  spec.cwd = "/nonexistent-dir";
  e = sb::launch(spec, &r, on_exit, nullptr);
  ASSERT_EQ(sb::error_message(e, &spec), std::string("chdir(/nonexistent-dir) failed: No such file or directory"));
  // Above fs.nr_open even root may not raise RLIMIT_NOFILE.
  spec = shell("true");
  spec.rlimits = {{RLIMIT_NOFILE, uint64_t{1} << 40, uint64_t{1} << 40}};
  e = sb::launch(spec, &r, on_exit, nullptr);
  ASSERT_EQ(sb::error_message(e, &spec), std::string("setrlimit(RLIMIT_NOFILE) failed: Operation not permitted"));
  spec = shell("true");
  spec.argv.push_back(std::string("a\0b", 3));
  e = sb::launch(spec, &r, on_exit, nullptr);
  ASSERT_EQ(static_cast<int>(e.step), static_cast<int>(sb::Step::kSpec));
  // No child is left behind by any of them (each was reaped in launch).
  errno = 0;
  ASSERT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  ASSERT_EQ(errno, ECHILD);
  return true;
}

bool test_kill_group_and_no_zombie() {
  Exit exit;
  sb::LaunchResult r;
  const sb::LaunchSpec spec = shell("sleep 60 & sleep 60 & echo ready; wait");
  ASSERT_FALSE(sb::launch(spec, &r, on_exit, &exit));
  char buf[16];
  pollfd p{r.out, POLLIN, 0};
  ASSERT_TRUE(poll(&p, 1, kWaitMs) == 1 && read(r.out, buf, sizeof(buf)) > 0);
  ASSERT_FALSE(sb::kill_group(r.pid, SIGKILL));
  ASSERT_TRUE(wait_exit(&exit));
  ASSERT_EQ(exit.status.signal, SIGKILL);
  // The sleeps were in the group: once they are gone (reaped by init), the group is empty.
  bool gone = false;
  for (int i = 0; i < kWaitMs / 10 && !gone; ++i) {
    gone = kill(-r.pid, 0) != 0 && errno == ESRCH;
    if (!gone) usleep(10000);
  }
  close(r.out);
  close(r.err);
  close(r.control);
  ASSERT_TRUE(gone);
  ASSERT_FALSE(sb::kill_group(r.pid, SIGKILL));  // ESRCH is not an error
  // Reaped by the reaper: not a zombie, not waitable.
  ASSERT_EQ(waitpid(r.pid, nullptr, WNOHANG), -1);
  ASSERT_EQ(errno, ECHILD);
  ASSERT_EQ(static_cast<int>(sb::kill_group(1, SIGKILL).step), static_cast<int>(sb::Step::kSpec));
  return true;
}

bool test_vfork_mode() {
  sb::LaunchSpec spec = shell("echo \"$X\"; exit 7");
  spec.env = {"X=vfork"};
  spec.use_vfork = true;
  spec.deny_network = true;
  spec.restrict_kill = true;
  Run r;
  ASSERT_TRUE(run(spec, &r));
  ASSERT_EQ(r.out, std::string("vfork\n"));
  ASSERT_EQ(r.status.exit_code, 7);
  spec.file = "/nonexistent";
  sb::LaunchResult lr;
  const sb::Error e = sb::launch(spec, &lr, on_exit, nullptr);
  ASSERT_EQ(static_cast<int>(e.step), static_cast<int>(sb::Step::kExecve));
  return true;
}

bool test_many_concurrent() {
  // 16 children at once through the one reaper: every exit reported once, with its own status.
  constexpr int kCount = 16;
  Exit exits[kCount];
  sb::LaunchResult results[kCount];
  for (int i = 0; i < kCount; ++i) {
    ASSERT_FALSE(sb::launch(shell("exit " + std::to_string(i)), &results[i], on_exit, &exits[i]));
  }
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(wait_exit(&exits[i]));
    ASSERT_EQ(exits[i].status.exit_code, i);
    ASSERT_EQ(exits[i].status.pid, results[i].pid);
    close(results[i].out);
    close(results[i].err);
    close(results[i].control);
  }
  return true;
}

bool test_probe() {
  const sb::Probe p = sb::probe();
  ASSERT_TRUE(p.seccomp);  // this host: seccomp works (docs/DESIGN.md)
  ASSERT_TRUE(p.no_new_privs);
  ASSERT_EQ(p.root, geteuid() == 0);
  if (p.root) ASSERT_TRUE(p.net_namespace);
  return true;
}

// --- --child modes (this binary re-executed inside the sandbox) -------------------------------------------

void* thread_main(void*) { return nullptr; }

int child_mode(const std::string& mode) {
  if (mode == "fds") {
    DIR* dir = opendir("/proc/self/fd");
    std::vector<int> open_fds;
    while (dirent* entry = dir != nullptr ? readdir(dir) : nullptr) {
      if (entry->d_name[0] == '.' || std::atoi(entry->d_name) == dirfd(dir)) continue;
      open_fds.push_back(std::atoi(entry->d_name));
    }
    if (dir != nullptr) closedir(dir);
    std::sort(open_fds.begin(), open_fds.end());
    for (std::size_t i = 0; i < open_fds.size(); ++i) std::printf(i == 0 ? "%d" : " %d", open_fds[i]);
    std::printf("\n");
  } else if (mode == "nofile") {
    int highest = -1;
    while (true) {
      const int fd = open("/dev/null", O_RDONLY);
      if (fd < 0) {
        std::printf("errno=%d\nhighest=%d\n", errno, highest);
        break;
      }
      highest = fd;
    }
  } else if (mode == "syscalls") {
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    std::printf("socket=%d\n", s < 0 ? errno : 0);
    const pid_t f = fork();
    if (f == 0) _exit(0);
    if (f > 0) waitpid(f, nullptr, 0);
    std::printf("fork=%d\n", f < 0 ? errno : 0);
    pthread_t t;
    const int rc = pthread_create(&t, nullptr, thread_main, nullptr);
    if (rc == 0) pthread_join(t, nullptr);
    std::printf("thread=%d\n", rc);
    std::printf("kill1=%d\n", kill(1, 0) < 0 ? errno : 0);
    std::printf("killself=%d\n", kill(getpid(), 0) < 0 ? errno : 0);
    std::printf("killgroup=%d\n", kill(-getpid(), 0) < 0 ? errno : 0);
    std::printf("control=%s\n", write(3, "x", 1) == 1 ? "ok" : std::strerror(errno));
    int sig = 0;
    prctl(PR_GET_PDEATHSIG, &sig);
    std::printf("pdeathsig=%d\n", sig);
  } else if (mode == "seccomp-fd") {
    // What `bwrap --seccomp 4` does: read the whole program from fd 4, then install it.
    std::vector<sock_filter> program;
    sock_filter insn;
    ssize_t n;
    while ((n = read(4, &insn, sizeof(insn))) == static_cast<ssize_t>(sizeof(insn))) program.push_back(insn);
    std::printf("fd4=%d\ninsns=%zu\n", n < 0 ? errno : 0, program.size());
    int s = socket(AF_INET, SOCK_STREAM, 0);
    std::printf("before=%d\n", s < 0 ? errno : 0);
    if (!program.empty()) {
      sock_fprog prog{};
      prog.len = static_cast<unsigned short>(program.size());
      prog.filter = program.data();
      std::printf("install=%d\n", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0 ? 0 : errno);
      s = socket(AF_INET, SOCK_STREAM, 0);
      std::printf("after=%d\n", s < 0 ? errno : 0);
    }
  } else {
    std::printf("unknown mode %s\n", mode.c_str());
    std::fflush(stdout);
    _exit(2);
  }
  std::fflush(stdout);
  _exit(0);  // no exit-time sanitizer work (leak checking clones, which may be denied)
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::string_view(argv[1]) == "--child") return child_mode(argv[2]);
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <test/vectors directory>\n", argv[0]);
    return 2;
  }
  g_self = fs::canonical("/proc/self/exe").string();
  // As under node: SIGPIPE ignored in the parent; the child must get the default back.
  signal(SIGPIPE, SIG_IGN);
  int failures = 0;
  std::size_t cases = 0;
  failures += run_parser_vectors(argv[1], &cases);
  failures += run_seccomp_vectors(fs::path(argv[1]) / "sandbox-seccomp.json", &cases);
  std::fprintf(stdout, "%s %zu vector cases\n", failures == 0 ? "ok  " : "FAIL", cases);
  RUN(test_exit_env_cwd);
  RUN(test_argv0);
  RUN(test_fds_and_control);
  RUN(test_session_signals_nnp);
  RUN(test_rlimit_data);
  RUN(test_rlimit_cpu_and_rusage);
  RUN(test_set_cpu_limit_and_cpu_micros);
  RUN(test_rlimit_nofile);
  RUN(test_rlimit_fsize);
  RUN(test_seccomp_in_launch);
  RUN(test_seccomp_fd);
  RUN(test_identity_drop);
  RUN(test_net_namespace);
  RUN(test_cgroup_join);
  RUN(test_setup_failures);
  RUN(test_kill_group_and_no_zombie);
  RUN(test_vfork_mode);
  RUN(test_many_concurrent);
  RUN(test_probe);
  if (!g_failure.empty()) std::fprintf(stdout, "%s", g_failure.c_str());
  return failures == 0 ? 0 : 1;
}
