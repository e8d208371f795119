// scan.h (through Engine::scan, one message per call): validation order (section 4), classification
// (section 5), routing (section 6) and the record fields (section 7).
#include "core/scan.h"

#include <string>
#include <vector>

#include "check.h"
#include "core/engine.h"
#include "core/router.h"
#include "record_text.h"

namespace {

using check::RecordText;
using mcp::jsonrpc::Engine;
using mcp::jsonrpc::Limits;
using mcp::jsonrpc::Router;
using mcp::jsonrpc::Scanner;
namespace kind = mcp::jsonrpc::kind;
namespace flag = mcp::jsonrpc::flag;
namespace table = mcp::jsonrpc::table;

Scanner g_scanner;

Router default_router() {
  Router router;
  router.set_method("initialize", 0, table::kNone);
  router.set_method("ping", 1, table::kNone);
  router.set_method("tools/list", 2, table::kNone);
  router.set_method("tools/call", 3, table::kTools);
  router.set_method("resources/read", 4, table::kResources);
  router.set_method("prompts/get", 5, table::kPrompts);
  router.set_method("notifications/initialized", 6, table::kNone);
  router.set_name(table::kTools, "echo", 0);
  router.set_name(table::kTools, "add", 1);
  router.set_name(table::kTools, "caf\xc3\xa9", 2);
  router.set_name(table::kResources, "file:///a.txt", 0);
  router.set_name(table::kPrompts, "greet", 0);
  return router;
}

const Router g_router = default_router();

std::vector<RecordText> scan(std::string_view input, const Limits& limits = Limits{}) {
  Engine engine(&g_router, &g_scanner, limits);
  engine.scan(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  return check::record_texts(engine, input);
}

// One invalid record with this reason.
bool expect_invalid(std::string_view input, std::string_view reason, const Limits& limits = Limits{}) {
  const auto records = scan(input, limits);
  if (records.size() != 1 || records[0].kind() != kind::kInvalid || records[0].reason() != reason) {
    std::fprintf(stderr, "  input %s: expected one invalid %s record, got %zu record(s)%s%s\n",
                 check::show(input).c_str(), std::string(reason).c_str(), records.size(),
                 records.empty() ? "" : ", first reason ",
                 records.empty() ? "" : std::string(records[0].reason()).c_str());
    return false;
  }
  ASSERT_TRUE(records[0].spans_ok);
  ASSERT_TRUE(records[0].has_reply);
  return true;
}

bool test_routed_tools_call() {
  const std::string input =
      " {\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/"
      "call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"text\":\"hi\"}}}\n";
  const auto records = scan(input);
  ASSERT_EQ(records.size(), 1u);
  const RecordText& r = records[0];
  ASSERT_TRUE(r.spans_ok);
  ASSERT_EQ(r.kind(), kind::kRequest);
  ASSERT_EQ(r.message, input.substr(1, input.size() - 2));
  ASSERT_EQ(r.id, "7");
  ASSERT_EQ(r.id_kind(), mcp::jsonrpc::id_kind::kNumber);
  ASSERT_EQ(r.method, "tools/call");
  ASSERT_EQ(r.slot(), 3);
  ASSERT_EQ(r.body, "{\"name\":\"echo\",\"arguments\":{\"text\":\"hi\"}}");
  ASSERT_EQ(r.name, "echo");
  ASSERT_EQ(r.name_slot(), 0);
  ASSERT_EQ(r.code(), 0);
  ASSERT_EQ(r.reason(), "ok");
  ASSERT_EQ(r.arguments, "{\"text\":\"hi\"}");
  ASSERT_FALSE(r.has_meta);
  // name and arguments are all of params: it is spanned.
  ASSERT_EQ(r.flags(), (mcp::jsonrpc::id_kind::kNumber << flag::kIdKindShift) | flag::kParamsSpanned);
  return true;
}

bool test_params_before_method_and_escapes() {
  const std::string input =
      "{\"params\" : { \"arguments\":{}, \"n\\u0061me\" : \"caf\\u00e9\" } , \"method\":\"tools\\/call\","
      "\"id\":\"a\\u0062\",\"jsonrpc\":\"2\\u002e0\"}";
  const auto records = scan(input);
  ASSERT_EQ(records.size(), 1u);
  const RecordText& r = records[0];
  ASSERT_EQ(r.kind(), kind::kRequest);
  ASSERT_EQ(r.id, "\"a\\u0062\"");
  ASSERT_EQ(r.id_kind(), mcp::jsonrpc::id_kind::kString);
  ASSERT_EQ(r.method, "tools\\/call");
  ASSERT_EQ(r.slot(), 3);
  ASSERT_EQ(r.name, "caf\\u00e9");
  ASSERT_EQ(r.name_slot(), 2);
  ASSERT_EQ(r.body, "{ \"arguments\":{}, \"n\\u0061me\" : \"caf\\u00e9\" }");
  ASSERT_TRUE((r.flags() & flag::kMethodEscaped) != 0);
  ASSERT_TRUE((r.flags() & flag::kNameEscaped) != 0);
  return true;
}

bool test_routing_tables() {
  auto records = scan(
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/read\",\"params\":{\"name\":\"x\",\"uri\":\"file:///"
      "a.txt\"}}");
  ASSERT_EQ(records.size(), 1u);
  ASSERT_EQ(records[0].slot(), 4);
  ASSERT_EQ(records[0].name, "file:///a.txt");
  ASSERT_EQ(records[0].name_slot(), 0);
  records = scan("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/get\",\"params\":{\"name\":\"greet\",\"uri\":1}}");
  ASSERT_EQ(records[0].slot(), 5);
  ASSERT_EQ(records[0].name, "greet");
  ASSERT_EQ(records[0].name_slot(), 0);
  // Unknown name: NAME spans it, NAME_SLOT -1.
  records = scan("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"nope\"}}");
  ASSERT_EQ(records[0].name, "nope");
  ASSERT_EQ(records[0].name_slot(), -1);
  // Routed field not a string, absent, or params an array: no NAME.
  for (const char* input : {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":[\"echo\"]}}",
                            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{}}",
                            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":[\"echo\"]}",
                            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\"}"}) {
    records = scan(input);
    ASSERT_EQ(records.size(), 1u);
    ASSERT_EQ(records[0].kind(), kind::kRequest);
    ASSERT_EQ(records[0].slot(), 3);
    ASSERT_FALSE(records[0].has_name);
    ASSERT_EQ(records[0].name_slot(), -1);
  }
  // A method without a table ignores params names; an unknown method has slot -1.
  records = scan("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"name\":\"echo\",\"name\":\"x\"}}");
  ASSERT_EQ(records[0].kind(), kind::kRequest);
  ASSERT_EQ(records[0].slot(), 1);
  ASSERT_FALSE(records[0].has_name);
  records = scan("{\"jsonrpc\":\"2.0\",\"method\":\"what/ever\",\"params\":{\"name\":\"echo\"}}");
  ASSERT_EQ(records[0].kind(), kind::kNotification);
  ASSERT_EQ(records[0].slot(), -1);
  ASSERT_EQ(records[0].id_kind(), mcp::jsonrpc::id_kind::kNone);
  ASSERT_FALSE(records[0].has_id);
  ASSERT_FALSE(records[0].has_name);
  return true;
}

bool test_responses() {
  auto records = scan("{\"jsonrpc\":\"2.0\",\"id\":1.50,\"result\":{\"a\":[1,2]}}");
  ASSERT_EQ(records.size(), 1u);
  ASSERT_EQ(records[0].kind(), kind::kResponse);
  ASSERT_EQ(records[0].id, "1.50");
  ASSERT_EQ(records[0].body, "{\"a\":[1,2]}");
  ASSERT_EQ(records[0].slot(), -1);
  ASSERT_FALSE(records[0].has_method);
  records = scan("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":  -0  }");
  ASSERT_EQ(records[0].kind(), kind::kResponse);
  ASSERT_EQ(records[0].body, "-0");
  records = scan("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"m\",\"data\":{}}}");
  ASSERT_EQ(records[0].kind(), kind::kErrorResponse);
  ASSERT_EQ(records[0].id_kind(), mcp::jsonrpc::id_kind::kNull);
  ASSERT_EQ(records[0].id, "null");
  ASSERT_EQ(records[0].body, "{\"code\":-32600,\"message\":\"m\",\"data\":{}}");
  records = scan(
      "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"message\":\"\\u0041\",\"code\":123456789012345678901234567890}}");
  ASSERT_EQ(records[0].kind(), kind::kErrorResponse);
  ASSERT_TRUE(expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":1}", "bad_id"));
  ASSERT_TRUE(expect_invalid("{\"jsonrpc\":\"2.0\",\"result\":1}", "bad_id"));
  ASSERT_TRUE(expect_invalid("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":1,\"message\":\"m\"}}", "bad_id"));
  for (const char* error :
       {"1", "null", "[]", "{}", "{\"code\":1}", "{\"message\":\"m\"}", "{\"code\":1.5,\"message\":\"m\"}",
        "{\"code\":1e3,\"message\":\"m\"}", "{\"code\":\"1\",\"message\":\"m\"}", "{\"code\":1,\"message\":2}",
        "{\"code\":1,\"code\":2,\"message\":\"m\"}", "{\"code\":1,\"message\":\"m\",\"message\":\"n\"}"}) {
    ASSERT_TRUE(expect_invalid(std::string("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":") + error + "}", "bad_error"));
  }
  return true;
}

bool test_classification_order() {
  ASSERT_TRUE(expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"\\u0069d\":2,\"method\":\"ping\"}", "duplicate_key"));
  ASSERT_TRUE(expect_invalid("{\"jsonrpc\":\"1.0\",\"jsonrpc\":\"2.0\",\"method\":\"ping\"}", "duplicate_key"));
  ASSERT_TRUE(expect_invalid("{\"id\":1,\"method\":\"ping\"}", "bad_version"));
  ASSERT_TRUE(expect_invalid("{\"jsonrpc\":2.0,\"id\":1,\"method\":\"ping\"}", "bad_version"));
  ASSERT_TRUE(expect_invalid("{\"jsonrpc\":\"2.00\",\"id\":1,\"method\":\"ping\"}", "bad_version"));
  ASSERT_TRUE(expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}", "bad_id"));
  ASSERT_TRUE(expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":5}", "bad_id"));
  ASSERT_TRUE(expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"result\":1}", "bad_shape"));
  ASSERT_TRUE(expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1,\"error\":{}}", "bad_shape"));
  ASSERT_TRUE(expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1}", "bad_shape"));
  ASSERT_TRUE(expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}", "bad_method"));
  ASSERT_TRUE(expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":\"x\"}", "bad_params"));
  ASSERT_TRUE(expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":null}", "bad_params"));
  ASSERT_TRUE(expect_invalid("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", "bad_id"));
  ASSERT_TRUE(expect_invalid(
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"na\\u006de\":\"add\"}}",
      "duplicate_key"));
  // Duplicates below the top level (outside the routed field) are allowed.
  const auto records = scan(
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"a\":1,\"a\":2,"
      "\"arguments\":{\"name\":1,\"name\":2}}}");
  ASSERT_EQ(records.size(), 1u);
  ASSERT_EQ(records[0].kind(), kind::kRequest);
  ASSERT_EQ(records[0].name_slot(), 0);
  return true;
}

