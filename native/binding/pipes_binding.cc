// The pipe-capacity functions' JS face (native/core/pipes.h; src/transport/pipes.ts wraps them):
//
//   pipeCapacity(fd): number          the pipe's capacity in bytes, or -errno (-EBADF: not a pipe)
//   pipeGrow(fd, bytes): number       at least `bytes` (never shrinks); the capacity after, or -errno
// Arguments are checked here (TypeError / RangeError); the system's answers come back as numbers because
// every caller treats a refusal as "leave the pipe as it is", never as an error.
#include <napi.h>

#include <cstdint>

#include "binding/convert.h"
#include "core/pipes.h"

namespace mcp::binding {
namespace {

Napi::Value capacity(const Napi::CallbackInfo& info) {
  int64_t fd = 0;
  if (!get_integer(info[0], "fd", 0, 0x7fffffff, "an integer in [0, 2^31 - 1]", &fd)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), static_cast<double>(pipes::capacity(static_cast<int>(fd))));
}

Napi::Value grow(const Napi::CallbackInfo& info) {
  int64_t fd = 0;
  int64_t bytes = 0;
  if (!get_integer(info[0], "fd", 0, 0x7fffffff, "an integer in [0, 2^31 - 1]", &fd) ||
      !get_integer(info[1], "bytes", 1, 0x7fffffff, "an integer in [1, 2^31 - 1]", &bytes)) {
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), static_cast<double>(pipes::grow(static_cast<int>(fd), bytes)));
}

}  // namespace

void define_pipes(Napi::Env env, Napi::Object exports) {
  exports.DefineProperties({
      Napi::PropertyDescriptor::Value("pipeCapacity", Napi::Function::New(env, capacity, "pipeCapacity"), napi_enumerable),
      Napi::PropertyDescriptor::Value("pipeGrow", Napi::Function::New(env, grow, "pipeGrow"), napi_enumerable),
  });
}

}  // namespace mcp::binding
