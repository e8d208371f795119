// JWT verification (docs/jwt.md): one compact JWS token in, a reason code out, with the decoded payload on
// success. Inputs: a Policy (allowed algorithms, issuers, audiences, typ, time rules, size limit), a key set
// (HMAC secrets and DER SubjectPublicKeyInfo public keys, imported once) and the time `now` in seconds,
// passed in so that every verdict is deterministic. A bounded LRU cache of verified tokens, keyed by a hash
// of the whole token and compared byte for byte, makes a repeated token cost one lookup.
//
// src/jwt/js.ts is the pure-JS twin: same checks, same order, same reasons. The order is:
//   size -> segments and base64url -> header JSON -> header fields (alg, crit, b64, kid, typ) -> key
//   selection -> signature -> payload JSON -> claim types -> required claims -> time -> iss -> aud.
//
// OpenSSL: only functions of the 3.0 API (the addon binds to the running node's copy; see addon.cc).
#ifndef FASTERMCP_NATIVE_CORE_JWT_H_
#define FASTERMCP_NATIVE_CORE_JWT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mcp::jwt {

/// Algorithms, as bit positions of Policy::algorithms and Key::algorithms (src/jwt/errors.ts ALGORITHMS).
enum class Alg : uint8_t {
  kHS256 = 0, kHS384, kHS512, kRS256, kRS384, kRS512, kPS256, kPS384, kPS512, kES256, kES384, kEdDSA,
};
inline constexpr std::size_t kAlgCount = 12;

/// Why a token is refused (src/jwt/errors.ts REASONS mirrors this table; docs/jwt.md section 4).
enum class Reason : uint8_t {
  kOk = 0,
  kMalformed = 1,         ///< not three base64url segments, padding/whitespace, bad JSON, non-object, bad UTF-8
  kTooLarge = 2,          ///< longer than Policy::max_token_bytes
  kAlgNotAllowed = 3,     ///< alg missing from the policy (always for "none" and unknown names)
  kCritUnsupported = 4,   ///< a "crit" header (no extension is understood)
  kB64Unsupported = 5,    ///< a "b64" header other than true (RFC 7797 unencoded payload)
  kWrongTyp = 6,          ///< "typ" differs from the policy's
  kUnknownKid = 7,        ///< the token names a kid the key set does not hold
  kNoKey = 8,             ///< no key of the token's algorithm family
  kBadSignature = 9,      ///< signature of the wrong length or not valid for any candidate key
  kDuplicateKey = 10,     ///< a member name twice in one object of the header or the payload
  kInvalidClaim = 11,     ///< a registered claim of the wrong type (exp/nbf/iat not numbers, aud, sub, scope, scp)
  kMissingClaim = 12,     ///< exp (unless allowed), iss/aud/iat when the policy needs them, a required claim
  kExpired = 13,          ///< now - tolerance >= exp
  kNotYetValid = 14,      ///< nbf > now + tolerance, or (with maxTokenAge) iat > now + tolerance
  kTooOld = 15,           ///< now - iat - tolerance > maxTokenAge
  kWrongIssuer = 16,      ///< iss not one of the policy's issuers
  kWrongAudience = 17,    ///< no aud value is one of the policy's audiences
};
inline constexpr std::size_t kReasonCount = 18;

/// "bad_signature" etc.; "" out of range.
std::string_view reason_name(Reason reason) noexcept;

struct Policy {
  uint32_t algorithms = 0;                  ///< bit set of Alg; "none" is not representable
  std::vector<std::string> issuers;         ///< empty: iss not checked
  std::vector<std::string> audiences;       ///< empty: aud not checked
  std::vector<std::string> required;        ///< claim names that must be present
  std::string typ;                          ///< normalised (lower case, no "application/"); empty: not checked
  double clock_tolerance = 0;               ///< seconds
  double max_token_age = -1;                ///< seconds; < 0: no limit (iat not required)
  std::size_t max_token_bytes = 8192;
  bool require_exp = true;
  std::size_t cache_size = 1024;            ///< 0 disables the verified-token cache
};

/// One verification key. HMAC keys hold a precomputed inner/outer hash state per hash; public keys an
/// EVP_PKEY parsed from DER SPKI.
class Key {
 public:
  enum class Kind : uint8_t { kHmac, kRsa, kEcP256, kEcP384, kEd25519 };
  ~Key();
  Key(const Key&) = delete;
  Key& operator=(const Key&) = delete;

