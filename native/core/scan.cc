#include "core/scan.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <new>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "core/arguments.h"
#include "core/errors.h"
#include "core/json_number.h"
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

constexpr std::size_t kInitialCapacity = kMaxRunBytes;        // parser capacity allocated up front
constexpr std::size_t kRetainBytes = 1 << 20;                // larger parser / scratch buffers are released after use
constexpr std::size_t kRetainElements = 4096;                // larger batch capture vectors are released after use
constexpr std::size_t kStage1MaxDepth = 1;                   // stage 2 never runs: its depth buffers stay tiny
constexpr std::size_t kSmallKeys = 16;                       // member names compared linearly before using the set

constexpr bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

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

// Byte offsets from the start of the message.
struct Span {
  uint32_t start;
  uint32_t end;
};

struct StringValue {
  Span raw;               // content between the quotes, escapes as written
  std::string_view text;  // unescaped (points into the message or the scanner's string buffer)
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
  bool params_is_object = false;
  uint8_t result = 0;
  uint8_t error = 0;
  bool error_ok = false;
  std::array<RoutedField, 2> routed;  // params members "name" (tools, prompts) and "uri" (resources)
  uint8_t arguments = 0;              // params members "arguments" and "_meta"
  uint8_t meta = 0;
  bool params_other = false;          // params has a member other than the four above
  Span id_span;
  StringValue method_value;
  Span params_span;
  Span arguments_span;
  // The members of an object "arguments" (occurring once) in the walker's member list: 4 offsets each (name
  // content start and end, value start and end) from members_first on; members_count -1: not listed (not an
  // object, more than kMaxArgumentMembers members, an escaped name, or no list wanted).
  uint32_t members_first = 0;
  int32_t members_count = -1;
  Span meta_span;
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

enum class Type : uint8_t { kString, kObject, kArray, kNumber, kBoolean, kNull };

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool hex4(const char* p, uint32_t* out) noexcept {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    const int digit = hex_digit(p[i]);
    if (digit < 0) return false;
    value = (value << 4) | static_cast<uint32_t>(digit);
  }
  *out = value;
  return true;
}

// Checks every escape of a string's content [p, end) (RFC 8259: \" \\ \/ \b \f \n \r \t \uXXXX, a high
// surrogate only followed by an escaped low surrogate, no lone low surrogate). With kWrite the unescaped
// bytes are written at *out (never more than the content's size) and *out is advanced. Stage 1 already
// refused control characters and invalid UTF-8, so the bytes between escapes are copied as they are.
template <bool kWrite>
bool unescape(const char* p, const char* end, char** out) noexcept {
  char* dst = kWrite ? *out : nullptr;
  for (;;) {
    const auto* backslash = static_cast<const char*>(std::memchr(p, '\\', static_cast<std::size_t>(end - p)));
    if (backslash == nullptr) {
      if constexpr (kWrite) {
        std::memcpy(dst, p, static_cast<std::size_t>(end - p));
        *out = dst + (end - p);
      }
      return true;
    }
    if constexpr (kWrite) {
      std::memcpy(dst, p, static_cast<std::size_t>(backslash - p));
      dst += backslash - p;
    }
    if (end - backslash < 2) return false;
    char simple;
    switch (backslash[1]) {
      case '"':
        simple = '"';
        break;
      case '\\':
        simple = '\\';
        break;
      case '/':
        simple = '/';
        break;
      case 'b':
        simple = '\b';
        break;
      case 'f':
        simple = '\f';
        break;
      case 'n':
        simple = '\n';
        break;
      case 'r':
        simple = '\r';
        break;
      case 't':
        simple = '\t';
        break;
      case 'u': {
        uint32_t code = 0;
        if (end - backslash < 6 || !hex4(backslash + 2, &code)) return false;
        p = backslash + 6;
        if (code >= 0xD800 && code < 0xDC00) {
          uint32_t low = 0;
          if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || !hex4(p + 2, &low)) return false;
          if (low < 0xDC00 || low > 0xDFFF) return false;
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          p += 6;
        } else if (code >= 0xDC00 && code <= 0xDFFF) {
          return false;
        }
        if constexpr (kWrite) {
          if (code < 0x80) {
            *dst++ = static_cast<char>(code);
          } else if (code < 0x800) {
            *dst++ = static_cast<char>(0xC0 | (code >> 6));
            *dst++ = static_cast<char>(0x80 | (code & 0x3F));
          } else if (code < 0x10000) {
            *dst++ = static_cast<char>(0xE0 | (code >> 12));
            *dst++ = static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            *dst++ = static_cast<char>(0x80 | (code & 0x3F));
          } else {
            *dst++ = static_cast<char>(0xF0 | (code >> 18));
            *dst++ = static_cast<char>(0x80 | ((code >> 12) & 0x3F));
            *dst++ = static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            *dst++ = static_cast<char>(0x80 | (code & 0x3F));
          }
        }
        continue;
      }
      default:
        return false;
    }
    if constexpr (kWrite) *dst++ = simple;
    p = backslash + 2;
  }
}

