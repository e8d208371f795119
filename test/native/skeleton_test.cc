// skeleton.h through the engine: a request shaped like the one before is matched against its skeleton, and
// whatever follows it (the same shape with other values, or any change that makes it another message, valid or
// not) gives exactly the records, replies, arguments and ids of a full scan (engine_twins.h). The matches are
// counted, so a case that should use the skeleton shows it did.
#include "core/skeleton.h"

#include <cstdio>
#include <string>
#include <vector>

#include "check.h"
#include "core/router.h"
#include "engine_twins.h"

namespace {

using mcp::jsonrpc::Router;
using mcp::jsonrpc::Scanner;
namespace table = mcp::jsonrpc::table;

Scanner g_scanner;

Router make_router() {
  Router router;
  router.set_method("ping", 1, table::kNone);
  router.set_method("tools/call", 3, table::kTools);
  router.set_method("resources/read", 4, table::kResources);
  router.set_name(table::kTools, "echo", 0);
  router.set_name(table::kTools, "add", 1);
  return router;
}

const std::string kEcho = R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}})";
const std::string kMeta =
    R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"},)"
    R"("_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}})";

std::string echo(std::string_view id, std::string_view text) {
  return R"({"jsonrpc":"2.0","id":)" + std::string(id) + R"(,"method":"tools/call","params":{"name":"echo","arguments":{"text":")" +
         std::string(text) + R"("}}})";
}

// Feeds `primer` then `line` (one chunk each, and both in one chunk) to twin engines: they must agree.
// `matches` is how many of the two lines the skeleton engine should have matched in each run.
bool agree(std::string_view what, const std::string& primer, const std::string& line, uint64_t matches) {
  const Router router = make_router();
  for (const bool together : {false, true}) {
    twins::EngineTwins engines(&router, &g_scanner);
    std::string diff;
    if (together) {
      diff = engines.feed(primer + "\n" + line + "\n");
    } else {
      diff = engines.feed(primer + "\n");
      if (diff.empty()) diff = engines.feed(line + "\n");
    }
    if (diff.empty()) diff = engines.end();
    if (!diff.empty()) return check::failf(std::string(what) + (together ? " (one chunk): " : ": ") + diff);
    if (engines.with().skeleton_matches() != matches) {
      return check::failf(std::string(what) + ": " + std::to_string(engines.with().skeleton_matches()) + " matches, expected " +
                          std::to_string(matches));
    }
  }
  return true;
}

bool same_shape_matches() {
  bool ok = true;
  ok &= agree("another id and text", kEcho, echo("8", "world, longer than before"), 1);
  ok &= agree("a shorter text", kEcho, echo("123456", "x"), 1);
  ok &= agree("an empty text", kEcho, echo("9", ""), 1);
  ok &= agree("a negative, fractional, exponent id", kEcho, echo("-1.5e+3", "a"), 1);
  ok &= agree("a DEL byte in the text", kEcho, echo("1", "a\x7f" "b"), 1);
  ok &= agree("2026-07-28 with _meta", kMeta, echo("5", "x").replace(echo("5", "x").size() - 2, 0, R"(,"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}})"), 1);
  ok &= agree("a string id", echo(R"("a-1")", "t"), echo(R"("b-22")", "u"), 1);
  ok &= agree("numbers in the arguments",
              R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2.5,"c":"x"}}})",
              R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"a":-30,"b":1e9,"c":""}}})", 1);
  ok &= agree("a nested value stays in the skeleton",
              R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"o":{"k":[1,2]},"t":true}}})",
              R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"o":{"k":[1,2]},"t":true}}})", 1);
  ok &= agree("a primer with escapes in its text", echo("1", R"(a\"b\u00e9)"), echo("2", "plain"), 1);
  return ok;
}

