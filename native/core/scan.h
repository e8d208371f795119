// Envelope scan (docs/jsonrpc-engine.md sections 4-7): one message in, records out. The Scanner owns the
// thread's simdjson stage-1 indexer (the runtime-selected kernel's dom_parser_implementation; stage 2 never
// runs) and padded scratch buffers; engines of one thread share it, so a connection costs a framer and small
// buffers, not a parser.
//
// A message is validated completely before it is classified: UTF-8 first, then simdjson's first stage
// (unclosed strings, unescaped control characters), then one walk of our own in document order over stage
// 1's structural index, checking every value (strings and their escapes, literals, numbers by the RFC
// grammar, commas, colons, trailing content, depth counted here with an explicit stack). Only a message that is valid JSON
// is checked as JSON-RPC (section 5) and routed (section 6). (Stage 1 validates UTF-8 as it goes, so
// simdjson::validate_utf8 runs only when stage 1 fails, to tell invalid_utf8 from invalid_json.)
#ifndef FASTERMCP_NATIVE_CORE_SCAN_H_
#define FASTERMCP_NATIVE_CORE_SCAN_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/limits.h"

namespace mcp::jsonrpc {

class Router;

/// Readable bytes the scanner needs after a message to parse it in place (simdjson's padding); with fewer,
/// the message is copied into the scanner's padded scratch buffer.
inline constexpr std::size_t kScanPadding = 64;

/// Longest run of lines Scanner::index_run() indexes at once (Engine::feed cuts its runs at most this long).
inline constexpr std::size_t kMaxRunBytes = 32 * 1024;

/// One message to scan: a framed line (CR and stream BOM already dropped) or a scan() body (BOM dropped).
struct Message {
  const uint8_t* data = nullptr;
  std::size_t size = 0;
  std::size_t offset = 0;          ///< data's offset inside the source the record spans index
  std::size_t readable_after = 0;  ///< bytes after data + size inside the same buffer (parsed in place when
                                   ///< at least simdjson's padding, else copied into the scratch buffer)
  int32_t flags = 0;               ///< OR'ed into every record (flag::kSrcCarry)
};

class Scanner {
 public:
  Scanner();
  ~Scanner();
  Scanner(const Scanner&) = delete;
  Scanner& operator=(const Scanner&) = delete;

  /// Appends the records of `message` to `records` (kRecordStride int32 each) and the reply bytes of its
  /// invalid records to `replies`. The message must not be longer than limits.max_message_bytes; a
  /// message of JSON whitespace only gives one invalid_json record with START = END = the offset after it.
  /// With `members`, the members of the requests' and notifications' `arguments` are appended there as the
  /// walk found them, in the format read_arguments takes (arguments.h, ArgumentMembers).
  void scan(const Message& message, const Router& router, const Limits& limits, std::vector<int32_t>* records,
            std::string* replies, std::vector<int32_t>* members = nullptr);

  /// Runs stage 1 once over a run of whole lines of one buffer: [data, data + size) ends just after an LF and
  /// is followed by at least kScanPadding readable bytes of the same buffer; size is at most kMaxRunBytes. Small
  /// messages cost less this way: stage 1's fixed cost and its last partial block are paid once per run, not
  /// once per line, and nothing is copied. False when stage 1 fails over the run (a line of it has invalid
  /// UTF-8, an unclosed string, or a control character in a string): then its lines go through scan().
  /// Stage 1 over a successful run gives every line the indexes stage 1 over the line alone would (an LF inside
  /// a string fails stage 1, so every line starts outside any string, after whitespace), so scan_in_run()
  /// produces exactly what scan() would.
  bool index_run(const uint8_t* data, std::size_t size);
  /// scan() for a framed line inside the run of the last index_run(), lines in order; a message outside it,
  /// or after a scan() call (which reuses stage 1), is scanned alone.
  void scan_in_run(const Message& message, const Router& router, const Limits& limits, std::vector<int32_t>* records,
                   std::string* replies, std::vector<int32_t>* members = nullptr);

  /// The name of simdjson's active (runtime-selected) kernel, e.g. "haswell".
  static std::string implementation_name();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Appends the too_large record of a line or message (START/END -1, id null) and its reply.
void append_too_large(const Limits& limits, std::vector<int32_t>* records, std::string* replies);

}  // namespace mcp::jsonrpc

#endif  // FASTERMCP_NATIVE_CORE_SCAN_H_