enum class Root : uint8_t { kObject, kArray, kScalar };

struct Outcome {
  Reason reason = Reason::kOk;
  Root root = Root::kScalar;
  uint32_t count = 0;  // batch elements
};

// One walk in document order over simdjson's stage-1 structural index (every `{ } [ ] : ,`, every opening
// quote and the first byte of every other token), validating every value. The token of a string, number or
// literal runs from its index to the next one, less trailing whitespace: after a closing quote the next
// byte other than whitespace is always an index, so a string token ends with its closing quote. The first
// problem met decides the reason: invalid_json, or too_deep when a container opens deeper than maxDepth.
// Nested containers are walked with an explicit stack (no recursion).
//
// The message is [start, start + size) of `buffer` (start is 0 unless it lies in a run of lines indexed together);
// indexes and spans are offsets into `buffer`. The index after the last one points at the byte just after the
// message (stage 1, or Scanner::scan_in_run, puts start + size there); the caller makes sure that byte is
// whitespace or NUL, so reading it fails every check that expects a token.
class Walker {
 public:
  Walker(const char* buffer, const uint32_t* indexes, uint32_t count, uint32_t start, uint32_t size, bool escapes,
         const Limits& limits, Capture* single, std::vector<Capture>* elements,
         std::unordered_set<std::string_view>* key_set, char* strings, uint8_t* stack,
         std::vector<uint32_t>* members) noexcept
      : buf_(buffer),
        idx_(indexes),
        last_(indexes + count),
        start_(start),
        size_(size),
        escapes_(escapes),
        limits_(limits),
        single_(single),
        elements_(elements),
        key_set_(key_set),
        strings_(strings),
        stack_(stack),
        members_(members) {}

  void walk(Outcome* out) {
    const char c = here();
    bool ok;
    if (c == '{') {
      out->root = Root::kObject;
      new (single_) Capture();
      single_->span = {start_, start_ + size_};
      ok = message_object(1, single_);
    } else if (c == '[') {
      out->root = Root::kArray;
      ok = root_array(out);
    } else {
      out->root = Root::kScalar;
      Type type;
      ok = classify(c, &type) && scalar(type, nullptr, nullptr);
    }
    if (ok && idx_ != last_) ok = fail(Reason::kInvalidJson);  // trailing content
    out->reason = ok ? Reason::kOk : reason_;
  }

 private:
  MCP_ALWAYS_INLINE char here() const noexcept { return buf_[*idx_]; }

  bool fail(Reason reason) noexcept {
    reason_ = reason;
    return false;
  }

  // The value's type from its first byte.
  MCP_ALWAYS_INLINE bool classify(char first, Type* type) {
    if (first == '"') {
      *type = Type::kString;
    } else if (first == '{') {
      *type = Type::kObject;
    } else if (first == '[') {
      *type = Type::kArray;
    } else if (first == '-' || (first >= '0' && first <= '9')) {
      *type = Type::kNumber;
    } else if (first == 't' || first == 'f') {
      *type = Type::kBoolean;
    } else if (first == 'n') {
      *type = Type::kNull;
    } else {
      return fail(Reason::kInvalidJson);
    }
    return true;
  }

  // A string, number or literal at the current index; moves to the next index and sets end_.
  MCP_ALWAYS_INLINE bool scalar(Type type, StringValue* text, bool* integer) {
    const uint32_t start = idx_[0];
    uint32_t stop = idx_[1];
    ++idx_;
    // buf_[start] is not whitespace; a string token, the usual one, ends with its quote (no trimming to do).
    if (buf_[stop - 1] != '"') {
      while (is_space(buf_[stop - 1])) --stop;
    }
    end_ = stop;
    if (type == Type::kString) return string(start, stop, text);
    const std::string_view token(buf_ + start, stop - start);
    switch (type) {
      case Type::kNumber: {
        bool whole = false;
        if (!is_json_number(token, &whole)) return fail(Reason::kInvalidJson);
        if (integer != nullptr) *integer = whole;
        return true;
      }
      case Type::kBoolean:
        return is(token, "true") || is(token, "false") || fail(Reason::kInvalidJson);
      case Type::kNull:
        return is(token, "null") || fail(Reason::kInvalidJson);
      default:
        return fail(Reason::kInvalidJson);
    }
  }

  // A string token [start, stop) (quotes included). Stage 1 already refused unclosed strings, control
  // characters and bad UTF-8, so a string without a backslash is valid as it stands; one with a backslash has
  // its escapes checked (and unescaped into the string buffer when `text` wants the text). Views are built
  // from pointer and size in registers: copying a string_view through the stack right after storing it is a
  // store-forwarding stall.
  MCP_ALWAYS_INLINE bool string(uint32_t start, uint32_t stop, StringValue* text) {
    if (stop - start < 2 || buf_[stop - 1] != '"') return fail(Reason::kInvalidJson);
    const char* content = buf_ + start + 1;
    const std::size_t size = stop - start - 2;
    if (escapes_ && has_backslash(std::string_view(content, size))) return escaped_string(content, size, text);
    if (text != nullptr) {
      text->raw = {start + 1, stop - 1};
      text->text = std::string_view(content, size);
      text->escaped = false;
    }
    return true;
  }

