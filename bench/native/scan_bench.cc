// Core-only timing of the JSON-RPC engine (framing + scan + route), no N-API: the difference to
// bench/*.bench.ts is the binding's cost. Cases:
//   typical   a ~140-byte tools/call, 64 of them in one NDJSON chunk (feed)
//   64 KiB    ~150-byte tools/call lines filling a 64 KiB chunk, as a stdio read delivers them (feed)
//   1 KB      one tools/call with about 1 KB of arguments (feed, one line)
//   100 KB    one resources/read response of about 100 KB (feed, one line)
//   100 KB    the same through scan() (an HTTP body: one copy into the padded scratch buffer)
// Each case is checked once before timing; the table shows the best of several trials, of the engine call
// alone and, for requests, followed by read_arguments (what a stdio read then asks for: docs/jsonrpc-engine.md
// section 11). The first line names simdjson's run-time kernel (stage 1 uses it; see CMakeLists.txt on -march).
// Usage: bench_scan [seconds per case, default 0.5] [only the cases whose name contains this text]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/arguments.h"
#include "core/engine.h"
#include "core/records.h"
#include "core/router.h"
#include "core/scan.h"

namespace {

namespace jr = mcp::jsonrpc;
using Clock = std::chrono::steady_clock;

jr::Router make_router() {
  jr::Router router;
  router.set_method("initialize", 0, jr::table::kNone);
  router.set_method("ping", 1, jr::table::kNone);
  router.set_method("tools/list", 2, jr::table::kNone);
  router.set_method("tools/call", 3, jr::table::kTools);
  router.set_method("resources/read", 4, jr::table::kResources);
  router.set_method("prompts/get", 5, jr::table::kPrompts);
  for (int i = 0; i < 20; ++i) router.set_name(jr::table::kTools, "tool_" + std::to_string(i), i);
  router.set_name(jr::table::kTools, "get_weather", 20);
  return router;
}

std::string typical_message(int id) {
  return "{\"jsonrpc\":\"2.0\",\"id\":" + std::to_string(id) +
         ",\"method\":\"tools/call\",\"params\":{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Berlin\","
         "\"units\":\"metric\",\"days\":3}}}";
}

// A small echo tools/call: a 64 KiB read of a busy stdio server holds about 430 of them.
std::string echo_message(int id) {
  return "{\"jsonrpc\":\"2.0\",\"id\":" + std::to_string(id) +
         ",\"method\":\"tools/call\",\"params\":{\"name\":\"tool_3\",\"arguments\":{\"text\":\"echo " +
         std::to_string(id) + " the quick brown fox jumps over the lazy dog\"}}}";
}

// The same call as a 2026-07-28 client sends it: every request repeats the same `_meta`.
std::string stateless_echo_message(int id) {
  std::string line = echo_message(id);
  line.resize(line.size() - 2);  // before params' closing brace
  return line +
         ",\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
         "\"io.modelcontextprotocol/clientCapabilities\":{}}}}";
}

std::string kilobyte_message() {
  std::string arguments = "{\"query\":\"";
  while (arguments.size() < 900) arguments += "lorem ipsum dolor sit amet, ";
  arguments += "\",\"tags\":[\"a\",\"b\",\"c\"],\"limit\":25,\"nested\":{\"deep\":{\"deeper\":[1,2,3,4.5e6,-0.25]}}}";
  return "{\"jsonrpc\":\"2.0\",\"id\":\"req-1\",\"method\":\"tools/"
         "call\",\"params\":{\"name\":\"tool_7\",\"arguments\":" +
         arguments + "}}";
}

std::string large_message() {
  std::string contents = "[";
  for (int i = 0; contents.size() < 100 * 1024; ++i) {
    if (i != 0) contents += ",";
    contents += "{\"uri\":\"file:///data/part" + std::to_string(i) +
                ".txt\",\"mimeType\":\"text/plain\",\"text\":\"line of text with \\\"quotes\\\" and \\u00e9 "
                "escapes, numbers 12345 and more words to fill the block\"}";
  }
  contents += "]";
  return "{\"jsonrpc\":\"2.0\",\"id\":42,\"result\":{\"contents\":" + contents + "}}";
}

// As many lines `message(0)`, `message(1)`, ... as fit in a 64 KiB read of a busy stdio server; *count gets how many.
std::string full_chunk(std::string (*message)(int), std::size_t* count) {
  std::string chunk;
  for (int i = 0;; ++i) {
    const std::string line = message(i) + "\n";
    if (chunk.size() + line.size() > 64 * 1024) return chunk;
    chunk += line;
    ++*count;
  }
}

struct Case {
  const char* name;
  std::string input;  // the chunk or message given to each call
  std::size_t messages;
  std::size_t message_bytes;
  bool framed;  // feed(); else scan()
  int32_t kind;
};

// Runs one call and checks that every record is a valid message of the expected kind.
bool run_once(jr::Engine* engine, const Case& c) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(c.input.data());
  if (c.framed ? !engine->feed(bytes, c.input.size()) : !engine->scan(bytes, c.input.size())) return false;
  if (engine->record_count() != c.messages) return false;
  for (std::size_t i = 0; i < c.messages; ++i) {
    const int32_t* r = engine->records() + i * jr::kRecordStride;
    if (r[jr::field::kKind] != c.kind || r[jr::field::kReason] != 0) return false;
    if (c.kind == jr::kind::kRequest && (r[jr::field::kSlot] != 3 || r[jr::field::kNameSlot] < 0)) return false;
  }
  return true;
}

