#include "core/engine.h"

#include "core/router.h"

namespace mcp::jsonrpc {
namespace {

static_assert(Framer::kCarryPadding >= kScanPadding, "a carried line must be parseable in place");

constexpr std::size_t kRetainRecordInts = 64 * 1024;  // larger record / reply buffers are released
constexpr std::size_t kRetainReplyBytes = 64 * 1024;

}  // namespace

Engine::Engine(const Router* router, Scanner* scanner, const Limits& limits) noexcept
    : router_(router), scanner_(scanner), limits_(limits), framer_(limits.max_message_bytes) {}

void Engine::start_call() {
  if (records_.capacity() > kRetainRecordInts) {
    std::vector<int32_t>().swap(records_);
  } else {
    records_.clear();
  }
  if (replies_.capacity() > kRetainReplyBytes) {
    std::string().swap(replies_);
  } else {
    replies_.clear();
  }
}

void Engine::scan_line(const Line& line) {
  if (line.too_large) {
    append_too_large(limits_, &records_, &replies_);
    return;
  }
  Message message;
  message.data = line.data;
  message.size = line.size;
  message.offset = line.offset;
  message.readable_after = line.readable_after;
  message.flags = line.from_carry ? flag::kSrcCarry : 0;
  scanner_->scan(message, *router_, limits_, &records_, &replies_);
}

bool Engine::feed(const uint8_t* chunk, std::size_t size) {
  start_call();
  if (size > kMaxInputBytes) {
    framer_.begin(nullptr, 0);
    return false;
  }
  framer_.begin(chunk, size);
  Line line;
  while (framer_.next(&line)) scan_line(line);
  return true;
}

void Engine::end() {
  start_call();
  Line line;
  if (framer_.end(&line)) scan_line(line);
}

bool Engine::scan(const uint8_t* message, std::size_t size) {
  start_call();
  framer_.begin(nullptr, 0);  // drops the line carried() held; the stream state is untouched
  if (size > kMaxInputBytes) return false;
  if (size > limits_.max_message_bytes) {
    append_too_large(limits_, &records_, &replies_);
    return true;
  }
  Message body;
  body.data = message;
  body.size = size;
  if (size >= 3 && message[0] == 0xEF && message[1] == 0xBB && message[2] == 0xBF) {
    body.data += 3;
    body.size -= 3;
    body.offset = 3;
  }
  scanner_->scan(body, *router_, limits_, &records_, &replies_);
  return true;
}

void Engine::reset() {
  start_call();
  framer_.reset();
}

}  // namespace mcp::jsonrpc
