// libFuzzer target for native/core/arguments.h: any bytes are the `arguments` of a tools/call request,
// scanned by the engine and read for JS. Invariants (abort):
//   * a request the engine accepts with its params spanned and arguments of at most kMaxReadArgumentsBytes has
//     an entry; its values array is the arguments taken whole, or, read member by member, the names of its key
//     ids and its values put back together as `{"name":value,...}` give the arguments' text without the
//     whitespace between tokens (so JSON.parse of the array builds the same object): the members the scan's
//     walk listed are the arguments' own.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/arguments.h"
#include "../native/values_text.h"
#include "engine_fixture.h"

namespace {

namespace jr = mcp::jsonrpc;

[[noreturn]] void fail(const char* what) { fuzz::fail("fuzz_arguments", what); }

// Valid JSON text without the whitespace between its tokens.
std::string without_space(std::string_view text) {
  std::string out;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < text.size()) {
        out.push_back(text[++i]);
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      out.push_back(c);
    } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      out.push_back(c);
    }
  }
  return out;
}

// The values array of arguments taken whole: the arguments' text alone.
void check_whole(const jr::ArgumentsRead& read, std::string_view arguments) {
  if (read.values != "[" + std::string(arguments) + "]") fail("a whole value that is not the arguments' text");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  static jr::Engine engine(&fuzz::router(), &fuzz::scanner(), jr::Limits{});
  const std::string message =
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":)" + std::string(raw) + "}}";
  engine.scan(reinterpret_cast<const uint8_t*>(message.data()), message.size());
  if (engine.record_count() != 1) fail("one message, one record");
  const int32_t* record = engine.records();
  const jr::ArgumentsRead& read = engine.read_arguments(message);
  const bool eligible = record[jr::field::kKind] == jr::kind::kRequest &&
                        (record[jr::field::kFlags] & jr::flag::kParamsSpanned) != 0 &&
                        record[jr::field::kArgsStart] >= 0 &&
                        static_cast<std::size_t>(record[jr::field::kArgsEnd] - record[jr::field::kArgsStart]) <=
                            jr::kMaxReadArgumentsBytes;
  if (!eligible) {
    if (read.table.size() != 1 || read.table[0] != -1 || read.values != "[]") fail("an entry for a record without one");
    return 0;
  }
  const std::string_view arguments(message.data() + record[jr::field::kArgsStart],
                                   static_cast<std::size_t>(record[jr::field::kArgsEnd] - record[jr::field::kArgsStart]));
  if (read.table.size() < 3 || read.table[0] != 1 || read.table[2] != 0) fail("no entry for an eligible record");
  const int32_t count = read.table[1];
  if (count == -1) {
    if (read.table.size() != 3) fail("a whole value with key ids");
    check_whole(read, arguments);
    return 0;
  }
  if (count < 0 || read.table.size() != 3 + static_cast<std::size_t>(count)) fail("an entry of the wrong length");
  const std::vector<std::string> values = check::values_of(read.values, read.value_count);
  if (values.size() != static_cast<std::size_t>(count)) fail("not one value per member");
  std::string object = "{";
  for (int32_t m = 0; m < count; ++m) {
    const int32_t id = read.table[3 + static_cast<std::size_t>(m)];
    if (id < 0 || static_cast<std::size_t>(id) >= engine.keys().size()) fail("a key id outside the table");
    const std::string_view name = engine.keys().name(id);
    if (name == "__proto__" || name.find('\\') != std::string_view::npos) fail("a name JSON.parse would read otherwise");
    const std::string& value = values[static_cast<std::size_t>(m)];
    if (m != 0) object.push_back(',');
    object += "\"" + std::string(name) + "\":" + value;
  }
  object.push_back('}');
  if (without_space(object) != without_space(arguments)) fail("the members put back together are not the arguments");
  return 0;
}
