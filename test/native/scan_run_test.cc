// Runs of lines indexed by one stage-1 pass (Scanner::index_run / scan_in_run, used by Engine::feed): every
// line of a run gets exactly the records scan() gives it alone, whatever precedes or follows it in the run,
// and a stream gives the same records fed whole (in runs) as fed in small pieces (lines carried, alone).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "check.h"
#include "core/engine.h"
#include "core/records.h"
#include "core/router.h"
#include "core/scan.h"
#include "record_text.h"

namespace {

using mcp::jsonrpc::Engine;
using mcp::jsonrpc::Limits;
using mcp::jsonrpc::Message;
using mcp::jsonrpc::Router;
using mcp::jsonrpc::Scanner;
namespace f = mcp::jsonrpc::field;
namespace flag = mcp::jsonrpc::flag;
namespace table = mcp::jsonrpc::table;

Scanner g_scanner;

Router make_router() {
  Router router;
  router.set_method("ping", 1, table::kNone);
  router.set_method("tools/call", 3, table::kTools);
  router.set_method("resources/read", 4, table::kResources);
  router.set_name(table::kTools, "echo", 0);
  router.set_name(table::kResources, "file:///a", 1);
  return router;
}
const Router g_router = make_router();

uint32_t next_random(uint32_t* state) {
  uint32_t x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  *state = x;
  return x;
}

std::string request(int id, std::string_view text) {
  return "{\"jsonrpc\":\"2.0\",\"id\":" + std::to_string(id) +
         ",\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"text\":\"" + std::string(text) +
         "\"}}}";
}

std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string many_members() {
  std::string out = "{\"jsonrpc\":\"2.0\",\"method\":\"ping\"";
  for (int i = 0; i < 20; ++i) out += ",\"k" + std::to_string(i) + "\":" + std::to_string(i);
  return out + "}";
}

// Lines whose stage 1 succeeds alone (valid or not as JSON-RPC, valid or not as JSON).
const std::vector<std::string> kCleanLines = {
    request(1, "hello"),
    request(2, "quote \\\" and \\u00e9 and \\ud83d\\ude00"),
    "{\"jsonrpc\":\"2.0\",\"id\":\"a\\\"b\",\"method\":\"tools/call\",\"params\":{\"name\":\"ec\\u0068o\"}}",
    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"resources/read\",\"params\":{\"uri\":\"file:///a\",\"_meta\":{}}}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}",
    "   {\"jsonrpc\":\"2.0\",\"method\":\"ping\"}  \t",
    "{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{\"x\":[1,2.5,-3e4,true,false,null]}}",
    "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"m\"}}",
    "[{\"jsonrpc\":\"2.0\",\"method\":\"ping\"},{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"x\"},7]",
    "[]",
    "[1,",
    "2]",
    "{\"jsonrpc\":\"2.0\",",
    "\"method\":\"ping\"}",
    "}",
    "1",
    "\"text\"",
    "tru",
    "nul",
    "-",
    "01",
    "1.5e",
    "{\"a\":1}x",
    "{\"jsonrpc\":\"2.0\",\"method\":\"ping\"} {\"x\":1}",
    "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"name\":\"x\"}}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"params\":{\"bad\":\"\\ud800\"}}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"params\":{\"bad\":\"\\x\"}}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}\\",
    "\\\"{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}",
    "\xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"caf\xC3\xA9\"}",
    nested(5),
    nested(200),
    many_members(),
    "",
    "  \t",
    request(7, std::string(500, 'x')),
    "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"arguments\": { \"a\" : [1, {\"b\":\"}\"}] ,"
    "\"c\":-2.5e1 } ,\"name\":\"echo\"}}",
    "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"a\\\"b\":1}}}",
    "[" + request(10, "in a batch") + ",{\"jsonrpc\":\"2.0\",\"method\":\"tools/call\",\"params\":{\"arguments\":{\"x\":{}}}}]",
};

// Lines stage 1 refuses alone: invalid UTF-8, an unclosed string, a control character in a string.
const std::vector<std::string> kDirtyLines = {
    "{\"jsonrpc\":\"2.0\",\"method\":\"\xFF\"}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"unclosed}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"a\x01\"}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"a\tb\"}",
    "\"",
};

