// RateLimiter and RuleSet: the JS faces of mcp::ratelimit::KeyedLimiter and RuleSet (docs/ratelimit.md
// section 4). Specs are validated in TypeScript (src/ratelimit/) before they cross and again here.
//
//   new RateLimiter({algorithm: index in ALGORITHMS, limit, windowMs}, maxKeys, out: Float64Array(>= 4))
//   check(key: string, cost, now): boolean    out = [allowed 0/1, remaining, retryAfterMs, resetMs]
//   peek(key: string, cost, now): boolean     the same answer, nothing stored
//   size(): number; bytes(): number; clear()
//   new RuleSet([{algorithm, limit, windowMs, scope: index in SCOPES, maxKeys}], out: Float64Array(>= 5))
//   setMatch(rule, methodIds: number[] | null, toolIds: number[] | null); setMethodCost(id, cost);
//   setToolCost(id, cost); costOf(methodId, toolId): number
//   check(methodId, toolId, client: string, cost, now): number   -1 admitted, else the first denying rule;
//                                              out = [allowed, remaining, retryAfterMs, resetMs, ruleIndex]
//   peek(...same): number; size(rule): number; bytes(rule): number; clear()
//
// check() is one crossing with numbers and one string in, a boolean or small integer out: the key's UTF-8 is
// copied into a reused buffer and hashed; nothing is allocated on either side in steady state.
#include <napi.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "binding/addon.h"
#include "binding/convert.h"
#include "core/ratelimit.h"

namespace mcp::binding {
namespace {

namespace rl = mcp::ratelimit;

bool number_of(const Napi::Object& object, const char* name, double* out) {
  const Napi::Value value = object.Get(name);
  if (!value.IsNumber()) {
    throw_type_error(object.Env(), name, "a number", value);
    return false;
  }
  *out = value.As<Napi::Number>().DoubleValue();
  return true;
}

// A spec object {algorithm, limit, windowMs} and its maxKeys, validated by the core's rules.
bool read_spec(const Napi::Value& value, double max_keys, rl::Spec* spec) {
  const Napi::Env env = value.Env();
  if (!value.IsObject()) {
    throw_type_error(env, "spec", "an object", value);
    return false;
  }
  const auto object = value.As<Napi::Object>();
  double algorithm = 0;
  if (!number_of(object, "algorithm", &algorithm) || !number_of(object, "limit", &spec->limit) ||
      !number_of(object, "windowMs", &spec->window_ms)) {
    return false;
  }
  if (!(algorithm >= 0 && algorithm < static_cast<double>(rl::kAlgorithmCount) && std::floor(algorithm) == algorithm)) {
    Napi::RangeError::New(env, std::string(rl::spec_error_message(rl::SpecError::kAlgorithm)))
        .ThrowAsJavaScriptException();
    return false;
  }
  spec->algorithm = static_cast<rl::Algorithm>(static_cast<int>(algorithm));
  const rl::SpecError error = rl::validate(*spec, max_keys);
  if (error != rl::SpecError::kOk) {
    Napi::RangeError::New(env, std::string(rl::spec_error_message(error))).ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

bool out_array(const Napi::Value& value, std::size_t length, Napi::Reference<Napi::Float64Array>* ref,
               double** data) {
  Napi::Float64Array out;
  if (!get_float64_array(value, "out", &out)) return false;
  if (out.ElementLength() < length) {
    throw_range_error(value.Env(), "out", length == 4 ? "a Float64Array of at least 4 elements"
                                                      : "a Float64Array of at least 5 elements");
    return false;
  }
  *ref = Napi::Persistent(out);
  *data = out.Data();
  return true;
}

// The hot-path reads, in raw N-API: a double, a valid cost and the key's UTF-8 in a reused buffer.
bool read_double(napi_env env, napi_value value, double* out) {
  return napi_get_value_double(env, value, out) == napi_ok;
}

bool read_args(napi_env env, napi_value cost_value, napi_value now_value, double* cost, double* now) {
  if (!read_double(env, cost_value, cost) || !rl::valid_cost(*cost)) {
    napi_throw_range_error(env, nullptr, "Expected cost to be an integer >= 1");
    return false;
  }
  if (!read_double(env, now_value, now) || !std::isfinite(*now)) {
    napi_throw_range_error(env, nullptr, "Expected now to be a finite number (ms)");
    return false;
  }
  return true;
}

bool read_key(napi_env env, napi_value value, std::string* buffer, std::string_view* key) {
  std::size_t length = 0;
  if (napi_get_value_string_utf8(env, value, buffer->data(), buffer->size(), &length) != napi_ok) {
    napi_throw_type_error(env, nullptr, "Expected key to be a string");
    return false;
  }
  if (length + 1 >= buffer->size()) {  // may have been cut: ask for the full length and read again
    std::size_t full = 0;
    napi_get_value_string_utf8(env, value, nullptr, 0, &full);
    if (full + 1 > buffer->size()) {
      buffer->resize(full + 1);
      napi_get_value_string_utf8(env, value, buffer->data(), buffer->size(), &length);
    }
  }
  *key = std::string_view(buffer->data(), length);
  return true;
}

napi_value make_bool(napi_env env, bool value) {
  napi_value out;
  napi_get_boolean(env, value, &out);
  return out;
}

class RateLimiterBinding : public Napi::ObjectWrap<RateLimiterBinding> {
 public:
  static constexpr napi_type_tag kTypeTag = {0x6661737465726d63ULL, 0x526174654c696d31ULL};

  explicit RateLimiterBinding(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RateLimiterBinding>(info) {
    const Napi::Env env = info.Env();
    info.This().As<Napi::Object>().TypeTag(&kTypeTag);
    if (!info[1].IsNumber()) {
      throw_type_error(env, "maxKeys", "a number", info[1]);
      return;
    }
    const double max_keys = info[1].As<Napi::Number>().DoubleValue();
    rl::Spec spec;
    if (!read_spec(info[0], max_keys, &spec) || !out_array(info[2], 4, &out_ref_, &out_)) return;
    limiter_ = std::make_unique<rl::KeyedLimiter>(spec, static_cast<std::size_t>(max_keys));
    key_.resize(256);
  }

  Napi::Value check(const Napi::CallbackInfo& info) { return run(info, true); }
  Napi::Value peek(const Napi::CallbackInfo& info) { return run(info, false); }

  Napi::Value size(const Napi::CallbackInfo& info) {
    if (!is_self(info)) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), static_cast<double>(limiter_->size()));
  }
  Napi::Value bytes(const Napi::CallbackInfo& info) {
    if (!is_self(info)) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), static_cast<double>(limiter_->bytes()));
  }
  Napi::Value clear(const Napi::CallbackInfo& info) {
    if (is_self(info)) limiter_->clear();
    return info.Env().Undefined();
  }