bool test_many_members_duplicate_detection() {
  std::string input = "{\"jsonrpc\":\"2.0\",\"method\":\"ping\"";
  for (int i = 0; i < 40; ++i) input += ",\"k" + std::to_string(i) + "\":" + std::to_string(i);
  const auto records = scan(input + "}");
  ASSERT_EQ(records.size(), 1u);
  ASSERT_EQ(records[0].kind(), kind::kNotification);
  ASSERT_TRUE(expect_invalid(input + ",\"k3\":0}", "duplicate_key"));
  ASSERT_TRUE(expect_invalid(input + ",\"method\":\"x\"}", "duplicate_key"));
  return true;
}

bool test_reply_ids() {
  auto records = scan("{\"jsonrpc\":\"1.0\",\"id\":\"a\\u0062\",\"method\":\"ping\"}");
  ASSERT_EQ(records[0].id, "\"a\\u0062\"");
  ASSERT_EQ(records[0].id_kind(), mcp::jsonrpc::id_kind::kString);
  ASSERT_EQ(records[0].reply,
            "{\"jsonrpc\":\"2.0\",\"id\":\"a\\u0062\",\"error\":{\"code\":-32600,\"message\":\"Invalid Request: "
            "\\\"jsonrpc\\\" must be \\\"2.0\\\"\"}}");
  records = scan("{\"id\":-1.5e3}");
  ASSERT_EQ(records[0].id, "-1.5e3");
  ASSERT_EQ(records[0].id_kind(), mcp::jsonrpc::id_kind::kNumber);
  ASSERT_EQ(records[0].reason(), "bad_version");
  // Twice, null, or not a string or number: null.
  for (const char* input :
       {"{\"id\":1,\"id\":2}", "{\"id\":null,\"method\":\"x\"}", "{\"id\":[1]}", "{\"jsonrpc\":1}"}) {
    records = scan(input);
    ASSERT_EQ(records.size(), 1u);
    ASSERT_EQ(records[0].kind(), kind::kInvalid);
    ASSERT_FALSE(records[0].has_id);
    ASSERT_EQ(records[0].id_kind(), mcp::jsonrpc::id_kind::kNull);
    ASSERT_TRUE(records[0].reply.find("\"id\":null,") != std::string::npos);
  }
  return true;
}

