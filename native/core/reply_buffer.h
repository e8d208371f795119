// Reply buffer (docs/jsonrpc-engine.md section 8): the bytes a stdio transport writes, one reply per line,
// with the usual tools/call result, `{"content":[{"type":"text","text":...}]}`, written here around the
// handler's text instead of being built and flattened as a JS string. The text arrives as UTF-16 code
// units (a JS string's own form) and is written exactly as JSON.stringify writes that string, in UTF-8.
// src/transport/reply-buffer.ts is the pure-JS twin (the same bytes, as a string).
#ifndef FASTERMCP_NATIVE_CORE_REPLY_BUFFER_H_
#define FASTERMCP_NATIVE_CORE_REPLY_BUFFER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace mcp::jsonrpc {

/// Most bytes write_json_string_utf16 writes for `units` code units: a lone surrogate or a control
/// character becomes six bytes (\udxxx, \u00xx), every other unit at most three.
constexpr std::size_t json_string_utf16_bound(std::size_t units) { return 2 + 6 * units; }

/// Writes JSON.stringify(text) of the UTF-16 `text` as UTF-8 at `out` (room for json_string_utf16_bound)
/// and returns the end: quotes; \" \\ \b \f \n \r \t; other units below 0x20 as \u00xx; a lone surrogate
/// as \udxxx (lowercase hex, as JSON.stringify has since ES2019); a surrogate pair as its four bytes;
/// every other unit as its UTF-8.
char* write_json_string_utf16(char* out, const char16_t* text, std::size_t units);

/// Writes UTF-16 `text` as UTF-8 at `out` (room for 3 bytes per unit) and returns the end; a lone surrogate,
/// which has no UTF-8 form, becomes U+FFFD (as V8's own UTF-8 writer does).
char* write_utf8(char* out, std::u16string_view text);

/// Replies waiting for one write, each followed by '\n'.
class ReplyBuffer {
 public:
  /// Appends `json` (one reply's UTF-8 text) and a newline.
  void append_line(std::string_view json);
  /// Sets the members every following append_text_result writes after the content: '' (the start) or
  /// `,"key":value...` JSON text (2026-07-28's result fields), UTF-16 as JS holds it, kept as UTF-8 (a lone
  /// surrogate becomes U+FFFD, as in write_utf8). A transport's results mostly carry the same members, so
  /// they are read and encoded once, not per reply.
  void set_members(std::u16string_view members);
  /// Appends `{"jsonrpc":"2.0","id":<raw_id>,"result":{"content":[{"type":"text","text":<text>}]<members>}}`
  /// and a newline: `raw_id` is the request's raw id token, written as UTF-8 as it is; `text` is written by
  /// write_json_string_utf16 (both UTF-16, as JS holds them); the members are set_members'.
  void append_text_result(std::u16string_view raw_id, std::u16string_view text);

  const char* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  /// Forgets the bytes and keeps the storage, up to kKeepBytes (a burst of large replies is let go).
  void clear();
  /// Forgets the first `bytes` (at most size()); the rest moves to the front.
  void consume(std::size_t bytes);

  /// Writes what is waiting to `fd` with one write(2), without ever blocking, and forgets what was written:
  /// returns the bytes still waiting (all of them when the pipe is full: EAGAIN), or -errno when the write
  /// failed otherwise, or -EWOULDBLOCK when `fd` is in blocking mode (nothing is tried: a full pipe would
  /// stop the caller's thread). A stdio transport writes its replies this way when the stream's own queue
  /// is empty, and hands anything left to the stream.
  long write_to(int fd);

  static constexpr std::size_t kKeepBytes = 1 << 20;

 private:
  /// Room for `bytes` more; returns where they go.
  char* reserve(std::size_t bytes);

  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
  std::string members_;  // set_members', as UTF-8
};

}  // namespace mcp::jsonrpc

#endif  // FASTERMCP_NATIVE_CORE_REPLY_BUFFER_H_
