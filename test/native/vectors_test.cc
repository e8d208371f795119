// The shared vectors (docs/jsonrpc-engine.md section 9) against the C++ engine:
//   framing/*.json and scan/*.json   one case per file, records compared field by field
//   response/*.json                  the response writers, exact bytes
//   jsontestsuite/*                  every file scanned as one message: y_ not -32700, n_ -32700,
//                                    i_ as jsontestsuite-i.json says (accept / reject), every i_ listed
// Usage: vectors_test <test/vectors directory>. Every case runs; each failure is printed; exit 1 if any.
#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "check.h"
#include "core/engine.h"
#include "core/errors.h"
#include "core/response.h"
#include "core/router.h"
#include "record_text.h"

namespace {

namespace fs = std::filesystem;
namespace dom = simdjson::dom;
using check::RecordText;
using mcp::jsonrpc::Engine;
using mcp::jsonrpc::Limits;
using mcp::jsonrpc::Router;
using mcp::jsonrpc::Scanner;

Scanner g_scanner;
using check::failf;
using check::g_failure;
using check::read_file;

std::vector<fs::path> list_files(const fs::path& dir, const std::string& extension) {
  std::vector<fs::path> files;
  std::error_code error;
  for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    if (it->is_regular_file() && (extension.empty() || it->path().extension() == extension))
      files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool decode_base64(std::string_view text, std::string* out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  out->clear();
  uint32_t bits = 0;
  int count = 0;
  std::size_t padding = 0;
  for (char c : text) {
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding != 0) return failf("base64: data after padding");
    const int v = value(c);
    if (v < 0) return failf("base64: bad character");
    bits = (bits << 6) | static_cast<uint32_t>(v);
    if (++count == 4) {
      out->push_back(static_cast<char>((bits >> 16) & 0xFF));
      out->push_back(static_cast<char>((bits >> 8) & 0xFF));
      out->push_back(static_cast<char>(bits & 0xFF));
      bits = 0;
      count = 0;
    }
  }
  if (count == 2) {
    out->push_back(static_cast<char>((bits >> 4) & 0xFF));
  } else if (count == 3) {
    out->push_back(static_cast<char>((bits >> 10) & 0xFF));
    out->push_back(static_cast<char>((bits >> 2) & 0xFF));
  } else if (count == 1) {
    return failf("base64: truncated");
  }
  return true;
}

bool get_int(dom::element element, int64_t* out, const std::string& what) {
  if (element.get_int64().get(*out) != simdjson::SUCCESS) return failf(what + " must be an integer");
  return true;
}

// routes.json shape: {"methods": {"m": {"slot": n, "table": t}}, "names": {"0": {"name": slot}}}
bool load_routes(dom::element routes, Router* router) {
  dom::object object;
  if (routes.get_object().get(object) != simdjson::SUCCESS) return failf("routes must be an object");
  for (auto [key, value] : object) {
    if (key == "methods") {
      dom::object methods;
      if (value.get_object().get(methods) != simdjson::SUCCESS) return failf("routes.methods must be an object");
      for (auto [method, route] : methods) {
        int64_t slot = -1;
        int64_t table = -1;
        dom::object fields;
        if (route.get_object().get(fields) != simdjson::SUCCESS) return failf("a method route must be an object");
        for (auto [name, field] : fields) {
          if (name == "slot") {
            if (!get_int(field, &slot, "slot")) return false;
          } else if (name == "table") {
            if (!get_int(field, &table, "table")) return false;
          } else {
            return failf("unknown method route member " + std::string(name));
          }
        }
        if (!router->set_method(method, static_cast<int32_t>(slot), static_cast<int32_t>(table))) {
          return failf("bad method route " + std::string(method));
        }
      }
    } else if (key == "names") {
      dom::object tables;
      if (value.get_object().get(tables) != simdjson::SUCCESS) return failf("routes.names must be an object");
      for (auto [table_key, names_value] : tables) {
        const int table = std::atoi(std::string(table_key).c_str());
        dom::object names;
        if (names_value.get_object().get(names) != simdjson::SUCCESS) return failf("a name table must be an object");
        for (auto [name, slot_value] : names) {
          int64_t slot = -1;
          if (!get_int(slot_value, &slot, "name slot")) return false;
          if (!router->set_name(table, name, static_cast<int32_t>(slot))) return failf("bad name route");
        }
      }
    } else {
      return failf("unknown routes member " + std::string(key));
    }
  }
  return true;
}

bool load_limits(dom::element element, Limits* limits) {
  dom::object object;
  if (element.get_object().get(object) != simdjson::SUCCESS) return failf("limits must be an object");
  for (auto [key, value] : object) {
    int64_t number = 0;
    if (key == "allowBatch") {
      if (value.get_bool().get(limits->allow_batch) != simdjson::SUCCESS) return failf("allowBatch must be a boolean");
      continue;
    }
    if (!get_int(value, &number, std::string(key))) return false;
    if (key == "maxMessageBytes") {
      limits->max_message_bytes = static_cast<uint32_t>(number);
    } else if (key == "maxDepth") {
      limits->max_depth = static_cast<uint32_t>(number);
    } else if (key == "maxBatch") {
      limits->max_batch = static_cast<uint32_t>(number);
    } else {
      return failf("unknown limit " + std::string(key));
    }
  }
  if (!mcp::jsonrpc::limits_in_range(*limits)) return failf("limits out of range");
  return true;
}

bool string_list(dom::element element, bool base64, std::vector<std::string>* out) {
  dom::array array;
  if (element.get_array().get(array) != simdjson::SUCCESS) return failf("chunks must be an array");
  for (dom::element item : array) {
    std::string_view text;
    if (item.get_string().get(text) != simdjson::SUCCESS) return failf("a chunk must be a string");
    std::string bytes;
    if (base64) {
      if (!decode_base64(text, &bytes)) return false;
    } else {
      bytes.assign(text);
    }
    out->push_back(std::move(bytes));
  }
  return true;
}

// Compares one actual record with one expected record object.
bool compare_record(const RecordText& actual, dom::object expected, std::size_t index) {
  const std::string where = "record " + std::to_string(index) + ": ";
  bool ok = true;
  if (!actual.spans_ok) ok = failf(where + "a span lies outside its source");
  auto span_field = [&](std::string_view key, dom::element value, bool present, const std::string& text) {
    if (value.is_null()) {
      if (present) ok = failf(where + std::string(key) + ": expected no span, got " + check::show(text));
      return;
    }
    std::string_view want;
    if (value.get_string().get(want) != simdjson::SUCCESS) {
      ok = failf(where + std::string(key) + " must be a string or null");
    } else if (!present) {
      ok = failf(where + std::string(key) + ": expected " + check::show(want) + ", got no span");
    } else if (text != want) {
      ok = failf(where + std::string(key) + ": expected " + check::show(want) + ", got " + check::show(text));
    }
  };
  auto int_field = [&](std::string_view key, dom::element value, int64_t got) {
    int64_t want = 0;
    if (value.get_int64().get(want) != simdjson::SUCCESS) {
      ok = failf(where + std::string(key) + " must be an integer");
    } else if (want != got) {
      ok = failf(where + std::string(key) + ": expected " + std::to_string(want) + ", got " + std::to_string(got));
    }
  };
  auto bool_field = [&](std::string_view key, dom::element value, bool got) {
    bool want = false;
    if (value.get_bool().get(want) != simdjson::SUCCESS) {
      ok = failf(where + std::string(key) + " must be a boolean");
    } else if (want != got) {
      ok = failf(where + std::string(key) + ": expected " + check::show(want) + ", got " + check::show(got));
    }
  };
  auto name_field = [&](std::string_view key, dom::element value, std::string_view got) {
    std::string_view want;
    if (value.get_string().get(want) != simdjson::SUCCESS) {
      ok = failf(where + std::string(key) + " must be a string");
    } else if (want != got) {
      ok = failf(where + std::string(key) + ": expected " + std::string(want) + ", got " + std::string(got));
    }
  };
  bool has_kind = false;
  for (auto [key, value] : expected) {
    if (key == "kind") {
      has_kind = true;
      name_field(key, value, check::kind_name(actual.kind()));
    } else if (key == "id") {
      span_field(key, value, actual.has_id, actual.id);
    } else if (key == "method") {
      span_field(key, value, actual.has_method, actual.method);
    } else if (key == "body") {
      span_field(key, value, actual.has_body, actual.body);
    } else if (key == "name") {
      span_field(key, value, actual.has_name, actual.name);
    } else if (key == "arguments") {
      span_field(key, value, actual.has_arguments, actual.arguments);
    } else if (key == "meta") {
      span_field(key, value, actual.has_meta, actual.meta);
    } else if (key == "message") {
      span_field(key, value, actual.has_message, actual.message);
    } else if (key == "reply") {
      span_field(key, value, actual.has_reply, actual.reply);
    } else if (key == "slot") {
      int_field(key, value, actual.slot());
    } else if (key == "nameSlot") {
      int_field(key, value, actual.name_slot());
    } else if (key == "count") {
      if (actual.kind() != mcp::jsonrpc::kind::kBatch) ok = failf(where + "count on a record that is not a batch");
      int_field(key, value, actual.slot());
    } else if (key == "code") {
      int_field(key, value, actual.code());
    } else if (key == "reason") {
      name_field(key, value, actual.reason());
    } else if (key == "idKind") {
      const int32_t id_kind = actual.id_kind();
      name_field(key, value, check::kIdKindNames[static_cast<std::size_t>(id_kind)]);
    } else if (key == "inBatch") {
      bool_field(key, value, actual.in_batch());
    } else if (key == "carry") {
      bool_field(key, value, actual.carry());
    } else if (key == "methodEscaped") {
      bool_field(key, value, (actual.flags() & mcp::jsonrpc::flag::kMethodEscaped) != 0);
    } else if (key == "nameEscaped") {
      bool_field(key, value, (actual.flags() & mcp::jsonrpc::flag::kNameEscaped) != 0);
    } else if (key == "paramsSpanned") {
      bool_field(key, value, (actual.flags() & mcp::jsonrpc::flag::kParamsSpanned) != 0);
    } else if (key == "metaRepeated") {
      bool_field(key, value, (actual.flags() & mcp::jsonrpc::flag::kMetaRepeated) != 0);
    } else {
      ok = failf(where + "unknown expectation field " + std::string(key));
    }
  }
  if (!has_kind) ok = failf(where + "expectation without kind");
  return ok;
}

std::string describe(const RecordText& r) {
  std::string out = std::string(check::kind_name(r.kind())) + " reason=" + std::string(r.reason());
  if (r.has_message) out += " message=" + check::show(r.message);
  if (r.has_id) out += " id=" + check::show(r.id);
  if (r.has_method) out += " method=" + check::show(r.method);
  if (r.has_name) out += " name=" + check::show(r.name);
  out += " slot=" + std::to_string(r.slot()) + " carry=" + check::show(r.carry());
  return out;
}

// One framing or scan vector file.
// Engine::id_text after a call (section 12): the raw ids of its records, in order, or nullptr when one is not
// ASCII.
bool ids_match(Engine* engine, std::string_view source, const std::vector<RecordText>& records) {
  std::string expected;
  bool ascii = true;
  for (const RecordText& record : records) {
    if (!record.has_id) continue;
    expected += record.id;
    for (const char c : record.id) ascii = ascii && static_cast<uint8_t>(c) < 0x80;
  }
  const std::string* text = engine->id_text(source);
  if (!ascii) return text == nullptr || failf("id_text: expected none (an id is not ASCII)");
  if (text == nullptr) return failf("id_text: expected \"" + expected + "\", got none");
  return *text == expected || failf("id_text: expected \"" + expected + "\", got \"" + *text + "\"");
}

bool run_engine_vector(const fs::path& path, dom::parser* parser, const Router& default_router) {
  std::string json;
  if (!read_file(path, &json)) return false;
  dom::element root;
  if (parser->parse(json).get(root) != simdjson::SUCCESS) return failf("not valid JSON");
  dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) return failf("a vector must be an object");
  Limits limits;
  Router inline_router;
  const Router* router = &default_router;
  std::vector<std::string> chunks;
  std::string input;
  bool framing = false;
  bool scanning = false;
  bool call_end = false;
  dom::array expect;
  bool has_expect = false;
  for (auto [key, value] : object) {
    if (key == "name" || key == "comment" || key == "description") continue;
    if (key == "limits") {
      if (!load_limits(value, &limits)) return false;
    } else if (key == "routes") {
      std::string_view name;
      if (value.get_string().get(name) == simdjson::SUCCESS) {
        if (name != "default") return failf("routes must be \"default\" or an object");
      } else {
        if (!load_routes(value, &inline_router)) return false;
        router = &inline_router;
      }
    } else if (key == "chunks" || key == "chunksBase64") {
      framing = true;
      if (!string_list(value, key == "chunksBase64", &chunks)) return false;
    } else if (key == "input" || key == "inputBase64") {
      scanning = true;
      std::string_view text;
      if (value.get_string().get(text) != simdjson::SUCCESS) return failf("input must be a string");
      if (key == "input") {
        input.assign(text);
      } else if (!decode_base64(text, &input)) {
        return false;
      }
    } else if (key == "end") {
      if (value.get_bool().get(call_end) != simdjson::SUCCESS) return failf("end must be a boolean");
    } else if (key == "expect") {
      if (value.get_array().get(expect) != simdjson::SUCCESS) return failf("expect must be an array");
      has_expect = true;
    } else {
      return failf("unknown vector member " + std::string(key));
    }
  }
  if (framing == scanning) return failf("a vector needs exactly one of chunks/chunksBase64 and input/inputBase64");
  if (!has_expect) return failf("no expect");
  if (scanning && call_end) return failf("end is for framing vectors");