 private:
  bool is_self(const Napi::CallbackInfo& info) {
    if (info.This().IsObject() && info.This().As<Napi::Object>().CheckTypeTag(&kTypeTag) && limiter_ != nullptr)
      return true;
    throw_type_error(info.Env(), "this", "a RateLimiter", info.This());
    return false;
  }

  // No type-tag lookup on the hot path: napi_define_class gives every method a V8 signature, so a foreign
  // `this` never gets here; only a failed construction is left to catch.
  Napi::Value run(const Napi::CallbackInfo& info, bool commit) {
    napi_env env = info.Env();
    if (limiter_ == nullptr) {
      throw_type_error(info.Env(), "this", "a constructed RateLimiter", info.This());
      return Napi::Value();
    }
    double cost = 0, now = 0;
    std::string_view key;
    if (info.Length() < 3 || !read_args(env, info[1], info[2], &cost, &now) || !read_key(env, info[0], &key_, &key)) {
      if (info.Length() < 3) napi_throw_type_error(env, nullptr, "Expected (key, cost, now)");
      return Napi::Value();
    }
    rl::Decision d;
    const uint64_t hash = rl::hash_key(key);
    const bool allowed = commit ? limiter_->check(hash, cost, now, &d) : limiter_->peek(hash, cost, now, &d);
    out_[0] = allowed ? 1 : 0;
    out_[1] = d.remaining;
    out_[2] = d.retry_after_ms;
    out_[3] = d.reset_ms;
    return Napi::Value(env, make_bool(env, allowed));
  }

  std::unique_ptr<rl::KeyedLimiter> limiter_;
  Napi::Reference<Napi::Float64Array> out_ref_;
  double* out_ = nullptr;
  std::string key_;
};

bool read_ids(const Napi::Value& value, const char* name, bool* all, std::vector<int32_t>* ids) {
  ids->clear();
  if (value.IsNull() || value.IsUndefined()) {
    *all = true;
    return true;
  }
  *all = false;
  if (!value.IsArray()) {
    throw_type_error(value.Env(), name, "an array of ids or null", value);
    return false;
  }
  const auto array = value.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); ++i) {
    int64_t id = 0;
    if (!get_integer(array.Get(i), name, 0, rl::kMaxId, "an integer in [0, 65535]", &id)) return false;
    ids->push_back(static_cast<int32_t>(id));
  }
  return true;
}

