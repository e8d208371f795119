// JwtVerifier: the JS face of mcp::jwt::Verifier (docs/jwt.md section 6). Options and keys are checked in
// TypeScript (src/jwt/) before they cross; here only the shapes are checked.
//
//   new JwtVerifier(policy, out: Float64Array) policy: {algorithms, issuers, audiences, required, typ,
//                                              clockTolerance, maxTokenAge, maxTokenBytes, requireExp, cacheSize}
//   setKeys([{kid: string|null, hmac: boolean, data: Uint8Array, algorithms: number}])   throws on a bad key
//   verify(token: string, now: number): number | string
//       a negative number: -reason; a number >= 0: a cache hit, the slot whose result JS kept;
//       a string: a fresh verification, the payload JSON; out = [cache slot (-1: not cached), from, until]
//   clearCache(); cacheEntries(): number
//   bareVerify(alg: number, data: Uint8Array, signature: Uint8Array): boolean   (key 0 only; benchmarks)
//
// verify() is one crossing: the token is copied out of the JS string into a reused buffer (UTF-8), and
// a hit returns a small integer, so the hot path allocates nothing on either side.
#include <napi.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "binding/addon.h"
#include "binding/convert.h"
#include "core/jwt.h"

namespace mcp::binding {
namespace {

class JwtBinding : public Napi::ObjectWrap<JwtBinding> {
 public:
  static constexpr napi_type_tag kTypeTag = {0x6661737465726d63ULL, 0x704a777456657231ULL};

  explicit JwtBinding(const Napi::CallbackInfo& info);

  Napi::Value set_keys(const Napi::CallbackInfo& info);
  Napi::Value verify(const Napi::CallbackInfo& info);
  Napi::Value clear_cache(const Napi::CallbackInfo& info);
  Napi::Value cache_entries(const Napi::CallbackInfo& info);
  Napi::Value bare_verify(const Napi::CallbackInfo& info);

 private:
  bool is_self(const Napi::CallbackInfo& info);

  std::unique_ptr<jwt::Verifier> verifier_;
  Napi::Reference<Napi::Float64Array> out_ref_;
  double* out_ = nullptr;  // [slot, from, until] of the last success
  std::string token_;  // reused buffer for the token's UTF-8 bytes
};

bool get_strings(const Napi::Object& object, const char* name, std::vector<std::string>* out) {
  const Napi::Value value = object.Get(name);
  if (!value.IsArray()) {
    throw_type_error(object.Env(), name, "an array of strings", value);
    return false;
  }
  const auto array = value.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); ++i) {
    std::string s;
    if (!get_string(array.Get(i), name, &s)) return false;
    out->push_back(std::move(s));
  }
  return true;
}

bool get_number(const Napi::Object& object, const char* name, double* out) {
  const Napi::Value value = object.Get(name);
  if (!value.IsNumber()) {
    throw_type_error(object.Env(), name, "a number", value);
    return false;
  }
  *out = value.As<Napi::Number>().DoubleValue();
  if (std::isnan(*out)) {
    throw_range_error(object.Env(), name, "a number other than NaN");
    return false;
  }
  return true;
}

}  // namespace

