// Router: the JS face of mcp::jsonrpc::Router (docs/jsonrpc-engine.md section 10), tagged so that an
// Engine accepts only a real Router.
#ifndef FASTERMCP_NATIVE_BINDING_ROUTER_BINDING_H_
#define FASTERMCP_NATIVE_BINDING_ROUTER_BINDING_H_

#include <napi.h>

#include "core/router.h"

namespace mcp::binding {

class RouterBinding : public Napi::ObjectWrap<RouterBinding> {
 public:
  static constexpr napi_type_tag kTypeTag = {0x6661737465726d63ULL, 0x70526f7574657231ULL};

  explicit RouterBinding(const Napi::CallbackInfo& info);

  /// The Router behind `value`, or nullptr when `value` is not a Router (checked by type tag).
  static RouterBinding* from(const Napi::Value& value);

  const jsonrpc::Router& router() const noexcept { return router_; }

  Napi::Value set_method(const Napi::CallbackInfo& info);
  Napi::Value delete_method(const Napi::CallbackInfo& info);
  Napi::Value set_name(const Napi::CallbackInfo& info);
  Napi::Value delete_name(const Napi::CallbackInfo& info);
  Napi::Value clear(const Napi::CallbackInfo& info);

 private:
  bool is_self(const Napi::CallbackInfo& info);

  jsonrpc::Router router_;
};

}  // namespace mcp::binding

#endif  // FASTERMCP_NATIVE_BINDING_ROUTER_BINDING_H_