bool other_messages_are_scanned() {
  bool ok = true;
  // Still valid, but not plain tokens: scanned (and the skeleton made again from them).
  ok &= agree("an escape in the text", kEcho, echo("8", R"(a\nb)"), 0);
  ok &= agree("UTF-8 in the text", kEcho, echo("8", "caf\xc3\xa9"), 0);
  ok &= agree("an id that changes kind", kEcho, echo(R"("8")", "t"), 0);
  ok &= agree("a text that changes kind", kEcho, echo("8", "x").replace(echo("8", "x").find(R"("x")"), 3, "5"), 0);
  ok &= agree("whitespace", kEcho, echo("8", "x").insert(1, " "), 0);
  ok &= agree("another tool", kEcho, R"({"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"add","arguments":{"text":"x"}}})", 0);
  ok &= agree("another member", kEcho, R"({"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x","n":1}}})", 0);
  ok &= agree("arguments over the read limit", kEcho, echo("8", std::string(1100, 'a')), 0);
  // Invalid: refused as the scan refuses them.
  ok &= agree("a control character in the text", kEcho, echo("8", "a\tb"), 0);
  ok &= agree("invalid UTF-8 in the text", kEcho, echo("8", "a\xff"), 0);
  ok &= agree("a bad number id", kEcho, echo("08", "t"), 0);
  ok &= agree("a bare minus id", kEcho, echo("-", "t"), 0);
  ok &= agree("an unterminated text", kEcho, echo("8", "t").substr(0, echo("8", "t").size() - 4), 0);
  ok &= agree("trailing bytes", kEcho, echo("8", "t") + "x", 0);
  ok &= agree("a quote inside the text", kEcho, echo("8", R"(a"b)"), 0);
  ok &= agree("a duplicate key after the params", kEcho, echo("8", "t").insert(echo("8", "t").size() - 1, R"(,"id":9)"), 0);
  ok &= agree("a null id", kEcho, echo("null", "t"), 0);
  ok &= agree("an empty line", kEcho, "", 0);
  // A line over Skeleton::kMaxLineBytes makes no skeleton (its copy would live as long as the engine).
  ok &= agree("a primer over the skeleton's bound", echo("\"" + std::string(20000, 'x') + "\"", "t"), echo(R"("y")", "t"), 0);
  return ok;
}

bool a_router_change_drops_the_skeleton() {
  Router router = make_router();
  twins::EngineTwins engines(&router, &g_scanner);
  std::string diff = engines.feed(kEcho + "\n" + echo("8", "a") + "\n");
  if (!diff.empty()) return check::failf("before the change: " + diff);
  if (engines.with().skeleton_matches() != 1) return check::failf("the second line is not matched");
  // The tool's slot changes: a skeleton made before it would give the old one.
  router.set_name(table::kTools, "echo", 5);
  diff = engines.feed(echo("9", "b") + "\n" + echo("10", "c") + "\n");
  if (!diff.empty()) return check::failf("after the change: " + diff);
  if (engines.with().skeleton_matches() != 2) return check::failf("the skeleton made after the change is not used");
  return true;
}

bool whole_messages_and_carried_lines() {
  const Router router = make_router();
  twins::EngineTwins engines(&router, &g_scanner);
  // scan() of whole messages (HTTP bodies), then a stream whose lines straddle chunks.
  for (int i = 0; i < 4; ++i) {
    const std::string diff = engines.scan(echo(std::to_string(i), "body " + std::to_string(i)));
    if (!diff.empty()) return check::failf("scan: " + diff);
  }
  if (engines.with().skeleton_matches() != 3) return check::failf("scan() does not use the skeleton");
  std::string stream;
  for (int i = 0; i < 50; ++i) stream += echo(std::to_string(i), "line " + std::to_string(i)) + "\n";
  for (std::size_t cut = 1; cut < 200; cut += 37) {
    for (std::size_t at = 0; at < stream.size(); at += cut) {
      const std::string diff = engines.feed(std::string_view(stream).substr(at, cut));
      if (!diff.empty()) return check::failf("chunks of " + std::to_string(cut) + ": " + diff);
    }
  }
  const std::string diff = engines.end();
  if (!diff.empty()) return check::failf("end: " + diff);
  return true;
}

}  // namespace

int main() {
  int failed = 0;
  const struct {
    const char* name;
    bool (*run)();
  } tests[] = {
      {"same_shape_matches", same_shape_matches},
      {"other_messages_are_scanned", other_messages_are_scanned},
      {"a_router_change_drops_the_skeleton", a_router_change_drops_the_skeleton},
      {"whole_messages_and_carried_lines", whole_messages_and_carried_lines},
  };
  for (const auto& test : tests) {
    check::g_failure.clear();
    const bool ok = test.run();
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", test.name);
    if (!ok) {
      std::printf("%s", check::g_failure.c_str());
      ++failed;
    }
  }
  return failed == 0 ? 0 : 1;
}
