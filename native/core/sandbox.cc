// The sandbox launcher (see sandbox.h for the order of the child's setup and the seccomp rules).
#include "core/sandbox.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#ifndef CLONE_NEWNET
#define CLONE_NEWNET 0x40000000
#endif

namespace mcp::sandbox {

// --- Names ------------------------------------------------------------------------------------------------

std::string_view step_name(Step step) {
  switch (step) {
    case Step::kNone: return "none";
    case Step::kSpec: return "spec";
    case Step::kSocketpair: return "socketpair(AF_UNIX)";
    case Step::kPipe: return "pipe2";
    case Step::kDevNull: return "open(/dev/null)";
    case Step::kFork: return "fork";
    case Step::kSignals: return "sigaction";
    case Step::kSetsid: return "setsid";
    case Step::kFds: return "dup2";
    case Step::kCloseRange: return "close_range";
    case Step::kCgroup: return "write(cgroup.procs)";
    case Step::kUnshareNet: return "unshare(CLONE_NEWNET)";
    case Step::kSetrlimit: return "setrlimit";
    case Step::kSetgroups: return "setgroups";
    case Step::kSetgid: return "setresgid";
    case Step::kSetuid: return "setresuid";
    case Step::kChdir: return "chdir";
    case Step::kNoNewPrivs: return "prctl(PR_SET_NO_NEW_PRIVS)";
    case Step::kPdeathsig: return "prctl(PR_SET_PDEATHSIG)";
    case Step::kParentGone: return "getppid";
    case Step::kSeccomp: return "seccomp(SECCOMP_SET_MODE_FILTER)";
    case Step::kExecve: return "execve";
    case Step::kPidfd: return "pidfd_open";
    case Step::kReaper: return "reaper";
    case Step::kPrlimit: return "prlimit(RLIMIT_CPU)";
    case Step::kKill: return "kill";
  }
  return "unknown";
}

namespace {
struct RlimitName {
  const char* option;
  const char* name;
  int resource;
};
constexpr RlimitName kRlimits[] = {
    {"cpu", "RLIMIT_CPU", RLIMIT_CPU},       {"data", "RLIMIT_DATA", RLIMIT_DATA},
    {"nofile", "RLIMIT_NOFILE", RLIMIT_NOFILE}, {"fsize", "RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"nproc", "RLIMIT_NPROC", RLIMIT_NPROC},  {"core", "RLIMIT_CORE", RLIMIT_CORE},
};
}  // namespace

int rlimit_resource(std::string_view name) {
  for (const auto& r : kRlimits) {
    if (name == r.option) return r.resource;
  }
  return -1;
}

std::string_view rlimit_name(int resource) {
  for (const auto& r : kRlimits) {
    if (resource == r.resource) return r.name;
  }
  return "RLIMIT_?";
}

std::string error_message(const Error& error, const LaunchSpec* spec) {
  if (!error) return "no error";
  std::string what(step_name(error.step));
  switch (error.step) {
    case Step::kSetrlimit:
      what = "setrlimit(" + std::string(rlimit_name(error.detail)) + ")";
      break;
    case Step::kCgroup:
      if (spec != nullptr && error.detail >= 0 && static_cast<std::size_t>(error.detail) < spec->cgroup_procs.size()) {
        what = "write(" + spec->cgroup_procs[static_cast<std::size_t>(error.detail)] + ")";
      }
      break;
    case Step::kChdir:
      if (spec != nullptr) what = "chdir(" + spec->cwd + ")";
      break;
    case Step::kExecve:
      if (spec != nullptr) what = "execve(" + spec->file + ")";
      break;
    case Step::kParentGone:
      return "the parent exited before the child armed PR_SET_PDEATHSIG";
    case Step::kSpec:
      return "invalid launch spec: " + std::string(error.detail == 1 ? "a string holds a NUL byte"
                                                   : error.detail == 2 ? "uid and gid must be given together"
                                                   : error.detail == 3 ? "argv is empty"
                                                   : error.detail == 4 ? "seccomp_fd must be -1 or 4, and 4 excludes restrict_kill"
                                                                       : "bad value");
    default:
      break;
  }
  char buffer[128];
  const char* text = strerror_r(error.err, buffer, sizeof(buffer));
  return what + " failed: " + text;
}

// --- Pure parsers (the same rules as src/sandbox/launcher/proc.ts) ------------------------------------------

namespace {

bool all_digits(std::string_view s, std::size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

uint64_t parse_digits(std::string_view s) {
  uint64_t v = 0;
  for (char c : s) v = v * 10 + static_cast<uint64_t>(c - '0');
  return v;
}

constexpr uint64_t kMaxSafeInteger = (uint64_t{1} << 53) - 1;

}  // namespace

int64_t cpu_micros_from_stat(std::string_view line, int64_t clock_ticks_per_second) {
  if (clock_ticks_per_second <= 0 || clock_ticks_per_second > 1000000000) return -1;
  const std::size_t close = line.rfind(')');
  const std::size_t open = line.find(" (");
  if (close == std::string_view::npos || open == std::string_view::npos || open > close) return -1;
  if (!all_digits(line.substr(0, open), line.size())) return -1;
  std::string_view rest = line.substr(close + 1);
  if (rest.empty() || rest[0] != ' ') return -1;
  rest.remove_prefix(1);
  if (!rest.empty() && rest.back() == '\n') rest.remove_suffix(1);
  // Fields split on every single space (as JS split(' '): two spaces make an empty field).
  std::string_view fields[13];
  std::size_t count = 0;
  std::size_t start = 0;
  while (count < 13) {
    const std::size_t space = rest.find(' ', start);
    fields[count++] = rest.substr(start, space == std::string_view::npos ? std::string_view::npos : space - start);
    if (space == std::string_view::npos) break;
    start = space + 1;
  }
  if (count < 13) return -1;
  if (!all_digits(fields[11], 18) || !all_digits(fields[12], 18)) return -1;
  // Exact floor(ticks * 10^6 / hz) without overflow: ticks < 2 * 10^18 and hz <= 10^9.
  const uint64_t ticks = parse_digits(fields[11]) + parse_digits(fields[12]);
  const auto hz = static_cast<uint64_t>(clock_ticks_per_second);
  const uint64_t whole = ticks / hz;
  if (whole > kMaxSafeInteger / 1000000u) return -1;
  const uint64_t micros = whole * 1000000u + (ticks % hz) * 1000000u / hz;
  if (micros > kMaxSafeInteger) return -1;
  return static_cast<int64_t>(micros);
}

namespace {

bool safe_cgroup_path(std::string_view path) {
  if (path.empty() || path[0] != '/') return false;
  for (unsigned char c : path) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  if (path == "/") return true;
  std::size_t start = 1;
  while (true) {
    const std::size_t slash = path.find('/', start);
    const std::string_view part =
        path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

bool has_controller(std::string_view list, std::string_view name) {
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = list.find(',', start);
    if (list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start) == name) {
      return true;
    }
    if (comma == std::string_view::npos) return false;
    start = comma + 1;
  }
}

}  // namespace

CgroupDirs cgroup_v1_dirs(std::string_view content, std::string_view mount_root) {
  // Per controller: not seen, seen once with this result, or ambiguous (listed twice) -> nullopt.
  struct Slot {
    bool seen = false;
    std::optional<std::string> dir;
  } slots[2];
  const std::string_view names[2] = {"memory", "pids"};
  while (!mount_root.empty() && mount_root.back() == '/') mount_root.remove_suffix(1);
  std::size_t start = 0;
  while (start <= content.size()) {
    const std::size_t nl = content.find('\n', start);
    const std::string_view line =
        content.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    start = nl == std::string_view::npos ? content.size() + 1 : nl + 1;
    if (line.empty()) continue;
    const std::size_t first = line.find(':');
    const std::size_t second = first == std::string_view::npos ? std::string_view::npos : line.find(':', first + 1);
    if (second == std::string_view::npos || !all_digits(line.substr(0, first), line.size())) continue;
    const std::string_view controllers = line.substr(first + 1, second - first - 1);
    const std::string_view path = line.substr(second + 1);
    for (int i = 0; i < 2; ++i) {
      if (!has_controller(controllers, names[i])) continue;
      if (slots[i].seen) {
        slots[i].dir.reset();
        continue;
      }
      slots[i].seen = true;
      if (safe_cgroup_path(path)) {
        std::string dir(mount_root);
        dir += '/';
        dir += names[i];
        if (path != "/") dir += path;
        slots[i].dir = std::move(dir);
      }
    }
  }
  return CgroupDirs{std::move(slots[0].dir), std::move(slots[1].dir)};
}

// --- The seccomp filter -----------------------------------------------------------------------------------

#if defined(__x86_64__)
constexpr uint32_t kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
constexpr uint32_t kArch = AUDIT_ARCH_AARCH64;
#else
#error "the sandbox seccomp filter is written for x86_64 and little-endian aarch64"
#endif

uint32_t filter_arch() { return kArch; }

namespace {

constexpr uint32_t kNrOffset = offsetof(struct seccomp_data, nr);
constexpr uint32_t kArchOffset = offsetof(struct seccomp_data, arch);
// The low 32 bits of argument i (little-endian).
constexpr uint32_t arg_low(int i) { return static_cast<uint32_t>(offsetof(struct seccomp_data, args) + 8 * i); }

constexpr uint32_t ret_errno(int e) { return SECCOMP_RET_ERRNO | (static_cast<uint32_t>(e) & SECCOMP_RET_DATA); }

class Builder {
 public:
  explicit Builder(Filter* f) : f_(f) {}
  void stmt(uint16_t code, uint32_t k) { f_->program.push_back(sock_filter{code, 0, 0, k}); }
  void jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) { f_->program.push_back(sock_filter{code, jt, jf, k}); }
  void ret(uint32_t action) { stmt(BPF_RET | BPF_K, action); }
  void load(uint32_t offset) { stmt(BPF_LD | BPF_W | BPF_ABS, offset); }
  uint32_t here() const { return static_cast<uint32_t>(f_->program.size()); }

