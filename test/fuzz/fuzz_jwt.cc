// libFuzzer target for the JWT token parser (native/core/jwt.h): base64url, the strict JSON reader, the
// header/payload decode and the verifier with its cache, on arbitrary bytes.
//
// Input: byte 0 picks the policy (bit 0: cache on, bit 1: typ required, bit 2: tiny max size, bit 3: allow all
// algorithms), the rest is the token (also fed whole to base64url_decode and check_json). Invariants (abort on
// violation):
//   * base64url_decode succeeds only on canonical input and then yields exactly floor(n * 3 / 4) bytes,
//     with the same verdict and bytes as the scalar path;
//   * check_json and parse_only return a defined reason;
//   * verify() gives the same reason twice in a row, and the second of two successes is a cache hit;
//   * a token verify() accepts parses (parse_only == ok) and its payload is valid JSON (check_json == ok).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/base64url.h"
#include "core/jwt.h"

namespace {

namespace jwt = mcp::jwt;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_jwt invariant violated: %s\n", what);
  std::abort();
}

#define REQUIRE(condition)              \
  do {                                  \
    if (!(condition)) fail(#condition); \
  } while (0)

std::unique_ptr<jwt::Verifier> make_verifier(uint8_t mode) {
  jwt::Policy policy;
  policy.algorithms = (mode & 8) ? 0xFFF : 0x7;
  policy.cache_size = (mode & 1) ? 4 : 0;
  if (mode & 2) policy.typ = "at+jwt";
  if (mode & 4) policy.max_token_bytes = 64;
  policy.require_exp = (mode & 16) == 0;
  auto verifier = std::make_unique<jwt::Verifier>(policy);
  std::string error;
  std::vector<std::unique_ptr<jwt::Key>> keys;
  // The key of test/fuzz/corpus-jwt/ tokens ("fuzz-secret"), with and without a kid.
  keys.push_back(jwt::Key::hmac("k1", true, "fuzz-secret", 0, &error));
  keys.push_back(jwt::Key::hmac("", false, "fuzz-secret", 0, &error));
  verifier->set_keys(std::move(keys));
  return verifier;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string_view token(reinterpret_cast<const char*>(data + 1), size - 1);

  std::string decoded;
  std::string decoded_scalar;
  const bool decodes = jwt::base64url_decode(token, &decoded);
  REQUIRE(decodes == jwt::base64url_decode_scalar(token, &decoded_scalar));  // the vector path agrees
  if (decodes) {
    REQUIRE(token.size() % 4 != 1);
    REQUIRE(decoded.size() == token.size() * 3 / 4);
    REQUIRE(decoded == decoded_scalar);
  }
  const jwt::Reason json = jwt::check_json(token);
  REQUIRE(json == jwt::Reason::kOk || json == jwt::Reason::kMalformed || json == jwt::Reason::kDuplicateKey);

  static std::unique_ptr<jwt::Verifier> verifiers[32];
  auto& verifier = verifiers[mode & 31];
  if (!verifier) verifier = make_verifier(mode & 31);
  const jwt::Reason parsed = jwt::parse_only(token, verifier->policy());
  REQUIRE(static_cast<std::size_t>(parsed) < jwt::kReasonCount);

  jwt::Verified first;
  const jwt::Reason r1 = verifier->verify(token, 1700000000, &first);
  REQUIRE(static_cast<std::size_t>(r1) < jwt::kReasonCount);
  if (r1 == jwt::Reason::kOk && !first.cached) {
    REQUIRE(jwt::check_json(first.payload) == jwt::Reason::kOk);
    REQUIRE(parsed == jwt::Reason::kOk);
  }
  jwt::Verified second;
  const jwt::Reason r2 = verifier->verify(token, 1700000000, &second);
  REQUIRE(r1 == r2);
  if (r1 == jwt::Reason::kOk && verifier->policy().cache_size > 0) REQUIRE(second.cached);
  return 0;
}
