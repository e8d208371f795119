// The shared rate-limit vectors (test/vectors/ratelimit/, docs/ratelimit.md) against the C++ core, plus unit
// tests of the spec checks, the keyed table (a flood of distinct keys stays at maxKeys; index erase under
// eviction), and the sliding-log ring.
//   <algorithm>.json   KeyedLimiter cases: steps {op: check|peek, key, cost, now, expect: [allowed, remaining,
//                      retryAfterMs, resetMs]}, then the table size and (optionally) the LRU order
//   rulesets.json      RuleSet cases: rules, match tables, costs, steps with the returned rule and
//                      [allowed, remaining, retryAfterMs, resetMs, ruleIndex], then each rule's table size
// Usage: ratelimit_test <test/vectors directory>.
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "check.h"
#include "core/ratelimit.h"

namespace {

namespace fs = std::filesystem;
namespace dom = simdjson::dom;
namespace rl = mcp::ratelimit;

using check::failf;
using check::g_failure;
using check::read_file;

bool algorithm_of(std::string_view name, rl::Algorithm* out) {
  const char* const names[] = {"token-bucket", "sliding-window-log", "sliding-window-counter", "fixed-window"};
  for (std::size_t i = 0; i < rl::kAlgorithmCount; ++i) {
    if (name == names[i]) {
      *out = static_cast<rl::Algorithm>(i);
      return true;
    }
  }
  return failf("unknown algorithm " + std::string(name));
}

bool scope_of(std::string_view name, rl::Scope* out) {
  const char* const names[] = {"global", "client", "tool", "client-tool", "method"};
  for (std::size_t i = 0; i < rl::kScopeCount; ++i) {
    if (name == names[i]) {
      *out = static_cast<rl::Scope>(i);
      return true;
    }
  }
  return failf("unknown scope " + std::string(name));
}

// A member's array (empty when missing), as a named value: range-for over a temporary's array dangles.
dom::array array_of(dom::element e, const char* key) {
  dom::array out;
  if (e[key].get_array().get(out) != simdjson::SUCCESS) out = dom::array();
  return out;
}

double num(dom::element e) {
  double v = 0;
  if (e.get_double().get(v) != simdjson::SUCCESS) {
    int64_t i = 0;
    if (e.get_int64().get(i) == simdjson::SUCCESS) v = static_cast<double>(i);
  }
  return v;
}

bool read_spec(dom::element e, rl::Spec* spec) {
  std::string_view name;
  if (e["algorithm"].get_string().get(name) != simdjson::SUCCESS) return failf("spec without algorithm");
  if (!algorithm_of(name, &spec->algorithm)) return false;
  spec->limit = num(e["limit"].value_unsafe());
  spec->window_ms = num(e["windowMs"].value_unsafe());
  return true;
}

std::string show_decision(const rl::Decision& d) {
  char text[160];
  std::snprintf(text, sizeof(text), "[%d, %.17g, %.17g, %.17g, %d]", d.allowed ? 1 : 0, d.remaining, d.retry_after_ms,
                d.reset_ms, d.rule);
  return text;
}

bool same(const rl::Decision& d, dom::array expect, bool with_rule, std::size_t step) {
  std::vector<double> e;
  for (dom::element v : expect) e.push_back(num(v));
  bool ok = e.size() == (with_rule ? 5u : 4u) && (d.allowed ? 1.0 : 0.0) == e[0] && d.remaining == e[1] &&
            d.retry_after_ms == e[2] && d.reset_ms == e[3] && (!with_rule || d.rule == e[4]);
  if (!ok) {
    std::string want = "[";
    for (std::size_t i = 0; i < e.size(); ++i) want += (i ? ", " : "") + std::to_string(e[i]);
    return failf("step " + std::to_string(step) + ": got " + show_decision(d) + ", expected " + want + "]");
  }
  return true;
}

bool run_limiter_case(dom::element c) {
  rl::Spec spec;
  if (!read_spec(c["spec"].value_unsafe(), &spec)) return false;
  double max_keys = 100000;
  dom::element mk;
  if (c["maxKeys"].get(mk) == simdjson::SUCCESS) max_keys = num(mk);
  if (rl::validate(spec, max_keys) != rl::SpecError::kOk) return failf("the case's spec is refused");
  rl::KeyedLimiter limiter(spec, static_cast<std::size_t>(max_keys));
  std::size_t step = 0;
  const dom::array steps = array_of(c, "steps");
  for (dom::element s : steps) {
    ++step;
    const std::string_view op = s["op"].get_string().value_unsafe();
    const uint64_t key = rl::hash_key(s["key"].get_string().value_unsafe());
    const double cost = num(s["cost"].value_unsafe());
    const double now = num(s["now"].value_unsafe());
    rl::Decision d;
    const bool allowed = op == "check" ? limiter.check(key, cost, now, &d) : limiter.peek(key, cost, now, &d);
    if (allowed != d.allowed) return failf("return value and decision disagree");
    if (!same(d, array_of(s, "expect"), false, step)) return false;
  }
  dom::element size;
  if (c["size"].get(size) == simdjson::SUCCESS && static_cast<double>(limiter.size()) != num(size))
    return failf("size " + std::to_string(limiter.size()) + ", expected " + std::to_string(num(size)));
  dom::array lru;
  if (c["lru"].get_array().get(lru) == simdjson::SUCCESS) {
    std::vector<uint64_t> want;
    for (dom::element k : lru) want.push_back(rl::hash_key(k.get_string().value_unsafe()));
    std::vector<uint64_t> got = limiter.lru_order();
    std::reverse(got.begin(), got.end());  // least recently admitted first, as the vectors list them
    if (got != want) return failf("LRU order differs");
  }
  return true;
}

bool run_ruleset_case(dom::element c) {
  std::vector<rl::Rule> rules;
  const dom::array rule_list = array_of(c, "rules");
  for (dom::element r : rule_list) {
    rl::Rule rule;
    if (!read_spec(r, &rule.spec) || !scope_of(r["scope"].get_string().value_unsafe(), &rule.scope)) return false;
    dom::element mk;
    if (r["maxKeys"].get(mk) == simdjson::SUCCESS) rule.max_keys = static_cast<std::size_t>(num(mk));
    rules.push_back(rule);
  }
  rl::RuleSet set(rules);
  dom::array list;
  auto ids = [](dom::element e, bool* all, std::vector<int32_t>* out) {
    *all = e.is_null();
    dom::array values;
    if (!*all && e.get_array().get(values) == simdjson::SUCCESS)
      for (dom::element v : values) out->push_back(static_cast<int32_t>(num(v)));
  };
  if (c["matches"].get_array().get(list) == simdjson::SUCCESS) {
    for (dom::element m : list) {
      bool all_methods = true, all_tools = true;
      std::vector<int32_t> methods, tools;
      ids(m["methods"].value_unsafe(), &all_methods, &methods);
      ids(m["tools"].value_unsafe(), &all_tools, &tools);
      set.set_match(static_cast<std::size_t>(num(m["rule"].value_unsafe())), all_methods, methods, all_tools, tools);
    }
  }
  if (c["methodCosts"].get_array().get(list) == simdjson::SUCCESS) {
    for (dom::element p : list)
      set.set_method_cost(static_cast<int32_t>(num(p.at(0).value_unsafe())), num(p.at(1).value_unsafe()));
  }
  if (c["toolCosts"].get_array().get(list) == simdjson::SUCCESS) {
    for (dom::element p : list)
      set.set_tool_cost(static_cast<int32_t>(num(p.at(0).value_unsafe())), num(p.at(1).value_unsafe()));
  }
  if (c["costOf"].get_array().get(list) == simdjson::SUCCESS) {
    for (dom::element p : list) {
      const double got = set.cost_of(static_cast<int32_t>(num(p.at(0).value_unsafe())),
                                     static_cast<int32_t>(num(p.at(1).value_unsafe())));
      if (got != num(p.at(2).value_unsafe())) return failf("costOf differs: " + std::to_string(got));
    }
  }
  std::size_t step = 0;
  const dom::array steps = array_of(c, "steps");
  for (dom::element s : steps) {
    ++step;
    const auto method = static_cast<int32_t>(num(s["method"].value_unsafe()));
    const auto tool = static_cast<int32_t>(num(s["tool"].value_unsafe()));
    const uint64_t client = rl::RuleSet::client_hash(s["client"].get_string().value_unsafe());
    const double cost = s["cost"].is_string() ? set.cost_of(method, tool) : num(s["cost"].value_unsafe());
    const double now = num(s["now"].value_unsafe());
    rl::Decision d;
    const std::string_view op = s["op"].get_string().value_unsafe();
    const int32_t result =
        op == "check" ? set.check(method, tool, client, cost, now, &d) : set.peek(method, tool, client, cost, now, &d);
    if (result != num(s["result"].value_unsafe()))
      return failf("step " + std::to_string(step) + ": returned " + std::to_string(result));
    if (!same(d, array_of(s, "expect"), true, step)) return false;
  }
  std::size_t r = 0;
  const dom::array sizes = array_of(c, "sizes");
  for (dom::element size : sizes) {
    if (static_cast<double>(set.limiter(r).size()) != num(size))
      return failf("rule " + std::to_string(r) + " size " + std::to_string(set.limiter(r).size()));
    ++r;
  }
  return true;
}

// ---- unit tests -------------------------------------------------------------------------------------------

bool test_validate() {
  using E = rl::SpecError;
  const auto tb = [](double limit, double window) { return rl::Spec{rl::Algorithm::kTokenBucket, limit, window}; };
  ASSERT_TRUE(rl::validate(tb(1, 1), 1) == E::kOk);
  ASSERT_TRUE(rl::validate(tb(1e9, 1e12), 1e8) == E::kOk);
  ASSERT_TRUE(rl::validate(tb(0, 1), 1) == E::kLimit);
  ASSERT_TRUE(rl::validate(tb(1.5, 1), 1) == E::kLimit);
  ASSERT_TRUE(rl::validate(tb(1e9 + 1, 1), 1) == E::kLimit);
  ASSERT_TRUE(rl::validate(tb(NAN, 1), 1) == E::kLimit);
  ASSERT_TRUE(rl::validate(tb(1, 0), 1) == E::kWindow);
  ASSERT_TRUE(rl::validate(tb(1, INFINITY), 1) == E::kWindow);
  ASSERT_TRUE(rl::validate(tb(1, NAN), 1) == E::kWindow);
  ASSERT_TRUE(rl::validate(tb(1, 1e12 + 1), 1) == E::kWindow);
  ASSERT_TRUE(rl::validate(tb(1, 1), 0) == E::kMaxKeys);
  ASSERT_TRUE(rl::validate(tb(1, 1), 1e8 + 1) == E::kMaxKeys);
  ASSERT_TRUE(rl::validate(tb(1, 1), 2.5) == E::kMaxKeys);
  ASSERT_TRUE(rl::validate(rl::Spec{rl::Algorithm::kSlidingWindowLog, 100000, 1}, 1) == E::kOk);
  ASSERT_TRUE(rl::validate(rl::Spec{rl::Algorithm::kSlidingWindowLog, 100001, 1}, 1) == E::kLogLimit);
  ASSERT_TRUE(rl::validate(rl::Spec{static_cast<rl::Algorithm>(4), 1, 1}, 1) == E::kAlgorithm);
  ASSERT_TRUE(!rl::spec_error_message(E::kWindow).empty());
  ASSERT_TRUE(rl::valid_cost(1) && rl::valid_cost(7) && !rl::valid_cost(0) && !rl::valid_cost(1.5) &&
              !rl::valid_cost(NAN) && !rl::valid_cost(-1) && !rl::valid_cost(INFINITY));
  return true;
}

bool test_hash() {
  ASSERT_EQ(rl::hash_key("client-1"), rl::hash_key(std::string("client-1")));
  ASSERT_TRUE(rl::hash_key("client-1") != rl::hash_key("client-2"));
  ASSERT_TRUE(rl::hash_key("") != rl::hash_key(std::string_view("\0", 1)));
  // Every length through two 16-byte blocks: distinct strings give distinct hashes here.
  std::vector<uint64_t> seen;
  std::string s;
  for (int i = 0; i < 40; ++i) {
    s.push_back('x');
    seen.push_back(rl::hash_key(s));
  }
  std::sort(seen.begin(), seen.end());
  ASSERT_TRUE(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
  ASSERT_TRUE(rl::hash_pair(1, 2) != rl::hash_pair(2, 1));
  return true;
}

// A flood of distinct keys leaves the table at maxKeys, with bounded bytes, and keeps the newest keys.
bool test_flood() {
  for (std::size_t a = 0; a < rl::kAlgorithmCount; ++a) {
    rl::KeyedLimiter limiter(rl::Spec{static_cast<rl::Algorithm>(a), 10, 1000}, 1000);
    rl::Decision d;
    std::size_t peak_bytes = 0;
    for (uint64_t i = 0; i < 1000000; ++i) {
      ASSERT_TRUE(limiter.check(rl::hash_pair(7, i), 1, static_cast<double>(i), &d));
      if (i == 5000) peak_bytes = limiter.bytes();
    }
    ASSERT_EQ(limiter.size(), std::size_t{1000});
    ASSERT_EQ(limiter.bytes(), peak_bytes);  // nothing grew after the table filled
    ASSERT_TRUE(limiter.bytes() < 1000 * 256);
    ASSERT_TRUE(limiter.peek(rl::hash_pair(7, 999999), 10, 999999, &d) == false);  // newest key still held
    ASSERT_TRUE(limiter.peek(rl::hash_pair(7, 0), 10, 999999, &d));             // oldest evicted: fresh
    const auto order = limiter.lru_order();
    ASSERT_EQ(order.size(), std::size_t{1000});
    ASSERT_EQ(order.front(), rl::hash_pair(7, 999999));
    ASSERT_EQ(order.back(), rl::hash_pair(7, 999000));
    limiter.clear();
    ASSERT_EQ(limiter.size(), std::size_t{0});
    ASSERT_TRUE(limiter.peek(rl::hash_pair(7, 999999), 10, 999999, &d));
  }
  return true;
}

// Eviction under random access: every key the table claims to hold is found, and the LRU order matches a
// plain list model.
bool test_lru_model() {
  rl::KeyedLimiter limiter(rl::Spec{rl::Algorithm::kFixedWindow, 1000000, 1e12}, 37);
  std::vector<uint64_t> model;  // most recent first
  uint64_t x = 12345;
  rl::Decision d;
  for (int i = 0; i < 200000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const uint64_t key = (x >> 33) % 100;
    ASSERT_TRUE(limiter.check(key, 1, 0, &d));
    auto it = std::find(model.begin(), model.end(), key);
    if (it != model.end()) model.erase(it);
    model.insert(model.begin(), key);
    if (model.size() > 37) model.pop_back();
  }
  ASSERT_TRUE(limiter.lru_order() == model);
  return true;
}

// The sliding log's ring holds at most `limit` entries and keeps working across wrap-around and clear().
bool test_log_ring() {
  rl::KeyedLimiter limiter(rl::Spec{rl::Algorithm::kSlidingWindowLog, 5, 100}, 2);
  rl::Decision d;
  int admitted = 0;
  for (int t = 0; t < 10000; ++t) admitted += limiter.check(1, 1, t, &d) ? 1 : 0;
  ASSERT_EQ(admitted, 500);  // 5 per 100 ms
  const std::size_t bytes = limiter.bytes();
  for (int t = 10000; t < 20000; ++t) limiter.check(1, 1 + t % 3, t, &d);
  ASSERT_EQ(limiter.bytes(), bytes);
  limiter.clear();
  ASSERT_TRUE(limiter.check(1, 5, 0, &d));
  ASSERT_EQ(d.remaining, 0.0);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <test/vectors directory>\n", argv[0]);
    return 2;
  }
  int failures = 0;
  RUN(test_validate);
  RUN(test_hash);
  RUN(test_flood);
  RUN(test_lru_model);
  RUN(test_log_ring);

  const fs::path dir = fs::path(argv[1]) / "ratelimit";
  std::size_t cases = 0;
  for (const char* file : {"token-bucket.json", "fixed-window.json", "sliding-window-counter.json",
                           "sliding-window-log.json", "rulesets.json"}) {
    std::string json;
    dom::parser parser;
    dom::element doc;
    g_failure.clear();
    if (!read_file(dir / file, &json) || parser.parse(json).get(doc) != simdjson::SUCCESS) {
      std::fprintf(stdout, "FAIL cannot load %s\n%s", file, g_failure.c_str());
      ++failures;
      continue;
    }
    const bool rule_sets = std::string_view(file) == "rulesets.json";
    const dom::array case_list = array_of(doc, "cases");
    for (dom::element c : case_list) {
      ++cases;
      g_failure.clear();
      const bool ok = rule_sets ? run_ruleset_case(c) : run_limiter_case(c);
      const std::string name(c["name"].get_string().value_unsafe());
      if (ok) {
        std::fprintf(stdout, "ok   %s: %s\n", file, name.c_str());
      } else {
        ++failures;
        std::fprintf(stdout, "FAIL %s: %s\n%s", file, name.c_str(), g_failure.c_str());
      }
    }
  }
  if (cases < 11) {
    std::fprintf(stdout, "FAIL only %zu ratelimit vector cases found in %s\n", cases, dir.string().c_str());
    ++failures;
  }
  std::printf("ratelimit vectors: %zu cases; %d failure(s)\n", cases, failures);
  return failures == 0 ? 0 : 1;
}
