// The sandbox process launcher (docs/sandbox-launcher.md): starts an untrusted program in a child process
// set up between fork and exec, reaps it on a dedicated thread, and answers questions about running
// children and about the host. Plain C++, no N-API; native/binding/sandbox_binding.cc is its JS face.
//
// launch() in the parent, BEFORE fork (everything that allocates or may fail cleanly):
//   argv/envp arrays, the seccomp BPF program (with slots for the child's own pid), a socketpair for the
//   control channel, pipes for stdout/stderr, an error pipe, /dev/null; all CLOEXEC. Signals are blocked
//   around fork so no handler of the parent ever runs in the child.
// In the child, only async-signal-safe system calls, in this order (each failure is written to the error
//   pipe as {step, errno, detail} and the child _exits 127; EOF on the pipe means execve succeeded):
//   1. every signal disposition to SIG_DFL (SIGXFSZ to SIG_IGN: a write past RLIMIT_FSIZE fails with EFBIG
//      instead of killing), then an empty signal mask (inherited blocked from the fork);
//   2. setsid: own session and process group (kill_group reaches everything it starts);
//   3. the fd layout: 0 = /dev/null, 1/2 = the pipes, 3 = the control socket; close_range every other fd
//      except the error pipe (CLOEXEC, it closes at exec);
//   4. write its pid (formatted by hand) into each cgroup.procs, while still root, before allocating more;
//   5. unshare(CLONE_NEWNET) when asked (needs CAP_SYS_ADMIN, so before the uid drop);
//   6. setrlimit for each limit (before the uid drop: raising a hard limit needs privilege);
//   7. setgroups(0), setresgid, setresuid when asked (raw system calls: glibc's wrappers would broadcast
//      to the parent's threads through its setxid machinery);
//   8. chdir (after the drop, so the new user's permissions apply);
//   9. PR_SET_NO_NEW_PRIVS (required for an unprivileged seccomp filter; no setuid escalation at exec);
//  10. PR_SET_PDEATHSIG(SIGKILL) (after the uid change, which clears it), then getppid() must still be the
//      parent, else the parent died before it was set;
//  11. the seccomp filter, with the child's own pid patched into the preallocated program (or, with
//      seccomp_fd = 4, nothing: the program is on fd 4 for the exec'd program to install, see LaunchSpec);
//  12. execve.
//
// The seccomp filter (installed when any of deny_network, deny_spawn, restrict_kill is set). Actions are
// return values of the filter for the system call's number and arguments:
//   - a foreign architecture (e.g. i386 via int 0x80 on x86_64)  -> kill the process: the numbers below
//     mean other calls there; x32 system calls on x86_64 (nr | 0x40000000) -> ENOSYS, for the same reason;
//   always: ptrace, process_vm_readv, process_vm_writev          -> EPERM (reading/writing other processes)
//           keyctl, add_key, request_key                         -> EPERM (kernel keyrings are not namespaced)
//           bpf, perf_event_open, userfaultfd                    -> EPERM (large kernel attack surface)
//           io_uring_setup, io_uring_enter, io_uring_register    -> EPERM (its operations bypass seccomp:
//                                                                   IORING_OP_SOCKET would defeat deny_network;
//                                                                   libuv falls back to its thread pool)
//           unshare, setns, mount, umount2, pivot_root           -> EPERM (new namespaces: attack surface)
//   deny_network: socket, socketpair                             -> EACCES (fd 3 is inherited, not created)
//   deny_spawn:   fork, vfork (x86_64)                           -> EPERM
//                 clone without CLONE_THREAD in its flags        -> EPERM (threads stay allowed)
//                 clone3                                         -> ENOSYS (its flags are in memory the filter
//                                                                   cannot read; glibc then falls back to clone)
//   restrict_kill: kill(pid) unless pid is own pid, 0 or -own pid -> EPERM
//                  tkill(tid) unless tid is own pid              -> EPERM
//                  tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo unless tgid is own pid -> EPERM
//                  pidfd_send_signal                             -> EPERM (a pidfd's target, or a /proc/<pid>
//                                                                   fd's, is not visible to the filter)
//   everything else                                              -> allowed
// pid/tgid arguments are compared on their low 32 bits, as the kernel reads a pid_t.
//
// Reaping: one reaper thread per process (started at the first launch) waits on the children's pidfds
// with epoll and calls wait4(pid, WNOHANG) for the one that became readable: exit status plus rusage. It
// never waits for any pid it did not start (no waitpid(-1): libuv reaps its own children by pid).
#ifndef FASTERMCP_NATIVE_CORE_SANDBOX_H_
#define FASTERMCP_NATIVE_CORE_SANDBOX_H_