  // if nr == X: return action
  void deny(long nr, uint32_t action) {
    jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(nr), 0, 1);
    ret(action);
  }

  // if nr == X: allow when the low word of args[arg] is own pid (or 0 / -own pid if asked), else EPERM.
  // Ends in a return either way, so A need not be reloaded; the pid constants are patched in the child.
  void own_pid_only(long nr, int arg, bool allow_zero_and_group) {
    // [JEQ nr] LD arg; JEQ own -> allow; (JEQ 0 -> allow; JEQ -own -> allow;) RET EPERM; RET ALLOW
    jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(nr), 0, allow_zero_and_group ? 6 : 4);
    load(arg_low(arg));
    f_->own_pid_slots.push_back(here());
    jump(BPF_JMP | BPF_JEQ | BPF_K, 0, allow_zero_and_group ? 3 : 1, 0);
    if (allow_zero_and_group) {
      jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 2, 0);
      f_->own_neg_pid_slots.push_back(here());
      jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0);
    }
    ret(ret_errno(EPERM));
    ret(SECCOMP_RET_ALLOW);
  }

 private:
  Filter* f_;
};

}  // namespace

Filter build_filter(bool deny_network, bool deny_spawn, bool restrict_kill) {
  Filter f;
  if (!deny_network && !deny_spawn && !restrict_kill) return f;
  Builder b(&f);
  // Architecture first: system call numbers mean different calls on another one.
  b.load(kArchOffset);
  b.jump(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0);
  b.ret(SECCOMP_RET_KILL_PROCESS);
  b.load(kNrOffset);
#if defined(__x86_64__)
  // x32 ABI numbers are the same kernel calls under other numbers: no rule below would see them.
  b.jump(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1);
  b.ret(ret_errno(ENOSYS));
#endif
  const long always[] = {
      SYS_ptrace,        SYS_process_vm_readv, SYS_process_vm_writev, SYS_keyctl,   SYS_add_key,
      SYS_request_key,   SYS_bpf,              SYS_perf_event_open,   SYS_userfaultfd,
      SYS_io_uring_setup, SYS_io_uring_enter,  SYS_io_uring_register, SYS_unshare,  SYS_setns,
      SYS_mount,         SYS_umount2,          SYS_pivot_root,
  };
  for (long nr : always) b.deny(nr, ret_errno(EPERM));
  if (deny_network) {
    b.deny(SYS_socket, ret_errno(EACCES));
    b.deny(SYS_socketpair, ret_errno(EACCES));
  }
  if (deny_spawn) {
#if defined(__x86_64__)
    b.deny(SYS_fork, ret_errno(EPERM));
    b.deny(SYS_vfork, ret_errno(EPERM));
#endif
    b.deny(SYS_clone3, ret_errno(ENOSYS));
    // clone: allowed only with CLONE_THREAD in the flags (args[0] on both architectures).
    b.jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(SYS_clone), 0, 4);
    b.load(arg_low(0));
    b.jump(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 0, 1);
    b.ret(SECCOMP_RET_ALLOW);
    b.ret(ret_errno(EPERM));
  }
  if (restrict_kill) {
    b.own_pid_only(SYS_kill, 0, true);
    b.own_pid_only(SYS_tkill, 0, false);
    b.own_pid_only(SYS_tgkill, 0, false);
    b.own_pid_only(SYS_rt_sigqueueinfo, 0, false);
    b.own_pid_only(SYS_rt_tgsigqueueinfo, 0, false);
    b.deny(SYS_pidfd_send_signal, ret_errno(EPERM));
  }
  b.ret(SECCOMP_RET_ALLOW);
  return f;
}

