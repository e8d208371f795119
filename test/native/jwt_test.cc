// The shared JWT vectors (test/vectors/jwt/, docs/jwt.md section 7) against the C++ core, plus unit tests of
// base64url, the JSON reader and the cache.
//   keys.json            the key set the cases reference by id (HMAC secrets, DER SPKI)
//   keys-rejected.json   key material Key::hmac / Key::spki must refuse
//   y_*.json / n_*.json  one token each: verified with the case's policy and keys at the case's `now`; y_ must
//                        pass (sub and exp compared), n_ must fail with the named reason. Every case runs with
//                        the cache on (twice: the second y_ run must be a hit) and off.
// Usage: jwt_test <test/vectors directory>.
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "check.h"
#include "core/base64url.h"
#include "core/jwt.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace {

namespace fs = std::filesystem;
namespace dom = simdjson::dom;
namespace jwt = mcp::jwt;

using check::failf;
using check::g_failure;
using check::read_file;

std::string base64_decode(std::string_view text) {
  static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    if (c == '=') break;
    bits = (bits << 6) | static_cast<uint32_t>(alphabet.find(c));
    if (++count == 4) {
      out.push_back(static_cast<char>(bits >> 16));
      out.push_back(static_cast<char>(bits >> 8));
      out.push_back(static_cast<char>(bits));
      bits = 0;
      count = 0;
    }
  }
  if (count == 2) out.push_back(static_cast<char>(bits >> 4));
  if (count == 3) {
    out.push_back(static_cast<char>(bits >> 10));
    out.push_back(static_cast<char>(bits >> 2));
  }
  return out;
}

const char* const kAlgNames[] = {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
                                 "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"};

uint32_t alg_bit(std::string_view name) {
  for (uint32_t i = 0; i < jwt::kAlgCount; ++i) {
    if (name == kAlgNames[i]) return 1u << i;
  }
  return 0;
}

std::string normalize_typ(std::string_view typ) {
  std::string out(typ);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (out.rfind("application/", 0) == 0) out.erase(0, 12);
  return out;
}

struct KeyDef {
  bool hmac = false;
  bool has_kid = false;
  std::string kid;
  std::string material;
};

bool strings(dom::element e, std::vector<std::string>* out) {
  dom::array array;
  if (e.get_array().get(array) != simdjson::SUCCESS) return failf("expected an array of strings");
  for (dom::element item : array) {
    std::string_view s;
    if (item.get_string().get(s) != simdjson::SUCCESS) return failf("expected a string");
    out->emplace_back(s);
  }
  return true;
}

bool load_policy(dom::object object, jwt::Policy* policy) {
  for (auto [key, value] : object) {
    if (key == "algorithms") {
      std::vector<std::string> names;
      if (!strings(value, &names)) return false;
      for (const auto& n : names) policy->algorithms |= alg_bit(n);
    } else if (key == "issuers") {
      if (!strings(value, &policy->issuers)) return false;
    } else if (key == "audiences") {
      if (!strings(value, &policy->audiences)) return false;
    } else if (key == "requiredClaims") {
      if (!strings(value, &policy->required)) return false;
    } else if (key == "typ") {
      policy->typ = normalize_typ(std::string_view(value.get_string().value_unsafe()));
    } else if (key == "clockTolerance") {
      policy->clock_tolerance = value.get_double().value_unsafe();
    } else if (key == "maxTokenAge") {
      policy->max_token_age = value.get_double().value_unsafe();
    } else if (key == "maxTokenBytes") {
      policy->max_token_bytes = static_cast<std::size_t>(value.get_int64().value_unsafe());
    } else if (key == "requireExp") {
      policy->require_exp = value.get_bool().value_unsafe();
    } else {
      return failf("unknown policy member " + std::string(key));
    }
  }
  return true;
}

std::unique_ptr<jwt::Key> make_key(const KeyDef& def, std::string* error) {
  return def.hmac ? jwt::Key::hmac(def.kid, def.has_kid, def.material, 0, error)
                  : jwt::Key::spki(def.kid, def.has_kid, def.material, 0, error);
}