#include <linux/filter.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcp::sandbox {

/// The setup step that failed (reported by launch and the helpers with an errno).
enum class Step : uint8_t {
  kNone,           ///< no error
  kSpec,           ///< the spec itself (a NUL inside a string, an unknown rlimit, a bad id)
  kSocketpair,     ///< socketpair(AF_UNIX) for the control channel
  kPipe,           ///< pipe2 for stdout, stderr or the error pipe
  kDevNull,        ///< open(/dev/null)
  kFork,           ///< fork / clone
  kSignals,        ///< sigaction / sigprocmask in the child
  kSetsid,         ///< setsid
  kFds,            ///< fcntl / dup2 of the child's fds 0-3
  kCloseRange,     ///< close_range
  kCgroup,         ///< open/write of a cgroup.procs file (detail: its index in cgroup_procs)
  kUnshareNet,     ///< unshare(CLONE_NEWNET)
  kSetrlimit,      ///< setrlimit (detail: the resource)
  kSetgroups,      ///< setgroups(0, NULL)
  kSetgid,         ///< setresgid
  kSetuid,         ///< setresuid
  kChdir,          ///< chdir
  kNoNewPrivs,     ///< prctl(PR_SET_NO_NEW_PRIVS)
  kPdeathsig,      ///< prctl(PR_SET_PDEATHSIG)
  kParentGone,     ///< the parent exited before the death signal was armed
  kSeccomp,        ///< seccomp(SECCOMP_SET_MODE_FILTER), or the pipe that hands the program on (seccomp_fd)
  kExecve,         ///< execve
  kPidfd,          ///< pidfd_open on the started child
  kReaper,         ///< starting the reaper thread or registering with it
  kPrlimit,        ///< prlimit on a running child (set_cpu_limit)
  kKill,           ///< kill(-pid) (kill_group)
};
std::string_view step_name(Step step);

struct Error {
  Step step = Step::kNone;
  int err = 0;     ///< errno
  int detail = 0;  ///< kSetrlimit: the resource; kCgroup: the path's index
  explicit operator bool() const { return step != Step::kNone; }
};

/// One rlimit to set in the child.
struct Rlimit {
  int resource;  ///< RLIMIT_*
  uint64_t soft;
  uint64_t hard;
};
/// RLIMIT_* for a util-linux prlimit option name (cpu, data, nofile, fsize, nproc, core), or -1.
int rlimit_resource(std::string_view name);
/// "RLIMIT_DATA" etc. for error messages.
std::string_view rlimit_name(int resource);

struct LaunchSpec {
  std::string file;               ///< absolute path, execve'd as is
  std::vector<std::string> argv;  ///< argv[0] first
  std::vector<std::string> env;   ///< "NAME=value", the whole environment
  std::string cwd;
  std::vector<Rlimit> rlimits;
  int64_t uid = -1;  ///< -1: keep (both uid and gid are given, or neither)
  int64_t gid = -1;
  bool deny_network = false;
  bool deny_spawn = false;
  bool restrict_kill = false;
  bool new_net_namespace = false;
  std::vector<std::string> cgroup_procs;  ///< cgroup.procs files to join
  bool use_vfork = false;  ///< clone(CLONE_VM | CLONE_VFORK) instead of fork (see docs: measured)
  /// -1: install the seccomp filter in the child before execve. 4: install nothing; the compiled program
  /// is readable on the child's fd 4 instead, for a program that installs it later on the final process
  /// (`bwrap --seccomp 4`, which must create namespaces with clone first). restrict_kill is refused with
  /// it: its own-pid rules need a pid that is not known yet (a pid namespace does that job instead).
  int seccomp_fd = -1;
};