  MCP_NOINLINE bool escaped_string(const char* content, std::size_t size, StringValue* text) {
    if (text == nullptr) {
      return unescape<false>(content, content + size, nullptr) || fail(Reason::kInvalidJson);
    }
    char* end = strings_;
    if (!unescape<true>(content, content + size, &end)) return fail(Reason::kInvalidJson);
    text->raw = {pos(content), pos(content + size)};
    text->text = std::string_view(strings_, static_cast<std::size_t>(end - strings_));
    text->escaped = true;
    strings_ = end;
    return true;
  }

  // A member name, as pointer and size (returned in registers); data is null after a problem.
  struct Key {
    const char* data;
    std::size_t size;
  };

  // A member name at the current index (the caller saw its opening quote) and the colon after it; moves to
  // the value. With kText the name is unescaped (else only checked).
  template <bool kText>
  MCP_ALWAYS_INLINE Key member_name() {
    const uint32_t start = idx_[0];
    uint32_t stop = idx_[1];
    if (buf_[stop] != ':') {
      fail(Reason::kInvalidJson);
      return {nullptr, 0};
    }
    idx_ += 2;
    if (buf_[stop - 1] != '"') {
      while (is_space(buf_[stop - 1])) --stop;  // whitespace before the colon
    }
    if (stop - start < 2 || buf_[stop - 1] != '"') {
      fail(Reason::kInvalidJson);
      return {nullptr, 0};
    }
    const char* content = buf_ + start + 1;
    const std::size_t size = stop - start - 2;
    if (escapes_ && has_backslash(std::string_view(content, size))) return escaped_name(content, size, kText);
    return {content, size};
  }

  MCP_NOINLINE Key escaped_name(const char* content, std::size_t size, bool text) {
    if (!text) {
      if (!unescape<false>(content, content + size, nullptr)) {
        fail(Reason::kInvalidJson);
        return {nullptr, 0};
      }
      return {content, size};
    }
    char* start = strings_;
    char* end = strings_;
    if (!unescape<true>(content, content + size, &end)) {
      fail(Reason::kInvalidJson);
      return {nullptr, 0};
    }
    strings_ = end;
    return {start, static_cast<std::size_t>(end - start)};
  }

  uint32_t pos(const char* p) const noexcept { return static_cast<uint32_t>(p - buf_); }

  MCP_ALWAYS_INLINE bool typed_value(Type type, uint32_t depth) {
    if (type == Type::kObject || type == Type::kArray) return container(depth);
    return scalar(type, nullptr, nullptr);
  }

  // Walks any value and records its span.
  bool spanned_value(Type type, uint32_t depth, Span* span) {
    span->start = idx_[0];
    if (!typed_value(type, depth)) return false;
    span->end = end_;
    return true;
  }

  // The container at the current index, whose depth is `depth`, and everything inside it; sets end_.
  MCP_NOINLINE bool container(uint32_t depth) {
    uint8_t* stack = stack_;  // 1: object, 0: array, per open container
    uint32_t top = 0;
    char c = here();
    Type type;
  open:  // c is '{' or '[' at the current index
    if (depth + top > limits_.max_depth) return fail(Reason::kTooDeep);
    ++idx_;
    if (c == '{') {
      stack[top++] = 1;
      c = here();
      if (c == '}') goto close;
      goto member;
    }
    stack[top++] = 0;
    c = here();
    if (c == ']') goto close;
    goto element;
  member:
    if (c != '"') return fail(Reason::kInvalidJson);
    if (member_name<false>().data == nullptr) return false;
    c = here();
  element:
    if (c == '{' || c == '[') goto open;
    if (!classify(c, &type) || !scalar(type, nullptr, nullptr)) return false;
  next:
    c = here();
    if (c == ',') {
      ++idx_;
      c = here();
      if (stack[top - 1] != 0) goto member;
      goto element;
    }
    if (c != (stack[top - 1] != 0 ? '}' : ']')) return fail(Reason::kInvalidJson);
  close:  // the current index is the closing bracket
    ++idx_;
    if (--top != 0) goto next;
    end_ = idx_[-1] + 1;
    return true;
  }

  // After a member's value: ',' (true, moved to the next member name, *more set) or '}' (true, *more false).
  MCP_ALWAYS_INLINE bool after_member(bool* more) {
    const char c = here();
    if (c == ',') {
      ++idx_;
      if (here() != '"') return fail(Reason::kInvalidJson);
      *more = true;
      return true;
    }
    if (c != '}') return fail(Reason::kInvalidJson);
    end_ = idx_[0] + 1;
    ++idx_;
    *more = false;
    return true;
  }