bool test_invalid_json() {
  const char* inputs[] = {
      "{\"jsonrpc\":\"2.0\",\"method\":\"ping\",}",
      "{\"jsonrpc\":\"2.0\" \"method\":\"ping\"}",
      "{\"jsonrpc\":\"2.0\",\"method\":\"ping\"} x",
      "{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}}",
      "{\"jsonrpc\":\"2.0\",\"method\":\"ping\"},{}",
      "{} {}",
      "[1,]",
      "[1 2]",
      "[,1]",
      "{'a':1}",
      "{\"a\":1 // c\n}",
      "/* c */ {}",
      "{\"a\":True}",
      "{\"a\":nul}",
      "{\"a\":nulll}",
      "{\"a\":truefalse}",
      "{\"a\":01}",
      "{\"a\":1.}",
      "{\"a\":.5}",
      "{\"a\":+1}",
      "{\"a\":-}",
      "{\"a\":1e}",
      "{\"a\":1e+}",
      "{\"a\":0x10}",
      "{\"a\":NaN}",
      "{\"a\":Infinity}",
      "{\"a\":1\"x\"}",
      "{\"a\":\"\\q\"}",
      "{\"a\":\"\\u12\"}",
      "{\"a\":\"\\uD800\"}",
      "{\"a\":\"\\uDC00\"}",
      "{\"a\":\"\\uD800\\u0041\"}",
      "{\"a\\uDFFF\":1}",
      "{\"a\\x\":1}",
      "{\"a\":\"tab\there\"}",
      "{\"a\":\"x}",
      "{\"a\"}",
      "{1:2}",
      "{\"a\":1,,\"b\":2}",
      "]",
      "}",
      "[",
      "{",
      "[[]",
      "[]]",
      "\"a\" \"b\"",
      "tru",
      "x",
      "\xEF\xBB\xBF\xEF\xBB\xBF{}",
      // simdjson skips an unconsumed string followed by ':' as a key; the scanner must not accept these.
      "[\"a\":1]",
      "[\"a\":}]",
      "{\"x\":[\"a\":}]}",
      "\"a\":}",
      "{\"a\":\"b\":1}",
  };
  for (const char* input : inputs) ASSERT_TRUE(expect_invalid(input, "invalid_json"));
  // Every value is checked, even in members the engine ignores.
  ASSERT_TRUE(expect_invalid("{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"x\":[1,{\"y\":[tru]}]}", "invalid_json"));
  ASSERT_TRUE(
      expect_invalid("{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"params\":{\"x\":\"\\uDBFF\"}}", "invalid_json"));
  // Valid surrogate pairs and every simple escape are fine.
  const auto records =
      scan("{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"x\":\"\\uD83D\\uDE00 \\\" \\\\ \\/ \\b\\f\\n\\r\\t \\u0000\"}");
  ASSERT_EQ(records.size(), 1u);
  ASSERT_EQ(records[0].kind(), kind::kNotification);
  return true;
}

