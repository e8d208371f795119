// ReplyBuffer: the JS face of mcp::jsonrpc::ReplyBuffer (src/transport/reply-buffer.ts).
//
//   new ReplyBuffer()
//   .line(json: string): number                     appends json and '\n'; returns the bytes waiting
//   .setMembers(members: string): undefined        the members the following text results write after their
//                                                   content ('' at first): read and encoded once, not per reply
//   .textResult(idRaw, text: string): number        appends a text result's response line (reply_buffer.h)
//   .take(): Buffer                                 the bytes waiting (a copy), and forgets them
//   .writeTo(fd): number                            one write(2) of the bytes waiting to a non-blocking fd,
//                                                   forgetting what went: the bytes still waiting (all of
//                                                   them when the pipe is full), or -errno (-EAGAIN when fd
//                                                   is in blocking mode: nothing is tried)
//
// textResult is called once per tools/call reply on stdio, so, as HeadParser's parse, each method is a
// function made per instance whose callback data is the buffer (napi_get_cb_info, no napi_unwrap), and
// `this` is never read. The functions share the state; the last one collected frees it.
// textResult reads its strings as UTF-16, a JS string's own units (a one-byte string is widened, a plain
// copy): V8's UTF-8 writer, which line() uses, cost more per call, and a lone surrogate in the text can
// then be written as JSON.stringify writes it.
#include <napi.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>

#include "binding/addon.h"
#include "core/reply_buffer.h"