  // At '{': moves past it; false (invalid_json) unless an empty object or a member name follows.
  MCP_ALWAYS_INLINE bool open_object(bool* more) {
    ++idx_;
    const char c = here();
    if (c == '"') {
      *more = true;
      return true;
    }
    if (c != '}') return fail(Reason::kInvalidJson);
    end_ = idx_[0] + 1;
    ++idx_;
    *more = false;
    return true;
  }

  bool root_array(Outcome* out) {
    elements_->clear();
    ++idx_;
    uint32_t count = 0;
    char c = here();
    if (c == ']') {
      ++idx_;
      out->count = 0;
      return true;
    }
    for (;;) {
      Type type;
      if (!classify(c, &type)) return false;
      ++count;
      // Elements are captured only when they may become records.
      if (!limits_.allow_batch || count > limits_.max_batch) {
        if (!typed_value(type, 2)) return false;
      } else {
        Capture* capture = &elements_->emplace_back();
        if (type != Type::kObject) {
          capture->not_object = true;
          if (!spanned_value(type, 2, &capture->span)) return false;
        } else {
          if (2 > limits_.max_depth) return fail(Reason::kTooDeep);
          capture->span.start = idx_[0];
          if (!message_object(2, capture)) return false;
          capture->span.end = end_;
        }
      }
      c = here();
      if (c == ',') {
        ++idx_;
        c = here();
        continue;
      }
      if (c != ']') return fail(Reason::kInvalidJson);
      ++idx_;
      out->count = count;
      return true;
    }
  }

  // The top level of a message (at its '{'): every member is walked, the ones section 5 names are captured.
  bool message_object(uint32_t depth, Capture* capture) {
    key_count_ = 0;
    keys_in_set_ = false;
    const uint32_t inner = depth + 1;
    bool more;
    if (!open_object(&more)) return false;
    while (more) {
      const Key name = member_name<true>();
      if (name.data == nullptr) return false;
      const std::string_view key(name.data, name.size);
      const Member member = member_of(key);
      // A repeated member that section 5 names shows in its count (checked after the walk); only the
      // others are remembered by name.
      if (member == Member::kOther && !capture->duplicate && !remember_key(key)) capture->duplicate = true;
      Type type;
      if (!classify(here(), &type)) return false;
      switch (member) {
        case Member::kJsonrpc: {
          bump(&capture->jsonrpc);
          if (type != Type::kString) {
            capture->version_ok = false;
            if (!typed_value(type, inner)) return false;
            break;
          }
          StringValue version;
          if (!scalar(type, &version, nullptr)) return false;
          capture->version_ok = is(version.text, "2.0");
          break;
        }
        case Member::kId: {
          bump(&capture->id);
          if (type == Type::kObject || type == Type::kArray || type == Type::kBoolean) {
            capture->id_type = IdType::kOther;
            if (!typed_value(type, inner)) return false;
            break;
          }
          const uint32_t start = idx_[0];
          if (!scalar(type, nullptr, nullptr)) return false;
          capture->id_span = {start, end_};
          capture->id_type = type == Type::kString   ? IdType::kString
                             : type == Type::kNumber ? IdType::kNumber
                                                     : IdType::kNull;
          break;
        }
        case Member::kMethod: {
          bump(&capture->method);
          capture->method_is_string = type == Type::kString;
          if (!capture->method_is_string) {
            if (!typed_value(type, inner)) return false;
            break;
          }
          if (!scalar(type, &capture->method_value, nullptr)) return false;
          break;
        }
        case Member::kParams: {
          bump(&capture->params);
          capture->params_ok = type == Type::kObject || type == Type::kArray;
          if (type != Type::kObject) {
            if (!spanned_value(type, inner, &capture->params_span)) return false;
            break;
          }
          if (inner > limits_.max_depth) return fail(Reason::kTooDeep);
          capture->params_is_object = true;
          capture->params_span.start = idx_[0];
          if (!params_object(inner, capture)) return false;
          capture->params_span.end = end_;
          break;
        }
        case Member::kResult:
          bump(&capture->result);
          if (!spanned_value(type, inner, &capture->result_span)) return false;
          break;
        case Member::kError: {
          bump(&capture->error);
          if (type != Type::kObject) {
            capture->error_ok = false;
            if (!spanned_value(type, inner, &capture->error_span)) return false;
            break;
          }
          if (inner > limits_.max_depth) return fail(Reason::kTooDeep);
          capture->error_span.start = idx_[0];
          if (!error_object(inner, &capture->error_ok)) return false;
          capture->error_span.end = end_;
          break;
        }
        case Member::kOther:
          if (!typed_value(type, inner)) return false;
          break;
      }
      if (!after_member(&more)) return false;
    }
    // Counts are 0, 1 or 2: bit 1 is set in exactly the repeated ones.
    if (((capture->jsonrpc | capture->id | capture->method | capture->params | capture->result | capture->error) & 2) != 0) {
      capture->duplicate = true;
    }
    return true;
  }