// A record with its spans resolved against their sources, independent of where the spans point.
std::string summary(const check::RecordText& r) {
  std::string out;
  for (std::size_t i : {f::kKind, f::kSlot, f::kNameSlot, f::kCode, f::kReason}) out += std::to_string(r.at(i)) + "|";
  // META_REPEATED compares within one engine call, so it depends on the chunking (vectors and fuzz check it).
  out += std::to_string(r.flags() & ~(flag::kSrcCarry | flag::kMetaRepeated)) + "|";
  for (const std::string* text : {&r.message, &r.id, &r.method, &r.body, &r.reply, &r.name, &r.arguments, &r.meta}) {
    out += std::to_string(text->size()) + ":" + *text + "|";
  }
  return out;
}

// The records Scanner output as `records` / `replies` for `source`, summarised.
std::vector<std::string> summaries(const std::vector<int32_t>& records, std::string_view source,
                                   std::string_view replies) {
  std::vector<std::string> out;
  for (std::size_t at = 0; at < records.size(); at += mcp::jsonrpc::kRecordStride) {
    check::RecordText r;
    for (std::size_t j = 0; j < mcp::jsonrpc::kRecordStride; ++j) r.fields[j] = records[at + j];
    bool ok = check::read_span(source, r.at(f::kStart), r.at(f::kEnd), &r.has_message, &r.message);
    ok = check::read_span(source, r.at(f::kIdStart), r.at(f::kIdEnd), &r.has_id, &r.id) && ok;
    ok = check::read_span(source, r.at(f::kMethodStart), r.at(f::kMethodEnd), &r.has_method, &r.method) && ok;
    ok = check::read_span(source, r.at(f::kNameStart), r.at(f::kNameEnd), &r.has_name, &r.name) && ok;
    ok = check::read_span(source, r.at(f::kArgsStart), r.at(f::kArgsEnd), &r.has_arguments, &r.arguments) && ok;
    ok = check::read_span(source, r.at(f::kMetaStart), r.at(f::kMetaEnd), &r.has_meta, &r.meta) && ok;
    if ((r.flags() & flag::kBodyIsReply) != 0) {
      ok = check::read_span(replies, r.at(f::kBodyStart), r.at(f::kBodyEnd), &r.has_reply, &r.reply) && ok;
    } else {
      ok = check::read_span(source, r.at(f::kBodyStart), r.at(f::kBodyEnd), &r.has_body, &r.body) && ok;
    }
    out.push_back(ok ? summary(r) : "bad span");
  }
  return out;
}

// The arguments' members the scan listed (ArgumentMembers) from entry `at` on, as text: the record's index
// counted from `first_record`, then each member's name and value.
void member_summaries(const std::vector<int32_t>& members, std::size_t at, std::string_view source,
                      std::size_t first_record, std::vector<std::string>* out) {
  while (at + 2 <= members.size()) {
    const auto count = static_cast<std::size_t>(members[at + 1]);
    std::string text = "members of " + std::to_string(static_cast<std::size_t>(members[at]) - first_record) + ":";
    for (std::size_t m = 0; m < count && at + 2 + 4 * m + 3 < members.size(); ++m) {
      const int32_t* span = members.data() + at + 2 + 4 * m;
      std::string name, value;
      bool has_name = false, has_value = false;
      const bool ok = check::read_span(source, span[0], span[1], &has_name, &name) &&
                      check::read_span(source, span[2], span[3], &has_value, &value);
      text += ok ? " " + name + "=" + value : " bad span";
    }
    out->push_back(text);
    at += 2 + 4 * count;
  }
}