bool test_numbers_of_any_magnitude() {
  const std::string big(100, '9');
  const auto records = scan("{\"jsonrpc\":\"2.0\",\"id\":" + big +
                            ",\"method\":\"ping\",\"params\":[1e400,-0,-0.0e-0,0E+1," + big + "]}");
  ASSERT_EQ(records.size(), 1u);
  ASSERT_EQ(records[0].kind(), kind::kRequest);
  ASSERT_EQ(records[0].id, big);
  return true;
}

bool test_blank_and_empty_bodies() {
  // START = END = the offset after the BOM and the whitespace.
  for (const std::string_view input : {"", " ", " \t\r\n ", "\xEF\xBB\xBF", "\xEF\xBB\xBF  "}) {
    const auto records = scan(input);
    ASSERT_EQ(records.size(), 1u);
    ASSERT_EQ(records[0].reason(), "invalid_json");
    ASSERT_EQ(records[0].code(), -32700);
    ASSERT_EQ(records[0].at(mcp::jsonrpc::field::kStart), static_cast<int32_t>(input.size()));
    ASSERT_EQ(records[0].at(mcp::jsonrpc::field::kEnd), static_cast<int32_t>(input.size()));
    ASSERT_EQ(records[0].id_kind(), mcp::jsonrpc::id_kind::kNull);
  }
  return true;
}