  // The top level of params (at its '{'): the routed fields ("name", "uri") are captured, the spans of
  // "arguments" and "_meta" recorded, any other member noted; everything is walked.
  bool params_object(uint32_t depth, Capture* capture) {
    for (RoutedField& field : capture->routed) {
      field.count = 0;
      field.is_string = false;
    }
    capture->arguments = 0;
    capture->meta = 0;
    capture->params_other = false;
    bool more;
    if (!open_object(&more)) return false;
    while (more) {
      const Key name = member_name<true>();
      if (name.data == nullptr) return false;
      const std::string_view key(name.data, name.size);
      Type type;
      if (!classify(here(), &type)) return false;
      const std::size_t routed = is(key, "name") ? kRoutedName : is(key, "uri") ? kRoutedUri : capture->routed.size();
      bool walked = false;
      if (routed < capture->routed.size()) {
        RoutedField& target = capture->routed[routed];
        bump(&target.count);
        if (target.count == 1 && type == Type::kString) {
          target.is_string = true;
          if (!scalar(type, &target.value, nullptr)) return false;
          walked = true;
        }
      }
      if (routed == capture->routed.size()) {
        Span* span = nullptr;
        if (is(key, "arguments")) {
          bump(&capture->arguments);
          if (capture->arguments == 1) {
            if (type == Type::kObject && members_ != nullptr) {
              if (depth + 1 > limits_.max_depth) return fail(Reason::kTooDeep);
              capture->arguments_span.start = idx_[0];
              if (!arguments_object(depth + 1, capture)) return false;
              capture->arguments_span.end = end_;
              walked = true;
            } else {
              span = &capture->arguments_span;
            }
          }
        } else if (is(key, "_meta")) {
          bump(&capture->meta);
          if (capture->meta == 1) span = &capture->meta_span;
        } else {
          capture->params_other = true;
        }
        if (span != nullptr) {
          if (!spanned_value(type, depth + 1, span)) return false;
          walked = true;
        }
      }
      if (!walked && !typed_value(type, depth + 1)) return false;
      if (!after_member(&more)) return false;
    }
    return true;
  }

  // An object "arguments" (at its '{'), walked like any object; its members are listed for read_arguments
  // (arguments.h), which then need not find them again, unless it would take the object whole anyway.
  bool arguments_object(uint32_t depth, Capture* capture) {
    const std::size_t first = members_->size();
    const uint32_t start = idx_[0];
    int32_t count = 0;
    bool more;
    if (!open_object(&more)) return false;
    while (more) {
      const Key name = member_name<false>();
      if (name.data == nullptr) return false;
      Type type;
      if (!classify(here(), &type)) return false;
      const uint32_t value_start = idx_[0];
      if (!typed_value(type, depth + 1)) return false;
      if (count >= 0) {
        // An escaped name would have to be unescaped first: such an object is taken whole.
        if (static_cast<std::size_t>(count) == kMaxArgumentMembers ||
            (escapes_ && has_backslash(std::string_view(name.data, name.size)))) {
          count = -1;
        } else {
          // One resize and plain stores: push_back stores the vector's end back after each value.
          const std::size_t at = members_->size();
          members_->resize(at + 4);
          uint32_t* member = members_->data() + at;
          member[0] = pos(name.data);
          member[1] = member[0] + static_cast<uint32_t>(name.size);
          member[2] = value_start;
          member[3] = end_;
          ++count;
        }
      }
      if (!after_member(&more)) return false;
    }
    // Longer arguments are parsed alone (kMaxReadArgumentsBytes): their members are not needed.
    if (count < 0 || end_ - start > kMaxReadArgumentsBytes) {
      members_->resize(first);
      count = -1;
    }
    capture->members_first = static_cast<uint32_t>(first);
    capture->members_count = count;
    return true;
  }

  // An error response's "error" (at its '{'): exactly one integer "code" and exactly one string "message".
  bool error_object(uint32_t depth, bool* ok) {
    uint8_t codes = 0;
    uint8_t messages = 0;
    bool code_ok = false;
    bool message_ok = false;
    bool more;
    if (!open_object(&more)) return false;
    while (more) {
      const Key name = member_name<true>();
      if (name.data == nullptr) return false;
      const std::string_view key(name.data, name.size);
      Type type;
      if (!classify(here(), &type)) return false;
      bool walked = false;
      if (is(key, "code")) {
        bump(&codes);
        code_ok = false;
        if (type == Type::kNumber) {
          bool integer = false;
          if (!scalar(type, nullptr, &integer)) return false;
          code_ok = integer;
          walked = true;
        }
      } else if (is(key, "message")) {
        bump(&messages);
        message_ok = type == Type::kString;
      }
      if (!walked && !typed_value(type, depth + 1)) return false;
      if (!after_member(&more)) return false;
    }
    *ok = codes == 1 && code_ok && messages == 1 && message_ok;
    return true;
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

  const char* buf_;
  const uint32_t* idx_;   // the current structural index
  const uint32_t* last_;  // one past the last structural index (its entry is the message's end)
  uint32_t start_;        // the message's offset in buf_
  uint32_t size_;
  bool escapes_;  // the message contains a backslash somewhere
  const Limits& limits_;
  Capture* single_;
  std::vector<Capture>* elements_;
  std::unordered_set<std::string_view>* key_set_;
  char* strings_;   // unescaped text is written here (room for the whole message); null when !escapes_
  uint8_t* stack_;  // kMaxDepthLimit + 1 entries
  std::vector<uint32_t>* members_;  // the arguments' members (Capture::members_first); null: not listed
  uint32_t end_ = 0;  // end of the value just walked
  Reason reason_ = Reason::kOk;
  std::array<const char*, kSmallKeys> key_data_;  // written before they are read (no zeroing per message)
  std::array<std::size_t, kSmallKeys> key_sizes_;
  std::size_t key_count_ = 0;
  bool keys_in_set_ = false;
};


// Writes records: spans are offsets into `buffer` (the message, or the run of lines it lies in) plus `base`, the
// buffer's offset in the source; flags are OR'ed with `flags`.
class Emitter {
 public:
  Emitter(std::vector<int32_t>* records, std::string* replies, const Limits& limits, const char* buffer,
          std::size_t base, int32_t flags) noexcept
      : records_(records), replies_(replies), limits_(limits), message_(buffer), base_(base), flags_(flags) {}

