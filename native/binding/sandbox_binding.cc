// The sandbox launcher's JS face (native/core/sandbox.h; src/sandbox/launcher/native.ts wraps it):
//
//   sandboxLaunch(spec, onExit): {pid, control, stdout, stderr}   the parent's fds, owned by the caller
//       spec = {file, argv: string[], env: string[] ("K=V"), cwd, rlimits: [name, soft, hard][], uid, gid
//               (-1: keep), denyNetwork, denySpawn, restrictKill, newNetNamespace, cgroupProcs: string[],
//               useVfork?: boolean, seccompFd?: -1 | 4 (4: the filter is handed on fd 4, not installed)}
//       onExit(pid, exitCode, signal, userMicros, systemMicros, maxRssKiB) runs once on this thread after
//       the reaper thread has reaped the child, through a ThreadSafeFunction made for that child (never the
//       libuv thread pool: a warm pool of sandboxes would hold its threads). Until then the function keeps
//       the event loop alive, as a child_process does.
//   sandboxSetCpuLimit(pid, softSeconds)   prlimit RLIMIT_CPU {soft, soft + 1}
//   sandboxCpuMicros(pid): number          user + system µs from /proc/<pid>/stat, -1 when unreadable
//   sandboxKillGroup(pid, signal)          kill(-pid, signal), ESRCH ignored
//   sandboxProbe(): {seccomp, noNewPrivs, netNamespace, cgroupMemory, cgroupPids, bubblewrap, root}
// A failure throws an Error whose message names the step and the errno text ("setrlimit(RLIMIT_DATA) failed:
// Operation not permitted"), with `errno` (number) and `step` (string) properties.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "binding/addon.h"
#include "binding/convert.h"
#include "core/sandbox.h"