void patch_filter(Filter* filter, pid_t pid) {
  for (uint32_t slot : filter->own_pid_slots) filter->program[slot].k = static_cast<uint32_t>(pid);
  for (uint32_t slot : filter->own_neg_pid_slots) filter->program[slot].k = static_cast<uint32_t>(-pid);
}

// --- launch ---------------------------------------------------------------------------------------------

namespace {

/// What a failing child writes to the error pipe.
struct ChildReport {
  int32_t step;
  int32_t err;
  int32_t detail;
};

/// Everything the child reads, prepared before fork (it allocates nothing and frees nothing).
struct Plan {
  const char* file;
  char* const* argv;
  char* const* envp;
  const char* cwd;
  const Rlimit* rlimits;
  std::size_t rlimit_count;
  const char* const* cgroups;
  std::size_t cgroup_count;
  int64_t uid;
  int64_t gid;
  bool new_net;
  Filter* filter;
  int fd_null;
  int fd_out;
  int fd_err;
  int fd_control;
  int fd_report;
  int fd_seccomp;  ///< the program's pipe (read end) to become fd 4, or -1
  pid_t parent;
};

[[noreturn]] void child_fail(const Plan& p, Step step, int err, int detail) {
  const ChildReport report{static_cast<int32_t>(step), err, detail};
  // 12 bytes into an empty pipe: one atomic write; nothing to do if it fails.
  const ssize_t written = write(p.fd_report, &report, sizeof(report));
  (void)written;
  _exit(127);
}

/// Decimal digits of a positive pid into buf (no allocation, no locale); returns the length.
std::size_t format_pid(pid_t pid, char* buf) {
  char digits[16];
  std::size_t n = 0;
  auto v = static_cast<uint32_t>(pid);
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && n < sizeof(digits));
  for (std::size_t i = 0; i < n; ++i) buf[i] = digits[n - 1 - i];
  buf[n] = '\n';
  return n + 1;
}

