// Engine: the JS face of mcp::jsonrpc::Engine (docs/jsonrpc-engine.md section 10). One crossing per chunk:
// bytes in, records copied into the caller's Int32Array, the record count out. When the array is too
// small only the records that fit are copied; the caller grows it and calls copyRecords().
#include <napi.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "binding/addon.h"
#include "binding/convert.h"
#include "binding/router_binding.h"
#include "core/engine.h"
#include "core/limits.h"
#include "core/records.h"

namespace mcp::binding {
namespace {

class EngineBinding : public Napi::ObjectWrap<EngineBinding> {
 public:
  static constexpr napi_type_tag kTypeTag = {0x6661737465726d63ULL, 0x70456e67696e6531ULL};

  // new Engine(router: Router, limits: { maxMessageBytes, maxDepth, maxBatch, allowBatch })
  explicit EngineBinding(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineBinding>(info) {
    Napi::Env env = info.Env();
    RouterBinding* router = RouterBinding::from(info[0]);
    if (router == nullptr) {
      throw_type_error(env, "router", "a Router", info[0]);
      return;
    }
    jsonrpc::Limits limits;
    if (!read_limits(info[1], &limits)) return;
    info.This().As<Napi::Object>().TypeTag(&kTypeTag);
    router_reference_ = Napi::Persistent(info[0].As<Napi::Object>());
    engine_.emplace(&router->router(), &env.GetInstanceData<McpNative>()->scanner, limits);
  }

  // setAdmission(ruleSet: RuleSet | null, replies: [head, middle, tail, never][] (one per rule)): void
  Napi::Value set_admission(const Napi::CallbackInfo& info) {
    const Napi::Env env = info.Env();
    if (!ready(info)) return env.Undefined();
    jsonrpc::Admission admission;
    if (info[0].IsNull() || info[0].IsUndefined()) {
      engine_->set_admission(std::move(admission));
      rule_set_reference_.Reset();
      return env.Undefined();
    }
    admission.rules = rule_set_of(info[0]);
    if (admission.rules == nullptr) {
      throw_type_error(env, "ruleSet", "a RuleSet or null", info[0]);
      return env.Undefined();
    }
    if (!info[1].IsArray() || info[1].As<Napi::Array>().Length() != admission.rules->rule_count()) {
      throw_type_error(env, "replies", "an array with one [head, middle, tail, never] per rule", info[1]);
      return env.Undefined();
    }
    const auto list = info[1].As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); ++i) {
      const Napi::Value item = list.Get(i);
      if (!item.IsArray() || item.As<Napi::Array>().Length() != 4) {
        throw_type_error(env, "replies[i]", "[head, middle, tail, never]", item);
        return env.Undefined();
      }
      const auto parts = item.As<Napi::Array>();
      std::string text[4];
      for (uint32_t k = 0; k < 4; ++k) {
        const Napi::Value part = parts.Get(k);
        if (!part.IsString()) {
          throw_type_error(env, "replies[i][k]", "a string", part);
          return env.Undefined();
        }
        text[k] = part.As<Napi::String>().Utf8Value();
      }
      admission.replies.push_back({std::move(text[0]), std::move(text[1]), std::move(text[2]), std::move(text[3])});
    }
    admission.client = engine_->admission().client;
    rule_set_reference_ = Napi::Persistent(info[0].As<Napi::Object>());  // keeps the RuleSet alive
    engine_->set_admission(std::move(admission));
    return env.Undefined();
  }

  // setClient(client: string): void — the caller the next feed/scan calls admit requests for.
  Napi::Value set_client(const Napi::CallbackInfo& info) {
    const Napi::Env env = info.Env();
    if (!ready(info)) return env.Undefined();
    std::size_t length = 0;
    if (napi_get_value_string_utf8(env, info[0], client_.data(), client_.size(), &length) != napi_ok) {
      throw_type_error(env, "client", "a string", info[0]);
      return env.Undefined();
    }
    if (length + 1 >= client_.size()) {  // may have been cut: read it whole
      std::size_t full = 0;
      napi_get_value_string_utf8(env, info[0], nullptr, 0, &full);
      client_.resize(full + 1);
      napi_get_value_string_utf8(env, info[0], client_.data(), client_.size(), &length);
    }
    engine_->admission().client = ratelimit::RuleSet::client_hash(std::string_view(client_.data(), length));
    return env.Undefined();
  }

  // feed(chunk: Uint8Array, out: Int32Array): number
  Napi::Value feed(const Napi::CallbackInfo& info) {
    const uint8_t* data = nullptr;
    std::size_t size = 0;
    Napi::Int32Array out;
    if (!ready(info) || !get_bytes(info[0], "chunk", &data, &size) || !get_int32_array(info[1], "out", &out)) {
      return info.Env().Undefined();
    }
    stamp();
    if (!engine_->feed(data, size)) return too_long(info.Env(), "chunk");
    return copy_to(info.Env(), out);
  }