// After run_once: every request whose arguments are short enough has an entry in read_arguments' table.
bool arguments_read(jr::Engine* engine, const Case& c) {
  const jr::ArgumentsRead& read = engine->read_arguments(c.input);
  for (std::size_t i = 0; i < c.messages; ++i) {
    const int32_t* r = engine->records() + i * jr::kRecordStride;
    const auto bytes = static_cast<std::size_t>(r[jr::field::kArgsEnd] - r[jr::field::kArgsStart]);
    if (read.table[i] < 0 && bytes <= jr::kMaxReadArgumentsBytes) return false;
  }
  return true;
}

// The best ns per message of several trials of `seconds` in all: a batch of calls of about 10 ms each, every
// call followed by read_arguments when `arguments` is set.
double best_ns_per_message(jr::Engine* engine, const Case& c, double seconds, bool arguments) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(c.input.data());
  const auto call = [&] {
    if (c.framed) {
      engine->feed(bytes, c.input.size());
    } else {
      engine->scan(bytes, c.input.size());
    }
    if (arguments) engine->read_arguments(c.input);
  };
  std::size_t calls = 1;
  for (;;) {
    const auto start = Clock::now();
    for (std::size_t i = 0; i < calls; ++i) call();
    if (Clock::now() - start > std::chrono::milliseconds(10)) break;
    calls *= 2;
  }
  double best = 1e300;
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  int trials = 0;
  while (trials < 3 || Clock::now() < deadline) {
    const auto start = Clock::now();
    for (std::size_t i = 0; i < calls; ++i) call();
    const double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
    best = std::min(best, ns / static_cast<double>(calls * c.messages));
    ++trials;
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 0.5;
  const std::string only = argc > 2 ? argv[2] : "";
  const jr::Router router = make_router();
  jr::Scanner scanner;

  std::string chunk;
  for (int i = 0; i < 64; ++i) chunk += typical_message(1000 + i) + "\n";
  std::size_t stdio_count = 0;
  const std::string stdio_chunk = full_chunk(echo_message, &stdio_count);
  std::size_t stateless_count = 0;
  const std::string stateless_chunk = full_chunk(stateless_echo_message, &stateless_count);
  const std::string kilobyte = kilobyte_message();
  const std::string large = large_message();
  std::vector<Case> cases = {
      {"typical tools/call, 64 per chunk", chunk, 64, typical_message(1000).size(), true, jr::kind::kRequest},
      {"echo tools/call, 64 KiB chunk", stdio_chunk, stdio_count, stdio_chunk.size() / stdio_count, true,
       jr::kind::kRequest},
      {"echo with _meta, 64 KiB chunk", stateless_chunk, stateless_count, stateless_chunk.size() / stateless_count,
       true, jr::kind::kRequest},
      {"1 KB tools/call", kilobyte + "\n", 1, kilobyte.size(), true, jr::kind::kRequest},
      {"100 KB response (feed)", large + "\n", 1, large.size(), true, jr::kind::kResponse},
      {"100 KB response (scan)", large, 1, large.size(), false, jr::kind::kResponse},
  };

  std::printf("simdjson kernel: %s\n", jr::Scanner::implementation_name().c_str());
  std::printf("%-44s %10s %12s %10s %16s\n", "case", "bytes/msg", "ns/msg", "MB/s", "+ arguments ns");
  for (const Case& c : cases) {
    if (std::string(c.name).find(only) == std::string::npos) continue;
   // Each case with the engine's skeletons (skeleton.h: a request shaped like the one before is matched, not
   // scanned) and without them (every message scanned).
   for (const bool skeletons : {true, false}) {
    jr::Engine engine(&router, &scanner, jr::Limits{});
    engine.use_skeletons(skeletons);
    if (!run_once(&engine, c) || (c.kind == jr::kind::kRequest && !arguments_read(&engine, c))) {
      std::fprintf(stderr, "%s: unexpected records; not timing\n", c.name);
      return 1;
    }
    const double best = best_ns_per_message(&engine, c, seconds, false);
    const bool requests = c.kind == jr::kind::kRequest;
    const double with_arguments = requests ? best_ns_per_message(&engine, c, seconds, true) : 0;
    const std::string name = std::string(c.name) + (skeletons ? "" : ", scanned");
    std::printf("%-44s %10zu %12.1f %10.0f", name.c_str(), c.message_bytes, best, static_cast<double>(c.message_bytes) / best * 1e3);
    if (requests) {
      std::printf(" %16.1f\n", with_arguments);
    } else {
      std::printf(" %16s\n", "-");
    }
   }
  }
  return 0;
}
