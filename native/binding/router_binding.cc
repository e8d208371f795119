#include "binding/router_binding.h"

#include <cstdint>
#include <limits>
#include <string>

#include "binding/addon.h"
#include "binding/convert.h"

namespace mcp::binding {
namespace {

constexpr int64_t kMaxSlot = std::numeric_limits<int32_t>::max();

}  // namespace

RouterBinding::RouterBinding(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RouterBinding>(info) {
  info.This().As<Napi::Object>().TypeTag(&kTypeTag);
}

// `this` must be a Router (node-addon-api would unwrap any wrapped object as one).
bool RouterBinding::is_self(const Napi::CallbackInfo& info) {
  if (from(info.This()) == this) return true;
  throw_type_error(info.Env(), "this", "a Router", info.This());
  return false;
}

RouterBinding* RouterBinding::from(const Napi::Value& value) {
  if (!value.IsObject()) return nullptr;
  const auto object = value.As<Napi::Object>();
  if (!object.CheckTypeTag(&kTypeTag)) return nullptr;
  return RouterBinding::Unwrap(object);
}

// setMethod(method: string, slot: number, table: number /* -1: no name table */): void
Napi::Value RouterBinding::set_method(const Napi::CallbackInfo& info) {
  if (!is_self(info)) return info.Env().Undefined();
  std::string method;
  int64_t slot = 0;
  int64_t table = 0;
  if (!get_string(info[0], "method", &method) ||
      !get_integer(info[1], "slot", 0, kMaxSlot, "an integer from 0 to 2147483647", &slot) ||
      !get_integer(info[2], "table", -1, jsonrpc::table::kCount - 1, "-1, 0, 1 or 2", &table)) {
    return info.Env().Undefined();
  }
  router_.set_method(method, static_cast<int32_t>(slot), static_cast<int32_t>(table));
  return info.Env().Undefined();
}

// deleteMethod(method: string): boolean
Napi::Value RouterBinding::delete_method(const Napi::CallbackInfo& info) {
  if (!is_self(info)) return info.Env().Undefined();
  std::string method;
  if (!get_string(info[0], "method", &method)) return info.Env().Undefined();
  return Napi::Boolean::New(info.Env(), router_.delete_method(method));
}

// setName(table: number, name: string, slot: number): void
Napi::Value RouterBinding::set_name(const Napi::CallbackInfo& info) {
  if (!is_self(info)) return info.Env().Undefined();
  int64_t table = 0;
  std::string name;
  int64_t slot = 0;
  if (!get_integer(info[0], "table", 0, jsonrpc::table::kCount - 1, "0, 1 or 2", &table) ||
      !get_string(info[1], "name", &name) ||
      !get_integer(info[2], "slot", 0, kMaxSlot, "an integer from 0 to 2147483647", &slot)) {
    return info.Env().Undefined();
  }
  router_.set_name(static_cast<int32_t>(table), name, static_cast<int32_t>(slot));
  return info.Env().Undefined();
}

// deleteName(table: number, name: string): boolean
Napi::Value RouterBinding::delete_name(const Napi::CallbackInfo& info) {
  if (!is_self(info)) return info.Env().Undefined();
  int64_t table = 0;
  std::string name;
  if (!get_integer(info[0], "table", 0, jsonrpc::table::kCount - 1, "0, 1 or 2", &table) ||
      !get_string(info[1], "name", &name)) {
    return info.Env().Undefined();
  }
  return Napi::Boolean::New(info.Env(), router_.delete_name(static_cast<int32_t>(table), name));
}

// clear(): void
Napi::Value RouterBinding::clear(const Napi::CallbackInfo& info) {
  if (!is_self(info)) return info.Env().Undefined();
  router_.clear();
  return info.Env().Undefined();
}

Napi::Function define_router(Napi::Env env) {
  return RouterBinding::DefineClass(env, "Router",
                                    {
                                        RouterBinding::InstanceMethod<&RouterBinding::set_method>("setMethod"),
                                        RouterBinding::InstanceMethod<&RouterBinding::delete_method>("deleteMethod"),
                                        RouterBinding::InstanceMethod<&RouterBinding::set_name>("setName"),
                                        RouterBinding::InstanceMethod<&RouterBinding::delete_name>("deleteName"),
                                        RouterBinding::InstanceMethod<&RouterBinding::clear>("clear"),
                                    });
}

}  // namespace mcp::binding
