// arguments.h through the engine: the shared vectors (test/vectors/arguments.json), the key table's bounds and
// ids, which records get an entry (notifications, batch elements, carried lines, params not spanned), and
// the member lists read_arguments is given checked before use.
// Usage: arguments_test <test/vectors directory>.
#include "core/arguments.h"

#include <simdjson.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "check.h"
#include "core/engine.h"
#include "core/router.h"
#include "values_text.h"
#include "vector_cases.h"

namespace {

namespace fs = std::filesystem;
namespace dom = simdjson::dom;
using check::failf;
using check::g_failure;
using check::read_file;
using mcp::jsonrpc::ArgumentsRead;
using mcp::jsonrpc::Engine;
using mcp::jsonrpc::KeyTable;
using mcp::jsonrpc::Limits;
using mcp::jsonrpc::Router;
using mcp::jsonrpc::Scanner;
namespace table = mcp::jsonrpc::table;

Scanner g_scanner;

Router make_router() {
  Router router;
  router.set_method("tools/call", 3, table::kTools);
  router.set_method("notifications/x", 4, table::kNone);
  router.set_name(table::kTools, "echo", 0);
  return router;
}
const Router g_router = make_router();

std::string call(std::string_view arguments, int id = 1) {
  return "{\"jsonrpc\":\"2.0\",\"id\":" + std::to_string(id) +
         ",\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":" + std::string(arguments) + "}}";
}

const ArgumentsRead& scan(Engine* engine, const std::string& message) {
  engine->scan(reinterpret_cast<const uint8_t*>(message.data()), message.size());
  return engine->read_arguments(message);
}

bool run_case(dom::element c, Engine* engine) {
  std::string_view arguments, entry;
  if (c["arguments"].get_string().get(arguments) != simdjson::SUCCESS) return failf("arguments must be a string");
  if (c["entry"].get_string().get(entry) != simdjson::SUCCESS) return failf("entry must be a string");
  const ArgumentsRead& read = scan(engine, call(arguments));
  if (engine->record_count() != 1) return failf("expected one record");
  if (read.table.empty()) return failf("no table");
  bool ascii = true;
  for (const char byte : read.values) ascii = ascii && static_cast<uint8_t>(byte) < 0x80;
  if (read.ascii != ascii) return failf("ascii must say whether the values are all ASCII");
  const int32_t at = read.table[0];
  if (entry == "none") {
    if (at != -1 || read.values != "[]") return failf("expected no entry");
    return true;
  }
  if (at < 1 || static_cast<std::size_t>(at) + 2 > read.table.size()) return failf("expected an entry");
  const int32_t count = read.table[at];
  const std::vector<std::string> values = check::values_of(read.values, read.value_count);
  if (read.table[at + 1] != 0) return failf("the first value must be value 0");
  if (entry == "whole") {
    if (count != -1) return failf("expected the arguments taken whole, got " + std::to_string(count) + " members");
    if (values.size() != 1 || values[0] != arguments) return failf("the whole value must be the arguments' text");
    return true;
  }
  dom::array members;
  if (c["members"].get_array().get(members) != simdjson::SUCCESS) return failf("members must be an array");
  if (count != static_cast<int32_t>(members.size())) {
    return failf("expected " + std::to_string(members.size()) + " members, got " + std::to_string(count));
  }
  if (values.size() != members.size()) return failf("expected one value per member, got " + read.values);
  std::size_t m = 0;
  for (dom::element pair : members) {
    std::string_view name, value;
    if (pair.at(0).get_string().get(name) != simdjson::SUCCESS || pair.at(1).get_string().get(value) != simdjson::SUCCESS) {
      return failf("members are [name, value] pairs");
    }
    const int32_t id = read.table[at + 2 + static_cast<int32_t>(m)];
    if (id < 0 || static_cast<std::size_t>(id) >= engine->keys().size()) return failf("a member without a key id");
    if (engine->keys().name(id) != name) return failf("member " + std::to_string(m) + ": name " + std::string(engine->keys().name(id)));
    if (values[m] != value) return failf("member " + std::to_string(m) + ": value " + values[m]);
    ++m;
  }
  return true;
}