  // end(out: Int32Array): number
  Napi::Value end(const Napi::CallbackInfo& info) {
    Napi::Int32Array out;
    if (!ready(info) || !get_int32_array(info[0], "out", &out)) return info.Env().Undefined();
    stamp();
    engine_->end();
    return copy_to(info.Env(), out);
  }

  // scan(message: Uint8Array, out: Int32Array): number
  Napi::Value scan(const Napi::CallbackInfo& info) {
    const uint8_t* data = nullptr;
    std::size_t size = 0;
    Napi::Int32Array out;
    if (!ready(info) || !get_bytes(info[0], "message", &data, &size) || !get_int32_array(info[1], "out", &out)) {
      return info.Env().Undefined();
    }
    stamp();
    if (!engine_->scan(data, size)) return too_long(info.Env(), "message");
    return copy_to(info.Env(), out);
  }

  // copyRecords(out: Int32Array): void
  Napi::Value copy_records(const Napi::CallbackInfo& info) {
    Napi::Int32Array out;
    if (!ready(info) || !get_int32_array(info[0], "out", &out)) return info.Env().Undefined();
    copy_to(info.Env(), out);
    return info.Env().Undefined();
  }

  // carried(): Buffer (a copy of the line SRC_CARRY spans index)
  Napi::Value carried(const Napi::CallbackInfo& info) {
    if (!ready(info)) return info.Env().Undefined();
    const std::string_view bytes = engine_->carried();
    return Napi::Buffer<char>::Copy(info.Env(), bytes.data(), bytes.size());
  }

  // replies(): Buffer (a copy of the reply bytes BODY_IS_REPLY spans index)
  Napi::Value replies(const Napi::CallbackInfo& info) {
    if (!ready(info)) return info.Env().Undefined();
    const std::string_view bytes = engine_->replies();
    return Napi::Buffer<char>::Copy(info.Env(), bytes.data(), bytes.size());
  }

  // readArguments(source: Uint8Array): [values: string, table: Int32Array, keyCount: number] — the last call's
  // arguments read for JS (core/arguments.h); `source` is the chunk or message that call was given.
  Napi::Value read_arguments(const Napi::CallbackInfo& info) {
    const Napi::Env env = info.Env();
    const uint8_t* data = nullptr;
    std::size_t size = 0;
    if (!ready(info) || !get_bytes(info[0], "source", &data, &size)) return env.Undefined();
    const jsonrpc::ArgumentsRead& read =
        engine_->read_arguments(std::string_view(reinterpret_cast<const char*>(data), size));
    Napi::Int32Array table = Napi::Int32Array::New(env, read.table.size());
    if (!read.table.empty()) std::memcpy(table.Data(), read.table.data(), read.table.size() * sizeof(int32_t));
    Napi::Array out = Napi::Array::New(env, 3);
    napi_value values = nullptr;
    if (read.ascii) {
      napi_create_string_latin1(env, read.values.data(), read.values.size(), &values);
    } else {
      napi_create_string_utf8(env, read.values.data(), read.values.size(), &values);
    }
    out.Set(0u, values);
    out.Set(1u, table);
    out.Set(2u, Napi::Number::New(env, static_cast<double>(engine_->keys().size())));
    return out;
  }

  // idText(source: Uint8Array): string | null — the ids of the last call's records as one Latin-1 string
  // (core/id_text.h), or null when one is not ASCII; `source` as for readArguments.
  Napi::Value id_text(const Napi::CallbackInfo& info) {
    const Napi::Env env = info.Env();
    const uint8_t* data = nullptr;
    std::size_t size = 0;
    if (!ready(info) || !get_bytes(info[0], "source", &data, &size)) return env.Undefined();
    const std::string* text = engine_->id_text(std::string_view(reinterpret_cast<const char*>(data), size));
    if (text == nullptr) return env.Null();
    napi_value out = nullptr;
    napi_create_string_latin1(env, text->data(), text->size(), &out);
    return Napi::Value(env, out);
  }

  // argumentKey(id: number): string — the member name of a key id readArguments' tables hold.
  Napi::Value argument_key(const Napi::CallbackInfo& info) {
    const Napi::Env env = info.Env();
    if (!ready(info)) return env.Undefined();
    const auto count = static_cast<int64_t>(engine_->keys().size());
    int64_t id = 0;
    if (count == 0) {
      throw_range_error(env, "id", "a key id (the engine has none yet)");
      return env.Undefined();
    }
    if (!get_integer(info[0], "id", 0, count - 1, "a key id below the engine's key count", &id)) return env.Undefined();
    const std::string_view name = engine_->keys().name(static_cast<int32_t>(id));
    return Napi::String::New(env, name.data(), name.size());
  }

