// Module entry of mcp_native.node (docs/jsonrpc-engine.md section 10): version, abi, simdjson's kernel,
// the OpenSSL version of the running node, the reason tables, the Router and Engine classes and the
// JwtVerifier class (docs/jwt.md) with its reason table, and the RateLimiter and RuleSet classes
// (docs/ratelimit.md), the HTTP/1.1 HeadParser class (docs/http1.md), the stdio ReplyBuffer class
// (docs/jsonrpc-engine.md section 8) and the sandbox launcher functions (docs/sandbox-launcher.md).
//
// OpenSSL: compiled against Node 20's OpenSSL 3.0 headers and linked with no libcrypto; the symbols bind
// to the running node binary at load time (-z now), so a missing one fails require(), not a later call.
#include <napi.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include "binding/addon.h"
#include "core/errors.h"

#if OPENSSL_VERSION_MAJOR != 3 || OPENSSL_VERSION_MINOR != 0
#error "mcp_native must be compiled against OpenSSL 3.0 headers (Node 20's): newer symbols are missing there"
#endif

#ifndef FASTERMCP_VERSION
#error "FASTERMCP_VERSION (the package.json version) must be defined by the build"
#endif

namespace mcp::binding {

/// Sets the sandbox launcher functions on exports (sandbox_binding.cc).
void define_sandbox(Napi::Env env, Napi::Object exports);
/// Sets the pipe-capacity functions on exports (pipes_binding.cc).
void define_pipes(Napi::Env env, Napi::Object exports);

namespace {

// Revision of the exports contract (2: 20-int32 records; 3: + HeadParser; 4: + sandbox*; 5: + pipe*;
// 6: + ReplyBuffer; 7: ReplyBuffer.setMembers, textResult without members; 8: Engine.readArguments;
// 9: Engine.idText); src/native.ts refuses a mismatch.
constexpr uint32_t kAbi = 9;

Napi::Array reason_table(Napi::Env env, std::string_view (*column)(jsonrpc::Reason)) {
  Napi::Array table = Napi::Array::New(env, jsonrpc::kReasonCount);
  for (uint32_t i = 0; i < jsonrpc::kReasonCount; ++i) {
    const std::string_view text = column(static_cast<jsonrpc::Reason>(i));
    table.Set(i, Napi::String::New(env, text.data(), text.size()));
  }
  return table;
}

std::string_view reason_name_of(jsonrpc::Reason reason) { return jsonrpc::reason_name(reason); }
std::string_view reason_template_of(jsonrpc::Reason reason) { return jsonrpc::reason_template(reason); }

}  // namespace

McpNative::McpNative(Napi::Env env, Napi::Object exports) {
  const Napi::Function router = define_router(env);
  const Napi::Function engine = define_engine(env);
  router_constructor_ = Napi::Persistent(router);
  engine_constructor_ = Napi::Persistent(engine);
  const Napi::Function jwt_verifier = define_jwt_verifier(env);
  jwt_constructor_ = Napi::Persistent(jwt_verifier);
  const Napi::Function rate_limiter = define_rate_limiter(env);
  rate_limiter_constructor_ = Napi::Persistent(rate_limiter);
  const Napi::Function rule_set = define_rule_set(env);
  rule_set_constructor_ = Napi::Persistent(rule_set);
  const Napi::Function head_parser = define_head_parser(env);
  head_parser_constructor_ = Napi::Persistent(head_parser);
  const Napi::Function reply_buffer = define_reply_buffer(env);
  reply_buffer_constructor_ = Napi::Persistent(reply_buffer);
  DefineAddon(
      exports,
      {
          InstanceValue("version", Napi::String::New(env, FASTERMCP_VERSION), napi_enumerable),
          InstanceValue("abi", Napi::Number::New(env, kAbi), napi_enumerable),
          InstanceValue("simdjsonImplementation", Napi::String::New(env, jsonrpc::Scanner::implementation_name()),
                        napi_enumerable),
          InstanceValue("opensslVersion", Napi::String::New(env, OpenSSL_version(OPENSSL_VERSION)), napi_enumerable),
          InstanceValue("reasons", reason_table(env, reason_name_of), napi_enumerable),
          InstanceValue("reasonMessages", reason_table(env, reason_template_of), napi_enumerable),
          InstanceValue("Router", router, napi_enumerable),
          InstanceValue("Engine", engine, napi_enumerable),
          InstanceValue("JwtVerifier", jwt_verifier, napi_enumerable),
          InstanceValue("jwtReasons", jwt_reason_table(env), napi_enumerable),
          InstanceValue("RateLimiter", rate_limiter, napi_enumerable),
          InstanceValue("RuleSet", rule_set, napi_enumerable),
          InstanceValue("HeadParser", head_parser, napi_enumerable),
          InstanceValue("ReplyBuffer", reply_buffer, napi_enumerable),
      });
  define_sandbox(env, exports);
  define_pipes(env, exports);
}

}  // namespace mcp::binding

using mcp::binding::McpNative;
NODE_API_ADDON(McpNative)
