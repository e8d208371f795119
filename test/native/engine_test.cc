// engine.h: feed / end / scan / reset together, SRC_CARRY spans, too_large from a stream, and the same
// messages whatever the chunking (in place, copied, carried).
#include "core/engine.h"

#include <string>
#include <vector>

#include "check.h"
#include "core/router.h"
#include "record_text.h"

namespace {

using check::RecordText;
using mcp::jsonrpc::Engine;
using mcp::jsonrpc::Limits;
using mcp::jsonrpc::Router;
using mcp::jsonrpc::Scanner;
namespace kind = mcp::jsonrpc::kind;
namespace table = mcp::jsonrpc::table;

Scanner g_scanner;

Router make_router() {
  Router router;
  router.set_method("ping", 1, table::kNone);
  router.set_method("tools/call", 3, table::kTools);
  router.set_name(table::kTools, "echo", 0);
  return router;
}
const Router g_router = make_router();

std::vector<RecordText> feed(Engine* engine, std::string_view chunk) {
  if (!engine->feed(reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size())) return {};
  return check::record_texts(*engine, chunk);
}

std::vector<RecordText> end(Engine* engine) {
  engine->end();
  return check::record_texts(*engine, {});
}

std::string message(int i) {
  return "{\"jsonrpc\":\"2.0\",\"id\":" + std::to_string(i) +
         ",\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"text\":\"hello " +
         std::to_string(i) + "\"}}}";
}

// Summary of a record independent of where its spans point.
std::string summary(const RecordText& r) {
  return std::string(check::kind_name(r.kind())) + "|" + r.message + "|" + r.id + "|" + r.method + "|" + r.body + "|" +
         r.name + "|" + std::to_string(r.slot()) + "|" + std::to_string(r.name_slot()) + "|" + std::string(r.reason()) +
         "|" + r.reply;
}

bool test_many_messages_in_one_chunk() {
  Engine engine(&g_router, &g_scanner, Limits{});
  std::string chunk;
  for (int i = 0; i < 64; ++i) chunk += message(i) + "\n";
  const auto records = feed(&engine, chunk);
  ASSERT_EQ(records.size(), 64u);
  for (int i = 0; i < 64; ++i) {
    const RecordText& r = records[static_cast<std::size_t>(i)];
    ASSERT_TRUE(r.spans_ok);
    ASSERT_EQ(r.kind(), kind::kRequest);
    ASSERT_EQ(r.message, message(i));
    ASSERT_EQ(r.id, std::to_string(i));
    ASSERT_EQ(r.name_slot(), 0);
    ASSERT_FALSE(r.carry());
  }
  return true;
}

// Every split point of a three-message stream gives the same records; spans are checked each time.
bool test_every_split_point() {
  const std::string stream =
      message(1) + "\r\n" + "[" + message(2) + ",7]\n\n  \n{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}";
  std::vector<std::string> expected;
  {
    Engine engine(&g_router, &g_scanner, Limits{});
    for (const auto& r : feed(&engine, stream)) expected.push_back(summary(r));
    for (const auto& r : end(&engine)) expected.push_back(summary(r));
  }
  ASSERT_EQ(expected.size(), 5u);
  for (std::size_t a = 0; a <= stream.size(); ++a) {
    for (std::size_t b = a; b <= stream.size(); b += 7) {
      Engine engine(&g_router, &g_scanner, Limits{});
      std::vector<std::string> actual;
      for (std::string_view part : {std::string_view(stream).substr(0, a), std::string_view(stream).substr(a, b - a),
                                    std::string_view(stream).substr(b)}) {
        for (const auto& r : feed(&engine, part)) {
          ASSERT_TRUE(r.spans_ok);
          actual.push_back(summary(r));
        }
      }
      for (const auto& r : end(&engine)) actual.push_back(summary(r));
      ASSERT_EQ(actual.size(), expected.size());
      for (std::size_t i = 0; i < actual.size(); ++i) ASSERT_EQ(actual[i], expected[i]);
    }
  }
  return true;
}

bool test_carried_records() {
  Engine engine(&g_router, &g_scanner, Limits{});
  const std::string m = message(5);
  auto records = feed(&engine, std::string_view(m).substr(0, 20));
  ASSERT_TRUE(records.empty());
  records = feed(&engine, std::string(std::string_view(m).substr(20)) + "\n[" + m + "]\n");
  ASSERT_EQ(records.size(), 3u);
  ASSERT_TRUE(records[0].carry());
  ASSERT_EQ(records[0].message, m);
  ASSERT_EQ(std::string(engine.carried()), m);
  ASSERT_FALSE(records[1].carry());
  ASSERT_EQ(records[1].kind(), kind::kBatch);
  ASSERT_TRUE(records[2].in_batch());
  // A batch completing from the carry: every record carries SRC_CARRY.
  records = feed(&engine, "[" + m);
  ASSERT_TRUE(records.empty());
  ASSERT_EQ(engine.carried(), "");
  records = feed(&engine, ",1]\n");
  ASSERT_EQ(records.size(), 3u);
  for (const auto& r : records) ASSERT_TRUE(r.carry());
  ASSERT_EQ(records[2].reason(), "not_object");
  ASSERT_EQ(records[2].message, "1");
  return true;
}

bool test_too_large_in_stream() {
  Limits limits;
  limits.max_message_bytes = 40;
  Engine engine(&g_router, &g_scanner, limits);
  auto records = feed(&engine, "{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}\n{\"jsonrpc\":\"2.0\",");
  ASSERT_EQ(records.size(), 1u);
  records = feed(&engine, "\"method\":\"ping\",\"params\":{}}\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n");
  ASSERT_EQ(records.size(), 2u);
  ASSERT_EQ(records[0].reason(), "too_large");
  ASSERT_FALSE(records[0].has_message);
  ASSERT_FALSE(records[0].carry());
  ASSERT_EQ(records[0].id_kind(), mcp::jsonrpc::id_kind::kNull);
  ASSERT_EQ(records[0].reply,
            "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"Invalid Request: message "
            "exceeds 40 bytes\"}}");
  ASSERT_EQ(records[1].kind(), kind::kRequest);
  return true;
}

bool test_end_and_reset() {
  Engine engine(&g_router, &g_scanner, Limits{});
  auto records = feed(&engine, "\xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}");
  ASSERT_TRUE(records.empty());
  records = end(&engine);
  ASSERT_EQ(records.size(), 1u);
  ASSERT_TRUE(records[0].carry());
  ASSERT_EQ(records[0].kind(), kind::kNotification);
  ASSERT_EQ(records[0].at(mcp::jsonrpc::field::kStart), 3);
  records = end(&engine);
  ASSERT_TRUE(records.empty());
  ASSERT_EQ(engine.carried(), "");
  records = feed(&engine, "{\"jsonrpc\":");
  engine.reset();
  ASSERT_EQ(engine.record_count(), 0u);
  records = feed(&engine, "\xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}\n");
  ASSERT_EQ(records.size(), 1u);
  ASSERT_EQ(records[0].kind(), kind::kNotification);
  return true;
}

bool test_scan_keeps_stream_state() {
  Engine engine(&g_router, &g_scanner, Limits{});
  auto records = feed(&engine, "{\"jsonrpc\":\"2.0\",");
  const std::string body = message(9);
  engine.scan(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  records = check::record_texts(engine, body);
  ASSERT_EQ(records.size(), 1u);
  ASSERT_EQ(records[0].id, "9");
  records = feed(&engine, "\"method\":\"ping\"}\n");
  ASSERT_EQ(records.size(), 1u);
  ASSERT_TRUE(records[0].carry());
  ASSERT_EQ(records[0].kind(), kind::kNotification);
  return true;
}

bool test_invalid_lines_do_not_stop_the_stream() {
  Engine engine(&g_router, &g_scanner, Limits{});
  const auto records = feed(&engine, "{bad\n\xff\n[]\n{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}\n\"x\"\n");
  ASSERT_EQ(records.size(), 5u);
  ASSERT_EQ(records[0].reason(), "invalid_json");
  ASSERT_EQ(records[0].message, "{bad");
  ASSERT_EQ(records[1].reason(), "invalid_utf8");
  ASSERT_EQ(records[2].reason(), "empty_batch");
  ASSERT_EQ(records[3].kind(), kind::kNotification);
  ASSERT_EQ(records[4].reason(), "not_object");
  return true;
}

bool test_engines_share_a_scanner() {
  Engine first(&g_router, &g_scanner, Limits{});
  Limits shallow;
  shallow.max_depth = 1;
  Engine second(&g_router, &g_scanner, shallow);
  auto records = feed(&first, "{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"params\":{\"a\":");
  records = feed(&second, "{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"params\":{}}\n");
  ASSERT_EQ(records.size(), 1u);
  ASSERT_EQ(records[0].reason(), "too_deep");
  records = feed(&first, "1}}\n");
  ASSERT_EQ(records.size(), 1u);
  ASSERT_EQ(records[0].kind(), kind::kNotification);
  ASSERT_EQ(records[0].body, "{\"a\":1}");
  return true;
}

}  // namespace

// Fused admission (docs/ratelimit.md section 8): a refused request becomes a kInvalid + kLimited record whose
// body is the -32029 reply around the id as written, with the decision in fields 16-19; other requests,
// notifications and a request split across chunks (from the carry buffer) are handled as without admission.
bool test_fused_admission() {
  namespace rl = mcp::ratelimit;
  using mcp::jsonrpc::field::kKind;
  rl::Rule rule;
  rule.spec = {rl::Algorithm::kFixedWindow, 2, 60000};
  rule.scope = rl::Scope::kClient;
  rl::RuleSet rules({rule});
  std::vector<int32_t> none;
  rules.set_match(0, false, {3}, true, none);  // tools/call only
  mcp::jsonrpc::Admission admission;
  admission.rules = &rules;
  admission.replies.push_back({",H", ",M", ",T", ",NEVER"});
  admission.client = rl::RuleSet::client_hash("alice");
  admission.now = 120000;  // the start of a window: retry after 60000 ms
  Engine engine(&g_router, &g_scanner, Limits{});
  engine.set_admission(std::move(admission));
  const std::string ping = "{\"jsonrpc\":\"2.0\",\"id\":\"p\\\"1\",\"method\":\"ping\"}";
  const std::string third = "{\"jsonrpc\":\"2.0\",\"id\":\"a\\\"b\",\"method\":\"tools/call\",\"params\":{\"name\":\"echo\"}}";
  // Two admitted calls, a ping (never counted), and the third call split across two chunks.
  auto first = feed(&engine, message(1) + "\n" + ping + "\n" + message(2) + "\n" + third.substr(0, 20));
  ASSERT_EQ(first.size(), std::size_t{3});
  for (const auto& r : first) ASSERT_EQ(r.kind(), mcp::jsonrpc::kind::kRequest);
  auto second = feed(&engine, third.substr(20) + "\n" + message(4) + "\n");
  ASSERT_EQ(second.size(), std::size_t{2});
  for (std::size_t i = 0; i < 2; ++i) {
    const int32_t* rec = engine.records() + i * mcp::jsonrpc::kRecordStride;
    ASSERT_EQ(rec[kKind], mcp::jsonrpc::kind::kInvalid);
    ASSERT_TRUE((rec[mcp::jsonrpc::field::kFlags] & mcp::jsonrpc::flag::kLimited) != 0);
    ASSERT_TRUE((rec[mcp::jsonrpc::field::kFlags] & mcp::jsonrpc::flag::kBodyIsReply) != 0);
    ASSERT_EQ(rec[mcp::jsonrpc::field::kCode], mcp::jsonrpc::limited::kCode);
    ASSERT_EQ(rec[mcp::jsonrpc::field::kSlot], 3);
    ASSERT_EQ(rec[mcp::jsonrpc::field::kNameSlot], 0);
    ASSERT_EQ(rec[mcp::jsonrpc::limited::kRule], 0);
    ASSERT_EQ(rec[mcp::jsonrpc::limited::kRetryAfter], 60000);
    ASSERT_EQ(rec[mcp::jsonrpc::limited::kRemaining], 0);
  }
  ASSERT_EQ(second[0].reply, std::string("{\"jsonrpc\":\"2.0\",\"id\":\"a\\\"b\",H60000,M60000,T"));
  ASSERT_EQ(second[1].reply, std::string("{\"jsonrpc\":\"2.0\",\"id\":4,H60000,M60000,T"));
  // Another client has its own window; without admission nothing is refused.
  engine.admission().client = rl::RuleSet::client_hash("bob");
  ASSERT_EQ(feed(&engine, message(5) + "\n")[0].kind(), mcp::jsonrpc::kind::kRequest);
  engine.set_admission({});
  ASSERT_EQ(feed(&engine, message(6) + "\n")[0].kind(), mcp::jsonrpc::kind::kRequest);
  return true;
}

int main() {
  int failures = 0;
  RUN(test_fused_admission);
  RUN(test_many_messages_in_one_chunk);
  RUN(test_every_split_point);
  RUN(test_carried_records);
  RUN(test_too_large_in_stream);
  RUN(test_end_and_reset);
  RUN(test_scan_keeps_stream_state);
  RUN(test_invalid_lines_do_not_stop_the_stream);
  RUN(test_engines_share_a_scanner);
  return failures == 0 ? 0 : 1;
}