bool run_case(const fs::path& path, dom::parser* parser, const std::map<std::string, KeyDef>& key_defs,
              int cache_size) {
  std::string json;
  if (!read_file(path, &json)) return false;
  dom::element doc;
  if (parser->parse(json).get(doc) != simdjson::SUCCESS) return failf("not JSON");
  std::string token(std::string_view(doc["token"].get_string().value_unsafe()));
  const double now = doc["now"].get_double().value_unsafe();
  jwt::Policy policy;
  policy.cache_size = static_cast<std::size_t>(cache_size);
  dom::object policy_object;
  if (doc["policy"].get_object().get(policy_object) != simdjson::SUCCESS) return failf("policy missing");
  if (!load_policy(policy_object, &policy)) return false;
  std::vector<std::unique_ptr<jwt::Key>> keys;
  dom::array key_ids;
  if (doc["keys"].get_array().get(key_ids) != simdjson::SUCCESS) return failf("keys missing");
  for (dom::element id : key_ids) {
    const std::string name(std::string_view(id.get_string().value_unsafe()));
    const auto it = key_defs.find(name);
    if (it == key_defs.end()) return failf("unknown key " + name);
    std::string error;
    auto key = make_key(it->second, &error);
    if (!key) return failf("key " + name + ": " + error);
    keys.push_back(std::move(key));
  }
  jwt::Verifier verifier(policy);
  verifier.set_keys(std::move(keys));
  dom::element expect = doc["expect"].value_unsafe();
  const bool want_ok = expect["ok"].get_bool().value_unsafe();
  const int runs = want_ok ? 2 : 1;
  for (int run = 0; run < runs; ++run) {
    jwt::Verified out;
    const jwt::Reason reason = verifier.verify(token, now, &out);
    if (!want_ok) {
      std::string_view want;
      if (expect["reason"].get_string().get(want) != simdjson::SUCCESS) return failf("expect.reason missing");
      ASSERT_EQ(std::string(jwt::reason_name(reason)), std::string(want));
      continue;
    }
    ASSERT_EQ(std::string(jwt::reason_name(reason)), std::string("ok"));
    // A hit needs now < exp (entries expire no later than exp, whatever the tolerance).
    double exp_claim = 0;
    const bool before_exp = expect["exp"].get_double().get(exp_claim) != simdjson::SUCCESS || now < exp_claim;
    if (cache_size > 0) {
      ASSERT_EQ(out.cached, run == 1 && before_exp);
      ASSERT_TRUE(out.slot >= 0);
    }
    if (run == 0) {
      // sub and exp of the returned payload.
      dom::parser payload_parser;
      const std::string payload(out.payload);
      dom::element claims;
      if (payload_parser.parse(payload).get(claims) != simdjson::SUCCESS) return failf("payload is not JSON");
      dom::element want_sub = expect["sub"].value_unsafe();
      std::string_view sub;
      if (want_sub.is_null()) {
        ASSERT_TRUE(claims["sub"].error() == simdjson::NO_SUCH_FIELD);
      } else {
        ASSERT_TRUE(claims["sub"].get_string().get(sub) == simdjson::SUCCESS);
        std::string_view want;
        ASSERT_TRUE(want_sub.get_string().get(want) == simdjson::SUCCESS);
        ASSERT_EQ(std::string(sub), std::string(want));
      }
      dom::element want_exp = expect["exp"].value_unsafe();
      if (!want_exp.is_null()) {
        double exp = 0;
        ASSERT_TRUE(claims["exp"].get_double().get(exp) == simdjson::SUCCESS);
        double want = 0;
        ASSERT_TRUE(want_exp.get_double().get(want) == simdjson::SUCCESS);
        ASSERT_EQ(exp, want);
      }
    }
  }
  return true;
}

// ---- unit tests -------------------------------------------------------------------------------------------