namespace mcp::binding {
namespace {

using jsonrpc::ReplyBuffer;

/// Scratch kept between calls (units or bytes); a longer string's is let go after its call.
constexpr std::size_t kKeepScratch = 64 * 1024;

struct ReplyBufferState {
  ReplyBuffer buffer;
  std::unique_ptr<char[]> bytes;  // line()'s scratch
  std::size_t bytes_capacity = 0;
  std::u16string text;  // textResult()'s scratch for a long string
  int functions = 0;  // functions alive that hold this state
};

napi_value fail(napi_env env, const char* message) {
  napi_throw_type_error(env, nullptr, message);
  return nullptr;
}

// The bytes waiting, as a small integer (a Smi: no heap number per call). A string has under 2^29 units, so
// even one reply in UTF-8 is under 2^31 bytes; the transport writes when 64 KiB wait.
napi_value count(napi_env env, const ReplyBufferState& state) {
  napi_value result;
  napi_create_uint32(env, static_cast<uint32_t>(std::min<std::size_t>(state.buffer.size(), UINT32_MAX)), &result);
  return result;
}

// A string's UTF-16 units: into `stack` when they fit, else into `heap`. false (nothing thrown) when it is
// not a string.
bool read_units(napi_env env, napi_value value, char16_t* stack, std::size_t stack_size, std::u16string* heap,
                std::u16string_view* out) {
  std::size_t length = 0;
  if (napi_get_value_string_utf16(env, value, stack, stack_size, &length) != napi_ok) return false;
  // The call writes at most stack_size - 1 units and a NUL: a string that filled them may be longer.
  if (length + 1 < stack_size) {
    *out = std::u16string_view(stack, length);
    return true;
  }
  if (napi_get_value_string_utf16(env, value, nullptr, 0, &length) != napi_ok) return false;
  heap->resize(length + 1);
  if (napi_get_value_string_utf16(env, value, heap->data(), length + 1, &length) != napi_ok) return false;
  *out = std::u16string_view(heap->data(), length);
  return true;
}

// A call's arguments (up to N; *argc says how many came) and the state its function was made with.
template <std::size_t N>
ReplyBufferState* arguments_of(napi_env env, napi_callback_info info, napi_value (&argv)[N], std::size_t* argc) {
  *argc = N;
  void* data = nullptr;
  if (napi_get_cb_info(env, info, argc, argv, nullptr, &data) != napi_ok) return nullptr;
  return static_cast<ReplyBufferState*>(data);
}

// line(json)
napi_value line(napi_env env, napi_callback_info info) {
  std::size_t argc;
  napi_value argv[1];
  ReplyBufferState* state = arguments_of(env, info, argv, &argc);
  if (state == nullptr) return nullptr;
  if (argc < 1) return fail(env, "Expected (json: string)");
  std::size_t length = 0;
  if (napi_get_value_string_utf8(env, argv[0], nullptr, 0, &length) != napi_ok) {
    return fail(env, "Expected json to be a string");
  }
  if (length + 1 > state->bytes_capacity) {
    state->bytes.reset(new char[length + 1]);
    state->bytes_capacity = length + 1;
  }
  napi_get_value_string_utf8(env, argv[0], state->bytes.get(), length + 1, &length);
  state->buffer.append_line(std::string_view(state->bytes.get(), length));
  if (state->bytes_capacity > kKeepScratch) {
    state->bytes.reset();
    state->bytes_capacity = 0;
  }
  return count(env, *state);
}

// setMembers(members)
napi_value set_members(napi_env env, napi_callback_info info) {
  std::size_t argc;
  napi_value argv[1];
  ReplyBufferState* state = arguments_of(env, info, argv, &argc);
  if (state == nullptr) return nullptr;
  char16_t members_stack[256];
  std::u16string members_heap;
  std::u16string_view members;
  if (argc < 1 || !read_units(env, argv[0], members_stack, std::size(members_stack), &members_heap, &members)) {
    return fail(env, "Expected members to be a string");
  }
  state->buffer.set_members(members);
  return nullptr;
}

// textResult(idRaw, text)
napi_value text_result(napi_env env, napi_callback_info info) {
  std::size_t argc;
  napi_value argv[2];
  ReplyBufferState* state = arguments_of(env, info, argv, &argc);
  if (state == nullptr) return nullptr;
  if (argc < 2) return fail(env, "Expected (idRaw: string, text: string)");
  // The id is short JSON text; the text is copied once more, by the writer, into the buffer.
  char16_t id_stack[128];
  char16_t text_stack[2048];
  std::u16string id_heap;
  std::u16string_view id;
  std::u16string_view text;
  if (!read_units(env, argv[0], id_stack, std::size(id_stack), &id_heap, &id)) {
    return fail(env, "Expected idRaw to be a string");
  }
  if (!read_units(env, argv[1], text_stack, std::size(text_stack), &state->text, &text)) {
    return fail(env, "Expected text to be a string");
  }
  state->buffer.append_text_result(id, text);
  if (state->text.capacity() > kKeepScratch) std::u16string().swap(state->text);
  return count(env, *state);
}

// writeTo(fd)
napi_value write_to(napi_env env, napi_callback_info info) {
  std::size_t argc;
  napi_value argv[1];
  ReplyBufferState* state = arguments_of(env, info, argv, &argc);
  if (state == nullptr) return nullptr;
  double number = 0;
  if (argc < 1 || napi_get_value_double(env, argv[0], &number) != napi_ok) return fail(env, "Expected fd to be an integer");
  if (!(number >= 0 && number <= 2147483647.0) || static_cast<double>(static_cast<int32_t>(number)) != number) {
    napi_throw_range_error(env, nullptr, "Expected fd to be an integer from 0 to 2147483647");
    return nullptr;
  }
  const long left = state->buffer.write_to(static_cast<int>(number));
  napi_value result;
  napi_create_int32(env, static_cast<int32_t>(std::clamp<long>(left, INT32_MIN, INT32_MAX)), &result);
  return result;
}

// take()
napi_value take(napi_env env, napi_callback_info info) {
  void* data = nullptr;
  if (napi_get_cb_info(env, info, nullptr, nullptr, nullptr, &data) != napi_ok) return nullptr;
  auto* state = static_cast<ReplyBufferState*>(data);
  napi_value result;
  void* copy = nullptr;
  if (napi_create_buffer_copy(env, state->buffer.size(), state->buffer.data(), &copy, &result) != napi_ok) {
    return nullptr;
  }
  state->buffer.clear();
  return result;
}

void release_state(napi_env /*env*/, void* data, void* /*hint*/) {
  auto* state = static_cast<ReplyBufferState*>(data);
  if (--state->functions == 0) delete state;
}

// new ReplyBuffer()
napi_value construct(napi_env env, napi_callback_info info) {
  napi_value self;
  napi_value target;
  if (napi_get_cb_info(env, info, nullptr, nullptr, &self, nullptr) != napi_ok ||
      napi_get_new_target(env, info, &target) != napi_ok) {
    return nullptr;
  }
  if (target == nullptr) return fail(env, "Class constructor ReplyBuffer cannot be invoked without 'new'");
  auto* state = new ReplyBufferState();
  struct Method {
    const char* name;
    napi_callback callback;
  };
  static constexpr Method kMethods[] = {
      {"line", line}, {"setMembers", set_members}, {"textResult", text_result}, {"take", take}, {"writeTo", write_to}};
  constexpr int kCount = static_cast<int>(std::size(kMethods));
  napi_property_descriptor properties[kCount];
  int made = 0;
  for (const Method& method : kMethods) {
    napi_value function;
    if (napi_create_function(env, method.name, NAPI_AUTO_LENGTH, method.callback, state, &function) != napi_ok) break;
    ++state->functions;
    if (napi_add_finalizer(env, function, state, release_state, nullptr, nullptr) != napi_ok) {
      --state->functions;
      break;
    }
    properties[made++] = {method.name, nullptr, nullptr, nullptr, nullptr, function, napi_enumerable, nullptr};
  }
  if (made != kCount) {
    // The functions made so far free the state when they are collected; with none, free it here.
    if (state->functions == 0) delete state;
    return nullptr;
  }
  napi_define_properties(env, self, kCount, properties);
  return self;
}

}  // namespace

Napi::Function define_reply_buffer(Napi::Env env) {
  napi_value constructor;
  const napi_status status =
      napi_define_class(env, "ReplyBuffer", NAPI_AUTO_LENGTH, construct, nullptr, 0, nullptr, &constructor);
  NAPI_FATAL_IF_FAILED(status, "define_reply_buffer", "napi_define_class");
  return Napi::Function(env, constructor);
}

}  // namespace mcp::binding
