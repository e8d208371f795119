// libFuzzer target for the engine's fused admission (docs/ratelimit.md section 8) on arbitrary bytes.
//
// Input: byte 0 picks the rule (algorithm, limit 1-4, scope), byte 1 the split point and the client switch,
// the rest is an NDJSON stream fed twice through two engines over one router: one without admission, one with
// it (the stream split at the split point, the client changed between the halves). Invariants (abort on
// violation):
//   * both engines give the same number of records; a record the admission left alone is identical to the
//     other engine's record field by field, but for META_REPEATED (a refused request keeps no META), which
//     holds in each engine on its own
//   * a refused record was a request there, and is now invalid + BODY_IS_REPLY + LIMITED, CODE -32029, the
//     same SLOT and NAME_SLOT, rule 0, retry-after -1 or >= 1, and its reply (inside replies()) is the
//     request's raw id in valid JSON whose error code is -32029
//   * the rule never admits more than its limit in a window (fixed window: all calls share one `now`)
#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/engine.h"
#include "core/ratelimit.h"
#include "core/records.h"
#include "core/router.h"
#include "core/scan.h"
#include "engine_fixture.h"

namespace {

namespace jr = mcp::jsonrpc;
namespace rl = mcp::ratelimit;
namespace f = jr::field;

using fuzz::router;
using fuzz::scanner;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t mode = data[0];
  const std::string_view stream(reinterpret_cast<const char*>(data + 2), size - 2);
  const std::size_t split = stream.empty() ? 0 : data[1] % (stream.size() + 1);

  rl::Rule rule;
  const rl::Algorithm algorithms[] = {rl::Algorithm::kTokenBucket, rl::Algorithm::kSlidingWindowLog,
                                      rl::Algorithm::kSlidingWindowCounter, rl::Algorithm::kFixedWindow};
  rule.spec = {algorithms[mode & 3], static_cast<double>(1 + ((mode >> 2) & 3)), 60000};
  const rl::Scope scopes[] = {rl::Scope::kGlobal, rl::Scope::kClient, rl::Scope::kTool, rl::Scope::kClientTool};
  rule.scope = scopes[(mode >> 4) & 3];
  rule.max_keys = 8;
  rl::RuleSet rules({rule});
  const std::vector<int32_t> none;
  rules.set_match(0, (mode & 0x40) != 0, {3, 5}, true, none);  // tools/call + prompts/get, or every method
  // (fuzz::router(): tools echo 0 and a 1, prompt p 0; the tool scopes key by these slots)

  jr::Engine plain(&router(), &scanner(), jr::Limits{});
  jr::Engine gated(&router(), &scanner(), jr::Limits{});
  jr::Admission admission;
  admission.rules = &rules;
  admission.replies.push_back({",\"error\":{\"code\":-32029,\"message\":\"retry after ", " ms\",\"data\":{\"retryAfterMs\":",
                               "}}}", ",\"error\":{\"code\":-32029,\"message\":\"never\",\"data\":{\"retryAfterMs\":null}}}"});
  admission.client = rl::RuleSet::client_hash("a");
  admission.now = 120000;
  gated.set_admission(std::move(admission));