  Engine engine(router, &g_scanner, limits);
  std::vector<RecordText> actual;
  bool ok = true;
  // Each call's records, and its id text checked against their ids (section 12).
  const auto collect = [&](std::string_view source) {
    std::vector<RecordText> records = check::record_texts(engine, source);
    if (!ids_match(&engine, source, records)) ok = false;
    for (auto& record : records) actual.push_back(std::move(record));
  };
  if (framing) {
    for (const std::string& chunk : chunks) {
      if (!engine.feed(reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size())) return failf("feed refused");
      collect(chunk);
    }
    if (call_end) {
      engine.end();
      collect({});
    }
  } else {
    if (!engine.scan(reinterpret_cast<const uint8_t*>(input.data()), input.size())) return failf("scan refused");
    collect(input);
  }

  if (actual.size() != expect.size()) {
    ok = failf("expected " + std::to_string(expect.size()) + " record(s), got " + std::to_string(actual.size()));
  }
  std::size_t index = 0;
  for (dom::element item : expect) {
    dom::object record;
    if (item.get_object().get(record) != simdjson::SUCCESS) return failf("an expected record must be an object");
    if (index < actual.size() && !compare_record(actual[index], record, index)) ok = false;
    ++index;
  }
  if (!ok) {
    for (std::size_t i = 0; i < actual.size(); ++i) failf("  got " + std::to_string(i) + ": " + describe(actual[i]));
  }
  return ok;
}

