#include "core/scan.h"

#include <simdjson.h>

#include <array>
#include <bit>
#include <cstring>
#include <new>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "core/errors.h"
#include "core/records.h"
#include "core/response.h"
#include "core/router.h"

#if defined(__GNUC__) || defined(__clang__)
#define MCP_ALWAYS_INLINE inline __attribute__((always_inline))
#define MCP_NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#define MCP_ALWAYS_INLINE __forceinline
#define MCP_NOINLINE __declspec(noinline)
#else
#define MCP_ALWAYS_INLINE inline
#define MCP_NOINLINE
#endif

namespace mcp::jsonrpc {

// Scanner::scan() takes a successful stage 1 as proof of valid UTF-8 and calls validate_utf8 only after a
// failure (section 4 step 1 still wins): that needs stage 1's UTF-8 check.
#if !SIMDJSON_UTF8VALIDATION
#error "the scanner needs simdjson's stage 1 to validate UTF-8 (SIMDJSON_UTF8VALIDATION)"
#endif

static_assert(kScanPadding >= simdjson::SIMDJSON_PADDING, "kScanPadding must cover simdjson's padding");
static_assert(kScanPadding >= 8, "has_backslash reads up to 7 bytes past a string");

namespace {

namespace od = simdjson::ondemand;

constexpr std::size_t kInitialCapacity = 16 * 1024;          // parser capacity allocated up front
constexpr std::size_t kRetainBytes = 1 << 20;                // larger parser / scratch buffers are released after use
constexpr std::size_t kRetainElements = 4096;                // larger batch capture vectors are released after use
constexpr std::size_t kParserMaxDepth = kMaxDepthLimit + 8;  // our walk stops at maxDepth; +1 for the wrapper
constexpr std::size_t kSmallKeys = 16;                       // member names compared linearly before using the set

constexpr bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim_token(std::string_view token) noexcept {
  while (!token.empty() && is_space(token.back())) token.remove_suffix(1);
  return token;
}

// `text` equals the literal; the length is a constant, so the comparison is inlined (no memcmp call).
template <std::size_t N>
bool is(std::string_view text, const char (&literal)[N]) noexcept {
  return text.size() == N - 1 && std::memcmp(text.data(), literal, N - 1) == 0;
}

bool same_bytes(const char* a, const char* b, std::size_t size) noexcept {
  for (std::size_t i = 0; i < size; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// Whether `text` (a string's content or a member name inside the parsed buffer) contains a backslash,
// eight bytes at a time. It may read up to 7 bytes past the end of `text`: text lies inside the message,
// and the parsed buffer always has kScanPadding readable bytes after the message.
bool has_backslash(std::string_view text) noexcept {
  constexpr uint64_t kLows = 0x7F7F7F7F7F7F7F7FULL;
  constexpr uint64_t kBackslashes = 0x0101010101010101ULL * static_cast<uint8_t>('\\');
  const char* p = text.data();
  std::size_t left = text.size();
  for (;; p += 8, left -= 8) {
    if (left == 0) return false;
    uint64_t word;
    std::memcpy(&word, p, sizeof(word));
    word ^= kBackslashes;  // a backslash byte becomes 0
    // Exactly the zero bytes get their high bit set (no carries between bytes).
    uint64_t zeros = ~(((word & kLows) + kLows) | word | kLows);
    if (left < 8) {
      // Keep the first `left` bytes in memory order.
      if constexpr (std::endian::native == std::endian::little) {
        zeros &= (uint64_t{1} << (8 * left)) - 1;
      } else {
        zeros &= ~((uint64_t{1} << (8 * (8 - left))) - 1);
      }
      return zeros != 0;
    }
    if (zeros != 0) return true;
  }
}

// RFC 8259 number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?  `integer`: no fraction, no exponent.
bool is_json_number(std::string_view token, bool* integer) noexcept {
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  std::size_t i = 0;
  const std::size_t n = token.size();
  if (i < n && token[i] == '-') ++i;
  if (i >= n) return false;
  if (token[i] == '0') {
    ++i;
  } else if (token[i] >= '1' && token[i] <= '9') {
    while (i < n && digit(token[i])) ++i;
  } else {
    return false;
  }
  bool whole = true;
  if (i < n && token[i] == '.') {
    const std::size_t first = ++i;
    while (i < n && digit(token[i])) ++i;
    if (i == first) return false;
    whole = false;
  }
  if (i < n && (token[i] == 'e' || token[i] == 'E')) {
    ++i;
    if (i < n && (token[i] == '+' || token[i] == '-')) ++i;
    const std::size_t first = i;
    while (i < n && digit(token[i])) ++i;
    if (i == first) return false;
    whole = false;
  }
  if (i != n) return false;
  *integer = whole;
  return true;
}

// Byte offsets from the start of the message.
struct Span {
  uint32_t start;
  uint32_t end;
};

struct StringValue {
  Span raw;               // content between the quotes, escapes as written
  std::string_view text;  // unescaped (points into the message or the parser's string buffer)
  bool escaped;
};

enum class IdType : uint8_t { kNull, kString, kNumber, kOther };

// A params member that names what a tools/resources/prompts call targets.
struct RoutedField {
  uint8_t count = 0;  // occurrences, saturating at 2
  bool is_string = false;
  StringValue value;  // read only when count == 1 and is_string
};

// What classification (section 5) and routing (section 6) need from one message object. Counts saturate
// at 2: a repeated member is a duplicate_key anyway. Only the counts and flags are initialised (the
// constructor runs once per message on the hot path); a span or text is read only when its count is not 0.
struct Capture {
  Capture() noexcept {}  // user-provided: value-initialisation does not zero the whole struct

  Span span;
  bool not_object = false;
  bool duplicate = false;
  uint8_t jsonrpc = 0;
  bool version_ok = false;
  uint8_t id = 0;
  IdType id_type = IdType::kOther;
  uint8_t method = 0;
  bool method_is_string = false;
  uint8_t params = 0;
  bool params_ok = false;
  uint8_t result = 0;
  uint8_t error = 0;
  bool error_ok = false;
  std::array<RoutedField, 2> routed;  // params members "name" (tools, prompts) and "uri" (resources)
  Span id_span;
  StringValue method_value;
  Span params_span;
  Span result_span;
  Span error_span;
};

constexpr std::size_t kRoutedName = 0;
constexpr std::size_t kRoutedUri = 1;

enum class Member : uint8_t { kOther, kJsonrpc, kId, kMethod, kParams, kResult, kError };

Member member_of(std::string_view key) noexcept {
  switch (key.size()) {
    case 2:
      return is(key, "id") ? Member::kId : Member::kOther;
    case 5:
      return is(key, "error") ? Member::kError : Member::kOther;
    case 6:
      if (is(key, "method")) return Member::kMethod;
      if (is(key, "params")) return Member::kParams;
      return is(key, "result") ? Member::kResult : Member::kOther;
    case 7:
      return is(key, "jsonrpc") ? Member::kJsonrpc : Member::kOther;
    default:
      return Member::kOther;
  }
}

void bump(uint8_t* count) noexcept {
  if (*count < 2) ++*count;
}

enum class Root : uint8_t { kObject, kArray, kScalar };

struct Outcome {
  Reason reason = Reason::kOk;
  Root root = Root::kScalar;
  uint32_t count = 0;         // batch elements
  bool need_wrapper = false;  // simdjson's root check refused the message: walk it again wrapped in [ ]
};

// One walk in document order over every value of a message. Loops take each field / element by
// reference out of its simdjson_result (after checking the error) instead of copying it out with get():
// the copy is a store-to-load forwarding stall that cost a third of the walk on a typical message. The first problem
// met decides the reason: invalid_json, or too_deep when a container opens deeper than maxDepth (never recursing
// further).
class Walker {
 public:
  Walker(od::document* doc, const char* message, uint32_t size, const Limits& limits, Capture* single,
         std::vector<Capture>* elements, std::unordered_set<std::string_view>* key_set) noexcept
      : doc_(doc),
        message_(message),
        size_(size),
        // Most messages have no backslash at all: one memchr then spares the check of every string.
        escapes_(std::memchr(message, '\\', size) != nullptr),
        limits_(limits),
        single_(single),
        elements_(elements),
        key_set_(key_set) {}

  // The message parsed as it is. Sets need_wrapper when the root is a scalar or simdjson's root check
  // (last token must close the root container) fails, since that check is not in document order.
  void walk_document(Outcome* out) {
    od::json_type type;
    if (doc_->type().get(type) != simdjson::SUCCESS) return finish(out, Reason::kInvalidJson);
    if (type == od::json_type::object) {
      od::object object;
      const simdjson::error_code error = doc_->get_object().get(object);
      if (error == simdjson::INCOMPLETE_ARRAY_OR_OBJECT) {
        out->need_wrapper = true;
        return;
      }
      if (error != simdjson::SUCCESS) return finish(out, Reason::kInvalidJson);
      root_object(object, out);
    } else if (type == od::json_type::array) {
      od::array array;
      const simdjson::error_code error = doc_->get_array().get(array);
      if (error == simdjson::INCOMPLETE_ARRAY_OR_OBJECT) {
        out->need_wrapper = true;
        return;
      }
      if (error != simdjson::SUCCESS) return finish(out, Reason::kInvalidJson);
      root_array(array, out);
    } else {
      out->need_wrapper = true;
      return;
    }
    if (reason_ == Reason::kOk && !doc_->at_end()) fail(Reason::kInvalidJson);
    finish(out, reason_);
  }

  // The message parsed as `[` message `]`: the wrapper passes simdjson's root check, and the walk meets
  // every problem in document order. Exactly one value must be inside.
  void walk_wrapped(Outcome* out) {
    od::array wrapper;
    if (doc_->get_array().get(wrapper) != simdjson::SUCCESS) return finish(out, Reason::kInvalidJson);
    bool seen = false;
    for (auto result : wrapper) {
      od::value value;
      if (std::move(result).get(value) != simdjson::SUCCESS) return finish(out, Reason::kInvalidJson);
      if (seen) return finish(out, Reason::kInvalidJson);  // a second top-level value
      seen = true;
      od::json_type type;
      std::string_view token;
      if (!classify(value, &type, &token)) return finish(out, reason_);
      if (type == od::json_type::object) {
        od::object object;
        if (value.get_object().get(object) != simdjson::SUCCESS) return finish(out, Reason::kInvalidJson);
        if (!root_object(object, out)) return finish(out, reason_);
      } else if (type == od::json_type::array) {
        od::array array;
        if (value.get_array().get(array) != simdjson::SUCCESS) return finish(out, Reason::kInvalidJson);
        if (!root_array(array, out)) return finish(out, reason_);
      } else {
        out->root = Root::kScalar;
        if (!scalar(value, type, trim_token(token), nullptr, nullptr)) return finish(out, reason_);
      }
    }
    if (!seen || !doc_->at_end()) return finish(out, Reason::kInvalidJson);
    finish(out, reason_);
  }

 private:
  void finish(Outcome* out, Reason reason) noexcept { out->reason = reason; }

  // The value's raw token (up to the next structural character) and its type from the first byte: the
  // same answer as value.type(), but branches in likelihood order instead of a jump table, and the token
  // is needed anyway.
  MCP_ALWAYS_INLINE bool classify(od::value& value, od::json_type* type, std::string_view* token) {
    *token = value.raw_json_token();
    const char first = token->empty() ? '\0' : token->front();
    if (first == '"') {
      *type = od::json_type::string;
    } else if (first == '{') {
      *type = od::json_type::object;
    } else if (first == '[') {
      *type = od::json_type::array;
    } else if (first == '-' || (first >= '0' && first <= '9')) {
      *type = od::json_type::number;
    } else if (first == 't' || first == 'f') {
      *type = od::json_type::boolean;
    } else if (first == 'n') {
      *type = od::json_type::null;
    } else {
      return fail(Reason::kInvalidJson);
    }
    return true;
  }

  bool fail(Reason reason) noexcept {
    reason_ = reason;
    return false;
  }

  uint32_t pos(const char* p) const noexcept { return static_cast<uint32_t>(p - message_); }

  // The end of the container just walked: the next token's position, back over whitespace.
  uint32_t container_end() const noexcept {
    const char* location = nullptr;
    if (doc_->current_location().get(location) != simdjson::SUCCESS) return size_;  // it closed the message
    while (location > message_ && is_space(location[-1])) --location;
    return pos(location);
  }

  bool root_object(od::object& object, Outcome* out) {
    out->root = Root::kObject;
    new (single_) Capture();
    single_->span = {0, size_};
    return message_object(object, 1, single_);
  }

  bool root_array(od::array& array, Outcome* out) {
    out->root = Root::kArray;
    elements_->clear();
    uint32_t count = 0;
    for (auto result : array) {
      if (result.error() != simdjson::SUCCESS) return fail(Reason::kInvalidJson);
      od::value& element = result.value_unsafe();
      ++count;
      od::json_type type;
      std::string_view token;
      if (!classify(element, &type, &token)) return false;
      // Elements are captured only when they may become records.
      if (!limits_.allow_batch || count > limits_.max_batch) {
        if (!typed_value(element, type, token, 2)) return false;
        continue;
      }
      Capture* capture = &elements_->emplace_back();
      if (type != od::json_type::object) {
        capture->not_object = true;
        if (!spanned_value(element, type, token, 2, &capture->span)) return false;
        continue;
      }
      if (2 > limits_.max_depth) return fail(Reason::kTooDeep);
      capture->span.start = pos(token.data());
      auto object = element.get_object();
      if (object.error() != simdjson::SUCCESS) return fail(Reason::kInvalidJson);
      if (!message_object(object.value_unsafe(), 2, capture)) return false;
      capture->span.end = container_end();
    }
    out->count = count;
    return true;
  }

  // The top level of a message: every member is walked, the ones section 5 names are captured.
  bool message_object(od::object& object, uint32_t depth, Capture* capture) {
    key_count_ = 0;
    keys_in_set_ = false;
    const uint32_t inner = depth + 1;
    for (auto result : object) {
      if (result.error() != simdjson::SUCCESS) return fail(Reason::kInvalidJson);
      od::field& field = result.value_unsafe();
      const std::string_view key = key_text(field);
      if (key.data() == nullptr) return false;
      if (!capture->duplicate && !remember_key(key)) capture->duplicate = true;
      od::value& value = field.value();
      od::json_type type;
      std::string_view token;
      if (!classify(value, &type, &token)) return false;
      switch (member_of(key)) {
        case Member::kJsonrpc: {
          bump(&capture->jsonrpc);
          if (type != od::json_type::string) {
            capture->version_ok = false;
            if (!typed_value(value, type, token, inner)) return false;
            break;
          }
          StringValue version;
          if (!string(value, trim_token(token), &version)) return false;
          capture->version_ok = is(version.text, "2.0");
          break;
        }
        case Member::kId: {
          bump(&capture->id);
          if (type == od::json_type::object || type == od::json_type::array || type == od::json_type::boolean) {
            capture->id_type = IdType::kOther;
            if (!typed_value(value, type, token, inner)) return false;
            break;
          }
          const std::string_view id = trim_token(token);
          capture->id_span = {pos(id.data()), pos(id.data() + id.size())};
          capture->id_type = type == od::json_type::string   ? IdType::kString
                             : type == od::json_type::number ? IdType::kNumber
                                                             : IdType::kNull;
          if (!scalar(value, type, id, nullptr, nullptr)) return false;
          break;
        }
        case Member::kMethod: {
          bump(&capture->method);
          capture->method_is_string = type == od::json_type::string;
          if (!capture->method_is_string) {
            if (!typed_value(value, type, token, inner)) return false;
            break;
          }
          if (!string(value, trim_token(token), &capture->method_value)) return false;
          break;
        }
        case Member::kParams: {
          bump(&capture->params);
          capture->params_ok = type == od::json_type::object || type == od::json_type::array;
          if (type != od::json_type::object) {
            if (!spanned_value(value, type, token, inner, &capture->params_span)) return false;
            break;
          }
          if (inner > limits_.max_depth) return fail(Reason::kTooDeep);
          capture->params_span.start = pos(token.data());
          auto params = value.get_object();
          if (params.error() != simdjson::SUCCESS) return fail(Reason::kInvalidJson);
          if (!params_object(params.value_unsafe(), inner, capture)) return false;
          capture->params_span.end = container_end();
          break;
        }
        case Member::kResult:
          bump(&capture->result);
          if (!spanned_value(value, type, token, inner, &capture->result_span)) return false;
          break;
        case Member::kError: {
          bump(&capture->error);
          if (type != od::json_type::object) {
            capture->error_ok = false;
            if (!spanned_value(value, type, token, inner, &capture->error_span)) return false;
            break;
          }
          if (inner > limits_.max_depth) return fail(Reason::kTooDeep);
          capture->error_span.start = pos(token.data());
          auto error = value.get_object();
          if (error.error() != simdjson::SUCCESS) return fail(Reason::kInvalidJson);
          if (!error_object(error.value_unsafe(), inner, &capture->error_ok)) return false;
          capture->error_span.end = container_end();
          break;
        }
        case Member::kOther:
          if (!typed_value(value, type, token, inner)) return false;
          break;
      }
    }
    return true;
  }

  // The top level of params: the routed fields ("name", "uri") are captured, everything is walked.
  bool params_object(od::object& object, uint32_t depth, Capture* capture) {
    for (RoutedField& field : capture->routed) {
      field.count = 0;
      field.is_string = false;
    }
    for (auto result : object) {
      if (result.error() != simdjson::SUCCESS) return fail(Reason::kInvalidJson);
      od::field& field = result.value_unsafe();
      const std::string_view key = key_text(field);
      if (key.data() == nullptr) return false;
      od::value& value = field.value();
      od::json_type type;
      std::string_view token;
      if (!classify(value, &type, &token)) return false;
      const std::size_t routed = is(key, "name") ? kRoutedName : is(key, "uri") ? kRoutedUri : capture->routed.size();
      if (routed < capture->routed.size()) {
        RoutedField& target = capture->routed[routed];
        bump(&target.count);
        if (target.count == 1 && type == od::json_type::string) {
          target.is_string = true;
          if (!string(value, trim_token(token), &target.value)) return false;
          continue;
        }
      }
      if (!typed_value(value, type, token, depth + 1)) return false;
    }
    return true;
  }

  // An error response's "error": exactly one integer "code" and exactly one string "message".
  bool error_object(od::object& object, uint32_t depth, bool* ok) {
    uint8_t codes = 0;
    uint8_t messages = 0;
    bool code_ok = false;
    bool message_ok = false;
    for (auto result : object) {
      if (result.error() != simdjson::SUCCESS) return fail(Reason::kInvalidJson);
      od::field& field = result.value_unsafe();
      const std::string_view key = key_text(field);
      if (key.data() == nullptr) return false;
      od::value& value = field.value();
      od::json_type type;
      std::string_view token;
      if (!classify(value, &type, &token)) return false;
      if (is(key, "code")) {
        bump(&codes);
        bool integer = false;
        if (type == od::json_type::number) {
          if (!scalar(value, type, trim_token(token), nullptr, &integer)) return false;
          code_ok = integer;
          continue;
        }
        code_ok = false;
      } else if (is(key, "message")) {
        bump(&messages);
        message_ok = type == od::json_type::string;
      }
      if (!typed_value(value, type, token, depth + 1)) return false;
    }
    *ok = codes == 1 && code_ok && messages == 1 && message_ok;
    return true;
  }

  bool plain_object(od::object& object, uint32_t depth) {
    for (auto result : object) {
      if (result.error() != simdjson::SUCCESS) return fail(Reason::kInvalidJson);
      od::field& field = result.value_unsafe();
      const std::string_view key = key_text(field);
      if (key.data() == nullptr) return false;
      if (!value(field.value(), depth + 1)) return false;
    }
    return true;
  }

  bool plain_array(od::array& array, uint32_t depth) {
    for (auto result : array) {
      if (result.error() != simdjson::SUCCESS) return fail(Reason::kInvalidJson);
      od::value& element = result.value_unsafe();
      if (!value(element, depth + 1)) return false;
    }
    return true;
  }

  // `depth` is the depth `value` has when it is a container.
  MCP_ALWAYS_INLINE bool value(od::value& value, uint32_t depth) {
    od::json_type type;
    std::string_view token;
    if (!classify(value, &type, &token)) return false;
    return typed_value(value, type, token, depth);
  }

  // Scalars are checked inline; only containers cost a (recursive) call.
  // `token` is the value's raw token (classify()).
  MCP_ALWAYS_INLINE bool typed_value(od::value& value, od::json_type type, std::string_view token, uint32_t depth) {
    if (type == od::json_type::object || type == od::json_type::array) return container(value, type, depth);
    return scalar(value, type, trim_token(token), nullptr, nullptr);
  }

  MCP_NOINLINE bool container(od::value& value, od::json_type type, uint32_t depth) {
    if (depth > limits_.max_depth) return fail(Reason::kTooDeep);
    if (type == od::json_type::object) {
      auto object = value.get_object();
      if (object.error() != simdjson::SUCCESS) return fail(Reason::kInvalidJson);
      return plain_object(object.value_unsafe(), depth);
    }
    auto array = value.get_array();
    if (array.error() != simdjson::SUCCESS) return fail(Reason::kInvalidJson);
    return plain_array(array.value_unsafe(), depth);
  }

  // Walks any value and records its span (containers end where the walk left them).
  bool spanned_value(od::value& value, od::json_type type, std::string_view token, uint32_t depth, Span* span) {
    span->start = pos(token.data());
    if (type == od::json_type::object || type == od::json_type::array) {
      if (!container(value, type, depth)) return false;
      span->end = container_end();
      return true;
    }
    const std::string_view trimmed = trim_token(token);
    span->end = span->start + static_cast<uint32_t>(trimmed.size());
    return scalar(value, type, trimmed, nullptr, nullptr);
  }

  // A string, number or literal token (trailing whitespace already trimmed), checked exactly.
  bool scalar(od::value& value, od::json_type type, std::string_view token, StringValue* text, bool* integer) {
    switch (type) {
      case od::json_type::string:
        return string(value, token, text);
      case od::json_type::number: {
        bool whole = false;
        if (!is_json_number(token, &whole)) return fail(Reason::kInvalidJson);
        if (integer != nullptr) *integer = whole;
        return true;
      }
      case od::json_type::boolean:
        return is(token, "true") || is(token, "false") || fail(Reason::kInvalidJson);
      case od::json_type::null:
        return is(token, "null") || fail(Reason::kInvalidJson);
      default:
        return fail(Reason::kInvalidJson);
    }
  }

  // Stage 1 already refused unclosed strings, control characters and bad UTF-8, so a string without a
  // backslash is valid as it stands; one with a backslash is unescaped, which checks every escape and
  // refuses lone surrogates. Either way the string is consumed: simdjson skips an unconsumed string
  // followed by ':' as if it were an object key, which would accept `["a":1]`.
  bool string(od::value& value, std::string_view token, StringValue* text) {
    if (token.size() < 2 || token.front() != '"' || token.back() != '"') return fail(Reason::kInvalidJson);
    const std::string_view content = token.substr(1, token.size() - 2);
    const bool escaped = escapes_ && has_backslash(content);
    std::string_view unescaped = content;
    if (escaped) {
      if (value.get_string(false).get(unescaped) != simdjson::SUCCESS) return fail(Reason::kInvalidJson);
    } else {
      od::raw_json_string raw;
      if (value.get_raw_json_string().get(raw) != simdjson::SUCCESS) return fail(Reason::kInvalidJson);
    }
    if (text != nullptr) {
      text->raw = {pos(content.data()), pos(content.data() + content.size())};
      text->text = unescaped;
      text->escaped = escaped;
    }
    return true;
  }

  // The unescaped member name; a null data() after an invalid escape (the reason is set). Returned by value
  // so that it stays in registers.
  std::string_view key_text(od::field& field) {
    const std::string_view raw = field.escaped_key();
    if (!escapes_ || !has_backslash(raw)) return raw;
    std::string_view key;
    if (field.unescaped_key(false).get(key) != simdjson::SUCCESS) {
      fail(Reason::kInvalidJson);
      return {};
    }
    return key;
  }

  // False when `key` was already seen at this top level.
  bool remember_key(std::string_view key) {
    if (!keys_in_set_) {
      for (std::size_t i = 0; i < key_count_; ++i) {
        if (key_sizes_[i] == key.size() && same_bytes(key_data_[i], key.data(), key.size())) return false;
      }
      if (key_count_ < kSmallKeys) {
        // Pointer and size kept apart: GCC copies a string_view with one 16-byte load right after two 8-byte
        // stores, a store-forwarding stall on every member.
        key_data_[key_count_] = key.data();
        key_sizes_[key_count_] = key.size();
        ++key_count_;
        return true;
      }
      key_set_->clear();
      for (std::size_t i = 0; i < key_count_; ++i) key_set_->emplace(key_data_[i], key_sizes_[i]);
      keys_in_set_ = true;
    }
    return key_set_->insert(key).second;
  }

  od::document* doc_;
  const char* message_;
  uint32_t size_;
  bool escapes_;  // the message contains a backslash somewhere
  const Limits& limits_;
  Capture* single_;
  std::vector<Capture>* elements_;
  std::unordered_set<std::string_view>* key_set_;
  Reason reason_ = Reason::kOk;
  std::array<const char*, kSmallKeys> key_data_;  // written before they are read (no zeroing per message)
  std::array<std::size_t, kSmallKeys> key_sizes_;
  std::size_t key_count_ = 0;
  bool keys_in_set_ = false;
};

// Writes records: spans are message offsets plus `base`, flags are OR'ed with `flags`.
class Emitter {
 public:
  Emitter(std::vector<int32_t>* records, std::string* replies, const Limits& limits, const char* message,
          std::size_t base, int32_t flags) noexcept
      : records_(records), replies_(replies), limits_(limits), message_(message), base_(base), flags_(flags) {}

  // An invalid record for the whole message (no id can be trusted).
  void whole(Reason reason, uint32_t size) { invalid(reason, {0, size}, true, nullptr, 0); }

  // A message of whitespace only (the base is then the offset after it): START = END = that offset.
  void blank() { invalid(Reason::kInvalidJson, {0, 0}, true, nullptr, 0); }

  void batch(uint32_t size, uint32_t count) {
    int32_t* record = add(kind::kBatch, flags_);
    set_span(record, field::kStart, {0, size});
    record[field::kSlot] = static_cast<int32_t>(count);
  }

  void message(const Capture& capture, int32_t extra_flags, const Router& router) {
    if (capture.not_object) return invalid(Reason::kNotObject, capture.span, true, nullptr, extra_flags);
    if (capture.duplicate) return invalid(Reason::kDuplicateKey, capture.span, true, &capture, extra_flags);
    if (capture.jsonrpc != 1 || !capture.version_ok) {
      return invalid(Reason::kBadVersion, capture.span, true, &capture, extra_flags);
    }
    if (capture.id != 0 && capture.id_type == IdType::kOther) {
      return invalid(Reason::kBadId, capture.span, true, &capture, extra_flags);
    }
    const bool has_method = capture.method != 0;
    const bool has_result = capture.result != 0;
    const bool has_error = capture.error != 0;
    if (has_method && !has_result && !has_error) return call(capture, extra_flags, router);
    if (!has_method && has_result != has_error) return response(capture, extra_flags);
    invalid(Reason::kBadShape, capture.span, true, &capture, extra_flags);
  }

 private:
  int32_t* add(int32_t record_kind, int32_t flags) {
    const std::size_t at = records_->size();
    records_->resize(at + kRecordStride, -1);
    int32_t* record = records_->data() + at;
    record[field::kKind] = record_kind;
    record[field::kFlags] = flags;
    record[field::kCode] = 0;
    record[field::kReason] = 0;
    return record;
  }

  void set_span(int32_t* record, std::size_t index, Span span) const noexcept {
    record[index] = static_cast<int32_t>(base_ + span.start);
    record[index + 1] = static_cast<int32_t>(base_ + span.end);
  }

  static int32_t id_flags(IdType type) noexcept {
    switch (type) {
      case IdType::kNull:
        return id_kind::kNull << flag::kIdKindShift;
      case IdType::kString:
        return id_kind::kString << flag::kIdKindShift;
      case IdType::kNumber:
        return id_kind::kNumber << flag::kIdKindShift;
      default:
        return 0;
    }
  }

  // A request or a notification.
  void call(const Capture& capture, int32_t extra_flags, const Router& router) {
    if (!capture.method_is_string) return invalid(Reason::kBadMethod, capture.span, true, &capture, extra_flags);
    if (capture.params != 0 && !capture.params_ok) {
      return invalid(Reason::kBadParams, capture.span, true, &capture, extra_flags);
    }
    if (capture.id != 0 && capture.id_type == IdType::kNull) {
      return invalid(Reason::kBadId, capture.span, true, &capture, extra_flags);
    }
    const Router::Route* route = router.find_method(capture.method_value.text);
    const RoutedField* routed = nullptr;
    if (route != nullptr && route->table != table::kNone) {
      routed = &capture.routed[route->table == table::kResources ? kRoutedUri : kRoutedName];
      if (capture.params == 0 || !capture.params_ok) routed = nullptr;  // params absent or an array
      if (routed != nullptr && routed->count > 1) {
        return invalid(Reason::kDuplicateKey, capture.span, true, &capture, extra_flags);
      }
    }
    int32_t flags = flags_ | extra_flags;
    if (capture.method_value.escaped) flags |= flag::kMethodEscaped;
    const bool named = routed != nullptr && routed->count == 1 && routed->is_string;
    if (named && routed->value.escaped) flags |= flag::kNameEscaped;
    int32_t* record;
    if (capture.id != 0) {
      record = add(kind::kRequest, flags | id_flags(capture.id_type));
      set_span(record, field::kIdStart, capture.id_span);
    } else {
      record = add(kind::kNotification, flags);
    }
    set_span(record, field::kStart, capture.span);
    set_span(record, field::kMethodStart, capture.method_value.raw);
    if (capture.params != 0) set_span(record, field::kBodyStart, capture.params_span);
    if (route != nullptr) record[field::kSlot] = route->slot;
    if (named) {
      set_span(record, field::kNameStart, routed->value.raw);
      record[field::kNameSlot] = router.find_name(route->table, routed->value.text);
    }
  }

  void response(const Capture& capture, int32_t extra_flags) {
    const bool has_result = capture.result != 0;
    // A response answers a request: it must carry an id (null only for an error response).
    if (capture.id == 0 || (has_result && capture.id_type == IdType::kNull)) {
      return invalid(Reason::kBadId, capture.span, true, &capture, extra_flags);
    }
    if (!has_result && !capture.error_ok) return invalid(Reason::kBadError, capture.span, true, &capture, extra_flags);
    int32_t* record =
        add(has_result ? kind::kResponse : kind::kErrorResponse, flags_ | extra_flags | id_flags(capture.id_type));
    set_span(record, field::kStart, capture.span);
    set_span(record, field::kIdStart, capture.id_span);
    set_span(record, field::kBodyStart, has_result ? capture.result_span : capture.error_span);
  }

  // An invalid record and its reply. The reply reuses the raw id when `id` occurs exactly once and is a
  // string or a number; otherwise it says null.
  void invalid(Reason reason, Span span, bool has_span, const Capture* capture, int32_t extra_flags) {
    const bool raw_id = capture != nullptr && capture->id == 1 &&
                        (capture->id_type == IdType::kString || capture->id_type == IdType::kNumber);
    const int32_t id_kind_flags = raw_id ? id_flags(capture->id_type) : id_flags(IdType::kNull);
    int32_t* record = add(kind::kInvalid, flags_ | extra_flags | id_kind_flags | flag::kBodyIsReply);
    if (has_span) set_span(record, field::kStart, span);
    std::string_view id = kNullId;
    if (raw_id) {
      set_span(record, field::kIdStart, capture->id_span);
      id = std::string_view(message_ + capture->id_span.start, capture->id_span.end - capture->id_span.start);
    }
    const std::size_t reply_start = replies_->size();
    append_error_reply(replies_, id, reason, limits_);
    record[field::kBodyStart] = static_cast<int32_t>(reply_start);
    record[field::kBodyEnd] = static_cast<int32_t>(replies_->size());
    record[field::kCode] = wire_code(reason);
    record[field::kReason] = static_cast<int32_t>(reason);
  }

  std::vector<int32_t>* records_;
  std::string* replies_;
  const Limits& limits_;
  const char* message_;
  std::size_t base_;
  int32_t flags_;
};

}  // namespace

struct Scanner::Impl {
  od::parser parser;
  std::unique_ptr<char[]> scratch;
  std::size_t scratch_size = 0;
  Capture single;
  std::vector<Capture> elements;
  std::unordered_set<std::string_view> key_set;

  // Copies the message (optionally wrapped in [ ]) into the scratch buffer, zero padding after it.
  const char* copy(const char* message, std::size_t size, bool wrap) {
    const std::size_t needed = size + 2 + kScanPadding;
    if (scratch_size < needed) {
      scratch.reset(new char[needed]);
      scratch_size = needed;
    }
    char* out = scratch.get();
    std::size_t at = 0;
    if (wrap) out[at++] = '[';
    std::memcpy(out + at, message, size);
    at += size;
    if (wrap) out[at++] = ']';
    std::memset(out + at, 0, kScanPadding);
    return out;
  }

  void release_large_buffers() {
    if (parser.capacity() > kRetainBytes) {
      if (parser.allocate(kInitialCapacity, kParserMaxDepth) != simdjson::SUCCESS) {
        // Nothing to do: the next iterate() allocates again.
      }
    }
    if (scratch_size > kRetainBytes) {
      scratch.reset();
      scratch_size = 0;
    }
    if (elements.capacity() > kRetainElements) std::vector<Capture>().swap(elements);
  }
};

Scanner::Scanner() : impl_(new Impl()) {
  if (impl_->parser.allocate(kInitialCapacity, kParserMaxDepth) != simdjson::SUCCESS) {
    // Allocation failed: iterate() retries and reports the message as invalid_json if it fails again.
  }
}

Scanner::~Scanner() = default;

std::string Scanner::implementation_name() { return simdjson::get_active_implementation()->name(); }

void Scanner::scan(const Message& message, const Router& router, const Limits& limits, std::vector<int32_t>* records,
                   std::string* replies) {
  const char* data = reinterpret_cast<const char*>(message.data);
  std::size_t lead = 0;
  std::size_t end = message.size;
  while (lead < end && is_space(data[lead])) ++lead;
  while (end > lead && is_space(data[end - 1])) --end;
  const char* text = data + lead;
  const std::size_t size = end - lead;
  Emitter emit(records, replies, limits, text, message.offset + lead, message.flags);
  if (size == 0) return emit.blank();
  const auto size32 = static_cast<uint32_t>(size);
  // simdjson drops a leading BOM by itself; here one is an ordinary (and so invalid) character.
  if (size >= 3 && std::memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
    return emit.whole(simdjson::validate_utf8(text, size) ? Reason::kInvalidJson : Reason::kInvalidUtf8, size32);
  }

  // Parse in place when simdjson's padding is readable after the message, else from the scratch copy.
  const std::size_t readable_after = message.readable_after + (message.size - end);
  const char* input = readable_after >= kScanPadding ? text : impl_->copy(text, size, false);
  od::document doc;
  // Stage 1 checks UTF-8 as well: when it succeeds the message is valid UTF-8; when it fails, UTF-8 is
  // checked on its own so that invalid_utf8 wins over every other problem (section 4, step 1).
  if (impl_->parser.iterate(input, size, size + kScanPadding).get(doc) != simdjson::SUCCESS) {
    return emit.whole(simdjson::validate_utf8(text, size) ? Reason::kInvalidJson : Reason::kInvalidUtf8, size32);
  }
  Outcome outcome;
  {
    Walker walker(&doc, input, size32, limits, &impl_->single, &impl_->elements, &impl_->key_set);
    walker.walk_document(&outcome);
  }
  if (outcome.need_wrapper) {
    input = impl_->copy(text, size, true);
    outcome = Outcome{};
    if (impl_->parser.iterate(input, size + 2, size + 2 + kScanPadding).get(doc) != simdjson::SUCCESS) {
      outcome.reason = Reason::kInvalidJson;
    } else {
      Walker walker(&doc, input + 1, size32, limits, &impl_->single, &impl_->elements, &impl_->key_set);
      walker.walk_wrapped(&outcome);
    }
    input += 1;
  }
  // Reply ids are copied from the parsed buffer, which holds the same bytes as the message.
  Emitter out(records, replies, limits, input, message.offset + lead, message.flags);
  if (outcome.reason != Reason::kOk) {
    out.whole(outcome.reason, size32);
  } else if (outcome.root == Root::kObject) {
    out.message(impl_->single, 0, router);
  } else if (outcome.root == Root::kScalar) {
    out.whole(Reason::kNotObject, size32);
  } else if (!limits.allow_batch) {
    out.whole(Reason::kBatchNotAllowed, size32);
  } else if (outcome.count == 0) {
    out.whole(Reason::kEmptyBatch, size32);
  } else if (outcome.count > limits.max_batch) {
    out.whole(Reason::kBatchTooLarge, size32);
  } else {
    out.batch(size32, outcome.count);
    for (const Capture& element : impl_->elements) out.message(element, flag::kInBatch, router);
  }
  impl_->release_large_buffers();
}

void append_too_large(const Limits& limits, std::vector<int32_t>* records, std::string* replies) {
  const std::size_t at = records->size();
  records->resize(at + kRecordStride, -1);
  int32_t* record = records->data() + at;
  record[field::kKind] = kind::kInvalid;
  record[field::kFlags] = (id_kind::kNull << flag::kIdKindShift) | flag::kBodyIsReply;
  const std::size_t reply_start = replies->size();
  append_error_reply(replies, kNullId, Reason::kTooLarge, limits);
  record[field::kBodyStart] = static_cast<int32_t>(reply_start);
  record[field::kBodyEnd] = static_cast<int32_t>(replies->size());
  record[field::kCode] = wire_code(Reason::kTooLarge);
  record[field::kReason] = static_cast<int32_t>(Reason::kTooLarge);
}

}  // namespace mcp::jsonrpc