class RuleSetBinding : public Napi::ObjectWrap<RuleSetBinding> {
 public:
  static constexpr napi_type_tag kTypeTag = {0x6661737465726d63ULL, 0x52756c6553657431ULL};

  explicit RuleSetBinding(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RuleSetBinding>(info) {
    const Napi::Env env = info.Env();
    info.This().As<Napi::Object>().TypeTag(&kTypeTag);
    if (!info[0].IsArray()) {
      throw_type_error(env, "rules", "an array", info[0]);
      return;
    }
    const auto array = info[0].As<Napi::Array>();
    std::vector<rl::Rule> rules;
    for (uint32_t i = 0; i < array.Length(); ++i) {
      const Napi::Value item = array.Get(i);
      if (!item.IsObject()) {
        throw_type_error(env, "rules[i]", "an object", item);
        return;
      }
      const auto object = item.As<Napi::Object>();
      double max_keys = 0, scope = 0;
      rl::Rule rule;
      if (!number_of(object, "maxKeys", &max_keys) || !number_of(object, "scope", &scope) ||
          !read_spec(item, max_keys, &rule.spec)) {
        return;
      }
      if (!(scope >= 0 && scope < static_cast<double>(rl::kScopeCount) && std::floor(scope) == scope)) {
        throw_range_error(env, "scope", "an index in SCOPES");
        return;
      }
      rule.scope = static_cast<rl::Scope>(static_cast<int>(scope));
      rule.max_keys = static_cast<std::size_t>(max_keys);
      rules.push_back(rule);
    }
    if (!out_array(info[1], 5, &out_ref_, &out_)) return;
    set_ = std::make_unique<rl::RuleSet>(std::move(rules));
    key_.resize(256);
  }

  Napi::Value set_match(const Napi::CallbackInfo& info) {
    const Napi::Env env = info.Env();
    if (!is_self(info)) return env.Undefined();
    int64_t rule = 0;
    bool all_methods = true, all_tools = true;
    std::vector<int32_t> methods, tools;
    if (!get_integer(info[0], "rule", 0, static_cast<int64_t>(set_->rule_count()) - 1, "a rule index", &rule) ||
        !read_ids(info[1], "methodIds", &all_methods, &methods) || !read_ids(info[2], "toolIds", &all_tools, &tools)) {
      return env.Undefined();
    }
    set_->set_match(static_cast<std::size_t>(rule), all_methods, methods, all_tools, tools);
    return env.Undefined();
  }

  Napi::Value set_method_cost(const Napi::CallbackInfo& info) { return set_cost(info, false); }
  Napi::Value set_tool_cost(const Napi::CallbackInfo& info) { return set_cost(info, true); }

  Napi::Value cost_of(const Napi::CallbackInfo& info) {
    const Napi::Env env = info.Env();
    if (!is_self(info)) return env.Undefined();
    int64_t method = 0, tool = 0;
    if (!get_integer(info[0], "methodId", -1, rl::kMaxId, "an integer id", &method) ||
        !get_integer(info[1], "toolId", -1, rl::kMaxId, "an integer id", &tool)) {
      return env.Undefined();
    }
    return Napi::Number::New(env, set_->cost_of(static_cast<int32_t>(method), static_cast<int32_t>(tool)));
  }

  Napi::Value check(const Napi::CallbackInfo& info) { return run(info, true); }
  Napi::Value peek(const Napi::CallbackInfo& info) { return run(info, false); }

  Napi::Value size(const Napi::CallbackInfo& info) {
    const Napi::Env env = info.Env();
    if (!is_self(info)) return env.Undefined();
    int64_t rule = 0;
    if (!get_integer(info[0], "rule", 0, static_cast<int64_t>(set_->rule_count()) - 1, "a rule index", &rule))
      return env.Undefined();
    return Napi::Number::New(env, static_cast<double>(set_->limiter(static_cast<std::size_t>(rule)).size()));
  }

  Napi::Value bytes(const Napi::CallbackInfo& info) {
    const Napi::Env env = info.Env();
    if (!is_self(info)) return env.Undefined();
    double total = 0;
    for (std::size_t r = 0; r < set_->rule_count(); ++r) total += static_cast<double>(set_->limiter(r).bytes());
    return Napi::Number::New(env, total);
  }

  Napi::Value clear(const Napi::CallbackInfo& info) {
    if (is_self(info)) set_->clear();
    return info.Env().Undefined();
  }

 private:
  bool is_self(const Napi::CallbackInfo& info) {
    if (info.This().IsObject() && info.This().As<Napi::Object>().CheckTypeTag(&kTypeTag) && set_ != nullptr)
      return true;
    throw_type_error(info.Env(), "this", "a RuleSet", info.This());
    return false;
  }

  Napi::Value set_cost(const Napi::CallbackInfo& info, bool tool) {
    const Napi::Env env = info.Env();
    if (!is_self(info)) return env.Undefined();
    int64_t id = 0;
    if (!get_integer(info[0], tool ? "toolId" : "methodId", 0, rl::kMaxId, "an integer in [0, 65535]", &id))
      return env.Undefined();
    double cost = 0;
    if (!info[1].IsNumber() || !rl::valid_cost(cost = info[1].As<Napi::Number>().DoubleValue())) {
      throw_range_error(env, "cost", "an integer >= 1");
      return env.Undefined();
    }
    if (tool) set_->set_tool_cost(static_cast<int32_t>(id), cost);
    else set_->set_method_cost(static_cast<int32_t>(id), cost);
    return env.Undefined();
  }

  Napi::Value run(const Napi::CallbackInfo& info, bool commit) {
    napi_env env = info.Env();
    if (set_ == nullptr) {
      throw_type_error(info.Env(), "this", "a constructed RuleSet", info.This());
      return Napi::Value();
    }
    double method = 0, tool = 0, cost = 0, now = 0;
    std::string_view client;
    if (info.Length() < 5) {
      napi_throw_type_error(env, nullptr, "Expected (methodId, toolId, client, cost, now)");
      return Napi::Value();
    }
    if (!read_double(env, info[0], &method) || !read_double(env, info[1], &tool) || std::floor(method) != method ||
        std::floor(tool) != tool || !(method >= -1 && method <= rl::kMaxId) || !(tool >= -1 && tool <= rl::kMaxId)) {
      napi_throw_range_error(env, nullptr, "Expected integer method and tool ids");
      return Napi::Value();
    }
    if (!read_args(env, info[3], info[4], &cost, &now) || !read_key(env, info[2], &key_, &client)) {
      return Napi::Value();
    }
    rl::Decision d;
    const uint64_t hash = rl::RuleSet::client_hash(client);
    const auto m = static_cast<int32_t>(method);
    const auto t = static_cast<int32_t>(tool);
    const int32_t result = commit ? set_->check(m, t, hash, cost, now, &d) : set_->peek(m, t, hash, cost, now, &d);
    out_[0] = d.allowed ? 1 : 0;
    out_[1] = d.remaining;
    out_[2] = d.retry_after_ms;
    out_[3] = d.reset_ms;
    out_[4] = d.rule;
    napi_value number;
    napi_create_int32(env, result, &number);
    return Napi::Value(env, number);
  }

  std::unique_ptr<rl::RuleSet> set_;
  Napi::Reference<Napi::Float64Array> out_ref_;
  double* out_ = nullptr;
  std::string key_;

  friend rl::RuleSet* mcp::binding::rule_set_of(const Napi::Value& value);
};

}  // namespace