int run_vectors(const fs::path& file, std::size_t* cases) {
  Engine engine(&g_router, &g_scanner, Limits{});  // one engine: key ids carry over from case to case
  return check::run_vector_cases(file, "arguments", cases, [&](dom::element c) { return run_case(c, &engine); });
}

bool test_key_table_bounds() {
  KeyTable keys;
  ASSERT_EQ(keys.intern("__proto__"), -1);
  ASSERT_EQ(keys.intern("a\\u0062"), -1);
  ASSERT_EQ(keys.intern(std::string(65, 'k')), -1);
  ASSERT_EQ(keys.intern(std::string(64, 'k')), 0);
  ASSERT_EQ(keys.intern(""), 1);
  for (std::size_t i = 2; i < KeyTable::kMaxKeys; ++i) ASSERT_EQ(keys.intern("key" + std::to_string(i)), static_cast<int32_t>(i));
  ASSERT_EQ(keys.size(), KeyTable::kMaxKeys);
  ASSERT_EQ(keys.intern("one more"), -1);  // full: new names get none
  ASSERT_EQ(keys.intern("key77"), 77);     // known names keep theirs
  ASSERT_EQ(keys.intern(""), 1);
  ASSERT_EQ(std::string(keys.name(0)), std::string(64, 'k'));
  ASSERT_EQ(std::string(keys.name(255)), std::string("key255"));
  return true;
}

bool test_full_table_takes_new_names_whole() {
  Engine engine(&g_router, &g_scanner, Limits{});
  for (std::size_t i = 0; i < KeyTable::kMaxKeys; ++i) scan(&engine, call("{\"k" + std::to_string(i) + "\":1}"));
  const ArgumentsRead& read = scan(&engine, call("{\"k3\":1,\"new\":2}"));
  ASSERT_EQ(read.table[read.table[0]], -1);
  ASSERT_EQ(read.values, std::string("[{\"k3\":1,\"new\":2}]"));
  const ArgumentsRead& known = scan(&engine, call("{\"k3\":1,\"k9\":2}"));
  ASSERT_EQ(known.table[known.table[0]], 2);
  ASSERT_EQ(known.values, std::string("[1,2]"));
  return true;
}

bool test_which_records_get_an_entry() {
  Engine engine(&g_router, &g_scanner, Limits{});
  const std::string chunk =
      call("{\"a\":1}", 1) + "\n" +                                                                // entry
      "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\",\"params\":{\"arguments\":{\"b\":2}}}\n" +  // entry
      "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"other\":1,"
      "\"arguments\":{\"c\":3}}}\n" +                                                              // not spanned
      "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\"}}\n" +  // no arguments
      "[" + call("[5]", 5) + "," + call("{\"a\":6,\"d\":\"six\"}", 6) + "]\n" +                     // a batch: 3 records
      "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"arguments\":{}}}\n" +                           // a response
      "not json\n";
  ASSERT_TRUE(engine.feed(reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size()));
  ASSERT_EQ(engine.record_count(), 9u);
  const ArgumentsRead& read = engine.read_arguments(chunk);
  const std::vector<int32_t>& t = read.table;
  ASSERT_EQ(read.values, std::string("[1,2,[5],6,\"six\"]"));
  ASSERT_EQ(t[0], 9);
  ASSERT_EQ(t[1], 12);
  for (int i : {2, 3, 4, 7, 8}) ASSERT_EQ(t[static_cast<std::size_t>(i)], -1);
  ASSERT_EQ(t[5], 15);
  ASSERT_EQ(t[6], 17);
  const std::vector<int32_t> entries(t.begin() + 9, t.end());
  const std::vector<int32_t> expected = {1, 0, 0, /* b */ 1, 1, 1, /* [5] */ -1, 2, /* a, d */ 2, 3, 0, 2};
  ASSERT_TRUE(entries == expected);
  ASSERT_EQ(std::string(engine.keys().name(2)), std::string("d"));
  return true;
}