  // Has the arguments' members the walk listed (`listed`) appended to `members` (Scanner::scan's format).
  void list_members(const std::vector<uint32_t>* listed, std::vector<int32_t>* members) noexcept {
    listed_ = listed;
    members_ = members;
  }

  // An invalid record for the whole message (no id can be trusted).
  void whole(Reason reason, Span message) { invalid(reason, message, true, nullptr, 0); }

  // A message of whitespace only (the base is then the offset after it): START = END = that offset.
  void blank() { invalid(Reason::kInvalidJson, {0, 0}, true, nullptr, 0); }

  void batch(Span message, uint32_t count) {
    int32_t* record = add(kind::kBatch, flags_);
    set_span(record, field::kStart, message);
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
    if (capture.params != 0 && capture.params_is_object) {
      if (capture.arguments == 1) set_span(record, field::kArgsStart, capture.arguments_span);
      if (capture.meta == 1) set_span(record, field::kMetaStart, capture.meta_span);
      if (params_spanned(capture, routed, named)) {
        record[field::kFlags] |= flag::kParamsSpanned;
        if (capture.members_count >= 0 && members_ != nullptr) append_members(capture, record);
      }
    }
  }

  // The entry of `record` in the member list: its index, the member count, and each member's spans.
  void append_members(const Capture& capture, const int32_t* record) {
    const auto count = static_cast<std::size_t>(capture.members_count);
    const std::size_t at = members_->size();
    members_->resize(at + 2 + 4 * count);
    int32_t* out = members_->data() + at;
    out[0] = static_cast<int32_t>((record - records_->data()) / kRecordStride);
    out[1] = capture.members_count;
    const uint32_t* in = listed_->data() + capture.members_first;
    for (std::size_t i = 0; i < 4 * count; ++i) out[2 + i] = static_cast<int32_t>(base_ + in[i]);
  }

  // Whether an object params is exactly what the record's NAME, ARGS and META spans hold (section 7):
  // its members are the routed one (captured as NAME), "arguments" and "_meta", none of them twice.
  static bool params_spanned(const Capture& capture, const RoutedField* routed, bool named) noexcept {
    if (capture.params_other || capture.arguments > 1 || capture.meta > 1) return false;
    for (const RoutedField& field : capture.routed) {
      if (field.count != 0 && !(named && &field == routed)) return false;
    }
    return true;
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
  const std::vector<uint32_t>* listed_ = nullptr;
  std::vector<int32_t>* members_ = nullptr;
};

}  // namespace

struct Scanner::Impl {
  std::unique_ptr<simdjson::internal::dom_parser_implementation> stage1;  // the runtime-selected kernel's
  std::unique_ptr<char[]> scratch;
  std::size_t scratch_size = 0;
  std::unique_ptr<char[]> strings;  // unescaped member names and strings of one message
  std::size_t strings_size = 0;
  std::array<uint8_t, kMaxDepthLimit + 1> stack;
  Capture single;
  std::vector<Capture> elements;
  std::unordered_set<std::string_view> key_set;
  std::vector<uint32_t> listed;  // the arguments' members of one message (Walker::members_)
  // The run of lines stage 1 last indexed (index_run); null when there is none (scan() reuses stage 1).
  const char* run = nullptr;
  std::size_t run_size = 0;
  uint32_t run_next = 0;                // the first index scan_in_run has not passed yet
  const char* run_backslash = nullptr;  // the first backslash at or after the last message, the run's end if
                                        // none, null before the first search

  // Copies the message into the scratch buffer, zero padding after it.
  const char* copy(const char* message, std::size_t size) {
    const std::size_t needed = size + kScanPadding;
    if (scratch_size < needed) {
      scratch.reset(new char[needed]);
      scratch_size = needed;
    }
    char* out = scratch.get();
    std::memcpy(out, message, size);
    std::memset(out + size, 0, kScanPadding);
    return out;
  }