// What scan() gives `line` alone (a copy holding only its bytes): its records; its arguments' members are
// appended to `listed`.
std::vector<std::string> scan_alone(std::string_view line, const Limits& limits, std::vector<std::string>* listed = nullptr) {
  const std::string copy(line);
  Message message;
  message.data = reinterpret_cast<const uint8_t*>(copy.data());
  message.size = copy.size();
  std::vector<int32_t> records;
  std::string replies;
  std::vector<int32_t> members;
  g_scanner.scan(message, g_router, limits, &records, &replies, &members);
  if (listed != nullptr) member_summaries(members, 0, copy, 0, listed);
  return summaries(records, copy, replies);
}

// A run buffer: the lines, each ended by LF (some by CRLF), then `tail` (no LF) as the readable padding.
struct RunBuffer {
  std::string bytes;
  std::vector<std::size_t> starts;  // of each line
  std::vector<std::size_t> sizes;   // without CR and LF
  std::size_t run_size = 0;         // up to and with the last LF
};

RunBuffer make_run(const std::vector<std::string>& lines, std::string_view tail, uint32_t* seed) {
  RunBuffer run;
  for (const std::string& line : lines) {
    run.starts.push_back(run.bytes.size());
    run.sizes.push_back(line.size());
    run.bytes += line;
    run.bytes += (next_random(seed) & 3u) == 0 ? "\r\n" : "\n";
  }
  run.run_size = run.bytes.size();
  run.bytes += tail;
  return run;
}

Message line_message(const RunBuffer& run, std::size_t i) {
  Message message;
  message.data = reinterpret_cast<const uint8_t*>(run.bytes.data()) + run.starts[i];
  message.size = run.sizes[i];
  message.offset = run.starts[i];
  message.readable_after = run.bytes.size() - run.starts[i] - run.sizes[i];
  return message;
}

// Every clean line, in a run after every other clean line (and before it): the records of scan() alone.
bool test_run_lines_match_scan_alone() {
  // The padding after the run looks like the start of a message: the walk must never read it as one.
  const std::string tail = "{\"jsonrpc\":\"2.0\",\"method\":\"ping\"," + std::string(64, ' ');
  uint32_t seed = 12345;
  for (const Limits limits : {Limits{}, Limits{4194304, 3, 2, true}, Limits{4194304, 128, 1000, false}}) {
    for (std::size_t a = 0; a < kCleanLines.size(); ++a) {
      std::vector<std::string> lines;
      for (std::size_t b = 0; b < kCleanLines.size(); ++b) {
        lines.push_back(kCleanLines[a]);
        lines.push_back(kCleanLines[b]);
      }
      // (Blank lines are the framer's to drop; scan() and scan_in_run() give them invalid_json alike.)
      std::vector<std::string> expected;
      std::vector<std::string> expected_listed;
      for (const std::string& line : lines) {
        for (std::string& s : scan_alone(line, limits, &expected_listed)) expected.push_back(std::move(s));
      }
      const RunBuffer run = make_run(lines, tail, &seed);
      ASSERT_TRUE(g_scanner.index_run(reinterpret_cast<const uint8_t*>(run.bytes.data()), run.run_size));
      std::vector<int32_t> records;
      std::string replies;
      std::vector<int32_t> members;
      std::vector<std::string> listed;
      for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::size_t first_record = records.size() / mcp::jsonrpc::kRecordStride;
        const std::size_t first_member = members.size();
        g_scanner.scan_in_run(line_message(run, i), g_router, limits, &records, &replies, &members);
        member_summaries(members, first_member, run.bytes, first_record, &listed);
      }
      ASSERT_TRUE(listed == expected_listed);
      const std::vector<std::string> actual = summaries(records, run.bytes, replies);
      ASSERT_EQ(actual.size(), expected.size());
      for (std::size_t i = 0; i < actual.size(); ++i) ASSERT_EQ(actual[i], expected[i]);
    }
  }
  return true;
}