bool test_carried_line_and_foreign_source() {
  Engine engine(&g_router, &g_scanner, Limits{});
  const std::string line = call("{\"text\":\"split across two chunks\"}") + "\n";
  const std::string first = line.substr(0, 40);
  const std::string second = line.substr(40) + call("{\"n\":2}", 2) + "\n";
  ASSERT_TRUE(engine.feed(reinterpret_cast<const uint8_t*>(first.data()), first.size()));
  ASSERT_EQ(engine.record_count(), 0u);
  ASSERT_TRUE(engine.feed(reinterpret_cast<const uint8_t*>(second.data()), second.size()));
  ASSERT_EQ(engine.record_count(), 2u);
  const ArgumentsRead& read = engine.read_arguments(second);
  ASSERT_EQ(read.values, std::string("[\"split across two chunks\",2]"));
  // A source shorter than the spans (not the call's): no entry, nothing read outside it.
  const ArgumentsRead& foreign = engine.read_arguments(std::string_view(second).substr(0, 10));
  ASSERT_EQ(foreign.values, std::string("[\"split across two chunks\"]"));
  ASSERT_EQ(foreign.table[1], -1);
  return true;
}

// read_arguments trusts no member list: an entry whose spans leave the ARGS span or run backwards, or a
// count past the list's end, makes the arguments be taken whole; entries of other records are passed over.
bool test_member_list_checked() {
  Engine engine(&g_router, &g_scanner, Limits{});
  const std::string message = call("{\"a\":1,\"b\":2}");
  ASSERT_TRUE(engine.scan(reinterpret_cast<const uint8_t*>(message.data()), message.size()));
  ASSERT_EQ(engine.record_count(), 1u);
  const int32_t args = engine.records()[mcp::jsonrpc::field::kArgsStart];
  const int32_t args_end = engine.records()[mcp::jsonrpc::field::kArgsEnd];
  // The scan's own list: "a" at args + 2, its value at args + 5, "b" at args + 8, its value at args + 11.
  const std::vector<int32_t> good = {0, 2, args + 2, args + 3, args + 5, args + 6, args + 8, args + 9, args + 11, args + 12};
  KeyTable keys;
  ArgumentsRead read;
  const auto read_with = [&](const std::vector<int32_t>& list) -> const ArgumentsRead& {
    mcp::jsonrpc::read_arguments(engine.records(), 1, {list.data(), list.size()}, message, {}, &keys, &read);
    return read;
  };
  ASSERT_EQ(read_with(good).values, std::string("[1,2]"));
  ASSERT_EQ(read.table[1], 2);
  const std::string whole = "[{\"a\":1,\"b\":2}]";
  std::vector<int32_t> bad = good;
  bad[9] = args_end + 1;  // a value past the arguments
  ASSERT_EQ(read_with(bad).values, whole);
  ASSERT_EQ(read.table[1], -1);
  bad = good;
  bad[2] = args - 1;  // a name before them
  ASSERT_EQ(read_with(bad).values, whole);
  bad = good;
  bad[4] = args + 2;  // a value before its name's end
  ASSERT_EQ(read_with(bad).values, whole);
  bad = good;
  bad[1] = 3;  // more members than the list holds
  ASSERT_EQ(read_with(bad).values, whole);
  bad = good;
  bad[1] = -2;
  ASSERT_EQ(read_with(bad).values, whole);
  ASSERT_EQ(read_with({}).values, whole);
  // An entry of another record: passed over.
  ASSERT_EQ(read_with({1, 0}).values, whole);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: arguments_test <vectors dir>\n");
    return 2;
  }
  int failures = 0;
  std::size_t cases = 0;
  failures += run_vectors(fs::path(argv[1]) / "arguments.json", &cases);
  std::fprintf(stdout, "%s %zu vector cases\n", failures == 0 ? "ok  " : "FAIL", cases);
  RUN(test_key_table_bounds);
  RUN(test_full_table_takes_new_names_whole);
  RUN(test_which_records_get_an_entry);
  RUN(test_carried_line_and_foreign_source);
  RUN(test_member_list_checked);
  if (!g_failure.empty()) std::fprintf(stdout, "%s", g_failure.c_str());
  return failures == 0 ? 0 : 1;
}
