#include "core/framing.h"

#include <cstring>
#include <utility>

namespace mcp::jsonrpc {
namespace {

constexpr bool is_json_space(uint8_t c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool is_blank(const uint8_t* data, std::size_t size) noexcept {
  for (std::size_t i = 0; i < size; ++i) {
    if (!is_json_space(data[i])) return false;
  }
  return true;
}

void release_if_large(std::string* buffer) {
  if (buffer->capacity() > Framer::kReleaseBytes) {
    std::string().swap(*buffer);
  } else {
    buffer->clear();
  }
}

}  // namespace

void Framer::release_completed() {
  if (completed_size_ == 0 && completed_.empty()) return;
  completed_size_ = 0;
  release_if_large(&completed_);
}

void Framer::begin(const uint8_t* chunk, std::size_t size) {
  release_completed();
  chunk_ = chunk;
  size_ = size;
  pos_ = 0;
}

// Appends to the carry buffer, keeping room for the padding added when its line completes (reserve grows
// the capacity geometrically, so carrying stays amortised linear).
void Framer::append_pending(const uint8_t* bytes, std::size_t size) {
  if (size == 0) return;
  pending_.reserve(pending_.size() + size + kCarryPadding);
  pending_.append(reinterpret_cast<const char*>(bytes), size);
}

// Drops the trailing CR and the stream BOM, skips blank lines, and describes the line.
bool Framer::finish_line(const uint8_t* data, std::size_t size, const uint8_t* buffer_end, Line* line) {
  if (size > 0 && data[size - 1] == '\r') --size;
  if (first_line_) {
    first_line_ = false;
    if (size >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF) {
      data += 3;
      size -= 3;
    }
  }
  if (is_blank(data, size)) return false;
  line->too_large = false;
  line->data = data;
  line->size = size;
  line->readable_after = static_cast<std::size_t>(buffer_end - (data + size));
  return true;
}

// The carried bytes plus `tail` (the chunk up to the LF) form a line: move them to completed_.
bool Framer::complete_from_carry(const uint8_t* tail, std::size_t tail_size, Line* line) {
  append_pending(tail, tail_size);
  std::swap(pending_, completed_);
  release_if_large(&pending_);
  completed_size_ = completed_.size();
  completed_.append(kCarryPadding, '\0');
  const auto* base = reinterpret_cast<const uint8_t*>(completed_.data());
  if (!finish_line(base, completed_size_, base + completed_.size(), line)) return false;
  line->from_carry = true;
  line->offset = static_cast<std::size_t>(line->data - base);
  return true;
}

bool Framer::next(Line* line) {
  while (pos_ < size_) {
    const uint8_t* start = chunk_ + pos_;
    const std::size_t left = size_ - pos_;
    const auto* lf = static_cast<const uint8_t*>(std::memchr(start, '\n', left));
    if (discarding_) {
      // Skip the rest of a too-large line.
      if (lf == nullptr) {
        pos_ = size_;
        return false;
      }
      discarding_ = false;
      pos_ += static_cast<std::size_t>(lf - start) + 1;
      continue;
    }
    const std::size_t seen = lf != nullptr ? static_cast<std::size_t>(lf - start) : left;
    if (pending_.size() + seen > max_message_bytes_) {
      // Report the excess now; without an LF in this chunk, discard up to the next one.
      release_if_large(&pending_);
      first_line_ = false;
      if (lf != nullptr) {
        pos_ += seen + 1;
      } else {
        pos_ = size_;
        discarding_ = true;
      }
      *line = Line{};
      line->too_large = true;
      return true;
    }
    if (lf == nullptr) {
      // An unterminated line: carry it over.
      append_pending(start, left);
      pos_ = size_;
      return false;
    }
    pos_ += seen + 1;
    if (!pending_.empty()) {
      if (complete_from_carry(start, seen, line)) return true;
      continue;
    }
    if (finish_line(start, seen, chunk_ + size_, line)) {
      line->from_carry = false;
      line->offset = static_cast<std::size_t>(line->data - chunk_);
      return true;
    }
  }
  return false;
}

bool Framer::end(Line* line) {
  release_completed();
  chunk_ = nullptr;
  size_ = 0;
  pos_ = 0;
  bool produced = false;
  if (!discarding_ && !pending_.empty()) produced = complete_from_carry(nullptr, 0, line);
  release_if_large(&pending_);
  discarding_ = false;
  first_line_ = true;
  return produced;
}

void Framer::reset() {
  completed_size_ = 0;
  release_if_large(&completed_);
  release_if_large(&pending_);
  chunk_ = nullptr;
  size_ = 0;
  pos_ = 0;
  discarding_ = false;
  first_line_ = true;
}

}  // namespace mcp::jsonrpc