  // reset(): void
  Napi::Value reset(const Napi::CallbackInfo& info) {
    if (ready(info)) engine_->reset();
    return info.Env().Undefined();
  }

 private:
  // The admission clock: wall-clock ms, as Date.now() (only read when admission is on).
  void stamp() {
    jsonrpc::Admission& a = engine_->admission();
    if (a.rules != nullptr) {
      a.now = static_cast<double>(
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
              .count());
    }
  }

  static bool read_limit(const Napi::Object& limits, const char* name, int64_t low, int64_t high, const char* range,
                         uint32_t* out) {
    int64_t value = 0;
    if (!get_integer(limits.Get(name), name, low, high, range, &value)) return false;
    *out = static_cast<uint32_t>(value);
    return true;
  }

  static bool read_limits(const Napi::Value& value, jsonrpc::Limits* limits) {
    if (!value.IsObject() || value.IsArray() || value.IsFunction()) {
      throw_type_error(value.Env(), "limits", "an object", value);
      return false;
    }
    const auto object = value.As<Napi::Object>();
    if (!read_limit(object, "maxMessageBytes", 1, jsonrpc::kMaxMessageBytesLimit, "an integer from 1 to 1073741824",
                    &limits->max_message_bytes) ||
        !read_limit(object, "maxDepth", 1, jsonrpc::kMaxDepthLimit, "an integer from 1 to 1024", &limits->max_depth) ||
        !read_limit(object, "maxBatch", 1, jsonrpc::kMaxBatchLimit, "an integer from 1 to 100000",
                    &limits->max_batch)) {
      return false;
    }
    const Napi::Value allow_batch = object.Get("allowBatch");
    if (!allow_batch.IsBoolean()) {
      throw_type_error(value.Env(), "allowBatch", "a boolean", allow_batch);
      return false;
    }
    limits->allow_batch = allow_batch.As<Napi::Boolean>().Value();
    return true;
  }

  // An Engine whose construction threw has no engine. (A foreign `this`, as in
  // Engine.prototype.feed.call(router, ...), never gets here: napi_define_class gives every method a V8
  // signature, which throws "Illegal invocation"; the Router methods check their type tag as well.)
  bool ready(const Napi::CallbackInfo& info) const {
    if (engine_.has_value()) return true;
    throw_type_error(info.Env(), "this", "a constructed Engine", info.This());
    return false;
  }

  static Napi::Value too_long(Napi::Env env, const char* name) {
    throw_range_error(env, name, "at most 2147483647 bytes");
    return env.Undefined();
  }

  // Copies the records that fit into `out`; returns the record count.
  Napi::Value copy_to(Napi::Env env, Napi::Int32Array& out) {
    const std::size_t count = engine_->record_count();
    const std::size_t fit = std::min(count, out.ElementLength() / jsonrpc::kRecordStride);
    if (fit > 0) std::memcpy(out.Data(), engine_->records(), fit * jsonrpc::kRecordStride * sizeof(int32_t));
    return Napi::Number::New(env, static_cast<double>(count));
  }

  Napi::ObjectReference router_reference_;  // keeps the Router (and its table) alive
  Napi::ObjectReference rule_set_reference_;  // keeps the admission's RuleSet alive
  std::string client_ = std::string(128, '\0');
  std::optional<jsonrpc::Engine> engine_;
};

}  // namespace

Napi::Function define_engine(Napi::Env env) {
  return EngineBinding::DefineClass(env, "Engine",
                                    {
                                        EngineBinding::InstanceMethod<&EngineBinding::feed>("feed"),
                                        EngineBinding::InstanceMethod<&EngineBinding::end>("end"),
                                        EngineBinding::InstanceMethod<&EngineBinding::scan>("scan"),
                                        EngineBinding::InstanceMethod<&EngineBinding::copy_records>("copyRecords"),
                                        EngineBinding::InstanceMethod<&EngineBinding::carried>("carried"),
                                        EngineBinding::InstanceMethod<&EngineBinding::replies>("replies"),
                                        EngineBinding::InstanceMethod<&EngineBinding::reset>("reset"),
                                        EngineBinding::InstanceMethod<&EngineBinding::read_arguments>("readArguments"),
                                        EngineBinding::InstanceMethod<&EngineBinding::id_text>("idText"),
                                        EngineBinding::InstanceMethod<&EngineBinding::argument_key>("argumentKey"),
                                        EngineBinding::InstanceMethod<&EngineBinding::set_admission>("setAdmission"),
                                        EngineBinding::InstanceMethod<&EngineBinding::set_client>("setClient"),
                                    });
}

}  // namespace mcp::binding
