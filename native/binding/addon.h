// The addon instance (one per JS environment: the main thread and every worker_thread that loads the
// addon). It holds that thread's simdjson Scanner, shared by the thread's engines, and the class
// constructors. No statics: everything per instance, so workers never share state.
#ifndef FASTERMCP_NATIVE_BINDING_ADDON_H_
#define FASTERMCP_NATIVE_BINDING_ADDON_H_

#include <napi.h>

#include "core/ratelimit.h"

#include "core/scan.h"

namespace mcp::binding {

class McpNative : public Napi::Addon<McpNative> {
 public:
  McpNative(Napi::Env env, Napi::Object exports);

  /// The thread's parser and scratch buffer, used by every Engine of this environment.
  jsonrpc::Scanner scanner;

 private:
  Napi::FunctionReference router_constructor_;
  Napi::FunctionReference engine_constructor_;
  Napi::FunctionReference jwt_constructor_;
  Napi::FunctionReference rate_limiter_constructor_;
  Napi::FunctionReference rule_set_constructor_;
  Napi::FunctionReference head_parser_constructor_;
  Napi::FunctionReference reply_buffer_constructor_;
};

/// Defines the Router class (router_binding.cc).
Napi::Function define_router(Napi::Env env);
/// Defines the Engine class (engine_binding.cc).
Napi::Function define_engine(Napi::Env env);

/// Defines the JwtVerifier class (jwt_binding.cc).
Napi::Function define_jwt_verifier(Napi::Env env);
/// The JWT reason names by code (jwt_binding.cc), for the pin test.
Napi::Array jwt_reason_table(Napi::Env env);

/// Defines the RateLimiter and RuleSet classes (ratelimit_binding.cc).
Napi::Function define_rate_limiter(Napi::Env env);
Napi::Function define_rule_set(Napi::Env env);
/// Defines the HeadParser class (http1_binding.cc).
Napi::Function define_head_parser(Napi::Env env);
/// Defines the ReplyBuffer class (reply_binding.cc).
Napi::Function define_reply_buffer(Napi::Env env);
/// The core RuleSet behind a JS RuleSet (checked by type tag), or nullptr: the Engine's fused admission
/// (engine_binding.cc) checks requests against it.
ratelimit::RuleSet* rule_set_of(const Napi::Value& value);

}  // namespace mcp::binding

#endif  // FASTERMCP_NATIVE_BINDING_ADDON_H_