  char* string_buffer(std::size_t size) {
    if (strings_size < size) {
      strings.reset(new char[size]);
      strings_size = size;
    }
    return strings.get();
  }

  // simdjson's stage 1 over the message: false when it fails (or cannot allocate).
  bool index(const char* input, std::size_t size) {
    if (stage1 == nullptr || stage1->capacity() < size) {
      if (stage1 == nullptr) {
        if (simdjson::get_active_implementation()->create_dom_parser_implementation(
                std::max(size, kInitialCapacity), kStage1MaxDepth, stage1) != simdjson::SUCCESS) {
          stage1.reset();
          return false;
        }
      } else if (stage1->set_capacity(size) != simdjson::SUCCESS) {
        stage1.reset();
        return false;
      }
    }
    return stage1->stage1(reinterpret_cast<const uint8_t*>(input), size, simdjson::stage1_mode::regular) ==
           simdjson::SUCCESS;
  }

  // Walks the message [start, start + size) of `buffer` over its `count` structural indexes (the entry after
  // them holds start + size) and appends its records; `base` is the buffer's offset in the source.
  void walk_and_emit(const char* buffer, const uint32_t* indexes, uint32_t count, uint32_t start, uint32_t size,
                     bool escapes, std::size_t base, int32_t flags, const Router& router, const Limits& limits,
                     std::vector<int32_t>* records, std::string* replies, std::vector<int32_t>* members) {
    Outcome outcome;
    listed.clear();
    {
      Walker walker(buffer, indexes, count, start, size, escapes, limits, &single, &elements, &key_set,
                    escapes ? string_buffer(size) : nullptr, stack.data(),
                    members != nullptr ? &listed : nullptr);
      walker.walk(&outcome);
    }
    // Reply ids are copied from the parsed buffer, which holds the same bytes as the message.
    Emitter out(records, replies, limits, buffer, base, flags);
    out.list_members(&listed, members);
    const Span message{start, start + size};
    if (outcome.reason != Reason::kOk) {
      out.whole(outcome.reason, message);
    } else if (outcome.root == Root::kObject) {
      out.message(single, 0, router);
    } else if (outcome.root == Root::kScalar) {
      out.whole(Reason::kNotObject, message);
    } else if (!limits.allow_batch) {
      out.whole(Reason::kBatchNotAllowed, message);
    } else if (outcome.count == 0) {
      out.whole(Reason::kEmptyBatch, message);
    } else if (outcome.count > limits.max_batch) {
      out.whole(Reason::kBatchTooLarge, message);
    } else {
      out.batch(message, outcome.count);
      for (const Capture& element : elements) out.message(element, flag::kInBatch, router);
    }
  }

  void release_large_buffers() {
    if (stage1 != nullptr && stage1->capacity() > kRetainBytes) {
      if (stage1->set_capacity(kInitialCapacity) != simdjson::SUCCESS) stage1.reset();
    }
    if (scratch_size > kRetainBytes) {
      scratch.reset();
      scratch_size = 0;
    }
    release_large_messages();
  }

