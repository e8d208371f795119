// HeadParser: the JS face of mcp::http1::parse_head (src/http1/native.ts, fields in src/http1/types.ts).
//
//   new HeadParser(fields: Int32Array (>= 508 elements), maxHeadBytes: integer in [16, 2^24])
//   .parse(buf: Uint8Array, start, end): number   0 <= start <= end <= buf.length (and end < 2^31); writes
//                                                 the fields into `fields` and returns fields[HEAD_STATUS]
//
// One crossing per head with a buffer and two integers in and one integer out; nothing is allocated on
// either side. This is the hottest call of the HTTP fast lane, so it is written against raw N-API:
// * `parse` is not a prototype method of an ObjectWrap but a function made for each instance, whose
//   callback data is the parser's state. A call then costs napi_get_cb_info and no napi_unwrap: about 35 ns
//   instead of about 100 ns for an empty ObjectWrap method on the 2-core test machine. The state belongs to
//   that function (freed by its finalizer), so `const parse = p.parse` stays valid on its own, and `this`
//   is never read.
// * The arguments are checked with one N-API call each: a TypeError for a wrong type, a RangeError for a
//   wrong number.
// * `fields` is held by a reference and its data pointer re-read on every call: its ArrayBuffer can be
//   detached (transferred to a worker, or ArrayBuffer.prototype.transfer()) after construction, and the
//   parser must then throw rather than write into freed memory. Resizable buffers are refused at
//   construction, so the length checked there cannot shrink later except by detaching.
#include <napi.h>

#include <cstdint>

#include "binding/addon.h"
#include "binding/convert.h"
#include "core/http1.h"

namespace mcp::binding {
namespace {

namespace h1 = mcp::http1;

constexpr int64_t kMinHeadBytes = 16;
constexpr int64_t kMaxHeadBytes = int64_t{1} << 24;
constexpr double kMaxOffset = 2147483647.0;  // offsets are int32 in `fields`

struct HeadParserState {
  napi_ref fields_ref = nullptr;
  int32_t* fields = nullptr;
  std::size_t max_head_bytes = h1::kDefaultMaxHeadBytes;
};

// An integer in [low, high]: NaN fails the comparisons; the cast is exact for integers below 2^31.
inline bool is_integer_in(double number, double low, double high) {
  return number >= low && number <= high && static_cast<double>(static_cast<int64_t>(number)) == number;
}

napi_value fail(napi_env env, bool range, const char* message) {
  if (range) {
    napi_throw_range_error(env, nullptr, message);
  } else {
    napi_throw_type_error(env, nullptr, message);
  }
  return nullptr;
}

// parse(buf, start, end)
napi_value parse(napi_env env, napi_callback_info info) {
  std::size_t argc = 3;
  napi_value argv[3];
  void* data = nullptr;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, &data) != napi_ok) return nullptr;
  const auto* state = static_cast<const HeadParserState*>(data);
  if (argc < 3) return fail(env, false, "Expected (buf: Uint8Array, start: integer, end: integer)");
  // buf: a Uint8Array (a Buffer is one); napi_get_typedarray_info refuses anything but a typed array
  napi_typedarray_type type = napi_int8_array;
  std::size_t length = 0;
  void* bytes = nullptr;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &bytes, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array) {
    return fail(env, false, "Expected buf to be a Uint8Array");
  }
  double start = 0, end = 0;
  if (napi_get_value_double(env, argv[1], &start) != napi_ok) {
    return fail(env, false, "Expected start to be an integer");
  }
  if (napi_get_value_double(env, argv[2], &end) != napi_ok) return fail(env, false, "Expected end to be an integer");
  const double high = static_cast<double>(length) < kMaxOffset ? static_cast<double>(length) : kMaxOffset;
  if (!is_integer_in(end, 0, high)) {
    return fail(env, true, "Expected end to be an integer from start to buf.length (and below 2^31)");
  }
  if (!is_integer_in(start, 0, end)) return fail(env, true, "Expected start to be an integer from 0 to end");
  // fields: still the memory seen at construction (not detached since)
  napi_value fields;
  std::size_t fields_length = 0;
  void* fields_data = nullptr;
  if (napi_get_reference_value(env, state->fields_ref, &fields) != napi_ok ||
      napi_get_typedarray_info(env, fields, nullptr, &fields_length, &fields_data, nullptr, nullptr) != napi_ok ||
      fields_data != state->fields || fields_length < static_cast<std::size_t>(h1::kFieldsLength)) {
    return fail(env, false, "The fields Int32Array of this HeadParser was detached");
  }
  const int32_t status = h1::parse_head(static_cast<const uint8_t*>(bytes), static_cast<std::size_t>(start),
                                        static_cast<std::size_t>(end), state->max_head_bytes, state->fields);
  napi_value result;
  napi_create_int32(env, status, &result);
  return result;
}