bool test_base64url() {
  std::string out;
  ASSERT_TRUE(jwt::base64url_decode("", &out));
  ASSERT_EQ(out, std::string());
  ASSERT_TRUE(jwt::base64url_decode("Zm9v", &out));
  ASSERT_EQ(out, std::string("foo"));
  out.clear();
  ASSERT_TRUE(jwt::base64url_decode("Zm8", &out));
  ASSERT_EQ(out, std::string("fo"));
  out.clear();
  ASSERT_TRUE(jwt::base64url_decode("Zg", &out));
  ASSERT_EQ(out, std::string("f"));
  out.clear();
  ASSERT_TRUE(jwt::base64url_decode("-_8", &out));
  ASSERT_FALSE(jwt::base64url_decode("Zh", &out));    // non-zero unused bits
  ASSERT_FALSE(jwt::base64url_decode("Zm9", &out));   // non-zero unused bits
  ASSERT_FALSE(jwt::base64url_decode("Zg==", &out));  // padding
  ASSERT_FALSE(jwt::base64url_decode("Z", &out));     // 4n+1
  ASSERT_FALSE(jwt::base64url_decode("Zm 9", &out));  // whitespace
  ASSERT_FALSE(jwt::base64url_decode("Zm+v", &out));  // standard alphabet
  return true;
}

// The AVX2 path (32 characters a step, taken for inputs of 44 characters or more) against the scalar one:
// every byte value at every position of a block, and random valid texts of every length up to 300.
bool test_base64url_paths() {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  uint64_t seed = 0x9E3779B97F4A7C15ULL;
  auto next = [&seed]() {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
  };
  auto agree = [](const std::string& text) {
    std::string a, b;
    const bool va = jwt::base64url_decode(text, &a);
    const bool vb = jwt::base64url_decode_scalar(text, &b);
    return va == vb && (!va || a == b);
  };
  for (std::size_t length = 0; length <= 300; ++length) {
    std::string text;
    for (std::size_t i = 0; i < length; ++i) text.push_back(alphabet[next() % 64]);
    if (length % 4 == 2) text.back() = 'A';  // zero unused bits: canonical
    if (length % 4 == 3) text.back() = 'A';
    ASSERT_TRUE(agree(text));
    std::string decoded;
    ASSERT_EQ(jwt::base64url_decode(text, &decoded), length % 4 != 1);
  }
  std::string base;
  for (int i = 0; i < 96; ++i) base.push_back(alphabet[next() % 64]);
  std::size_t accepted = 0;
  for (std::size_t position = 0; position < 64; ++position) {
    for (int byte = 0; byte < 256; ++byte) {
      std::string text = base;
      text[position] = static_cast<char>(byte);
      ASSERT_TRUE(agree(text));
      std::string decoded;
      const bool ok = jwt::base64url_decode(text, &decoded);
      ASSERT_EQ(ok, alphabet.find(static_cast<char>(byte)) != std::string::npos);
      accepted += ok ? 1 : 0;
    }
  }
  ASSERT_EQ(accepted, std::size_t{64 * 64});
  return true;
}

bool test_json() {
  using R = jwt::Reason;
  ASSERT_EQ(static_cast<int>(jwt::check_json("{}")), static_cast<int>(R::kOk));
  ASSERT_EQ(static_cast<int>(jwt::check_json(" {\"a\":[1,-0.5e+3,true,false,null,\"\\u00e9\"]} ")), 0);
  ASSERT_EQ(static_cast<int>(jwt::check_json("{\"a\":1,\"a\":2}")), static_cast<int>(R::kDuplicateKey));
  ASSERT_EQ(static_cast<int>(jwt::check_json("{\"a\":1,\"\\u0061\":2}")), static_cast<int>(R::kDuplicateKey));
  ASSERT_EQ(static_cast<int>(jwt::check_json("{\"a\":{\"b\":1},\"c\":{\"b\":1}}")), 0);
  ASSERT_EQ(static_cast<int>(jwt::check_json("{\"a\":1,}")), static_cast<int>(R::kMalformed));
  ASSERT_EQ(static_cast<int>(jwt::check_json("{\"a\":01}")), static_cast<int>(R::kMalformed));
  ASSERT_EQ(static_cast<int>(jwt::check_json("{\"a\":1.}")), static_cast<int>(R::kMalformed));
  ASSERT_EQ(static_cast<int>(jwt::check_json("{\"a\":\"\\x\"}")), static_cast<int>(R::kMalformed));
  ASSERT_EQ(static_cast<int>(jwt::check_json("{\"a\":\"\xff\"}")), static_cast<int>(R::kMalformed));
  ASSERT_EQ(static_cast<int>(jwt::check_json("{} {}")), static_cast<int>(R::kMalformed));
  ASSERT_EQ(static_cast<int>(jwt::check_json("")), static_cast<int>(R::kMalformed));
  ASSERT_EQ(static_cast<int>(jwt::check_json(std::string(64, '[') + std::string(64, ']'))), 0);
  ASSERT_EQ(static_cast<int>(jwt::check_json(std::string(65, '[') + std::string(65, ']'))),
            static_cast<int>(R::kMalformed));
  return true;
}