bool test_bom() {
  auto records = scan("\xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}");
  ASSERT_EQ(records.size(), 1u);
  ASSERT_EQ(records[0].kind(), kind::kNotification);
  ASSERT_EQ(records[0].at(mcp::jsonrpc::field::kStart), 3);
  ASSERT_TRUE(expect_invalid(" \xEF\xBB\xBF{}", "invalid_json"));
  ASSERT_TRUE(expect_invalid("\xEF\xBB\xBF\xEF\xBB\xBF{\"a\":\"\xff\"}", "invalid_utf8"));
  return true;
}

bool test_utf8_first() {
  ASSERT_TRUE(expect_invalid("{\"a\":\"\xff\"}", "invalid_utf8"));
  ASSERT_TRUE(expect_invalid("{\"a\":\"\xed\xa0\x80\"}", "invalid_utf8"));      // encoded surrogate
  ASSERT_TRUE(expect_invalid("{\"a\":\"\xc0\xaf\"}", "invalid_utf8"));          // overlong
  ASSERT_TRUE(expect_invalid("{\"a\":\"\xf4\x90\x80\x80\"}", "invalid_utf8"));  // above U+10FFFF
  ASSERT_TRUE(expect_invalid("{\"a\":\"\xe2\x82\"}", "invalid_utf8"));          // truncated
  // Even when the JSON is also broken, or nests too deep.
  ASSERT_TRUE(expect_invalid("{\"a\":\"x, \xff", "invalid_utf8"));
  Limits shallow;
  shallow.max_depth = 1;
  ASSERT_TRUE(expect_invalid("[[[[\xff]]]]", "invalid_utf8", shallow));
  return true;
}

bool test_depth() {
  Limits limits;
  limits.max_depth = 3;
  auto records = scan("{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"params\":{\"a\":[]}}", limits);
  ASSERT_EQ(records.size(), 1u);
  ASSERT_EQ(records[0].kind(), kind::kNotification);
  ASSERT_TRUE(expect_invalid("{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"params\":{\"a\":[{}]}}", "too_deep", limits));
  ASSERT_TRUE(expect_invalid("[[[[]]]]", "too_deep", limits));
  records = scan("[[[[]]]]", limits);
  ASSERT_EQ(records[0].reply,
            "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"Parse error: message nests "
            "deeper than 3 levels\"}}");
  limits.max_depth = 1;
  ASSERT_TRUE(expect_invalid("[{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}]", "too_deep", limits));
  records = scan("{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"params\":[]}", Limits{});
  ASSERT_EQ(records[0].kind(), kind::kNotification);
  limits.max_depth = 1;
  ASSERT_TRUE(expect_invalid("{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"params\":[]}", "too_deep", limits));
  // 1024 levels at maxDepth 1024; 1025 is too deep.
  limits.max_depth = 1024;
  records = scan(std::string(1024, '[') + std::string(1024, ']'), limits);
  ASSERT_EQ(records.size(), 2u);  // a batch of one element that is not an object
  ASSERT_EQ(records[0].kind(), kind::kBatch);
  ASSERT_EQ(records[1].reason(), "not_object");
  ASSERT_TRUE(expect_invalid(std::string(1025, '[') + std::string(1025, ']'), "too_deep", limits));
  ASSERT_TRUE(expect_invalid(std::string(100000, '['), "too_deep", Limits{}));
  return true;
}

