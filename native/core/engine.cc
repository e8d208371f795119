#include "core/engine.h"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstring>

#include "core/id_text.h"
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
  last_meta_ = {};
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
  if (arguments_.values.capacity() > kRetainReplyBytes) std::string().swap(arguments_.values);
  if (arguments_.table.capacity() > kRetainRecordInts) std::vector<int32_t>().swap(arguments_.table);
  if (argument_members_.capacity() > kRetainRecordInts) {
    std::vector<int32_t>().swap(argument_members_);
  } else {
    argument_members_.clear();
  }
}

void Engine::scan_line(const Line& line, bool in_run) {
  if (line.too_large) {
    append_too_large(limits_, &records_, &replies_);
    return;
  }
  const bool build = missed();
  const std::size_t members_from = argument_members_.size();
  Message message;
  message.data = line.data;
  message.size = line.size;
  message.offset = line.offset;
  message.readable_after = line.readable_after;
  message.flags = line.from_carry ? flag::kSrcCarry : 0;
  const std::size_t first = records_.size() / kRecordStride;
  if (in_run) {
    scanner_->scan_in_run(message, *router_, limits_, &records_, &replies_, &argument_members_);
  } else {
    scanner_->scan(message, *router_, limits_, &records_, &replies_, &argument_members_);
  }
  if (build) build_skeleton(first, members_from, line.data, line.size, line.offset);
  if (admission_.rules != nullptr) admit(first, line.data, line.offset);
  mark_repeated_meta(first, line.data, line.offset);
}

bool Engine::match_skeleton(const uint8_t* data, std::size_t size, std::size_t offset, int32_t flags) {
  if (!skeletons_ || skeleton_.empty()) return false;
  const std::size_t first = record_count();
  if (!skeleton_.match(data, size, offset, flags, router_->version(), &records_, &argument_members_)) return false;
  misses_ = 0;
  ++matches_;
  if (admission_.rules != nullptr) admit(first, data, offset);
  mark_repeated_meta(first, data, offset);
  return true;
}

void Engine::build_skeleton(std::size_t first, std::size_t members_from, const uint8_t* data, std::size_t size,
                            std::size_t offset) {
  if (record_count() != first + 1) return;  // a batch, or nothing
  const int32_t* members = nullptr;
  if (argument_members_.size() > members_from && argument_members_[members_from] == static_cast<int32_t>(first)) {
    members = argument_members_.data() + members_from;
  }
  // A message it cannot be made of leaves the skeleton empty: the one before may be stale by now.
  skeleton_.build(data, size, offset, records_.data() + first * kRecordStride, members, router_->version());
}

namespace {

// The last LF in [begin, end), or null.
const uint8_t* last_lf(const uint8_t* begin, const uint8_t* end) noexcept {
#if defined(__GLIBC__)
  return static_cast<const uint8_t*>(memrchr(begin, '\n', static_cast<std::size_t>(end - begin)));
#else
  for (const uint8_t* p = end; p != begin;) {
    if (*--p == '\n') return p;
  }
  return nullptr;
#endif
}

}  // namespace

bool Engine::start_run(const Line& line, const uint8_t* chunk_end, const uint8_t** run_end) {
  // The line's CR or LF is at line_end. A run ends just after an LF, at most kMaxRunBytes from its start, with
  // kScanPadding bytes of the chunk after it (the chunk's last lines are scanned alone, copied if need be).
  const uint8_t* line_end = line.data + line.size;
  *run_end = line_end;
  if (chunk_end - line_end <= static_cast<std::ptrdiff_t>(kScanPadding)) return false;
  const uint8_t* limit =
      line.data + std::min(kMaxRunBytes, static_cast<std::size_t>(chunk_end - kScanPadding - line.data));
  if (limit <= line_end) return false;
  const uint8_t* lf = last_lf(line_end, limit);
  if (lf == nullptr) return false;
  *run_end = lf + 1;
  if (lf <= line_end + 1) return false;  // the line's own LF: a run of one line gains nothing
  return scanner_->index_run(line.data, static_cast<std::size_t>(*run_end - line.data));
}

namespace {

int32_t clamp_int32(double v) {
  if (!(v > -2147483648.0)) return v != v ? 0 : INT32_MIN;
  return v >= 2147483647.0 ? INT32_MAX : static_cast<int32_t>(v);
}

void append_number(std::string* out, double v) {
  char buffer[32];
  const auto r = std::to_chars(buffer, buffer + sizeof buffer, static_cast<long long>(v));
  out->append(buffer, r.ptr);
}

}  // namespace