void close_from(unsigned first, unsigned last) {
  if (first > last) return;
  if (syscall(SYS_close_range, first, last, 0) == 0) return;
  // Kernels before 5.9: close one by one up to the fd limit.
  struct rlimit rl {};
  unsigned top = 65536;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < top) {
    top = static_cast<unsigned>(rl.rlim_cur);
  }
  for (unsigned fd = first; fd <= last && fd < top; ++fd) close(static_cast<int>(fd));
}

// The child between fork and exec: async-signal-safe calls only (see the order in sandbox.h).
int child_main(void* arg) {
  const Plan& p = *static_cast<const Plan*>(arg);
  // 1. Default dispositions (SIGXFSZ ignored), then unblock: the parent blocked everything around fork.
  struct sigaction action {};
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    action.sa_handler = sig == SIGXFSZ ? SIG_IGN : SIG_DFL;
    sigaction(sig, &action, nullptr);  // EINVAL for glibc's reserved real-time signals: left as they are
  }
  sigset_t none;
  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, nullptr) != 0) child_fail(p, Step::kSignals, errno, 0);
  // 2. Own session and process group.
  if (setsid() < 0) child_fail(p, Step::kSetsid, errno, 0);
  // 3. fds 0-3 (every source is above 3, so no dup2 clobbers another source), then close the rest.
  const int sources[4] = {p.fd_null, p.fd_out, p.fd_err, p.fd_control};
  for (int target = 0; target < 4; ++target) {
    if (dup2(sources[target], target) < 0) child_fail(p, Step::kFds, errno, target);
  }
  // fd 4: the seccomp program for the exec'd program to install (every source is above 4).
  unsigned keep_from = 4;
  if (p.fd_seccomp >= 0) {
    if (dup2(p.fd_seccomp, 4) < 0) child_fail(p, Step::kFds, errno, 4);
    keep_from = 5;
  }
  close_from(keep_from, static_cast<unsigned>(p.fd_report) - 1);
  close_from(static_cast<unsigned>(p.fd_report) + 1, ~0U);
  // 4. cgroups, while still privileged.
  const auto self = static_cast<pid_t>(syscall(SYS_getpid));
  char pid_text[24];
  const std::size_t pid_len = format_pid(self, pid_text);
  for (std::size_t i = 0; i < p.cgroup_count; ++i) {
    const int fd = open(p.cgroups[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0) child_fail(p, Step::kCgroup, errno, static_cast<int>(i));
    if (write(fd, pid_text, pid_len) != static_cast<ssize_t>(pid_len)) child_fail(p, Step::kCgroup, errno, static_cast<int>(i));
    close(fd);
  }
  // 5. Network namespace (needs CAP_SYS_ADMIN: before the drop).
  if (p.new_net && unshare(CLONE_NEWNET) != 0) child_fail(p, Step::kUnshareNet, errno, 0);
  // 6. rlimits (raising a hard limit needs CAP_SYS_RESOURCE: before the drop).
  for (std::size_t i = 0; i < p.rlimit_count; ++i) {
    struct rlimit rl {};
    rl.rlim_cur = static_cast<rlim_t>(p.rlimits[i].soft);
    rl.rlim_max = static_cast<rlim_t>(p.rlimits[i].hard);
    if (setrlimit(static_cast<__rlimit_resource>(p.rlimits[i].resource), &rl) != 0) {
      child_fail(p, Step::kSetrlimit, errno, p.rlimits[i].resource);
    }
  }
  // 7. Identity, by raw system calls (this thread only; glibc's wrappers signal every thread it knows of).
  if (p.gid >= 0) {
    if (syscall(SYS_setgroups, 0, nullptr) != 0) child_fail(p, Step::kSetgroups, errno, 0);
    if (syscall(SYS_setresgid, p.gid, p.gid, p.gid) != 0) child_fail(p, Step::kSetgid, errno, 0);
    if (syscall(SYS_setresuid, p.uid, p.uid, p.uid) != 0) child_fail(p, Step::kSetuid, errno, 0);
  }
  // 8. cwd, with the new identity's permissions.
  if (chdir(p.cwd) != 0) child_fail(p, Step::kChdir, errno, 0);
  // 9. No privilege gain at exec (and the precondition of an unprivileged seccomp filter).
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) child_fail(p, Step::kNoNewPrivs, errno, 0);
  // 10. Die with the parent (set after the identity change, which clears it); the parent may be gone.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) child_fail(p, Step::kPdeathsig, errno, 0);
  if (getppid() != p.parent) child_fail(p, Step::kParentGone, ESRCH, 0);
  // 11. seccomp, last before exec; the program gets this child's pid now.
  if (!p.filter->empty() && p.fd_seccomp < 0) {
    patch_filter(p.filter, self);
    struct sock_fprog prog {};
    prog.len = static_cast<unsigned short>(p.filter->program.size());
    prog.filter = p.filter->program.data();
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) child_fail(p, Step::kSeccomp, errno, 0);
  }
  // 12.
  execve(p.file, p.argv, p.envp);
  child_fail(p, Step::kExecve, errno, 0);
}

