// Core-only timing of the JWT verifier (no N-API): the difference to bench/jwt.bench.ts is the binding's
// cost and the JS result object. Cases, all HS256 with iss/aud checked and the cache off:
//   verify          the whole uncached verify (split, base64url, header and payload JSON, HMAC, claims)
//   base64url       decoding the token's payload segment alone
//   check_json      validating the payload JSON alone (duplicate keys, UTF-8, grammar)
//   hmac            Key::verify alone (the keyed SHA-256 states copied, the token hashed, compared)
// Each case is checked once before timing; the table shows the best of several trials.
// Usage: bench_jwt [seconds per case, default 0.5] [only the cases whose name starts with this]
#include <openssl/hmac.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "core/base64url.h"
#include "core/jwt.h"

namespace {

namespace jwt = mcp::jwt;
using Clock = std::chrono::steady_clock;

std::string b64url(std::string_view in) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                       static_cast<uint8_t>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(alphabet[(v >> s) & 63]);
  }
  if (in.size() - i == 1) {
    const uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
  } else if (in.size() - i == 2) {
    const uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8);
    for (int s = 18; s >= 6; s -= 6) out.push_back(alphabet[(v >> s) & 63]);
  }
  return out;
}

// The best of `trials` runs of `seconds / trials` each, in ns per call.
double time_case(const std::function<bool()>& fn, double seconds) {
  constexpr int kTrials = 5;
  double best = 1e300;
  for (int t = 0; t < kTrials; ++t) {
    std::size_t calls = 0;
    const auto start = Clock::now();
    const auto stop = start + std::chrono::duration<double>(seconds / kTrials);
    auto now = start;
    while (now < stop) {
      for (int i = 0; i < 1000; ++i) {
        if (!fn()) {
          std::fprintf(stderr, "case failed while timing\n");
          std::exit(1);
        }
      }
      calls += 1000;
      now = Clock::now();
    }
    best = std::min(best, std::chrono::duration<double, std::nano>(now - start).count() / static_cast<double>(calls));
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 0.5;
  const std::string only = argc > 2 ? argv[2] : "";
  const std::string secret = "a-test-secret-of-at-least-32-bytes!!";
  const std::string payload =
      R"({"iss":"https://issuer.example","sub":"user-1234","aud":"https://mcp.example/mcp","iat":1700000000,)"
      R"("exp":1900000000,"scope":"tools:call tools:list","client_id":"bench-client"})";
  const std::string input = b64url(R"({"alg":"HS256","typ":"JWT"})") + "." + b64url(payload);
  unsigned char mac[32];
  unsigned int mac_length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(input.data()),
       input.size(), mac, &mac_length);
  const std::string signature(reinterpret_cast<const char*>(mac), mac_length);
  const std::string token = input + "." + b64url(signature);

  jwt::Policy policy;
  policy.algorithms = 1u << static_cast<unsigned>(jwt::Alg::kHS256);
  policy.issuers = {"https://issuer.example"};
  policy.audiences = {"https://mcp.example/mcp"};
  policy.cache_size = 0;
  jwt::Verifier verifier(policy);
  std::string error;
  std::vector<std::unique_ptr<jwt::Key>> keys;
  keys.push_back(jwt::Key::hmac("", false, secret, 0, &error));
  if (keys.back() == nullptr) {
    std::fprintf(stderr, "key: %s\n", error.c_str());
    return 1;
  }
  verifier.set_keys(std::move(keys));
  const jwt::Key& key = *verifier.keys()[0];

  const std::string payload_segment = b64url(payload);
  std::string scratch;
  struct Case {
    const char* name;
    std::function<bool()> fn;
  };
  const std::vector<Case> cases = {
      {"verify (uncached)",
       [&] {
         jwt::Verified out;
         return verifier.verify(token, 1800000000, &out) == jwt::Reason::kOk;
       }},
      {"base64url (payload)",
       [&] {
         scratch.clear();
         return jwt::base64url_decode(payload_segment, &scratch);
       }},
      {"check_json (payload)", [&] { return jwt::check_json(payload) == jwt::Reason::kOk; }},
      {"hmac (Key::verify)", [&] { return key.verify(jwt::Alg::kHS256, input, signature); }},
  };
  std::printf("token %zu bytes, payload %zu bytes\n", token.size(), payload.size());
  std::printf("| case | ns per call |\n| --- | --- |\n");
  for (const Case& c : cases) {
    if (std::string_view(c.name).substr(0, only.size()) != only) continue;
    if (!c.fn()) {
      std::fprintf(stderr, "%s: check failed\n", c.name);
      return 1;
    }
    std::printf("| %s | %.0f |\n", c.name, time_case(c.fn, seconds));
  }
  return 0;
}