void Engine::admit(std::size_t first, const uint8_t* base, std::size_t offset) {
  const std::size_t count = records_.size() / kRecordStride;
  for (std::size_t i = first; i < count; ++i) {
    int32_t* rec = &records_[i * kRecordStride];
    if (rec[field::kKind] != kind::kRequest) continue;
    const int32_t method = rec[field::kSlot];
    const int32_t tool = rec[field::kNameSlot];
    if (method > ratelimit::kMaxId || tool > ratelimit::kMaxId) continue;  // ids the rule set cannot name
    const double cost = admission_.rules->cost_of(method, tool);
    ratelimit::Decision d;
    const int32_t rule = admission_.rules->check(method, tool, admission_.client, cost, admission_.now, &d);
    if (rule < 0) continue;
    // Refused: the record becomes a ready reply (kInvalid + kBodyIsReply + kLimited), the id kept.
    const RuleReply& text = admission_.replies[static_cast<std::size_t>(rule)];
    const auto reply_start = static_cast<int32_t>(replies_.size());
    replies_.append(R"({"jsonrpc":"2.0","id":)");
    const int32_t id_start = rec[field::kIdStart];
    replies_.append(reinterpret_cast<const char*>(base) + (static_cast<std::size_t>(id_start) - offset),
                    static_cast<std::size_t>(rec[field::kIdEnd] - id_start));
    if (d.retry_after_ms < 0) {
      replies_.append(text.never);
    } else {
      replies_.append(text.head);
      append_number(&replies_, d.retry_after_ms);
      replies_.append(text.middle);
      append_number(&replies_, d.retry_after_ms);
      replies_.append(text.tail);
    }
    rec[field::kKind] = kind::kInvalid;
    rec[field::kFlags] = (rec[field::kFlags] & ~flag::kParamsSpanned) | flag::kBodyIsReply | flag::kLimited;
    rec[field::kBodyStart] = reply_start;
    rec[field::kBodyEnd] = static_cast<int32_t>(replies_.size());
    rec[field::kCode] = limited::kCode;
    rec[limited::kRule] = rule;
    rec[limited::kRetryAfter] = clamp_int32(d.retry_after_ms);
    rec[limited::kRemaining] = clamp_int32(d.remaining);
    rec[limited::kReset] = clamp_int32(d.reset_ms);
  }
}

void Engine::mark_repeated_meta(std::size_t first, const uint8_t* base, std::size_t offset) noexcept {
  // A client repeats the same _meta (protocol version, capabilities) on every 2026-07-28 request; one
  // comparison here spares the reader comparing or parsing its text for each.
  const std::size_t count = records_.size() / kRecordStride;
  for (std::size_t i = first; i < count; ++i) {
    int32_t* rec = &records_[i * kRecordStride];
    const int32_t kind = rec[field::kKind];
    if ((kind != kind::kRequest && kind != kind::kNotification) || rec[field::kMetaStart] < 0) continue;
    const std::string_view meta(
        reinterpret_cast<const char*>(base) + (static_cast<std::size_t>(rec[field::kMetaStart]) - offset),
        static_cast<std::size_t>(rec[field::kMetaEnd] - rec[field::kMetaStart]));
    // A META span is never empty (it holds a JSON value), so the empty view of a new call matches none.
    if (meta == last_meta_) rec[field::kFlags] |= flag::kMetaRepeated;
    last_meta_ = meta;
  }
}

bool Engine::feed(const uint8_t* chunk, std::size_t size) {
  start_call();
  if (size > kMaxInputBytes) {
    framer_.begin(nullptr, 0);
    return false;
  }
  framer_.begin(chunk, size);
  // Lines of the chunk are scanned in runs that share one stage-1 pass (Scanner::index_run); a line that
  // completes the carried one, a too-large one and the chunk's last few are scanned alone.
  const uint8_t* chunk_end = chunk + size;
  const uint8_t* run_end = chunk;  // lines before it lie in the current run, or in none
  bool in_run = false;
  Line line;
  while (framer_.next(&line)) {
    if (line.too_large) {
      scan_line(line, false);
      continue;
    }
    if (match_skeleton(line.data, line.size, line.offset, line.from_carry ? flag::kSrcCarry : 0)) continue;
    // Right after matches a line is scanned alone: a run would index lines the skeleton is about to match.
    if (misses_ > 0 && !line.from_carry && line.data >= run_end) in_run = start_run(line, chunk_end, &run_end);
    scan_line(line, in_run && !line.from_carry && line.data < run_end);
  }
  return true;
}

void Engine::end() {
  start_call();
  Line line;
  if (framer_.end(&line)) scan_line(line, false);
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
  if (match_skeleton(body.data, body.size, body.offset, 0)) return true;
  const bool build = missed();
  scanner_->scan(body, *router_, limits_, &records_, &replies_, &argument_members_);
  if (build) build_skeleton(0, 0, body.data, body.size, body.offset);
  if (admission_.rules != nullptr) admit(0, body.data, body.offset);
  mark_repeated_meta(0, body.data, body.offset);
  return true;
}

const ArgumentsRead& Engine::read_arguments(std::string_view source) {
  jsonrpc::read_arguments(records_.data(), record_count(), {argument_members_.data(), argument_members_.size()}, source,
                          framer_.carried(), &keys_, &arguments_);
  return arguments_;
}

const std::string* Engine::id_text(std::string_view source) {
  return jsonrpc::id_text(records_.data(), record_count(), source, framer_.carried(), &id_text_) ? &id_text_ : nullptr;
}

void Engine::reset() {
  start_call();
  framer_.reset();
}

}  // namespace mcp::jsonrpc