namespace mcp::binding {
namespace {

namespace sb = mcp::sandbox;

constexpr double kMaxSafe = 9007199254740991.0;

void throw_sandbox_error(Napi::Env env, const sb::Error& error, const sb::LaunchSpec* spec) {
  Napi::Error err = Napi::Error::New(env, sb::error_message(error, spec));
  err.Set("errno", Napi::Number::New(env, error.err));
  const std::string_view step = sb::step_name(error.step);
  err.Set("step", Napi::String::New(env, step.data(), step.size()));
  err.ThrowAsJavaScriptException();
}

bool read_strings(const Napi::Object& spec, const char* name, std::vector<std::string>* out) {
  const Napi::Value value = spec.Get(name);
  if (!value.IsArray()) {
    throw_type_error(spec.Env(), name, "an array of strings", value);
    return false;
  }
  const auto array = value.As<Napi::Array>();
  out->reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) {
    std::string s;
    if (!get_string(array.Get(i), name, &s)) return false;
    out->push_back(std::move(s));
  }
  return true;
}

bool read_bool(const Napi::Object& spec, const char* name, bool* out, bool optional = false) {
  const Napi::Value value = spec.Get(name);
  if (optional && value.IsUndefined()) return true;
  if (!value.IsBoolean()) {
    throw_type_error(spec.Env(), name, "a boolean", value);
    return false;
  }
  *out = value.As<Napi::Boolean>().Value();
  return true;
}

bool read_number(const Napi::Value& value, const char* name, double low, double high, double* out) {
  if (!value.IsNumber()) {
    throw_type_error(value.Env(), name, "a number", value);
    return false;
  }
  const double d = value.As<Napi::Number>().DoubleValue();
  if (!(d >= low && d <= high) || std::floor(d) != d) {
    throw_range_error(value.Env(), name, "an integer in range");
    return false;
  }
  *out = d;
  return true;
}

bool read_spec(const Napi::Value& value, sb::LaunchSpec* spec) {
  const Napi::Env env = value.Env();
  if (!value.IsObject()) {
    throw_type_error(env, "spec", "an object", value);
    return false;
  }
  const auto object = value.As<Napi::Object>();
  if (!get_string(object.Get("file"), "file", &spec->file) || !get_string(object.Get("cwd"), "cwd", &spec->cwd) ||
      !read_strings(object, "argv", &spec->argv) || !read_strings(object, "env", &spec->env) ||
      !read_strings(object, "cgroupProcs", &spec->cgroup_procs) ||
      !read_bool(object, "denyNetwork", &spec->deny_network) || !read_bool(object, "denySpawn", &spec->deny_spawn) ||
      !read_bool(object, "restrictKill", &spec->restrict_kill) ||
      !read_bool(object, "newNetNamespace", &spec->new_net_namespace) ||
      !read_bool(object, "useVfork", &spec->use_vfork, true)) {
    return false;
  }
  double uid = 0, gid = 0;
  if (!read_number(object.Get("uid"), "uid", -1, 4294967294.0, &uid) ||
      !read_number(object.Get("gid"), "gid", -1, 4294967294.0, &gid)) {
    return false;
  }
  spec->uid = static_cast<int64_t>(uid);
  spec->gid = static_cast<int64_t>(gid);
  const Napi::Value seccomp_fd = object.Get("seccompFd");
  if (!seccomp_fd.IsUndefined()) {
    double fd = -1;
    if (!read_number(seccomp_fd, "seccompFd", -1, 4, &fd)) return false;
    spec->seccomp_fd = static_cast<int>(fd);
  }
  const Napi::Value rlimits = object.Get("rlimits");
  if (!rlimits.IsArray()) {
    throw_type_error(env, "rlimits", "an array of [name, soft, hard]", rlimits);
    return false;
  }
  const auto array = rlimits.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); ++i) {
    const Napi::Value entry = array.Get(i);
    if (!entry.IsArray() || entry.As<Napi::Array>().Length() != 3) {
      throw_type_error(env, "rlimits entry", "an array of [name, soft, hard]", entry);
      return false;
    }
    const auto triple = entry.As<Napi::Array>();
    std::string name;
    double soft = 0, hard = 0;
    if (!get_string(triple.Get(0u), "rlimit name", &name) ||
        !read_number(triple.Get(1u), "rlimit soft", 0, kMaxSafe, &soft) ||
        !read_number(triple.Get(2u), "rlimit hard", 0, kMaxSafe, &hard)) {
      return false;
    }
    const int resource = sb::rlimit_resource(name);
    if (resource < 0) {
      throw_range_error(env, "rlimit name", "one of cpu, data, nofile, fsize, nproc, core");
      return false;
    }
    spec->rlimits.push_back(sb::Rlimit{resource, static_cast<uint64_t>(soft), static_cast<uint64_t>(hard)});
  }
  return true;
}

// One per launched child: the JS onExit behind a ThreadSafeFunction, released after its one call.
struct ExitContext {
  Napi::ThreadSafeFunction tsfn;
};

void call_on_exit(Napi::Env env, Napi::Function on_exit, sb::ExitStatus* status) {
  if (env != nullptr && on_exit != nullptr) {
    on_exit.Call({Napi::Number::New(env, status->pid), Napi::Number::New(env, status->exit_code),
                  Napi::Number::New(env, status->signal), Napi::Number::New(env, static_cast<double>(status->user_micros)),
                  Napi::Number::New(env, static_cast<double>(status->system_micros)),
                  Napi::Number::New(env, static_cast<double>(status->max_rss_kib))});
  }
  delete status;
}

// On the reaper thread.
void deliver_exit(void* context, const sb::ExitStatus& status) {
  auto* ctx = static_cast<ExitContext*>(context);
  auto* copy = new sb::ExitStatus(status);
  if (ctx->tsfn.NonBlockingCall(copy, call_on_exit) != napi_ok) delete copy;  // the environment is gone
  ctx->tsfn.Release();
  delete ctx;
}