void finalize_state(napi_env env, void* data, void* /*hint*/) {
  auto* state = static_cast<HeadParserState*>(data);
  if (state->fields_ref != nullptr) napi_delete_reference(env, state->fields_ref);
  delete state;
}

bool is_true(const Napi::Value& value) { return value.IsBoolean() && value.As<Napi::Boolean>().Value(); }

// new HeadParser(fields, maxHeadBytes)
napi_value construct(napi_env raw_env, napi_callback_info raw_info) {
  const Napi::CallbackInfo info(raw_env, raw_info);
  const Napi::Env env = info.Env();
  if (!info.IsConstructCall()) {
    Napi::TypeError::New(env, "Class constructor HeadParser cannot be invoked without 'new'")
        .ThrowAsJavaScriptException();
    return nullptr;
  }
  Napi::Int32Array fields;
  if (!get_int32_array(info[0], "fields", &fields)) return nullptr;
  if (fields.ElementLength() < static_cast<std::size_t>(h1::kFieldsLength)) {
    throw_range_error(env, "fields", "an Int32Array of at least 508 elements (HEAD_FIELDS_LENGTH)");
    return nullptr;
  }
  const Napi::ArrayBuffer buffer = fields.ArrayBuffer();
  const Napi::Value resizable = buffer.Get("resizable");
  if (env.IsExceptionPending()) return nullptr;
  const Napi::Value growable = buffer.Get("growable");
  if (env.IsExceptionPending()) return nullptr;
  if (is_true(resizable) || is_true(growable)) {
    throw_range_error(env, "fields", "an Int32Array over a fixed-length buffer (not resizable)");
    return nullptr;
  }
  int64_t max_head_bytes = 0;
  if (!get_integer(info[1], "maxHeadBytes", kMinHeadBytes, kMaxHeadBytes, "an integer from 16 to 16777216",
                   &max_head_bytes)) {
    return nullptr;
  }
  auto* state = new HeadParserState();
  state->fields = fields.Data();
  state->max_head_bytes = static_cast<std::size_t>(max_head_bytes);
  napi_value parse_function;
  if (napi_create_reference(env, fields, 1, &state->fields_ref) != napi_ok ||
      napi_create_function(env, "parse", NAPI_AUTO_LENGTH, parse, state, &parse_function) != napi_ok) {
    finalize_state(env, state, nullptr);
    return nullptr;
  }
  if (napi_add_finalizer(env, parse_function, state, finalize_state, nullptr, nullptr) != napi_ok) {
    finalize_state(env, state, nullptr);
    return nullptr;
  }
  const napi_property_descriptor property = {"parse", nullptr, nullptr, nullptr, nullptr, parse_function,
                                             napi_enumerable, nullptr};
  napi_define_properties(env, info.This(), 1, &property);
  return info.This();
}

}  // namespace

Napi::Function define_head_parser(Napi::Env env) {
  napi_value constructor;
  const napi_status status =
      napi_define_class(env, "HeadParser", NAPI_AUTO_LENGTH, construct, nullptr, 0, nullptr, &constructor);
  NAPI_FATAL_IF_FAILED(status, "define_head_parser", "napi_define_class");
  return Napi::Function(env, constructor);
}

}  // namespace mcp::binding