// One response writer vector: {"id", "result"} or {"id", "error": {"code","message","data"?}}, "expect".
bool run_response_vector(const fs::path& path, dom::parser* parser) {
  std::string json;
  if (!read_file(path, &json)) return false;
  dom::element root;
  if (parser->parse(json).get(root) != simdjson::SUCCESS) return failf("not valid JSON");
  dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) return failf("a vector must be an object");
  std::string_view id;
  std::string_view result;
  std::string_view expect;
  bool has_id = false, has_result = false, has_error = false, has_expect = false, has_data = false;
  int64_t code = 0;
  std::string_view message;
  std::string_view data;
  for (auto [key, value] : object) {
    if (key == "name" || key == "comment" || key == "description") continue;
    if (key == "id") {
      has_id = value.get_string().get(id) == simdjson::SUCCESS;
      if (!has_id) return failf("id must be a string (raw id text)");
    } else if (key == "result") {
      has_result = value.get_string().get(result) == simdjson::SUCCESS;
      if (!has_result) return failf("result must be a string (raw JSON text)");
    } else if (key == "expect") {
      has_expect = value.get_string().get(expect) == simdjson::SUCCESS;
      if (!has_expect) return failf("expect must be a string");
    } else if (key == "error") {
      dom::object error;
      if (value.get_object().get(error) != simdjson::SUCCESS) return failf("error must be an object");
      has_error = true;
      bool has_code = false, has_message = false;
      for (auto [error_key, error_value] : error) {
        if (error_key == "code") {
          has_code = error_value.get_int64().get(code) == simdjson::SUCCESS;
        } else if (error_key == "message") {
          has_message = error_value.get_string().get(message) == simdjson::SUCCESS;
        } else if (error_key == "data") {
          has_data = error_value.get_string().get(data) == simdjson::SUCCESS;
          if (!has_data) return failf("error.data must be a string (raw JSON text)");
        } else {
          return failf("unknown error member " + std::string(error_key));
        }
      }
      if (!has_code || !has_message) return failf("error needs an integer code and a string message");
    } else {
      return failf("unknown vector member " + std::string(key));
    }
  }
  if (!has_id || !has_expect || has_result == has_error) return failf("needs id, expect and one of result/error");
  std::string out;
  if (has_result) {
    mcp::jsonrpc::append_result_response(&out, id, result);
  } else {
    // An empty data string would mean "no data" to the writer: vectors always give JSON text.
    if (has_data && data.empty()) return failf("error.data must not be empty");
    mcp::jsonrpc::append_error_response(&out, id, code, message, has_data ? data : std::string_view());
  }
  if (out != expect) return failf("expected " + check::show(expect) + "\n    got      " + check::show(out));
  return true;
}