  /// An HMAC key from the raw secret (refused when empty). `algorithms` limits it (0: all HS*).
  static std::unique_ptr<Key> hmac(std::string_view kid, bool has_kid, std::string_view secret, uint32_t algorithms,
                                   std::string* error);
  /// A public key from DER SubjectPublicKeyInfo: RSA (>= 2048 bits), EC P-256/P-384 or Ed25519.
  static std::unique_ptr<Key> spki(std::string_view kid, bool has_kid, std::string_view der, uint32_t algorithms,
                                   std::string* error);

  Kind kind() const noexcept { return kind_; }
  bool has_kid() const noexcept { return has_kid_; }
  const std::string& kid() const noexcept { return kid_; }
  /// True when this key may check a token signed with `alg` (family and the key's own alg limit).
  bool accepts(Alg alg) const noexcept;
  /// Checks `signature` over `data` with `alg` (which accepts() must allow). Constant-time for HMAC.
  bool verify(Alg alg, std::string_view data, std::string_view signature) const noexcept;

 private:
  Key() = default;
  struct HmacState;
  struct Pkey;
  Kind kind_ = Kind::kHmac;
  bool has_kid_ = false;
  uint32_t algorithms_ = 0;
  std::string kid_;
  std::unique_ptr<HmacState> hmac_;
  std::unique_ptr<Pkey> pkey_;
};

/// What a token's header decides: its algorithm and key id.
struct HeaderFields {
  Alg alg = Alg::kHS256;
  bool has_kid = false;
  std::string kid;
};

/// What a successful verify() reports.
struct Verified {
  std::string_view payload;  ///< the decoded payload JSON (valid until the next verify())
  int32_t slot = -1;         ///< cache slot holding the entry (-1: not cached)
  bool cached = false;       ///< true: a cache hit (payload is empty; the caller kept the claims of `slot`)
  double from = 0;           ///< [from, until): the `now` values at which this verdict holds (until <= exp)
  double until = 0;
};

/// Validates RFC 8259 JSON text (UTF-8, depth <= 64, no duplicate member names in any object). Returns kOk,
/// kMalformed or kDuplicateKey. Used by the fuzz target; verify() uses the same reader.
Reason check_json(std::string_view text) noexcept;

/// Parses one token's header and payload with no signature check: the reason the structure, header,
/// payload JSON or claim types would give (kOk when all parse). For the fuzz target and tests.
Reason parse_only(std::string_view token, const Policy& policy);

class Verifier {
 public:
  explicit Verifier(Policy policy);
  ~Verifier();

  /// Replaces the key set (and clears the cache: a removed key must not keep its tokens valid).
  void set_keys(std::vector<std::unique_ptr<Key>> keys);
  const std::vector<std::unique_ptr<Key>>& keys() const noexcept { return keys_; }
  const Policy& policy() const noexcept { return policy_; }

  /// Verifies `token` at time `now` (seconds since the epoch).
  Reason verify(std::string_view token, double now, Verified* out);
  void clear_cache();
  std::size_t cache_entries() const noexcept { return index_.size(); }

 private:
  struct Entry {
    std::string token;
    uint64_t hash = 0;
    double from = 0;   ///< earliest `now` at which the cached verdict holds
    double until = 0;  ///< first `now` at which it no longer holds (<= exp)
    int32_t prev = -1;
    int32_t next = -1;
    bool used = false;
  };
  Reason verify_uncached(std::string_view token, double now, double* from, double* until);
  void touch(int32_t slot);
  int32_t insert(std::string_view token, uint64_t hash, double from, double until);

  Policy policy_;
  std::vector<std::unique_ptr<Key>> keys_;
  bool any_kid_ = false;
  std::string header_;   // scratch: decoded header
  std::string payload_;  // scratch: decoded payload
  std::string signature_;
  // The last header segment that passed the header checks, and what it decided.
  std::string last_header_;
  HeaderFields last_fields_;
  // Cache: entries_ is a fixed array; index_ maps a token hash to its slot; a doubly linked list orders them
  // from most (head_) to least (tail_) recently used.
  std::vector<Entry> entries_;
  std::unordered_multimap<uint64_t, int32_t> index_;
  int32_t head_ = -1;
  int32_t tail_ = -1;
  int32_t free_ = 0;  // slots [free_, size) never used yet
};

/// True for bytes an HMAC key must not be built from: PEM text of any kind ("-----BEGIN"), a DER
/// SubjectPublicKeyInfo, or a JSON object with a "kty" member (a JWK). src/jwt/keys.ts applies the same rule.
bool looks_like_public_key(std::string_view bytes) noexcept;

/// A 64-bit hash of the token bytes (the cache key; entries also compare the bytes).
uint64_t hash_token(std::string_view token) noexcept;

}  // namespace mcp::jwt

#endif  // FASTERMCP_NATIVE_CORE_JWT_H_
