// Framing of newline-delimited JSON streams (docs/jsonrpc-engine.md section 3): chunks of bytes in,
// complete lines out. A line ends at LF; one trailing CR is dropped; the UTF-8 BOM is dropped only as the
// first three bytes of the stream; lines of JSON whitespace produce nothing; a line longer than
// maxMessageBytes is reported once, as soon as the excess is seen, and discarded up to its LF.
//
// A line split across chunks is appended to one growable carry buffer (amortised linear, never re-scanned
// for LF). At most one line per feed completes from that buffer (the first one); it stays readable through
// carried() until the next call. A carry buffer that grew above 64 KiB is released after its line.
//
// Use: begin(chunk) then next() until it returns false; or end() for the final unterminated line.
#ifndef FASTERMCP_NATIVE_CORE_FRAMING_H_
#define FASTERMCP_NATIVE_CORE_FRAMING_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mcp::jsonrpc {

/// One framing event: a complete line, or a line that exceeded maxMessageBytes.
struct Line {
  bool too_large = false;         ///< the line exceeded maxMessageBytes; the fields below are unused
  bool from_carry = false;        ///< data points into carried(), else into the chunk given to begin()
  const uint8_t* data = nullptr;  ///< the line without its LF, trailing CR and stream BOM
  std::size_t size = 0;
  std::size_t offset = 0;          ///< data's offset inside its source (the chunk or carried())
  std::size_t readable_after = 0;  ///< bytes after data + size that belong to the same buffer
};

class Framer {
 public:
  /// Zero bytes kept after a line completed from the carry buffer, so it can be parsed in place.
  static constexpr std::size_t kCarryPadding = 64;
  /// A carry buffer whose capacity grew above this is released after its line completes.
  static constexpr std::size_t kReleaseBytes = 64 * 1024;

  explicit Framer(uint32_t max_message_bytes) noexcept : max_message_bytes_(max_message_bytes) {}

  /// Starts a feed of `chunk` (which must stay alive until next() returns false). Drops the line that
  /// completed from the carry buffer in the previous call.
  void begin(const uint8_t* chunk, std::size_t size);
  /// The next event of this feed; false when the rest of the chunk is carried over.
  bool next(Line* line);
  /// End of stream: the bytes left in the carry buffer form a final line (true when it is not blank).
  /// Then the stream state is reset, so the next feed starts a new stream (BOM rule included).
  bool end(Line* line);
  /// Forgets everything: carried bytes, a line being discarded, the BOM state.
  void reset();

  /// The line that completed from the carry buffer in the last call, or "".
  std::string_view carried() const noexcept { return std::string_view(completed_.data(), completed_size_); }

 private:
  void release_completed();
  void append_pending(const uint8_t* bytes, std::size_t size);
  bool complete_from_carry(const uint8_t* tail, std::size_t tail_size, Line* line);
  bool finish_line(const uint8_t* data, std::size_t size, const uint8_t* buffer_end, Line* line);

  uint32_t max_message_bytes_;
  const uint8_t* chunk_ = nullptr;
  std::size_t size_ = 0;
  std::size_t pos_ = 0;
  std::string pending_;    // bytes of the unterminated line, from earlier chunks
  std::string completed_;  // the line completed from the carry buffer, then kCarryPadding zeros
  std::size_t completed_size_ = 0;
  bool discarding_ = false;  // a too-large line is being skipped up to its LF
  bool first_line_ = true;   // the current line is the first of the stream (BOM rule)
};

}  // namespace mcp::jsonrpc

#endif  // FASTERMCP_NATIVE_CORE_FRAMING_H_