// JSONTestSuite: y_ must not be -32700, n_ must be -32700, i_ as listed.
bool run_jsontestsuite_file(const fs::path& path, const std::map<std::string, std::string>& i_expectations) {
  const std::string name = path.filename().string();
  std::string bytes;
  if (!read_file(path, &bytes)) return false;
  Router router;
  Limits limits;
  limits.allow_batch = true;
  Engine engine(&router, &g_scanner, limits);
  if (!engine.scan(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size())) return failf("scan refused");
  const auto records = check::record_texts(engine, bytes);
  bool any_parse_error = false;
  for (const auto& record : records) {
    if (!record.spans_ok) return failf("a span lies outside the message");
    if (record.code() == mcp::jsonrpc::kParseError) any_parse_error = true;
  }
  const bool rejected = records.size() == 1 && records[0].code() == mcp::jsonrpc::kParseError;
  std::string want;
  if (name.rfind("y_", 0) == 0) {
    want = "accept";
  } else if (name.rfind("n_", 0) == 0) {
    want = "reject";
  } else if (name.rfind("i_", 0) == 0) {
    const auto found = i_expectations.find(name);
    if (found == i_expectations.end()) return failf("not listed in jsontestsuite-i.json");
    want = found->second;
  } else {
    return failf("unexpected file in jsontestsuite/");
  }
  if (want == "accept" && any_parse_error) {
    return failf("expected no -32700, got " + std::string(records[0].reason()));
  }
  if (want == "reject" && !rejected) {
    return failf("expected one -32700 record, got " + std::to_string(records.size()) + " record(s)" +
                 (records.empty() ? "" : ", first " + std::string(records[0].reason())));
  }
  return true;
}

