// reply_buffer.h: the shared vectors (test/vectors/reply-buffer.json), the JSON string writer against a
// unit-at-a-time reference for every unit and for random text (its eight- and four-unit paths at every
// alignment), UTF-8 of the id and members, the buffer's growth and reuse, and its writes into a pipe.
// Usage: reply_buffer_test <test/vectors directory>.
#include "core/reply_buffer.h"

#include <fcntl.h>
#include <simdjson.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "json_utf16.h"
#include "vector_cases.h"

namespace {

namespace fs = std::filesystem;
namespace dom = simdjson::dom;
using check::failf;
using check::g_failure;
using check::read_file;
using check::reference_json_string;
using check::utf16_of;
using mcp::jsonrpc::ReplyBuffer;

std::string written(std::u16string_view text) {
  std::string out(mcp::jsonrpc::json_string_utf16_bound(text.size()), '\0');
  char* end = mcp::jsonrpc::write_json_string_utf16(out.data(), text.data(), text.size());
  out.resize(static_cast<std::size_t>(end - out.data()));
  return out;
}

bool run_case(dom::element c) {
  std::string_view id, members, expect, text8;
  if (c["id"].get_string().get(id) != simdjson::SUCCESS) return failf("id must be a string");
  if (c["members"].get_string().get(members) != simdjson::SUCCESS) return failf("members must be a string");
  if (c["expect"].get_string().get(expect) != simdjson::SUCCESS) return failf("expect must be a string");
  std::u16string text;
  dom::array units;
  if (c["textUnits"].get_array().get(units) == simdjson::SUCCESS) {
    for (dom::element unit : units) {
      uint64_t value = 0;
      if (unit.get_uint64().get(value) != simdjson::SUCCESS || value > 0xFFFF) return failf("textUnits: 0 .. 65535");
      text.push_back(static_cast<char16_t>(value));
    }
  } else if (c["text"].get_string().get(text8) == simdjson::SUCCESS) {
    text = utf16_of(text8);
  } else {
    return failf("a case needs text or textUnits");
  }
  ReplyBuffer buffer;
  buffer.set_members(utf16_of(members));
  buffer.append_text_result(utf16_of(id), text);
  const std::string got(buffer.data(), buffer.size());
  if (got != expect) return failf("expected " + check::show(expect) + "\n    got      " + check::show(got));
  return true;
}

int run_vectors(const fs::path& file, std::size_t* cases) {
  return check::run_vector_cases(file, "reply-buffer", cases, run_case);
}

/// Every unit alone, and inside runs that take the eight- and four-unit paths up to it.
bool test_every_unit_against_the_reference() {
  for (uint32_t unit = 0; unit <= 0xFFFF; ++unit) {
    for (const std::size_t before : {0, 3, 4, 7, 8, 11, 16}) {
      std::u16string text(before, u'a');
      text.push_back(static_cast<char16_t>(unit));
      text.append(9, u'z');
      if (written(text) != reference_json_string(text)) {
        ASSERT_EQ(written(text), reference_json_string(text));
      }
    }
  }
  return true;
}

/// Random text of mostly plain ASCII with the units that end a run (escapes, non-ASCII, surrogates) mixed in.
bool test_random_text_against_the_reference() {
  std::mt19937 random(20261123);
  const char16_t specials[] = {u'"', u'\\', 0x1F, 0x20, 0x7E, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xD800,
                               0xDBFF, 0xDC00, 0xDFFF, 0xE000, 0xFFFF, 0x00, u'\n', 0x5C5C, 0x2222};
  for (int round = 0; round < 200000; ++round) {
    std::u16string text;
    const std::size_t length = random() % 40;
    for (std::size_t i = 0; i < length; ++i) {
      const uint32_t pick = random() % 16;
      text.push_back(pick == 0   ? specials[random() % std::size(specials)]
                     : pick == 1 ? static_cast<char16_t>(random() % 0x10000)
                                 : static_cast<char16_t>(0x20 + random() % 0x5F));
    }
    if (written(text) != reference_json_string(text)) {
      ASSERT_EQ(written(text), reference_json_string(text));
    }
  }
  return true;
}

/// The id and members are UTF-16 written as UTF-8 as they are; a lone surrogate there becomes U+FFFD.
bool test_id_and_members_as_utf8() {
  ReplyBuffer buffer;
  buffer.set_members(std::u16string(u",\"k\":\"\xD800\""));
  buffer.append_text_result(u"\"é😀\"", u"t");
  ASSERT_EQ(std::string(buffer.data(), buffer.size()),
            std::string("{\"jsonrpc\":\"2.0\",\"id\":\"\xC3\xA9\xF0\x9F\x98\x80\",\"result\":{\"content\":[{\"type\":"
                        "\"text\",\"text\":\"t\"}],\"k\":\"\xEF\xBF\xBD\"}}\n"));
  return true;
}

/// Members are written by every text result until set again; '' (the start) writes none.
bool test_members_kept_until_set() {
  ReplyBuffer buffer;
  buffer.append_text_result(u"1", u"a");
  buffer.set_members(u",\"resultType\":\"complete\"");
  buffer.append_text_result(u"2", u"b");
  buffer.append_line("{}");
  buffer.append_text_result(u"3", u"c");
  buffer.set_members(u"");
  buffer.append_text_result(u"4", u"d");
  const std::string head = "{\"jsonrpc\":\"2.0\",\"id\":";
  const std::string result = ",\"result\":{\"content\":[{\"type\":\"text\",\"text\":";
  ASSERT_EQ(std::string(buffer.data(), buffer.size()),
            head + "1" + result + "\"a\"}]}}\n" + head + "2" + result + "\"b\"}],\"resultType\":\"complete\"}}\n{}\n" + head +
                "3" + result + "\"c\"}],\"resultType\":\"complete\"}}\n" + head + "4" + result + "\"d\"}]}}\n");
  return true;
}

/// Lines follow each other; growth keeps what was written; clear() keeps storage up to kKeepBytes.
bool test_lines_growth_and_clear() {
  ReplyBuffer buffer;
  buffer.append_line("{\"a\":1}");
  const std::u16string long_text(300000, u'\x4E2D');  // 900,000 bytes of UTF-8
  buffer.append_text_result(u"2", long_text);
  buffer.append_line("x");
  const std::string all(buffer.data(), buffer.size());
  const std::string head = "{\"a\":1}\n{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"";
  ASSERT_EQ(all.substr(0, head.size()), head);
  ASSERT_EQ(all.size(), head.size() + 900000 + std::string("\"}]}}\nx\n").size());
  ASSERT_EQ(all.substr(all.size() - 8), std::string("\"}]}}\nx\n"));
  buffer.clear();
  ASSERT_EQ(buffer.size(), std::size_t{0});
  buffer.append_line("");
  ASSERT_EQ(std::string(buffer.data(), buffer.size()), std::string("\n"));
  // Past kKeepBytes the storage is let go, and the buffer works as new.
  buffer.append_line(std::string(ReplyBuffer::kKeepBytes * 2, 'y'));
  buffer.clear();
  buffer.append_line("z");
  ASSERT_EQ(std::string(buffer.data(), buffer.size()), std::string("z\n"));
  return true;
}

/// consume() drops a prefix and keeps the rest in order.
bool test_consume() {
  ReplyBuffer buffer;
  buffer.append_line("abc");
  buffer.append_line("def");
  buffer.consume(2);
  ASSERT_EQ(std::string(buffer.data(), buffer.size()), std::string("c\ndef\n"));
  buffer.consume(100);
  ASSERT_EQ(buffer.size(), std::size_t{0});
  return true;
}

/// write_to: all of it into a pipe with room; what a full pipe does not take stays, in order; a blocking fd
/// is refused without a write; a pipe without a reader is -EPIPE (SIGPIPE ignored, as node does).
bool test_write_to_a_pipe() {
  std::signal(SIGPIPE, SIG_IGN);
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  ReplyBuffer buffer;
  ASSERT_EQ(buffer.write_to(fds[1]), 0L);  // nothing waiting
  buffer.append_line("{\"a\":1}");
  ASSERT_EQ(buffer.write_to(fds[1]), 0L);
  char got[16] = {};
  ASSERT_EQ(read(fds[0], got, sizeof(got)), 8);
  ASSERT_EQ(std::string(got, 8), std::string("{\"a\":1}\n"));
  // Fill the pipe: the rest stays, and reads out whole after the pipe is drained.
  const long capacity = fcntl(fds[1], F_GETPIPE_SZ);
  ASSERT_TRUE(capacity > 0);
  std::string all;
  for (int i = 0; static_cast<long>(all.size()) < capacity * 2; ++i) {
    const std::string line = std::to_string(i) + std::string(100, 'x');
    buffer.append_line(line);
    all += line + "\n";
  }
  const long left = buffer.write_to(fds[1]);
  ASSERT_TRUE(left > 0 && left < static_cast<long>(all.size()));
  ASSERT_EQ(buffer.write_to(fds[1]), left);  // full: nothing more goes, nothing is lost
  std::string out;
  std::vector<char> chunk(static_cast<std::size_t>(capacity));
  while (out.size() < all.size()) {
    const ssize_t n = read(fds[0], chunk.data(), chunk.size());
    if (n > 0) out.append(chunk.data(), static_cast<std::size_t>(n));
    if (buffer.size() != 0) buffer.write_to(fds[1]);
    ASSERT_TRUE(n > 0 || buffer.size() != 0);
  }
  ASSERT_EQ(out == all, true);
  // A blocking fd: refused, nothing consumed.
  ASSERT_EQ(fcntl(fds[1], F_SETFL, 0), 0);
  buffer.append_line("z");
  ASSERT_EQ(buffer.write_to(fds[1]), static_cast<long>(-EWOULDBLOCK));
  ASSERT_EQ(buffer.size(), std::size_t{2});
  // No reader: -EPIPE, nothing consumed.
  ASSERT_EQ(fcntl(fds[1], F_SETFL, O_NONBLOCK), 0);
  close(fds[0]);
  ASSERT_EQ(buffer.write_to(fds[1]), static_cast<long>(-EPIPE));
  ASSERT_EQ(buffer.size(), std::size_t{2});
  close(fds[1]);
  ASSERT_EQ(buffer.write_to(fds[1]), static_cast<long>(-EBADF));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: reply_buffer_test <vectors dir>\n");
    return 2;
  }
  int failures = 0;
  std::size_t cases = 0;
  failures += run_vectors(fs::path(argv[1]) / "reply-buffer.json", &cases);
  std::fprintf(stdout, "%s %zu vector cases\n", failures == 0 ? "ok  " : "FAIL", cases);
  RUN(test_every_unit_against_the_reference);
  RUN(test_random_text_against_the_reference);
  RUN(test_id_and_members_as_utf8);
  RUN(test_members_kept_until_set);
  RUN(test_lines_growth_and_clear);
  RUN(test_consume);
  RUN(test_write_to_a_pipe);
  if (!g_failure.empty()) std::fprintf(stdout, "%s", g_failure.c_str());
  return failures == 0 ? 0 : 1;
}
