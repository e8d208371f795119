// libFuzzer target for native/core/reply_buffer.h: any bytes are UTF-16 text (two bytes per unit, little
// endian), split at the first two units' values into an id, the text and members. Invariants (abort):
//   * write_json_string_utf16 writes exactly what a unit-at-a-time JSON.stringify writes
//     (test/native/json_utf16.h), within json_string_utf16_bound (the output has exactly that room, so
//     AddressSanitizer sees any byte past it);
//   * append_text_result writes the envelope around those bytes, the id and set_members' members as UTF-8
//     (a lone surrogate there as U+FFFD), then a newline, after what the buffer held; members set once are
//     written again by the next text result, and '' writes none.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "../native/json_utf16.h"
#include "core/reply_buffer.h"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_reply invariant violated: %s\n", what);
  std::abort();
}

std::string utf8_replacing_lone_surrogates(std::u16string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const uint32_t c = text[i];
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < text.size() && text[i + 1] >= 0xDC00 && text[i + 1] <= 0xDFFF) {
      check::append_utf8(&out, 0x10000 + ((c - 0xD800) << 10) + (text[i + 1] - 0xDC00u));
      ++i;
    } else {
      check::append_utf8(&out, c >= 0xD800 && c <= 0xDFFF ? 0xFFFD : c);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::u16string units(size / 2, u'\0');
  for (std::size_t i = 0; i < units.size(); ++i) {
    units[i] = static_cast<char16_t>(data[2 * i] | (data[2 * i + 1] << 8));
  }
  const std::u16string_view all(units);
  // The whole input as text, into exactly the room the bound promises.
  const std::size_t bound = mcp::jsonrpc::json_string_utf16_bound(all.size());
  std::unique_ptr<char[]> room(new char[bound]);
  char* end = mcp::jsonrpc::write_json_string_utf16(room.get(), all.data(), all.size());
  if (end < room.get() || static_cast<std::size_t>(end - room.get()) > bound) fail("wrote past the bound");
  const std::string quoted = check::reference_json_string(all);
  if (std::string(room.get(), end) != quoted) fail("JSON string differs from the reference");
  // An id, text and members cut from it.
  const std::size_t id_length = all.empty() ? 0 : all[0] % 8;
  const std::size_t members_length = all.size() < 2 ? 0 : all[1] % 8;
  const std::u16string_view rest = all.substr(std::min<std::size_t>(2, all.size()));
  const std::u16string_view id = rest.substr(0, std::min(id_length, rest.size()));
  const std::u16string_view after_id = rest.substr(id.size());
  const std::u16string_view members = after_id.substr(0, std::min(members_length, after_id.size()));
  const std::u16string_view text = after_id.substr(members.size());
  mcp::jsonrpc::ReplyBuffer buffer;
  buffer.append_line("{}");
  buffer.set_members(members);
  buffer.append_text_result(id, text);
  buffer.append_text_result(id, u"");
  buffer.set_members(u"");
  buffer.append_text_result(id, u"");
  const std::string head = "{\"jsonrpc\":\"2.0\",\"id\":" + utf8_replacing_lone_surrogates(id) +
                           ",\"result\":{\"content\":[{\"type\":\"text\",\"text\":";
  const std::string tail = "}]" + utf8_replacing_lone_surrogates(members) + "}}\n";
  const std::string expected = "{}\n" + head + check::reference_json_string(text) + tail + head + "\"\"" + tail + head +
                               "\"\"}]}}\n";
  if (std::string(buffer.data(), buffer.size()) != expected) fail("text result line differs");
  buffer.clear();
  if (buffer.size() != 0) fail("clear left bytes");
  return 0;
}