struct Tally {
  int passed = 0;
  int failed = 0;
  void record(const std::string& label, bool ok) {
    if (ok) {
      ++passed;
    } else {
      ++failed;
      std::fprintf(stdout, "FAIL %s\n%s", label.c_str(), g_failure.c_str());
    }
    g_failure.clear();
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <test/vectors directory>\n", argv[0]);
    return 2;
  }
  const fs::path root = argv[1];
  dom::parser parser;
  Tally tally;

  Router default_router;
  {
    std::string json;
    dom::element routes;
    const bool ok = read_file(root / "routes.json", &json) && parser.parse(json).get(routes) == simdjson::SUCCESS &&
                    load_routes(routes, &default_router);
    tally.record("routes.json", ok);
    if (!ok) return 1;
  }

  int engine_cases = 0;
  for (const char* dir : {"framing", "scan"}) {
    const auto files = list_files(root / dir, ".json");
    if (files.empty()) tally.record(std::string(dir) + "/", failf("no vectors found"));
    for (const auto& path : files) {
      ++engine_cases;
      tally.record(std::string(dir) + "/" + path.filename().string(), run_engine_vector(path, &parser, default_router));
    }
  }

  int response_cases = 0;
  if (fs::exists(root / "response")) {
    for (const auto& path : list_files(root / "response", ".json")) {
      ++response_cases;
      tally.record("response/" + path.filename().string(), run_response_vector(path, &parser));
    }
  }

  std::map<std::string, std::string> i_expectations;
  {
    std::string json;
    dom::element element;
    dom::object object;
    bool ok = read_file(root / "jsontestsuite-i.json", &json) && parser.parse(json).get(element) == simdjson::SUCCESS &&
              element.get_object().get(object) == simdjson::SUCCESS;
    if (ok) {
      for (auto [key, value] : object) {
        std::string_view verdict;
        if (value.get_string().get(verdict) != simdjson::SUCCESS || (verdict != "accept" && verdict != "reject")) {
          ok = failf(std::string(key) + ": expected \"accept\" or \"reject\"");
        }
        i_expectations[std::string(key)] = std::string(verdict);
      }
    } else {
      failf("cannot read jsontestsuite-i.json as an object");
    }
    tally.record("jsontestsuite-i.json", ok);
  }
  int suite_files = 0;
  std::set<std::string> seen_i;
  for (const auto& path : list_files(root / "jsontestsuite", "")) {
    const std::string name = path.filename().string();
    if (name == "LICENSE" || name == "README.md") continue;
    ++suite_files;
    if (name.rfind("i_", 0) == 0) seen_i.insert(name);
    tally.record("jsontestsuite/" + name, run_jsontestsuite_file(path, i_expectations));
  }
  for (const auto& [name, verdict] : i_expectations) {
    if (seen_i.count(name) == 0) tally.record("jsontestsuite-i.json " + name, failf("listed but missing"));
  }
  if (suite_files == 0) tally.record("jsontestsuite/", failf("no files found"));

  std::fprintf(stdout, "%d engine vectors, %d response vectors, %d JSONTestSuite files: %d passed, %d failed\n",
               engine_cases, response_cases, suite_files, tally.passed, tally.failed);
  return tally.failed == 0 ? 0 : 1;
}