Napi::Value launch(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  sb::LaunchSpec spec;
  if (!read_spec(info[0], &spec)) return env.Undefined();
  if (!info[1].IsFunction()) {
    throw_type_error(env, "onExit", "a function", info[1]);
    return env.Undefined();
  }
  auto* ctx = new ExitContext{Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "mcp-sandbox-exit", 0, 1)};
  sb::LaunchResult result;
  const sb::Error error = sb::launch(spec, &result, deliver_exit, ctx);
  if (error) {
    ctx->tsfn.Release();
    delete ctx;
    throw_sandbox_error(env, error, &spec);
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, result.pid));
  out.Set("control", Napi::Number::New(env, result.control));
  out.Set("stdout", Napi::Number::New(env, result.out));
  out.Set("stderr", Napi::Number::New(env, result.err));
  return out;
}

bool read_pid(const Napi::Value& value, pid_t* pid) {
  double d = 0;
  if (!read_number(value, "pid", 2, 2147483647.0, &d)) return false;
  *pid = static_cast<pid_t>(d);
  return true;
}

Napi::Value set_cpu_limit(const Napi::CallbackInfo& info) {
  pid_t pid = 0;
  double seconds = 0;
  if (!read_pid(info[0], &pid) || !read_number(info[1], "softSeconds", 1, 2147483647.0, &seconds)) {
    return info.Env().Undefined();
  }
  if (const sb::Error error = sb::set_cpu_limit(pid, static_cast<uint64_t>(seconds))) {
    throw_sandbox_error(info.Env(), error, nullptr);
  }
  return info.Env().Undefined();
}

Napi::Value cpu_micros(const Napi::CallbackInfo& info) {
  pid_t pid = 0;
  if (!read_pid(info[0], &pid)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), static_cast<double>(sb::cpu_micros(pid)));
}

Napi::Value kill_group(const Napi::CallbackInfo& info) {
  pid_t pid = 0;
  double sig = 0;
  if (!read_pid(info[0], &pid) || !read_number(info[1], "signal", 0, 64, &sig)) return info.Env().Undefined();
  if (const sb::Error error = sb::kill_group(pid, static_cast<int>(sig))) throw_sandbox_error(info.Env(), error, nullptr);
  return info.Env().Undefined();
}

Napi::Value optional_string(Napi::Env env, const std::optional<std::string>& s) {
  return s ? Napi::String::New(env, *s) : env.Null();
}

Napi::Value probe(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const sb::Probe p = sb::probe();
  Napi::Object out = Napi::Object::New(env);
  out.Set("seccomp", Napi::Boolean::New(env, p.seccomp));
  out.Set("noNewPrivs", Napi::Boolean::New(env, p.no_new_privs));
  out.Set("netNamespace", Napi::Boolean::New(env, p.net_namespace));
  out.Set("cgroupMemory", optional_string(env, p.cgroup_memory));
  out.Set("cgroupPids", optional_string(env, p.cgroup_pids));
  out.Set("bubblewrap", optional_string(env, p.bubblewrap));
  out.Set("root", Napi::Boolean::New(env, p.root));
  return out;
}

}  // namespace

void define_sandbox(Napi::Env env, Napi::Object exports) {
  exports.DefineProperties({
      Napi::PropertyDescriptor::Value("sandboxLaunch", Napi::Function::New(env, launch, "sandboxLaunch"), napi_enumerable),
      Napi::PropertyDescriptor::Value("sandboxSetCpuLimit", Napi::Function::New(env, set_cpu_limit, "sandboxSetCpuLimit"),
                                      napi_enumerable),
      Napi::PropertyDescriptor::Value("sandboxCpuMicros", Napi::Function::New(env, cpu_micros, "sandboxCpuMicros"),
                                      napi_enumerable),
      Napi::PropertyDescriptor::Value("sandboxKillGroup", Napi::Function::New(env, kill_group, "sandboxKillGroup"),
                                      napi_enumerable),
      Napi::PropertyDescriptor::Value("sandboxProbe", Napi::Function::New(env, probe, "sandboxProbe"), napi_enumerable),
  });
}

}  // namespace mcp::binding