/// Owns fds until released; closes the rest on every early return.
class Fds {
 public:
  ~Fds() {
    for (int& fd : fds_) {
      if (fd >= 0) close(fd);
    }
  }
  int& operator[](std::size_t i) { return fds_[i]; }
  int release(std::size_t i) {
    const int fd = fds_[i];
    fds_[i] = -1;
    return fd;
  }
  void close_one(std::size_t i) {
    if (fds_[i] >= 0) close(fds_[i]);
    fds_[i] = -1;
  }

 private:
  int fds_[10] = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
};
enum FdIndex : std::size_t {
  kCtlParent, kCtlChild, kOutRead, kOutWrite, kErrRead, kErrWrite, kRepRead, kRepWrite, kNull, kSeccompRead
};

/// Moves an fd to a number above 4 (the child's dup2 targets), keeping CLOEXEC.
bool raise_fd(int* fd) {
  if (*fd > 4) return true;
  const int moved = fcntl(*fd, F_DUPFD_CLOEXEC, 5);
  if (moved < 0) return false;
  close(*fd);
  *fd = moved;
  return true;
}

bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

Error check_spec(const LaunchSpec& spec) {
  if (spec.argv.empty()) return Error{Step::kSpec, EINVAL, 3};
  if ((spec.uid < 0) != (spec.gid < 0) || spec.uid > 0xfffffffe || spec.gid > 0xfffffffe) {
    return Error{Step::kSpec, EINVAL, 2};
  }
  bool nul = has_nul(spec.file) || has_nul(spec.cwd);
  for (const auto& s : spec.argv) nul = nul || has_nul(s);
  for (const auto& s : spec.env) nul = nul || has_nul(s);
  for (const auto& s : spec.cgroup_procs) nul = nul || has_nul(s);
  if (nul) return Error{Step::kSpec, EINVAL, 1};
  for (const auto& r : spec.rlimits) {
    if (rlimit_name(r.resource) == "RLIMIT_?" || r.soft > r.hard) return Error{Step::kSpec, EINVAL, 0};
  }
  if (spec.seccomp_fd != -1 && (spec.seccomp_fd != 4 || spec.restrict_kill)) return Error{Step::kSpec, EINVAL, 4};
  return Error{};
}