// The first problem in document order decides between invalid_json and too_deep; lexical errors anywhere
// (unclosed strings, control characters) come before depth.
bool test_document_order() {
  Limits limits;
  limits.max_depth = 2;
  ASSERT_TRUE(expect_invalid("[[[1]]] x", "too_deep", limits));
  ASSERT_TRUE(expect_invalid("[[[1]]]]", "too_deep", limits));
  ASSERT_TRUE(expect_invalid("[[[1]]", "too_deep", limits));
  ASSERT_TRUE(expect_invalid("{\"a\":[[1]]} x", "too_deep", limits));
  ASSERT_TRUE(expect_invalid("[1, tru, [[[1]]]]", "invalid_json", limits));
  ASSERT_TRUE(expect_invalid("[[[1]], tru]", "too_deep", limits));
  ASSERT_TRUE(expect_invalid("{\"a\" [[[1]]]}", "invalid_json", limits));
  ASSERT_TRUE(expect_invalid("[[[1]]] \"unclosed", "invalid_json", limits));
  ASSERT_TRUE(expect_invalid("[[[1]]] \"ctl\x01\"", "invalid_json", limits));
  ASSERT_TRUE(expect_invalid("1 [[[", "invalid_json", limits));
  return true;
}

bool test_top_level_values() {
  for (const char* input : {"1", "\"abc\"", "null", "true", " -0.5e2 ", "\"\\u00e9\""}) {
    ASSERT_TRUE(expect_invalid(input, "not_object"));
    const auto records = scan(input);
    ASSERT_EQ(records[0].code(), -32600);
  }
  return true;
}

bool test_batches() {
  const std::string input =
      "[ {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"} ,\n 5, [1], {\"jsonrpc\":\"2.0\",\"method\":\"tools/call\","
      "\"params\":{\"name\":\"add\"}}, {\"id\":\"q\"}, {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":null} ]";
  const auto records = scan(input);
  ASSERT_EQ(records.size(), 7u);
  ASSERT_EQ(records[0].kind(), kind::kBatch);
  ASSERT_EQ(records[0].slot(), 6);
  ASSERT_EQ(records[0].message, input);
  ASSERT_FALSE(records[0].in_batch());
  for (std::size_t i = 1; i < records.size(); ++i) {
    ASSERT_TRUE(records[i].in_batch());
    ASSERT_TRUE(records[i].spans_ok);
  }
  ASSERT_EQ(records[1].kind(), kind::kRequest);
  ASSERT_EQ(records[1].message, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
  ASSERT_EQ(records[2].reason(), "not_object");
  ASSERT_EQ(records[2].message, "5");
  ASSERT_EQ(records[3].reason(), "not_object");
  ASSERT_EQ(records[3].message, "[1]");
  ASSERT_EQ(records[4].kind(), kind::kNotification);
  ASSERT_EQ(records[4].name, "add");
  ASSERT_EQ(records[4].name_slot(), 1);
  ASSERT_EQ(records[5].reason(), "bad_version");
  ASSERT_EQ(records[5].id, "\"q\"");
  ASSERT_EQ(records[5].message, "{\"id\":\"q\"}");
  ASSERT_EQ(records[6].kind(), kind::kResponse);
  ASSERT_EQ(records[6].body, "null");
  return true;
}

bool test_batch_limits() {
  ASSERT_TRUE(expect_invalid("[]", "empty_batch"));
  ASSERT_TRUE(expect_invalid(" [ \n ] ", "empty_batch"));
  Limits limits;
  limits.max_batch = 2;
  auto records = scan("[{},{}]", limits);
  ASSERT_EQ(records.size(), 3u);
  ASSERT_TRUE(expect_invalid("[{},{},{}]", "batch_too_large", limits));
  records = scan("[{},{},{}]", limits);
  ASSERT_EQ(records[0].reply,
            "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"Invalid Request: batch exceeds "
            "2 messages\"}}");
  ASSERT_FALSE(records[0].in_batch());
  limits.allow_batch = false;
  ASSERT_TRUE(expect_invalid("[{}]", "batch_not_allowed", limits));
  ASSERT_TRUE(expect_invalid("[]", "batch_not_allowed", limits));
  // Validity still comes first.
  ASSERT_TRUE(expect_invalid("[{},{},{},tru]", "invalid_json", limits));
  limits.allow_batch = true;
  ASSERT_TRUE(expect_invalid("[{},{},{},tru]", "invalid_json", limits));
  return true;
}