/// The parent's ends: each fd is CLOEXEC and owned by the caller.
struct LaunchResult {
  pid_t pid = -1;
  int control = -1;  ///< the socketpair end whose peer is the child's fd 3
  int out = -1;      ///< read end of the child's stdout
  int err = -1;      ///< read end of the child's stderr
};

/// How a reaped child ended, with its rusage.
struct ExitStatus {
  pid_t pid = -1;
  int exit_code = -1;  ///< when signal == 0
  int signal = 0;      ///< the terminating signal, else 0
  int64_t user_micros = 0;
  int64_t system_micros = 0;
  int64_t max_rss_kib = 0;
};

/// Called once per launched child, on the reaper thread, after it has been reaped.
using ExitCallback = void (*)(void* context, const ExitStatus& status);

/// Starts a child per `spec`. On success fills `out`, registers the child with the reaper (which calls
/// `on_exit(context, ...)` exactly once) and returns no error; on failure nothing is left behind (the
/// child, if one was forked, has been reaped; every fd is closed) and on_exit is never called.
Error launch(const LaunchSpec& spec, LaunchResult* out, ExitCallback on_exit, void* context);

/// "setrlimit(RLIMIT_DATA) failed: Operation not permitted" for an error of launch() with this spec.
std::string error_message(const Error& error, const LaunchSpec* spec);

/// prlimit(pid, RLIMIT_CPU, {soft, soft + 1}).
Error set_cpu_limit(pid_t pid, uint64_t soft_seconds);
/// user + system CPU time of a process from /proc/<pid>/stat, in microseconds; -1 when unreadable.
int64_t cpu_micros(pid_t pid);
/// kill(-pid, sig); ESRCH (the group is gone) is not an error.
Error kill_group(pid_t pid, int sig);

/// What this host offers (HostFeatures in src/sandbox/launcher/types.ts, minus the TS-only fields).
struct Probe {
  bool seccomp = false;        ///< a throwaway child installed a filter
  bool no_new_privs = false;   ///< a throwaway child set PR_SET_NO_NEW_PRIVS
  bool net_namespace = false;  ///< a throwaway child did unshare(CLONE_NEWNET)
  std::optional<std::string> cgroup_memory;  ///< this process's v1 memory cgroup, where a child cgroup can be made
  std::optional<std::string> cgroup_pids;
  std::optional<std::string> bubblewrap;  ///< path of bwrap on PATH
  bool root = false;
};
Probe probe();

// --- Pure parsers shared with src/sandbox/launcher/proc.ts (test/vectors/sandbox-*.json) ----------------

/// utime + stime of a /proc/<pid>/stat line in microseconds (fields counted from the last ')'), or -1.
int64_t cpu_micros_from_stat(std::string_view line, int64_t clock_ticks_per_second);

struct CgroupDirs {
  std::optional<std::string> memory;
  std::optional<std::string> pids;
};
/// The v1 memory and pids folders of a /proc/<pid>/cgroup file's content under `mount_root`.
CgroupDirs cgroup_v1_dirs(std::string_view content, std::string_view mount_root);

// --- The seccomp filter, exposed for the tests ------------------------------------------------------------

/// A built filter: the program plus the positions of the instructions whose constant is the child's pid.
struct Filter {
  std::vector<sock_filter> program;
  std::vector<uint32_t> own_pid_slots;      ///< k = pid
  std::vector<uint32_t> own_neg_pid_slots;  ///< k = (uint32_t)-pid
  bool empty() const { return program.empty(); }
};
/// The program for these flags (empty when no flag asks for a filter).
Filter build_filter(bool deny_network, bool deny_spawn, bool restrict_kill);
/// Writes `pid` into the pid slots (async-signal-safe: no allocation).
void patch_filter(Filter* filter, pid_t pid);
/// The AUDIT_ARCH_* value the filter accepts (this build's architecture).
uint32_t filter_arch();

}  // namespace mcp::sandbox

#endif  // FASTERMCP_NATIVE_CORE_SANDBOX_H_
