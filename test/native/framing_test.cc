// framing.h: line splitting, CR and BOM handling, blank lines, carrying across chunks, too_large timing and
// discarding, end(), reset() and the release of large carry buffers.
#include "core/framing.h"

#include <string>
#include <vector>

#include "check.h"

namespace {

using mcp::jsonrpc::Framer;
using mcp::jsonrpc::Line;

struct Event {
  bool too_large = false;
  bool from_carry = false;
  std::string text;
  std::size_t offset = 0;
  std::size_t readable_after = 0;
};

// Feeds one chunk and resolves every event against its source (checking spans on the way).
bool feed(Framer* framer, std::string_view chunk, std::vector<Event>* events) {
  events->clear();
  const auto* bytes = reinterpret_cast<const uint8_t*>(chunk.data());
  framer->begin(bytes, chunk.size());
  Line line;
  while (framer->next(&line)) {
    Event event;
    event.too_large = line.too_large;
    if (!line.too_large) {
      event.from_carry = line.from_carry;
      const std::string_view source = line.from_carry ? framer->carried() : chunk;
      ASSERT_TRUE(line.offset + line.size <= source.size());
      ASSERT_TRUE(reinterpret_cast<const char*>(line.data) == source.data() + line.offset);
      event.text.assign(source.substr(line.offset, line.size));
      event.offset = line.offset;
      event.readable_after = line.readable_after;
    }
    events->push_back(event);
  }
  return true;
}

bool end(Framer* framer, std::vector<Event>* events) {
  events->clear();
  Line line;
  if (framer->end(&line)) {
    ASSERT_TRUE(line.from_carry);
    ASSERT_TRUE(line.offset + line.size <= framer->carried().size());
    Event event;
    event.from_carry = true;
    event.text.assign(framer->carried().substr(line.offset, line.size));
    event.offset = line.offset;
    event.readable_after = line.readable_after;
    events->push_back(event);
  }
  return true;
}

bool test_lines_in_one_chunk() {
  Framer framer(1000);
  std::vector<Event> events;
  ASSERT_TRUE(feed(&framer, "{\"a\":1}\n{\"b\":2}\r\n\n  \t \r\n[3]\npartial", &events));
  ASSERT_EQ(events.size(), 3u);
  ASSERT_EQ(events[0].text, "{\"a\":1}");
  ASSERT_EQ(events[0].offset, 0u);
  ASSERT_FALSE(events[0].from_carry);
  ASSERT_EQ(events[1].text, "{\"b\":2}");  // CR dropped
  ASSERT_EQ(events[1].offset, 8u);
  ASSERT_EQ(events[2].text, "[3]");
  // Bytes after each line up to the end of the chunk.
  ASSERT_EQ(events[2].readable_after, std::string_view("\npartial").size());
  ASSERT_EQ(framer.carried(), "");
  ASSERT_TRUE(end(&framer, &events));
  ASSERT_EQ(events.size(), 1u);
  ASSERT_EQ(events[0].text, "partial");
  ASSERT_EQ(framer.carried(), "partial");
  ASSERT_TRUE(events[0].readable_after >= Framer::kCarryPadding);
  return true;
}

bool test_only_one_trailing_cr_is_dropped() {
  Framer framer(1000);
  std::vector<Event> events;
  ASSERT_TRUE(feed(&framer, "x\r\r\n\r\n", &events));
  ASSERT_EQ(events.size(), 1u);
  ASSERT_EQ(events[0].text, "x\r");
  return true;
}

bool test_line_split_over_chunks_is_carried() {
  Framer framer(1000);
  std::vector<Event> events;
  ASSERT_TRUE(feed(&framer, "{\"a\"", &events));
  ASSERT_TRUE(events.empty());
  ASSERT_TRUE(feed(&framer, ":", &events));
  ASSERT_TRUE(events.empty());
  ASSERT_TRUE(feed(&framer, "1}\r\n{\"b\":2}\n{\"c\"", &events));
  ASSERT_EQ(events.size(), 2u);
  ASSERT_TRUE(events[0].from_carry);
  ASSERT_EQ(events[0].text, "{\"a\":1}");
  ASSERT_EQ(framer.carried(), "{\"a\":1}\r");
  ASSERT_FALSE(events[1].from_carry);
  ASSERT_EQ(events[1].text, "{\"b\":2}");
  ASSERT_EQ(events[1].offset, 4u);
  // The next call drops the completed line; the new partial line continues.
  ASSERT_TRUE(feed(&framer, ":3}\n", &events));
  ASSERT_EQ(events.size(), 1u);
  ASSERT_TRUE(events[0].from_carry);
  ASSERT_EQ(events[0].text, "{\"c\":3}");
  ASSERT_TRUE(feed(&framer, "", &events));
  ASSERT_TRUE(events.empty());
  ASSERT_EQ(framer.carried(), "");
  return true;
}

bool test_carried_line_ending_at_chunk_start() {
  Framer framer(1000);
  std::vector<Event> events;
  ASSERT_TRUE(feed(&framer, "[1]", &events));
  ASSERT_TRUE(feed(&framer, "\n[2]\n", &events));
  ASSERT_EQ(events.size(), 2u);
  ASSERT_TRUE(events[0].from_carry);
  ASSERT_EQ(events[0].text, "[1]");
  ASSERT_EQ(events[1].text, "[2]");
  ASSERT_EQ(events[1].offset, 1u);
  return true;
}

bool test_bom_at_stream_start_only() {
  Framer framer(1000);
  std::vector<Event> events;
  ASSERT_TRUE(feed(&framer, "\xEF\xBB\xBF[1]\n\xEF\xBB\xBF[2]\n", &events));
  ASSERT_EQ(events.size(), 2u);
  ASSERT_EQ(events[0].text, "[1]");
  ASSERT_EQ(events[0].offset, 3u);
  ASSERT_EQ(events[1].text, "\xEF\xBB\xBF[2]");  // not the stream start: ordinary bytes
  return true;
}

bool test_bom_split_over_three_chunks() {
  Framer framer(1000);
  std::vector<Event> events;
  ASSERT_TRUE(feed(&framer, "\xEF", &events));
  ASSERT_TRUE(feed(&framer, "\xBB", &events));
  ASSERT_TRUE(feed(&framer, "\xBF[1]\n", &events));
  ASSERT_EQ(events.size(), 1u);
  ASSERT_TRUE(events[0].from_carry);
  ASSERT_EQ(events[0].text, "[1]");
  ASSERT_EQ(events[0].offset, 3u);
  return true;
}

bool test_bom_after_empty_first_line_is_ordinary() {
  Framer framer(1000);
  std::vector<Event> events;
  ASSERT_TRUE(feed(&framer, "\n\xEF\xBB\xBF[1]\n", &events));
  ASSERT_EQ(events.size(), 1u);
  ASSERT_EQ(events[0].text, "\xEF\xBB\xBF[1]");
  return true;
}

bool test_bom_only_line_is_blank() {
  Framer framer(1000);
  std::vector<Event> events;
  ASSERT_TRUE(feed(&framer, "\xEF\xBB\xBF\r\n[1]\n", &events));
  ASSERT_EQ(events.size(), 1u);
  ASSERT_EQ(events[0].text, "[1]");
  return true;
}

bool test_end_resets_the_stream() {
  Framer framer(1000);
  std::vector<Event> events;
  ASSERT_TRUE(feed(&framer, "\xEF\xBB\xBF[1]", &events));
  ASSERT_TRUE(end(&framer, &events));
  ASSERT_EQ(events.size(), 1u);
  ASSERT_EQ(events[0].text, "[1]");
  // A new stream: its BOM is dropped again.
  ASSERT_TRUE(feed(&framer, "\xEF\xBB\xBF[2]\n", &events));
  ASSERT_EQ(events.size(), 1u);
  ASSERT_EQ(events[0].text, "[2]");
  ASSERT_TRUE(end(&framer, &events));
  ASSERT_TRUE(events.empty());
  // A blank unterminated line gives nothing.
  ASSERT_TRUE(feed(&framer, " \r", &events));
  ASSERT_TRUE(end(&framer, &events));
  ASSERT_TRUE(events.empty());
  return true;
}

bool test_reset_forgets_carried_bytes() {
  Framer framer(1000);
  std::vector<Event> events;
  ASSERT_TRUE(feed(&framer, "\xEF\xBB\xBF{\"a\"", &events));
  framer.reset();
  ASSERT_TRUE(feed(&framer, "\xEF\xBB\xBF[1]\n", &events));
  ASSERT_EQ(events.size(), 1u);
  ASSERT_FALSE(events[0].from_carry);
  ASSERT_EQ(events[0].text, "[1]");
  return true;
}

bool test_too_large_in_one_chunk() {
  Framer framer(5);
  std::vector<Event> events;
  // Exactly 5 bytes pass; 6 do not; CR and BOM count.
  ASSERT_TRUE(feed(&framer, "12345\n123456\n1234\r\n12345\r\n[1]\n", &events));
  ASSERT_EQ(events.size(), 5u);
  ASSERT_EQ(events[0].text, "12345");
  ASSERT_TRUE(events[1].too_large);
  ASSERT_EQ(events[2].text, "1234");
  ASSERT_TRUE(events[3].too_large);
  ASSERT_EQ(events[4].text, "[1]");
  ASSERT_TRUE(feed(&framer, "[2]\n", &events));
  ASSERT_EQ(events.size(), 1u);
  ASSERT_EQ(events[0].text, "[2]");
  Framer with_bom(5);
  ASSERT_TRUE(feed(&with_bom, "\xEF\xBB\xBF[1]\n", &events));
  ASSERT_EQ(events.size(), 1u);
  ASSERT_TRUE(events[0].too_large);
  return true;
}

bool test_too_large_reported_when_first_seen_then_discarded() {
  Framer framer(8);
  std::vector<Event> events;
  ASSERT_TRUE(feed(&framer, "[1]\n12345", &events));
  ASSERT_EQ(events.size(), 1u);
  ASSERT_TRUE(feed(&framer, "6789", &events));  // 9 bytes seen: reported now, before any LF
  ASSERT_EQ(events.size(), 1u);
  ASSERT_TRUE(events[0].too_large);
  ASSERT_TRUE(feed(&framer, "more bytes of the same line", &events));
  ASSERT_TRUE(events.empty());
  ASSERT_TRUE(feed(&framer, "still\n[2]\n[3", &events));
  ASSERT_EQ(events.size(), 1u);
  ASSERT_EQ(events[0].text, "[2]");
  ASSERT_TRUE(feed(&framer, "]\n", &events));
  ASSERT_EQ(events.size(), 1u);
  ASSERT_EQ(events[0].text, "[3]");
  ASSERT_TRUE(events[0].from_carry);
  return true;
}

bool test_too_large_whitespace_line_still_reported() {
  Framer framer(4);
  std::vector<Event> events;
  ASSERT_TRUE(feed(&framer, "          \n[1]\n", &events));
  ASSERT_EQ(events.size(), 2u);
  ASSERT_TRUE(events[0].too_large);
  ASSERT_EQ(events[1].text, "[1]");
  return true;
}

bool test_end_while_discarding_gives_nothing() {
  Framer framer(4);
  std::vector<Event> events;
  ASSERT_TRUE(feed(&framer, "123456", &events));
  ASSERT_EQ(events.size(), 1u);
  ASSERT_TRUE(end(&framer, &events));
  ASSERT_TRUE(events.empty());
  // The next stream is fresh: not discarding any more.
  ASSERT_TRUE(feed(&framer, "[1]\n", &events));
  ASSERT_EQ(events.size(), 1u);
  ASSERT_EQ(events[0].text, "[1]");
  return true;
}

bool test_large_carry_buffer_released() {
  Framer framer(1 << 20);
  std::vector<Event> events;
  const std::string big(200 * 1024, 'x');
  for (std::size_t at = 0; at < big.size(); at += 1000) {
    ASSERT_TRUE(feed(&framer, std::string_view(big).substr(at, 1000), &events));
    ASSERT_TRUE(events.empty());
  }
  ASSERT_TRUE(feed(&framer, "\n[1]\n", &events));
  ASSERT_EQ(events.size(), 2u);
  ASSERT_EQ(events[0].text.size(), big.size());
  ASSERT_TRUE(events[0].from_carry);
  ASSERT_EQ(framer.carried().size(), big.size());
  ASSERT_TRUE(feed(&framer, "[2]\n", &events));
  ASSERT_EQ(framer.carried(), "");
  return true;
}

bool test_byte_by_byte_equals_whole() {
  const std::string stream = "\xEF\xBB\xBF{\"a\":1}\r\n\n[2]\n   \n\"x\"\r\n{}";
  Framer whole(100);
  std::vector<Event> events;
  std::vector<std::string> expected;
  ASSERT_TRUE(feed(&whole, stream, &events));
  for (const Event& event : events) expected.push_back(event.text);
  ASSERT_TRUE(end(&whole, &events));
  for (const Event& event : events) expected.push_back(event.text);
  Framer bytes(100);
  std::vector<std::string> actual;
  for (char c : stream) {
    ASSERT_TRUE(feed(&bytes, std::string_view(&c, 1), &events));
    for (const Event& event : events) actual.push_back(event.text);
  }
  ASSERT_TRUE(end(&bytes, &events));
  for (const Event& event : events) actual.push_back(event.text);
  ASSERT_EQ(actual.size(), expected.size());
  ASSERT_EQ(actual.size(), 4u);
  for (std::size_t i = 0; i < actual.size(); ++i) ASSERT_EQ(actual[i], expected[i]);
  return true;
}

}  // namespace

int main() {
  int failures = 0;
  RUN(test_lines_in_one_chunk);
  RUN(test_only_one_trailing_cr_is_dropped);
  RUN(test_line_split_over_chunks_is_carried);
  RUN(test_carried_line_ending_at_chunk_start);
  RUN(test_bom_at_stream_start_only);
  RUN(test_bom_split_over_three_chunks);
  RUN(test_bom_after_empty_first_line_is_ordinary);
  RUN(test_bom_only_line_is_blank);
  RUN(test_end_resets_the_stream);
  RUN(test_reset_forgets_carried_bytes);
  RUN(test_too_large_in_one_chunk);
  RUN(test_too_large_reported_when_first_seen_then_discarded);
  RUN(test_too_large_whitespace_line_still_reported);
  RUN(test_end_while_discarding_gives_nothing);
  RUN(test_large_carry_buffer_released);
  RUN(test_byte_by_byte_equals_whole);
  return failures == 0 ? 0 : 1;
}