  simdjson::dom::parser parser;
  std::size_t admitted = 0;
  const std::string_view parts[] = {stream.substr(0, split), stream.substr(split)};
  for (int half = 0; half < 2; ++half) {
    if (half == 1 && (data[1] & 0x80) != 0) gated.admission().client = rl::RuleSet::client_hash("b");
    const std::string_view chunk = parts[half];
    const auto* bytes = reinterpret_cast<const uint8_t*>(chunk.data());
    REQUIRE(plain.feed(bytes, chunk.size()) == gated.feed(bytes, chunk.size()));
    REQUIRE(plain.record_count() == gated.record_count());
    REQUIRE(fuzz::meta_repeated_holds(plain, chunk) && fuzz::meta_repeated_holds(gated, chunk));
    const std::string_view replies = gated.replies();
    for (std::size_t i = 0; i < gated.record_count(); ++i) {
      const int32_t* a = plain.records() + i * jr::kRecordStride;
      const int32_t* b = gated.records() + i * jr::kRecordStride;
      if ((b[f::kFlags] & jr::flag::kLimited) == 0) {
        // Same record; a reply body is compared by its text (refusals before it moved its offset).
        const bool reply_body = (a[f::kFlags] & jr::flag::kBodyIsReply) != 0;
        // META_REPEATED may differ: a refused request has no META to compare with (checked per call below).
        REQUIRE((a[f::kFlags] & ~jr::flag::kMetaRepeated) == (b[f::kFlags] & ~jr::flag::kMetaRepeated));
        for (std::size_t k = 0; k < jr::kRecordStride; ++k) {
          if (k != f::kFlags && (!reply_body || (k != f::kBodyStart && k != f::kBodyEnd))) REQUIRE(a[k] == b[k]);
        }
        if (reply_body) {
          const auto text = [](const jr::Engine& e, const int32_t* r) {
            return e.replies().substr(static_cast<std::size_t>(r[f::kBodyStart]),
                                      static_cast<std::size_t>(r[f::kBodyEnd] - r[f::kBodyStart]));
          };
          REQUIRE(text(plain, a) == text(gated, b));
        }
        if (a[f::kKind] == jr::kind::kRequest && (a[f::kSlot] == 3 || a[f::kSlot] == 5)) ++admitted;
        continue;
      }
      REQUIRE(a[f::kKind] == jr::kind::kRequest);
      REQUIRE(b[f::kKind] == jr::kind::kInvalid);
      REQUIRE((b[f::kFlags] & jr::flag::kBodyIsReply) != 0);
      REQUIRE(b[f::kCode] == jr::limited::kCode);
      REQUIRE(b[f::kSlot] == a[f::kSlot] && b[f::kNameSlot] == a[f::kNameSlot]);
      REQUIRE(b[f::kIdStart] == a[f::kIdStart] && b[f::kIdEnd] == a[f::kIdEnd]);
      REQUIRE(b[jr::limited::kRule] == 0);
      REQUIRE(b[jr::limited::kRetryAfter] == -1 || b[jr::limited::kRetryAfter] >= 1);
      REQUIRE(b[f::kBodyStart] >= 0 && b[f::kBodyStart] <= b[f::kBodyEnd]);
      REQUIRE(static_cast<std::size_t>(b[f::kBodyEnd]) <= replies.size());
      const std::string reply(replies.substr(static_cast<std::size_t>(b[f::kBodyStart]),
                                             static_cast<std::size_t>(b[f::kBodyEnd] - b[f::kBodyStart])));
      // The id is the request's raw id text: find it in the source the record spans.
      const std::string_view source = (a[f::kFlags] & jr::flag::kSrcCarry) != 0 ? plain.carried() : chunk;
      const std::string_view raw_id = source.substr(static_cast<std::size_t>(a[f::kIdStart]),
                                                    static_cast<std::size_t>(a[f::kIdEnd] - a[f::kIdStart]));
      const std::string head = "{\"jsonrpc\":\"2.0\",\"id\":";
      REQUIRE(reply.compare(0, head.size() + raw_id.size(), head + std::string(raw_id)) == 0);
      // The rest must be valid JSON around any id: parsed with a null id in its place (as fuzz_jsonrpc's
      // check_reply does), since simdjson's DOM refuses integers beyond 64 bits, which JSON and JSON-RPC allow
      // (the engine validated the raw id).
      simdjson::dom::element doc;
      REQUIRE(parser.parse(head + "null" + reply.substr(head.size() + raw_id.size())).get(doc) == simdjson::SUCCESS);
      int64_t code = 0;
      REQUIRE(doc["error"]["code"].get(code) == simdjson::SUCCESS && code == jr::limited::kCode);
    }
  }
  // Every call happens at one `now`: no key admits more than the limit, so the keys tools/call and prompts/get
  // can reach (at most 2 clients x 3 name slots: 0, 1, none) bound what was admitted.
  REQUIRE(admitted <= static_cast<std::size_t>(rule.spec.limit) * 2 * 3);
  return 0;
}