// The arguments' members as the walk lists them: names without quotes, values without the whitespace
// around them; none for an escaped name or arguments that are not an object; batch elements by their record.
bool test_arguments_members_listed() {
  std::vector<std::string> listed;
  scan_alone(kCleanLines[kCleanLines.size() - 3], Limits{}, &listed);
  ASSERT_EQ(listed.size(), 1u);
  ASSERT_EQ(listed[0], std::string("members of 0: a=[1, {\"b\":\"}\"}] c=-2.5e1"));
  listed.clear();
  scan_alone(kCleanLines[kCleanLines.size() - 2], Limits{}, &listed);
  ASSERT_EQ(listed.size(), 0u);
  scan_alone(kCleanLines[kCleanLines.size() - 1], Limits{}, &listed);
  ASSERT_EQ(listed.size(), 2u);
  ASSERT_EQ(listed[0], std::string("members of 1: text=\"in a batch\""));
  ASSERT_EQ(listed[1], std::string("members of 2: x={}"));
  listed.clear();
  scan_alone(request(11, std::string(2000, 'y')), Limits{}, &listed);  // longer than kMaxReadArgumentsBytes
  ASSERT_EQ(listed.size(), 0u);
  return true;
}

// Stage 1 over a run fails when any of its lines would fail alone.
bool test_dirty_line_fails_the_run() {
  uint32_t seed = 99;
  for (const std::string& dirty : kDirtyLines) {
    for (std::size_t at = 0; at < 3; ++at) {
      std::vector<std::string> lines = {request(1, "a"), request(2, "b"), request(3, "c")};
      lines[at] = dirty;
      const RunBuffer run = make_run(lines, std::string(64, ' '), &seed);
      if (g_scanner.index_run(reinterpret_cast<const uint8_t*>(run.bytes.data()), run.run_size)) {
        return check::failf("run accepted with " + check::show(dirty));
      }
    }
  }
  return true;
}

// A scan() between two lines of a run ends the run: the next line is scanned alone, with the same records.
bool test_scan_ends_the_run() {
  uint32_t seed = 7;
  const std::vector<std::string> lines = {request(1, "a"), "[1,", request(2, "b"), "2]"};
  const RunBuffer run = make_run(lines, std::string(64, '\0'), &seed);
  ASSERT_TRUE(g_scanner.index_run(reinterpret_cast<const uint8_t*>(run.bytes.data()), run.run_size));
  std::vector<int32_t> records;
  std::string replies;
  g_scanner.scan_in_run(line_message(run, 0), g_router, Limits{}, &records, &replies);
  g_scanner.scan_in_run(line_message(run, 1), g_router, Limits{}, &records, &replies);
  const std::string other = "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\"}";
  ASSERT_EQ(scan_alone(other, Limits{}).size(), 1u);
  g_scanner.scan_in_run(line_message(run, 2), g_router, Limits{}, &records, &replies);
  g_scanner.scan_in_run(line_message(run, 3), g_router, Limits{}, &records, &replies);
  const std::vector<std::string> actual = summaries(records, run.bytes, replies);
  ASSERT_EQ(actual.size(), 4u);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::vector<std::string> alone = scan_alone(lines[i], Limits{});
    ASSERT_EQ(alone.size(), 1u);
    ASSERT_EQ(actual[i], alone[0]);
  }
  return true;
}

// A stream of many lines (clean, some dirty, some longer than a run) fed whole, in small pieces (lines
// carried) and in large pieces (runs after a carried line, lines across chunk ends): the same records.
std::vector<std::string> feed_stream(std::string_view stream, const std::vector<std::size_t>& chunks,
                                     const Limits& limits, bool* spans_ok) {
  Engine engine(&g_router, &g_scanner, limits);
  std::vector<std::string> out;
  std::size_t at = 0;
  for (std::size_t length : chunks) {
    // A copy of exactly the chunk's bytes, so that reading past it is a heap overflow under ASan.
    const std::string chunk(stream.substr(at, length));
    at += chunk.size();
    const std::vector<uint8_t> copy(chunk.begin(), chunk.end());
    if (!engine.feed(copy.data(), copy.size())) *spans_ok = false;
    for (const auto& r : check::record_texts(engine, chunk)) {
      if (!r.spans_ok) *spans_ok = false;
      out.push_back(summary(r));
    }
  }
  engine.end();
  for (const auto& r : check::record_texts(engine, {})) out.push_back(summary(r));
  return out;
}