pid_t wait_for(pid_t pid, int* status, struct rusage* usage, int options) {
  pid_t r;
  do {
    r = wait4(pid, status, options, usage);
  } while (r < 0 && errno == EINTR);
  return r;
}

// --- The reaper -------------------------------------------------------------------------------------------

struct Watch {
  pid_t pid;
  int pidfd;
  ExitCallback callback;
  void* context;
};

int64_t micros_of(const struct timeval& tv) { return static_cast<int64_t>(tv.tv_sec) * 1000000 + tv.tv_usec; }

class Reaper {
 public:
  /// The process's reaper, started at the first call; nullptr (and *error) when it cannot start.
  static Reaper* get(Error* error) {
    static std::mutex mutex;
    static Reaper* instance = nullptr;  // lives for the process, as does its thread
    const std::lock_guard<std::mutex> lock(mutex);
    if (instance != nullptr) return instance;
    const int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) {
      *error = Error{Step::kReaper, errno, 0};
      return nullptr;
    }
    auto* reaper = new Reaper(epfd);
    // The thread takes no signals: they belong to node's threads.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t thread;
    const int rc = pthread_create(&thread, nullptr, &Reaper::run, reaper);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (rc != 0) {
      close(epfd);
      delete reaper;
      *error = Error{Step::kReaper, rc, 0};
      return nullptr;
    }
    pthread_detach(thread);
    pthread_setname_np(thread, "mcp-reaper");
    instance = reaper;
    return instance;
  }

  Error watch(pid_t pid, int pidfd, ExitCallback callback, void* context) {
    auto* w = new Watch{pid, pidfd, callback, context};
    struct epoll_event event {};
    event.events = EPOLLIN;
    event.data.ptr = w;
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, pidfd, &event) != 0) {
      const int err = errno;
      delete w;
      return Error{Step::kReaper, err, 0};
    }
    return Error{};
  }

 private:
  explicit Reaper(int epfd) : epfd_(epfd) {}

  static void* run(void* arg) {
    auto* self = static_cast<Reaper*>(arg);
    struct epoll_event events[16];
    while (true) {
      const int n = epoll_wait(self->epfd_, events, 16, -1);
      for (int i = 0; i < n; ++i) self->reap(static_cast<Watch*>(events[i].data.ptr));
    }
    return nullptr;
  }

  void reap(Watch* w) {
    int status = 0;
    struct rusage usage {};
    const pid_t r = wait_for(w->pid, &status, &usage, WNOHANG);
    if (r == 0) return;  // readable but not yet waitable: the next event will come
    ExitStatus exit;
    exit.pid = w->pid;
    if (r == w->pid) {
      if (WIFSIGNALED(status)) {
        exit.signal = WTERMSIG(status);
      } else {
        exit.exit_code = WEXITSTATUS(status);
      }
      exit.user_micros = micros_of(usage.ru_utime);
      exit.system_micros = micros_of(usage.ru_stime);
      exit.max_rss_kib = usage.ru_maxrss;
    }  // else ECHILD: something else reaped it (a waitpid(-1) elsewhere); exit_code -1, signal 0
    epoll_ctl(epfd_, EPOLL_CTL_DEL, w->pidfd, nullptr);
    close(w->pidfd);
    w->callback(w->context, exit);
    delete w;
  }

  int epfd_;
};

}  // namespace