bool test_reason_names() {
  ASSERT_EQ(std::string(jwt::reason_name(jwt::Reason::kOk)), std::string("ok"));
  ASSERT_EQ(std::string(jwt::reason_name(jwt::Reason::kWrongAudience)), std::string("wrong_audience"));
  ASSERT_EQ(std::string(jwt::reason_name(static_cast<jwt::Reason>(jwt::kReasonCount))), std::string());
  return true;
}

std::string b64url(std::string_view bytes) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(alphabet[(v >> s) & 63]);
  }
  if (bytes.size() - i == 1) {
    const uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
  } else if (bytes.size() - i == 2) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8);
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
  }
  return out;
}

const std::string kSecret = "secret-secret-secret-secret-1234";

std::string hs256(const std::string& payload) {
  const std::string input = b64url("{\"alg\":\"HS256\"}") + "." + b64url(payload);
  unsigned char mac[32];
  unsigned int length = 0;
  HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &length);
  return input + "." + b64url(std::string_view(reinterpret_cast<const char*>(mac), length));
}

// The cache: hits, LRU eviction, expiry at exp (not exp + tolerance), the nbf window, clearing on new keys.
bool test_cache() {
  jwt::Policy policy;
  policy.algorithms = 1;  // HS256
  policy.cache_size = 2;
  policy.clock_tolerance = 30;
  jwt::Verifier verifier(policy);
  auto install = [&verifier]() {
    std::string error;
    std::vector<std::unique_ptr<jwt::Key>> keys;
    keys.push_back(jwt::Key::hmac("", false, kSecret, 0, &error));
    verifier.set_keys(std::move(keys));
  };
  install();
  const std::string a = hs256("{\"sub\":\"a\",\"exp\":1000}");
  const std::string b = hs256("{\"sub\":\"b\",\"exp\":1000,\"nbf\":500}");
  const std::string c = hs256("{\"sub\":\"c\",\"exp\":1000}");
  jwt::Verified out;
  using R = jwt::Reason;
  ASSERT_TRUE(verifier.verify(a, 100, &out) == R::kOk && !out.cached && out.payload.size() > 0);
  const int32_t slot_a = out.slot;
  ASSERT_TRUE(verifier.verify(a, 101, &out) == R::kOk && out.cached && out.slot == slot_a);
  ASSERT_TRUE(verifier.verify(b, 600, &out) == R::kOk && !out.cached);
  ASSERT_TRUE(verifier.verify(b, 601, &out) == R::kOk && out.cached);
  // nbf 500 - tolerance 30: at 470 the entry holds, at 400 it does not (full check: not yet valid).
  ASSERT_TRUE(verifier.verify(b, 470, &out) == R::kOk && out.cached);
  ASSERT_TRUE(verifier.verify(b, 400, &out) == R::kNotYetValid);
  ASSERT_TRUE(verifier.verify(b, 600, &out) == R::kOk && !out.cached);
  // a is now the least recently used: c evicts it.
  ASSERT_TRUE(verifier.verify(c, 600, &out) == R::kOk && !out.cached);
  ASSERT_EQ(verifier.cache_entries(), static_cast<std::size_t>(2));
  ASSERT_TRUE(verifier.verify(b, 602, &out) == R::kOk && out.cached);
  ASSERT_TRUE(verifier.verify(a, 602, &out) == R::kOk && !out.cached);
  // At exp the entry no longer answers; the full check applies the tolerance (ok until exp + 30).
  ASSERT_TRUE(verifier.verify(a, 999, &out) == R::kOk && out.cached);
  ASSERT_TRUE(verifier.verify(a, 1000, &out) == R::kOk && !out.cached);
  ASSERT_TRUE(verifier.verify(a, 1030, &out) == R::kExpired);
  // A changed key set empties the cache.
  ASSERT_TRUE(verifier.verify(c, 600, &out) == R::kOk);
  install();
  ASSERT_EQ(verifier.cache_entries(), static_cast<std::size_t>(0));
  ASSERT_TRUE(verifier.verify(c, 600, &out) == R::kOk && !out.cached);
  // A tampered copy of a cached token is not a hit.
  std::string tampered = c;
  tampered[tampered.size() - 2] = tampered[tampered.size() - 2] == 'A' ? 'B' : 'A';
  ASSERT_TRUE(verifier.verify(tampered, 600, &out) != R::kOk);
  return true;
}

