// Argument checks shared by the binding files. Each failure throws a JS TypeError or RangeError that names
// the argument, what was expected and the type that arrived (never the value itself), then the caller
// returns. Built with NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS: errors are thrown as pending JS exceptions.
#ifndef FASTERMCP_NATIVE_BINDING_CONVERT_H_
#define FASTERMCP_NATIVE_BINDING_CONVERT_H_

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

namespace mcp::binding {

/// A short description of a JS value's type: "undefined", "null", "string", "Int32Array", "array", ...
inline std::string type_of(const Napi::Value& value) {
  switch (value.Type()) {
    case napi_undefined:
      return "undefined";
    case napi_null:
      return "null";
    case napi_boolean:
      return "boolean";
    case napi_number:
      return "number";
    case napi_string:
      return "string";
    case napi_symbol:
      return "symbol";
    case napi_function:
      return "function";
    case napi_bigint:
      return "bigint";
    case napi_external:
      return "external";
    default:
      break;
  }
  if (value.IsTypedArray()) {
    switch (value.As<Napi::TypedArray>().TypedArrayType()) {
      case napi_int8_array: return "Int8Array";
      case napi_uint8_array: return "Uint8Array";
      case napi_uint8_clamped_array: return "Uint8ClampedArray";
      case napi_int16_array: return "Int16Array";
      case napi_uint16_array: return "Uint16Array";
      case napi_int32_array: return "Int32Array";
      case napi_uint32_array: return "Uint32Array";
      case napi_float32_array: return "Float32Array";
      case napi_float64_array: return "Float64Array";
      case napi_bigint64_array: return "BigInt64Array";
      case napi_biguint64_array: return "BigUint64Array";
      default: return "typed array";
    }
  }
  if (value.IsArray()) return "array";
  if (value.IsArrayBuffer()) return "ArrayBuffer";
  if (value.IsDataView()) return "DataView";
  return "object";
}

inline void throw_type_error(Napi::Env env, const char* name, const char* expected, const Napi::Value& received) {
  const std::string message =
      std::string("Expected ") + expected + " for " + name + " but received a value of type " + type_of(received);
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
}

inline void throw_range_error(Napi::Env env, const char* name, const char* expected) {
  Napi::RangeError::New(env, std::string("Expected ") + expected + " for " + name).ThrowAsJavaScriptException();
}

/// A string argument as UTF-8 (false after throwing).
inline bool get_string(const Napi::Value& value, const char* name, std::string* out) {
  if (!value.IsString()) {
    throw_type_error(value.Env(), name, "a string", value);
    return false;
  }
  *out = value.As<Napi::String>().Utf8Value();
  return true;
}

/// An integer argument in [low, high] (false after throwing).
inline bool get_integer(const Napi::Value& value, const char* name, int64_t low, int64_t high, const char* range,
                        int64_t* out) {
  if (!value.IsNumber()) {
    throw_type_error(value.Env(), name, "an integer", value);
    return false;
  }
  const double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number) || std::floor(number) != number || number < static_cast<double>(low) ||
      number > static_cast<double>(high)) {
    throw_range_error(value.Env(), name, range);
    return false;
  }
  *out = static_cast<int64_t>(number);
  return true;
}

/// A Uint8Array argument (a Buffer is one) as bytes (false after throwing).
inline bool get_bytes(const Napi::Value& value, const char* name, const uint8_t** data, std::size_t* size) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw_type_error(value.Env(), name, "a Uint8Array", value);
    return false;
  }
  const auto bytes = value.As<Napi::Uint8Array>();
  *data = bytes.Data();
  *size = bytes.ElementLength();
  return true;
}

/// An Int32Array argument (false after throwing).
inline bool get_int32_array(const Napi::Value& value, const char* name, Napi::Int32Array* out) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw_type_error(value.Env(), name, "an Int32Array", value);
    return false;
  }
  *out = value.As<Napi::Int32Array>();
  return true;
}

/// A Float64Array argument (false after throwing).
inline bool get_float64_array(const Napi::Value& value, const char* name, Napi::Float64Array* out) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw_type_error(value.Env(), name, "a Float64Array", value);
    return false;
  }
  *out = value.As<Napi::Float64Array>();
  return true;
}

}  // namespace mcp::binding

#endif  // FASTERMCP_NATIVE_BINDING_CONVERT_H_