JwtBinding::JwtBinding(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JwtBinding>(info) {
  const Napi::Env env = info.Env();
  info.This().As<Napi::Object>().TypeTag(&kTypeTag);
  if (!info[0].IsObject()) {
    throw_type_error(env, "policy", "an object", info[0]);
    return;
  }
  Napi::Float64Array out;
  if (!get_float64_array(info[1], "out", &out)) return;
  if (out.ElementLength() < 3) {
    throw_range_error(env, "out", "a Float64Array of at least 3 elements");
    return;
  }
  const auto object = info[0].As<Napi::Object>();
  jwt::Policy policy;
  double algorithms = 0, tolerance = 0, max_age = 0, max_bytes = 0, cache_size = 0;
  std::string typ;
  if (!get_number(object, "algorithms", &algorithms) || !get_strings(object, "issuers", &policy.issuers) ||
      !get_strings(object, "audiences", &policy.audiences) || !get_strings(object, "required", &policy.required) ||
      !get_string(object.Get("typ"), "typ", &typ) || !get_number(object, "clockTolerance", &tolerance) ||
      !get_number(object, "maxTokenAge", &max_age) || !get_number(object, "maxTokenBytes", &max_bytes) ||
      !get_number(object, "cacheSize", &cache_size)) {
    return;
  }
  if (max_bytes < 1 || max_bytes > (1 << 24) || cache_size < 0 || cache_size > (1 << 24)) {
    throw_range_error(env, "policy", "maxTokenBytes in [1, 2^24] and cacheSize in [0, 2^24]");
    return;
  }
  policy.algorithms = static_cast<uint32_t>(algorithms);
  policy.typ = typ;
  policy.clock_tolerance = tolerance;
  policy.max_token_age = max_age;
  policy.max_token_bytes = static_cast<std::size_t>(max_bytes);
  policy.require_exp = object.Get("requireExp").ToBoolean().Value();
  policy.cache_size = static_cast<std::size_t>(cache_size);
  verifier_ = std::make_unique<jwt::Verifier>(std::move(policy));
  out_ref_ = Napi::Persistent(out);
  out_ = out.Data();
  token_.resize(verifier_->policy().max_token_bytes + 8);
}

bool JwtBinding::is_self(const Napi::CallbackInfo& info) {
  if (info.This().IsObject() && info.This().As<Napi::Object>().CheckTypeTag(&kTypeTag) && verifier_ != nullptr)
    return true;
  throw_type_error(info.Env(), "this", "a JwtVerifier", info.This());
  return false;
}

Napi::Value JwtBinding::set_keys(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (!is_self(info)) return env.Undefined();
  if (!info[0].IsArray()) {
    throw_type_error(env, "keys", "an array", info[0]);
    return env.Undefined();
  }
  const auto array = info[0].As<Napi::Array>();
  std::vector<std::unique_ptr<jwt::Key>> keys;
  for (uint32_t i = 0; i < array.Length(); ++i) {
    const Napi::Value item = array.Get(i);
    if (!item.IsObject()) {
      throw_type_error(env, "keys[i]", "an object", item);
      return env.Undefined();
    }
    const auto k = item.As<Napi::Object>();
    const Napi::Value kid_value = k.Get("kid");
    std::string kid;
    const bool has_kid = !kid_value.IsNull() && !kid_value.IsUndefined();
    if (has_kid && !get_string(kid_value, "kid", &kid)) return env.Undefined();
    const uint8_t* data = nullptr;
    std::size_t size = 0;
    double algorithms = 0;
    if (!get_bytes(k.Get("data"), "data", &data, &size) || !get_number(k, "algorithms", &algorithms))
      return env.Undefined();
    std::string error;
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto key = k.Get("hmac").ToBoolean().Value()
                   ? jwt::Key::hmac(kid, has_kid, bytes, static_cast<uint32_t>(algorithms), &error)
                   : jwt::Key::spki(kid, has_kid, bytes, static_cast<uint32_t>(algorithms), &error);
    if (!key) {
      Napi::Error::New(env, "Invalid JWT key: " + error).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    keys.push_back(std::move(key));
  }
  verifier_->set_keys(std::move(keys));
  return env.Undefined();
}

// verify(token: string, now: number): number | string. Raw N-API for the argument reads: this is the path a
// cache hit takes.
// The payload JSON as a JS string. Most payloads are ASCII, and V8 takes those as one-byte text
// without decoding UTF-8 (the core has already checked that the bytes are valid UTF-8).
Napi::Value payload_string(napi_env env, std::string_view payload) {
  unsigned char any = 0;
  for (const char c : payload) any |= static_cast<unsigned char>(c);
  napi_value out;
  if ((any & 0x80) == 0) {
    napi_create_string_latin1(env, payload.data(), payload.size(), &out);
  } else {
    napi_create_string_utf8(env, payload.data(), payload.size(), &out);
  }
  return Napi::Value(env, out);
}

Napi::Value JwtBinding::verify(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  // The hot path skips the type-tag lookup: napi_define_class gives every method a V8 signature, so a
  // foreign `this` never gets here ("Illegal invocation"); only a failed construction is left to catch.
  if (verifier_ == nullptr) {
    throw_type_error(info.Env(), "this", "a constructed JwtVerifier", info.This());
    return Napi::Value();
  }
  double now = 0;
  if (info.Length() < 2 || napi_get_value_double(env, info[1], &now) != napi_ok || std::isnan(now)) {
    throw_type_error(info.Env(), "now", "a number (seconds)", info[1]);
    return Napi::Value();
  }
  std::size_t length = 0;
  // token_ holds max_token_bytes + 8: a longer token fills it (written >= max + 4 even when the cut falls
  // inside a multi-byte character) and is refused as too large.
  if (napi_get_value_string_utf8(env, info[0], token_.data(), token_.size(), &length) != napi_ok) {
    throw_type_error(info.Env(), "token", "a string", info[0]);
    return Napi::Value();
  }
  jwt::Verified result;
  int32_t value;
  if (length > verifier_->policy().max_token_bytes) {
    value = -static_cast<int32_t>(jwt::Reason::kTooLarge);
  } else {
    const jwt::Reason reason = verifier_->verify(std::string_view(token_.data(), length), now, &result);
    if (reason != jwt::Reason::kOk) {
      value = -static_cast<int32_t>(reason);
    } else if (result.cached) {
      value = result.slot;
    } else {
      out_[0] = result.slot;
      out_[1] = result.from;
      out_[2] = result.until;
      return payload_string(env, result.payload);
    }
  }
  napi_value number;
  napi_create_int32(env, value, &number);
  return Napi::Value(env, number);
}

Napi::Value JwtBinding::clear_cache(const Napi::CallbackInfo& info) {
  if (!is_self(info)) return info.Env().Undefined();
  verifier_->clear_cache();
  return info.Env().Undefined();
}

Napi::Value JwtBinding::cache_entries(const Napi::CallbackInfo& info) {
  if (!is_self(info)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), static_cast<double>(verifier_->cache_entries()));
}

Napi::Value JwtBinding::bare_verify(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (!is_self(info)) return env.Undefined();
  int64_t alg = 0;
  const uint8_t* data = nullptr;
  const uint8_t* sig = nullptr;
  std::size_t data_size = 0, sig_size = 0;
  if (!get_integer(info[0], "alg", 0, jwt::kAlgCount - 1, "an algorithm index", &alg) ||
      !get_bytes(info[1], "data", &data, &data_size) || !get_bytes(info[2], "signature", &sig, &sig_size)) {
    return env.Undefined();
  }
  if (verifier_->keys().empty()) return Napi::Boolean::New(env, false);
  return Napi::Boolean::New(env, verifier_->keys()[0]->verify(
                                     static_cast<jwt::Alg>(alg),
                                     std::string_view(reinterpret_cast<const char*>(data), data_size),
                                     std::string_view(reinterpret_cast<const char*>(sig), sig_size)));
}

Napi::Function define_jwt_verifier(Napi::Env env) {
  return JwtBinding::DefineClass(env, "JwtVerifier",
                                 {
                                     JwtBinding::InstanceMethod<&JwtBinding::set_keys>("setKeys"),
                                     JwtBinding::InstanceMethod<&JwtBinding::verify>("verify"),
                                     JwtBinding::InstanceMethod<&JwtBinding::clear_cache>("clearCache"),
                                     JwtBinding::InstanceMethod<&JwtBinding::cache_entries>("cacheEntries"),
                                     JwtBinding::InstanceMethod<&JwtBinding::bare_verify>("bareVerify"),
                                 });
}

Napi::Array jwt_reason_table(Napi::Env env) {
  Napi::Array table = Napi::Array::New(env, jwt::kReasonCount);
  for (uint32_t i = 0; i < jwt::kReasonCount; ++i) {
    const std::string_view name = jwt::reason_name(static_cast<jwt::Reason>(i));
    table.Set(i, Napi::String::New(env, name.data(), name.size()));
  }
  return table;
}

}  // namespace mcp::binding