bool test_parse_only() {
  jwt::Policy policy;
  ASSERT_TRUE(jwt::parse_only(hs256("{\"exp\":1}"), policy) == jwt::Reason::kOk);
  ASSERT_TRUE(jwt::parse_only(hs256("{\"exp\":\"1\"}"), policy) == jwt::Reason::kInvalidClaim);
  ASSERT_TRUE(jwt::parse_only("a.b", policy) == jwt::Reason::kMalformed);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <test/vectors directory>\n", argv[0]);
    return 2;
  }
  int failures = 0;
  RUN(test_base64url);
  RUN(test_base64url_paths);
  RUN(test_json);
  RUN(test_reason_names);
  RUN(test_cache);
  RUN(test_parse_only);

  const fs::path dir = fs::path(argv[1]) / "jwt";
  dom::parser parser;
  std::map<std::string, KeyDef> key_defs;
  {
    std::string json;
    dom::element keys;
    if (!read_file(dir / "keys.json", &json) || parser.parse(json).get(keys) != simdjson::SUCCESS) {
      std::fprintf(stderr, "cannot load keys.json\n%s", g_failure.c_str());
      return 1;
    }
    dom::object key_objects;
    if (keys.get_object().get(key_objects) != simdjson::SUCCESS) return 1;
    for (auto [id, value] : key_objects) {
      KeyDef def;
      def.hmac = std::string_view(value["kind"].get_string().value_unsafe()) == "hmac";
      std::string_view kid;
      def.has_kid = value["kid"].get_string().get(kid) == simdjson::SUCCESS;
      def.kid = std::string(kid);
      def.material = base64_decode(value[def.hmac ? "secretBase64" : "derBase64"].get_string().value_unsafe());
      key_defs.emplace(std::string(id), def);
    }
  }
  int rejected = 0;
  {
    std::string json;
    dom::element list;
    if (!read_file(dir / "keys-rejected.json", &json) || parser.parse(json).get(list) != simdjson::SUCCESS) {
      std::fprintf(stderr, "cannot load keys-rejected.json\n");
      return 1;
    }
    dom::array items;
    if (list.get_array().get(items) != simdjson::SUCCESS) return 1;
    for (dom::element item : items) {
      KeyDef def;
      def.hmac = std::string_view(item["kind"].get_string().value_unsafe()) == "hmac";
      def.material = base64_decode(item[def.hmac ? "secretBase64" : "derBase64"].get_string().value_unsafe());
      std::string error;
      const bool refused = make_key(def, &error) == nullptr && !error.empty();
      ++rejected;
      if (!refused) {
        ++failures;
        std::fprintf(stdout, "FAIL keys-rejected: %s\n", std::string(item["name"].get_string().value_unsafe()).c_str());
      }
    }
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if ((name.rfind("y_", 0) == 0 || name.rfind("n_", 0) == 0) && entry.path().extension() == ".json")
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  if (files.size() < 50) {
    std::fprintf(stdout, "FAIL only %zu jwt vectors found in %s\n", files.size(), dir.string().c_str());
    ++failures;
  }
  for (const auto& path : files) {
    for (int cache_size : {16, 0}) {
      g_failure.clear();
      dom::parser case_parser;
      if (!run_case(path, &case_parser, key_defs, cache_size)) {
        ++failures;
        std::fprintf(stdout, "FAIL %s (cache %d)\n%s", path.filename().string().c_str(), cache_size,
                     g_failure.c_str());
      }
    }
  }
  std::printf("jwt vectors: %zu token cases x 2 cache settings, %d rejected keys; %d failure(s)\n", files.size(),
              rejected, failures);
  return failures == 0 ? 0 : 1;
}