Error launch(const LaunchSpec& spec, LaunchResult* out, ExitCallback on_exit, void* context) {
  if (const Error e = check_spec(spec)) return e;
  Error reaper_error;
  Reaper* reaper = Reaper::get(&reaper_error);
  if (reaper == nullptr) return reaper_error;

  // Everything the child reads, built now: it must not allocate.
  std::vector<char*> argv;
  argv.reserve(spec.argv.size() + 1);
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  envp.reserve(spec.env.size() + 1);
  for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  std::vector<const char*> cgroups;
  cgroups.reserve(spec.cgroup_procs.size());
  for (const auto& c : spec.cgroup_procs) cgroups.push_back(c.c_str());
  Filter filter = build_filter(spec.deny_network, spec.deny_spawn, spec.restrict_kill);

  Fds fds;
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return Error{Step::kSocketpair, errno, 0};
  fds[kCtlParent] = pair[0];
  fds[kCtlChild] = pair[1];
  for (std::size_t read_end : {kOutRead, kErrRead, kRepRead}) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return Error{Step::kPipe, errno, 0};
    fds[read_end] = p[0];
    fds[read_end + 1] = p[1];
  }
  fds[kNull] = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (fds[kNull] < 0) return Error{Step::kDevNull, errno, 0};
  if (spec.seccomp_fd == 4 && !filter.empty()) {
    // The whole program goes into the pipe now (a few hundred bytes, far below the pipe's buffer); the
    // write end closes here, so the reader sees EOF after it.
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return Error{Step::kPipe, errno, 0};
    fds[kSeccompRead] = p[0];
    const std::size_t bytes = filter.program.size() * sizeof(sock_filter);
    const ssize_t wrote = write(p[1], filter.program.data(), bytes);
    const int write_errno = errno;
    close(p[1]);
    if (wrote != static_cast<ssize_t>(bytes)) return Error{Step::kSeccomp, wrote < 0 ? write_errno : EIO, 0};
  }
  for (std::size_t i : {kCtlChild, kOutWrite, kErrWrite, kRepWrite, kNull, kSeccompRead}) {
    if (fds[i] >= 0 && !raise_fd(&fds[i])) return Error{Step::kFds, errno, 0};
  }

  Plan plan{spec.file.c_str(), argv.data(),   envp.data(),     spec.cwd.c_str(), spec.rlimits.data(),
            spec.rlimits.size(), cgroups.data(), cgroups.size(), spec.uid,        spec.gid,
            spec.new_net_namespace, &filter,     fds[kNull],     fds[kOutWrite],   fds[kErrWrite],
            fds[kCtlChild],     fds[kRepWrite], fds[kSeccompRead], getpid()};

  // clone(CLONE_VM | CLONE_VFORK) runs the child on its own stack in the parent's memory until exec;
  // not under ASan, whose interceptors keep per-thread state the child would share.
  bool vfork_mode = spec.use_vfork;
#if defined(__SANITIZE_ADDRESS__)
  vfork_mode = false;
#endif
  constexpr std::size_t kStackBytes = 64 * 1024;
  void* stack = nullptr;
  if (vfork_mode) {
    stack = mmap(nullptr, kStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return Error{Step::kFork, errno, 0};
  }
  // No parent signal handler may run in the child: block everything across the fork.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid;
  if (vfork_mode) {
    pid = clone(child_main, static_cast<char*>(stack) + kStackBytes, CLONE_VM | CLONE_VFORK | SIGCHLD, &plan);
  } else {
    pid = fork();
    if (pid == 0) child_main(&plan);
  }
  const int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (stack != nullptr) munmap(stack, kStackBytes);
  if (pid < 0) return Error{Step::kFork, fork_errno, 0};

  for (std::size_t i : {kCtlChild, kOutWrite, kErrWrite, kRepWrite, kNull, kSeccompRead}) fds.close_one(i);
  ChildReport report{};
  ssize_t got;
  do {
    got = read(fds[kRepRead], &report, sizeof(report));
  } while (got < 0 && errno == EINTR);
  fds.close_one(kRepRead);
  if (got != 0) {
    // The child failed before exec (a full report), or the pipe itself failed (-1 / short read).
    int status;
    wait_for(pid, &status, nullptr, 0);
    if (got == static_cast<ssize_t>(sizeof(report))) {
      return Error{static_cast<Step>(report.step), report.err, report.detail};
    }
    return Error{Step::kExecve, got < 0 ? errno : EIO, 0};
  }
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  Error error;
  if (pidfd < 0) {
    error = Error{Step::kPidfd, errno, 0};
  } else {
    error = reaper->watch(pid, pidfd, on_exit, context);
    if (error) close(pidfd);
  }
  if (error) {
    kill(pid, SIGKILL);
    int status;
    wait_for(pid, &status, nullptr, 0);
    return error;
  }
  out->pid = pid;
  out->control = fds.release(kCtlParent);
  out->out = fds.release(kOutRead);
  out->err = fds.release(kErrRead);
  return Error{};
}