rl::RuleSet* rule_set_of(const Napi::Value& value) {
  if (!value.IsObject() || !value.As<Napi::Object>().CheckTypeTag(&RuleSetBinding::kTypeTag)) return nullptr;
  RuleSetBinding* binding = RuleSetBinding::Unwrap(value.As<Napi::Object>());
  return binding == nullptr ? nullptr : binding->set_.get();
}

Napi::Function define_rate_limiter(Napi::Env env) {
  using B = RateLimiterBinding;
  return B::DefineClass(env, "RateLimiter",
                        {
                            B::InstanceMethod<&B::check>("check"),
                            B::InstanceMethod<&B::peek>("peek"),
                            B::InstanceMethod<&B::size>("size"),
                            B::InstanceMethod<&B::bytes>("bytes"),
                            B::InstanceMethod<&B::clear>("clear"),
                        });
}

Napi::Function define_rule_set(Napi::Env env) {
  using B = RuleSetBinding;
  return B::DefineClass(env, "RuleSet",
                        {
                            B::InstanceMethod<&B::set_match>("setMatch"),
                            B::InstanceMethod<&B::set_method_cost>("setMethodCost"),
                            B::InstanceMethod<&B::set_tool_cost>("setToolCost"),
                            B::InstanceMethod<&B::cost_of>("costOf"),
                            B::InstanceMethod<&B::check>("check"),
                            B::InstanceMethod<&B::peek>("peek"),
                            B::InstanceMethod<&B::size>("size"),
                            B::InstanceMethod<&B::bytes>("bytes"),
                            B::InstanceMethod<&B::clear>("clear"),
                        });
}

}  // namespace mcp::binding