  // The buffers one message of a run may have grown (stage 1 holds the run's indexes: kept).
  void release_large_messages() {
    if (strings_size > kRetainBytes) {
      strings.reset();
      strings_size = 0;
    }
    if (elements.capacity() > kRetainElements) std::vector<Capture>().swap(elements);
    if (listed.capacity() > kRetainElements) std::vector<uint32_t>().swap(listed);
  }
};

Scanner::Scanner() : impl_(new Impl()) {
  if (simdjson::get_active_implementation()->create_dom_parser_implementation(kInitialCapacity, kStage1MaxDepth,
                                                                              impl_->stage1) != simdjson::SUCCESS) {
    impl_->stage1.reset();  // index() retries and reports the message as invalid_json if it fails again
  }
}

Scanner::~Scanner() = default;

std::string Scanner::implementation_name() { return simdjson::get_active_implementation()->name(); }

namespace {

// A message without its leading and trailing JSON whitespace.
struct Trimmed {
  const char* text;
  std::size_t size;
  std::size_t offset;  // text's offset in the source
};

Trimmed trim(const Message& message) noexcept {
  const char* data = reinterpret_cast<const char*>(message.data);
  std::size_t lead = 0;
  std::size_t end = message.size;
  while (lead < end && is_space(data[lead])) ++lead;
  while (end > lead && is_space(data[end - 1])) --end;
  return {data + lead, end - lead, message.offset + lead};
}

// simdjson's stage 1 would take a leading BOM as an ordinary (and so invalid) character; it is one here too.
bool starts_with_bom(const char* text, std::size_t size) noexcept {
  return size >= 3 && std::memcmp(text, "\xEF\xBB\xBF", 3) == 0;
}

// Invalid UTF-8 wins over every other problem (section 4, step 1).
Reason invalid_text(const char* text, std::size_t size) noexcept {
  return simdjson::validate_utf8(text, size) ? Reason::kInvalidJson : Reason::kInvalidUtf8;
}

}  // namespace

void Scanner::scan(const Message& message, const Router& router, const Limits& limits, std::vector<int32_t>* records,
                   std::string* replies, std::vector<int32_t>* members) {
  impl_->run = nullptr;  // stage 1 below replaces the run's indexes
  const Trimmed t = trim(message);
  const auto size32 = static_cast<uint32_t>(t.size);
  Emitter emit(records, replies, limits, t.text, t.offset, message.flags);
  if (t.size == 0) return emit.blank();
  if (starts_with_bom(t.text, t.size)) return emit.whole(invalid_text(t.text, t.size), {0, size32});

  // Parse in place when simdjson's padding is readable after the message and the byte right after it
  // (where the walk's last index points) cannot be taken for a token; else from the zero-padded scratch copy.
  const std::size_t readable_after =
      message.readable_after + (message.size - (static_cast<std::size_t>(t.text - reinterpret_cast<const char*>(
                                                                              message.data)) +
                                                t.size));
  const bool in_place = readable_after >= kScanPadding && (is_space(t.text[t.size]) || t.text[t.size] == '\0');
  const char* input = in_place ? t.text : impl_->copy(t.text, t.size);
  // Stage 1 checks UTF-8 as well: when it succeeds the message is valid UTF-8; when it fails, UTF-8 is
  // checked on its own.
  if (!impl_->index(input, t.size)) return emit.whole(invalid_text(t.text, t.size), {0, size32});
  // Most messages have no backslash at all: one memchr then spares the check of every string.
  const bool escapes = std::memchr(input, '\\', t.size) != nullptr;
  impl_->walk_and_emit(input, impl_->stage1->structural_indexes.get(), impl_->stage1->n_structural_indexes, 0, size32,
                       escapes, t.offset, message.flags, router, limits, records, replies, members);
  impl_->release_large_buffers();
}

bool Scanner::index_run(const uint8_t* data, std::size_t size) {
  Impl& s = *impl_;
  s.run = nullptr;
  if (size == 0 || size > kMaxRunBytes) return false;
  const char* run = reinterpret_cast<const char*>(data);
  if (!s.index(run, size)) return false;
  s.run = run;
  s.run_size = size;
  s.run_next = 0;
  s.run_backslash = nullptr;
  return true;
}

void Scanner::scan_in_run(const Message& message, const Router& router, const Limits& limits,
                          std::vector<int32_t>* records, std::string* replies, std::vector<int32_t>* members) {
  Impl& s = *impl_;
  const Trimmed t = trim(message);
  // Outside the run (or no run): scanned alone. A message of the run always has its LF inside the run.
  if (s.run == nullptr || t.text < s.run || t.text + t.size >= s.run + s.run_size) {
    return scan(message, router, limits, records, replies, members);
  }
  if (t.size == 0) return Emitter(records, replies, limits, t.text, t.offset, message.flags).blank();
  const auto start = static_cast<uint32_t>(t.text - s.run);
  const auto stop = static_cast<uint32_t>(start + t.size);
  const std::size_t base = t.offset - start;  // the run's offset in the source
  if (starts_with_bom(t.text, t.size)) {
    Emitter emit(records, replies, limits, s.run, base, message.flags);
    return emit.whole(invalid_text(t.text, t.size), {start, stop});
  }
  // The message's indexes: from the first at its start up to the first at or after its end. Lines the framer
  // dropped (too large) may lie in between; the entry after the last index holds run_size, beyond every line.
  uint32_t* indexes = s.stage1->structural_indexes.get();
  const uint32_t count = s.stage1->n_structural_indexes;
  uint32_t first = s.run_next;
  while (indexes[first] < start) ++first;
  if (indexes[first] != start) {
    // Cannot happen (a line starts outside any string, after whitespace, so its first byte is indexed);
    // should it ever, the message is scanned alone rather than walked over indexes that do not fit it.
    return scan(message, router, limits, records, replies, members);
  }
  uint32_t last = first;
  while (last + 8 <= count && indexes[last + 7] < stop) last += 8;
  while (indexes[last] < stop) ++last;
  s.run_next = last;
  if (s.run_backslash == nullptr || s.run_backslash < t.text) {
    const std::size_t left = s.run_size - start;
    const auto* found = static_cast<const char*>(std::memchr(t.text, '\\', left));
    s.run_backslash = found != nullptr ? found : s.run + s.run_size;
  }
  const bool escapes = s.run_backslash < t.text + t.size;
  // The walk stops at the message's end as stage 1 over the message alone would make it: the entry after its
  // last index holds its end (a whitespace byte: the message's LF at the latest) until the walk is done.
  const uint32_t next_start = indexes[last];
  indexes[last] = stop;
  s.walk_and_emit(s.run, indexes + first, last - first, start, static_cast<uint32_t>(t.size), escapes, base,
                  message.flags, router, limits, records, replies, members);
  indexes[last] = next_start;
  s.release_large_messages();
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