std::vector<std::size_t> random_chunks(std::size_t total, std::size_t most, uint32_t* seed) {
  std::vector<std::size_t> chunks;
  for (std::size_t left = total; left > 0;) {
    std::size_t length = 1 + next_random(seed) % most;
    if (length > left) length = left;
    chunks.push_back(length);
    left -= length;
  }
  return chunks;
}

bool test_stream_whole_and_in_pieces() {
  uint32_t seed = 2024;
  const std::string long_line = request(8, std::string(40 * 1024, 'y'));  // longer than a run
  for (const Limits limits : {Limits{}, Limits{200, 128, 1000, true}, Limits{4194304, 4, 3, true}}) {
    for (int round = 0; round < 4; ++round) {
      std::string stream;
      std::size_t lines = 0;
      while (stream.size() < 5 * mcp::jsonrpc::kMaxRunBytes) {
        const uint32_t pick = next_random(&seed);
        if (round > 0 && pick % 400 == 0) {
          stream += kDirtyLines[pick / 400 % kDirtyLines.size()];
        } else if (pick % 997 == 1) {
          stream += long_line;
        } else {
          stream += kCleanLines[pick / 7 % kCleanLines.size()];
        }
        stream += (pick & 0x100u) != 0 ? "\r\n" : "\n";
        ++lines;
      }
      stream += request(9, "unterminated");
      bool spans_ok = true;
      const std::vector<std::string> whole = feed_stream(stream, {stream.size()}, limits, &spans_ok);
      ASSERT_TRUE(spans_ok);
      ASSERT_TRUE(whole.size() >= lines / 2);
      for (const std::size_t most : {std::size_t{97}, std::size_t{50 * 1024}, std::size_t{70 * 1024}}) {
        const std::vector<std::string> split =
            feed_stream(stream, random_chunks(stream.size(), most, &seed), limits, &spans_ok);
        ASSERT_TRUE(spans_ok);
        ASSERT_EQ(split.size(), whole.size());
        for (std::size_t i = 0; i < whole.size(); ++i) ASSERT_EQ(split[i], whole[i]);
      }
    }
  }
  return true;
}

// Lines that only make sense together stay apart in a run (the walk stops at each line's end).
bool test_lines_stay_apart() {
  Engine engine(&g_router, &g_scanner, Limits{});
  std::string chunk;
  for (int i = 0; i < 50; ++i) chunk += "{\"jsonrpc\":\"2.0\",\n\"method\":\"ping\"}\n[1,\n2]\n1\n2\n";
  chunk += std::string(100, ' ');
  ASSERT_TRUE(engine.feed(reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size()));
  const auto records = check::record_texts(engine, chunk);
  ASSERT_EQ(records.size(), 300u);
  const std::vector<std::string_view> reasons = {"invalid_json", "invalid_json", "invalid_json",
                                                 "invalid_json", "not_object",   "not_object"};
  for (std::size_t i = 0; i < records.size(); ++i) {
    ASSERT_TRUE(records[i].spans_ok);
    ASSERT_EQ(std::string(records[i].reason()), std::string(reasons[i % 6]));
  }
  return true;
}

}  // namespace

int main() {
  int failures = 0;
  RUN(test_run_lines_match_scan_alone);
  RUN(test_arguments_members_listed);
  RUN(test_dirty_line_fails_the_run);
  RUN(test_scan_ends_the_run);
  RUN(test_stream_whole_and_in_pieces);
  RUN(test_lines_stay_apart);
  if (failures != 0) std::fputs(check::g_failure.c_str(), stderr);
  return failures == 0 ? 0 : 1;
}