// --- Helpers on running children ----------------------------------------------------------------------

Error set_cpu_limit(pid_t pid, uint64_t soft_seconds) {
  if (pid <= 1) return Error{Step::kSpec, EINVAL, 0};
  struct rlimit rl {};
  rl.rlim_cur = static_cast<rlim_t>(soft_seconds);
  rl.rlim_max = static_cast<rlim_t>(soft_seconds + 1);
  if (prlimit(pid, RLIMIT_CPU, &rl, nullptr) != 0) return Error{Step::kPrlimit, errno, 0};
  return Error{};
}

int64_t cpu_micros(pid_t pid) {
  if (pid <= 0) return -1;
  char path[40];
  std::snprintf(path, sizeof(path), "/proc/%d/stat", static_cast<int>(pid));
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[4096];
  std::size_t len = 0;
  while (len < sizeof(buf)) {
    const ssize_t n = read(fd, buf + len, sizeof(buf) - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += static_cast<std::size_t>(n);
  }
  close(fd);
  return cpu_micros_from_stat(std::string_view(buf, len), sysconf(_SC_CLK_TCK));
}

Error kill_group(pid_t pid, int sig) {
  if (pid <= 1) return Error{Step::kSpec, EINVAL, 0};
  if (kill(-pid, sig) != 0 && errno != ESRCH) return Error{Step::kKill, errno, 0};
  return Error{};
}

// --- probe ------------------------------------------------------------------------------------------------

namespace {

/// Runs fn in a throwaway forked child (signals blocked across the fork, none unblocked in the child) and
/// returns its exit status, or -1.
int in_child(int (*fn)()) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  const pid_t pid = fork();
  if (pid == 0) _exit(fn());
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) return -1;
  int status = 0;
  if (wait_for(pid, &status, nullptr, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

int try_seccomp() {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 1;
  struct sock_filter allow = {BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW};
  struct sock_fprog prog {};
  prog.len = 1;
  prog.filter = &allow;
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0 ? 0 : 2;
}

int try_unshare_net() { return unshare(CLONE_NEWNET) == 0 ? 0 : 1; }

bool read_small_file(const char* path, std::string* out) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
  while (out->size() < (1u << 20)) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out->append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  return true;
}

std::optional<std::string> usable_cgroup(const std::optional<std::string>& dir) {
  if (!dir) return std::nullopt;
  struct stat st {};
  if (stat(dir->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return std::nullopt;
  const std::string probe = *dir + "/fastermcp-probe-" + std::to_string(getpid());
  if (mkdir(probe.c_str(), 0755) != 0) return std::nullopt;
  rmdir(probe.c_str());
  return dir;
}

std::optional<std::string> find_on_path(std::string_view name) {
  std::string dirs;
  if (const char* path = getenv("PATH")) dirs = path;
  dirs += ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t colon = dirs.find(':', start);
    const std::string dir = dirs.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    start = colon == std::string::npos ? dirs.size() + 1 : colon + 1;
    if (dir.empty() || dir[0] != '/') continue;  // a relative entry would depend on the cwd
    std::string candidate = dir + "/" + std::string(name);
    struct stat st {};
    if (access(candidate.c_str(), X_OK) == 0 && stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      return candidate;
    }
  }
  return std::nullopt;
}

}  // namespace

Probe probe() {
  Probe p;
  const int seccomp_status = in_child(try_seccomp);
  p.no_new_privs = seccomp_status == 0 || seccomp_status == 2;
  p.seccomp = seccomp_status == 0;
  p.net_namespace = in_child(try_unshare_net) == 0;
  std::string content;
  if (read_small_file("/proc/self/cgroup", &content)) {
    const CgroupDirs dirs = cgroup_v1_dirs(content, "/sys/fs/cgroup");
    p.cgroup_memory = usable_cgroup(dirs.memory);
    p.cgroup_pids = usable_cgroup(dirs.pids);
  }
  p.bubblewrap = find_on_path("bwrap");
  p.root = geteuid() == 0;
  return p;
}

}  // namespace mcp::sandbox