bool test_too_large_scan() {
  Limits limits;
  limits.max_message_bytes = 10;
  auto records = scan("{\"a\":12345}", limits);  // 11 bytes
  ASSERT_EQ(records.size(), 1u);
  ASSERT_EQ(records[0].reason(), "too_large");
  ASSERT_EQ(records[0].code(), -32600);
  ASSERT_EQ(records[0].at(mcp::jsonrpc::field::kStart), -1);
  ASSERT_EQ(records[0].at(mcp::jsonrpc::field::kEnd), -1);
  ASSERT_EQ(records[0].reply,
            "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"Invalid Request: message "
            "exceeds 10 bytes\"}}");
  records = scan("{\"a\":1234}", limits);
  ASSERT_EQ(records[0].reason(), "bad_version");
  records = scan("\xEF\xBB\xBF{\"a\":12}", limits);  // the BOM counts
  ASSERT_EQ(records[0].reason(), "too_large");
  return true;
}

bool test_large_message_and_release() {
  std::string input =
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/"
      "call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"text\":\"";
  input.append(3 << 20, 'x');
  input += "\"}}}";
  auto records = scan(input);
  ASSERT_EQ(records.size(), 1u);
  ASSERT_EQ(records[0].kind(), kind::kRequest);
  ASSERT_EQ(records[0].name_slot(), 0);
  ASSERT_EQ(records[0].body.size(), input.size() - input.find("{\"name\"") - 1);
  records = scan("{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}");
  ASSERT_EQ(records[0].kind(), kind::kNotification);
  return true;
}

// The walk reads the byte right after the message (stage 1's last index points there): a message parsed in
// place must not take the bytes that follow it in the caller's buffer for its own tokens.
bool test_bytes_after_the_message() {
  const struct {
    const char* message;
    const char* after;
    int32_t reason;  // 0: a valid notification
  } cases[] = {
      {"{\"jsonrpc\":\"2.0\",\"method\":\"ping\"", "}", 2},
      {"{\"jsonrpc\":\"2.0\",\"method\":\"ping\",", "\"a\":1}", 2},
      {"{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"a\"", ":1}", 2},
      {"[{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}", "]", 2},
      {"{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}", ",{}]", 0},
      {"{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}", "\n{", 0},
  };
  for (const auto& c : cases) {
    std::string buffer = std::string(c.message) + c.after + std::string(mcp::jsonrpc::kScanPadding, ' ');
    mcp::jsonrpc::Message message;
    message.data = reinterpret_cast<const uint8_t*>(buffer.data());
    message.size = std::string_view(c.message).size();
    message.readable_after = buffer.size() - message.size;
    std::vector<int32_t> records;
    std::string replies;
    g_scanner.scan(message, g_router, Limits{}, &records, &replies);
    ASSERT_EQ(records.size(), mcp::jsonrpc::kRecordStride);
    ASSERT_EQ(records[mcp::jsonrpc::field::kReason], c.reason);
    if (c.reason == 0) ASSERT_EQ(records[mcp::jsonrpc::field::kKind], kind::kNotification);
  }
  return true;
}

}  // namespace

int main() {
  int failures = 0;
  RUN(test_routed_tools_call);
  RUN(test_params_before_method_and_escapes);
  RUN(test_routing_tables);
  RUN(test_responses);
  RUN(test_classification_order);
  RUN(test_many_members_duplicate_detection);
  RUN(test_reply_ids);
  RUN(test_invalid_json);
  RUN(test_numbers_of_any_magnitude);
  RUN(test_blank_and_empty_bodies);
  RUN(test_bom);
  RUN(test_utf8_first);
  RUN(test_depth);
  RUN(test_document_order);
  RUN(test_top_level_values);
  RUN(test_batches);
  RUN(test_batch_limits);
  RUN(test_too_large_scan);
  RUN(test_large_message_and_release);
  RUN(test_bytes_after_the_message);
  return failures == 0 ? 0 : 1;
}
