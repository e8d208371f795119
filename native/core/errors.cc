#include "core/errors.h"

#include <array>
#include <charconv>

namespace mcp::jsonrpc {
namespace {

struct ReasonInfo {
  std::string_view name;
  int32_t wire_code;
  std::string_view message;
};

constexpr std::array<ReasonInfo, kReasonCount> kReasons = {{
    {"ok", 0, ""},
    {"invalid_utf8", kParseError, "Parse error: message is not valid UTF-8"},
    {"invalid_json", kParseError, "Parse error: message is not valid JSON"},
    {"too_deep", kParseError, "Parse error: message nests deeper than {maxDepth} levels"},
    {"too_large", kInvalidRequest, "Invalid Request: message exceeds {maxMessageBytes} bytes"},
    {"not_object", kInvalidRequest, "Invalid Request: a JSON-RPC message must be an object"},
    {"duplicate_key", kInvalidRequest, "Invalid Request: duplicate member name"},
    {"bad_version", kInvalidRequest, "Invalid Request: \"jsonrpc\" must be \"2.0\""},
    {"bad_id", kInvalidRequest, "Invalid Request: \"id\" must be a string or a number"},
    {"bad_shape", kInvalidRequest, "Invalid Request: expected \"method\", or exactly one of \"result\" and \"error\""},
    {"bad_method", kInvalidRequest, "Invalid Request: \"method\" must be a string"},
    {"bad_params", kInvalidRequest, "Invalid Request: \"params\" must be an object or an array"},
    {"bad_error", kInvalidRequest,
     "Invalid Request: \"error\" must be an object with an integer \"code\" and a string \"message\""},
    {"empty_batch", kInvalidRequest, "Invalid Request: empty batch"},
    {"batch_not_allowed", kInvalidRequest, "Invalid Request: batches are not supported"},
    {"batch_too_large", kInvalidRequest, "Invalid Request: batch exceeds {maxBatch} messages"},
}};

constexpr const ReasonInfo* info(Reason reason) noexcept {
  const auto index = static_cast<std::size_t>(reason);
  return index < kReasons.size() ? &kReasons[index] : nullptr;
}

}  // namespace

std::string_view reason_name(Reason reason) noexcept {
  const ReasonInfo* entry = info(reason);
  return entry != nullptr ? entry->name : std::string_view();
}

std::string_view reason_template(Reason reason) noexcept {
  const ReasonInfo* entry = info(reason);
  return entry != nullptr ? entry->message : std::string_view();
}

int32_t wire_code(Reason reason) noexcept {
  const ReasonInfo* entry = info(reason);
  return entry != nullptr ? entry->wire_code : 0;
}

bool reason_from_name(std::string_view name, Reason* reason) noexcept {
  for (std::size_t i = 0; i < kReasons.size(); ++i) {
    if (kReasons[i].name == name) {
      *reason = static_cast<Reason>(i);
      return true;
    }
  }
  return false;
}

void append_reason_message(std::string* out, Reason reason, const Limits& limits) {
  const std::string_view message = reason_template(reason);
  const std::size_t open = message.find('{');
  if (open == std::string_view::npos) {
    out->append(message);
    return;
  }
  // Each template names at most one limit.
  const std::size_t close = message.find('}', open);
  const std::string_view placeholder = message.substr(open, close - open + 1);
  uint32_t value = 0;
  if (placeholder == "{maxDepth}") {
    value = limits.max_depth;
  } else if (placeholder == "{maxMessageBytes}") {
    value = limits.max_message_bytes;
  } else {
    value = limits.max_batch;
  }
  char digits[16];
  const auto result = std::to_chars(digits, digits + sizeof(digits), value);
  out->append(message.substr(0, open));
  out->append(digits, result.ptr);
  out->append(message.substr(close + 1));
}

}  // namespace mcp::jsonrpc
