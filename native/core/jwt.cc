// JWT verification (see jwt.h and docs/jwt.md). Hot-path notes:
//   * the signature is checked over the token's own bytes (header "." payload), never a re-encoding;
//   * base64url is decoded with a 256-entry table and refused unless canonical;
//   * the JSON reader below validates (UTF-8, RFC 8259 grammar, depth, duplicate names) and records only
//     the top-level members; string values are unescaped only for the claims the policy reads;
//   * HMAC keys keep the SHA state after the inner and outer pad blocks, so a verify hashes only the
//     token and one more block (the low-level SHA API: one struct copy instead of an EVP_MAC_CTX_dup);
//   * scratch strings live in the Verifier and keep their capacity from one call to the next.
#ifndef OPENSSL_SUPPRESS_DEPRECATED
#define OPENSSL_SUPPRESS_DEPRECATED  // SHA256_Init & co: deprecated in 3.0, exported by every Node we load in
#endif
#include "core/jwt.h"

#include "core/base64url.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>

namespace mcp::jwt {
namespace {

constexpr std::array<std::string_view, kReasonCount> kReasonNames = {
    "ok",           "malformed",     "too_large",     "alg_not_allowed", "crit_unsupported", "b64_unsupported",
    "wrong_typ",    "unknown_kid",   "no_key",        "bad_signature",   "duplicate_key",    "invalid_claim",
    "missing_claim", "expired",      "not_yet_valid", "too_old",         "wrong_issuer",     "wrong_audience",
};

constexpr std::array<std::string_view, kAlgCount> kAlgNames = {
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
};

constexpr uint32_t bit(Alg alg) { return 1u << static_cast<uint32_t>(alg); }
constexpr uint32_t kHmacAlgs = bit(Alg::kHS256) | bit(Alg::kHS384) | bit(Alg::kHS512);
constexpr uint32_t kRsaAlgs = bit(Alg::kRS256) | bit(Alg::kRS384) | bit(Alg::kRS512) | bit(Alg::kPS256) |
                              bit(Alg::kPS384) | bit(Alg::kPS512);

bool alg_from_name(std::string_view name, Alg* alg) {
  for (std::size_t i = 0; i < kAlgCount; ++i) {
    if (kAlgNames[i] == name) {
      *alg = static_cast<Alg>(i);
      return true;
    }
  }
  return false;
}

// ---- UTF-8 ----------------------------------------------------------------------------------------------

bool valid_utf8(std::string_view text) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    if (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      if ((word & 0x8080808080808080ULL) == 0) {
        p += 8;
        continue;
      }
    }
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (static_cast<std::size_t>(end - p) <= n) return false;
    for (std::size_t i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    p += n + 1;
  }
  return true;
}

// ---- JSON -----------------------------------------------------------------------------------------------

constexpr int kMaxDepth = 64;
constexpr std::size_t kLinearDupLimit = 16;

enum class Type : uint8_t { kString, kNumber, kObject, kArray, kTrue, kFalse, kNull };

struct Member {
  std::size_t key;  // index into the depth-0 key list
  std::size_t begin;
  std::size_t end;
  Type type;
  bool escaped;  // a string value with a backslash escape in it
};

void append_utf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {  // lone surrogates too (WTF-8), as JS strings keep them
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

uint32_t read_hex4(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 4) | static_cast<uint32_t>(hex_value(p[i]));
  return v;
}

// Unescapes the body of a string the reader has validated (between the quotes).
void unescape(std::string_view body, std::string* out) {
  out->clear();
  const char* p = body.data();
  const char* end = p + body.size();
  while (p < end) {
    const char* slash = static_cast<const char*>(std::memchr(p, '\\', static_cast<std::size_t>(end - p)));
    if (slash == nullptr) {
      out->append(p, static_cast<std::size_t>(end - p));
      return;
    }
    out->append(p, static_cast<std::size_t>(slash - p));
    p = slash + 1;
    const char e = *p++;
    switch (e) {
      case 'b': out->push_back('\b'); break;
      case 'f': out->push_back('\f'); break;
      case 'n': out->push_back('\n'); break;
      case 'r': out->push_back('\r'); break;
      case 't': out->push_back('\t'); break;
      case 'u': {
        uint32_t cp = read_hex4(p);
        p += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
          const uint32_t low = read_hex4(p + 2);
          if (low >= 0xDC00 && low <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            p += 6;
          }
        }
        append_utf8(out, cp);
        break;
      }
      default: out->push_back(e); break;  // " \ /
    }
  }
}

// A member name, with a tag for the duplicate check: its length and its first, middle and last bytes, so
// that names which differ there (nearly all of them) are told apart without a string compare. A name
// without escapes is a view into the text being read; an escaped one is decoded into `decoded`.
// (The tag is built from single-byte loads: a partial memcpy into a word stalls on store forwarding.)
struct Name {
  std::string_view raw;
  std::string decoded;
  bool escaped = false;
  uint64_t tag = 0;

  std::string_view text() const { return escaped ? std::string_view(decoded) : raw; }

  void set(std::string_view body, bool has_escape) {
    escaped = has_escape;
    if (has_escape) {
      unescape(body, &decoded);
    } else {
      raw = body;
    }
    const std::string_view t = text();
    const std::size_t n = t.size();
    const auto* b = reinterpret_cast<const unsigned char*>(t.data());
    tag = n == 0 ? 0
                 : static_cast<uint64_t>(n) << 24 | static_cast<uint64_t>(b[0]) << 16 |
                       static_cast<uint64_t>(b[n / 2]) << 8 | b[n - 1];
  }
  bool operator==(const Name& other) const { return tag == other.tag && text() == other.text(); }
};

// A validating reader. Keys are kept per depth (reused between calls) for the duplicate check; the members
// of the top-level object are recorded when `top` is set.
class Reader {
 public:
  // keys_ is sized for every depth up front, so that a reference to one depth's list stays valid while
  // nested objects are read.
  Reader(std::vector<std::vector<Name>>* keys, std::vector<Member>* top) : keys_(keys), top_(top) {
    if (keys_->size() < kMaxDepth + 1) keys_->resize(kMaxDepth + 1);
  }

  Reason read(std::string_view text) {
    if (!valid_utf8(text)) return Reason::kMalformed;
    base_ = text.data();
    p_ = base_;
    end_ = base_ + text.size();
    error_ = Reason::kMalformed;
    if (top_ != nullptr) top_->clear();
    skip_ws();
    if (p_ >= end_) return Reason::kMalformed;
    Type type;
    if (!value(0, &type)) return error_;
    skip_ws();
    if (p_ != end_) return Reason::kMalformed;
    return Reason::kOk;
  }

  /// The first value's type after a successful read().
  Type root_type() const { return root_; }

 private:
  void skip_ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  // A string starting at the opening quote; on success p_ is past the closing quote, *body its content
  // and escaped_ whether it holds a backslash escape.
  bool string(std::string_view* body) {
    escaped_ = false;
    ++p_;
    const char* start = p_;
    while (p_ < end_) {
      // Eight plain bytes at a time (no quote, backslash or control character): claim values are mostly
      // URLs and identifiers.
      if (end_ - p_ >= 8) {
        uint64_t w;
        std::memcpy(&w, p_, 8);
        constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
        const uint64_t quote = w ^ (kOnes * '"'), backslash = w ^ (kOnes * '\\');
        const uint64_t special = ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) | (w - kOnes * 0x20);
        if ((special & ~w & kHigh) == 0) {
          p_ += 8;
          continue;
        }
      }
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        *body = std::string_view(start, static_cast<std::size_t>(p_ - start));
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        escaped_ = true;
        ++p_;
        if (p_ >= end_) return false;
        const char e = *p_;
        if (e == 'u') {
          if (end_ - p_ < 5) return false;
          for (int i = 1; i <= 4; ++i) {
            if (hex_value(p_[i]) < 0) return false;
          }
          p_ += 5;
          continue;
        }
        if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't')
          return false;
      }
      ++p_;
    }
    return false;
  }

  bool digits() {
    const char* start = p_;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    return p_ > start;
  }

  bool number() {
    if (*p_ == '-') ++p_;
    if (p_ >= end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (!digits()) {
      return false;
    }
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (!digits()) return false;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!digits()) return false;
    }
    return true;
  }

  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size()) != 0)
      return false;
    p_ += word.size();
    return true;
  }

  bool value(int depth, Type* type) {
    if (p_ >= end_) return false;
    switch (*p_) {
      case '{':
        *type = Type::kObject;
        if (depth == 0) root_ = Type::kObject;
        return object(depth);
      case '[':
        *type = Type::kArray;
        if (depth == 0) root_ = Type::kArray;
        return array(depth);
      case '"': {
        *type = Type::kString;
        std::string_view body;
        return string(&body);
      }
      case 't':
        *type = Type::kTrue;
        return literal("true");
      case 'f':
        *type = Type::kFalse;
        return literal("false");
      case 'n':
        *type = Type::kNull;
        return literal("null");
      default:
        *type = Type::kNumber;
        if (*p_ == '-' || (*p_ >= '0' && *p_ <= '9')) return number();
        return false;
    }
  }

  bool array(int depth) {
    if (depth >= kMaxDepth) return false;
    ++p_;
    skip_ws();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    while (true) {
      skip_ws();
      Type type;
      if (!value(depth + 1, &type)) return false;
      skip_ws();
      if (p_ >= end_) return false;
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ == ']') {
        ++p_;
        return true;
      }
      return false;
    }
  }

  bool object(int depth) {
    if (depth >= kMaxDepth) return false;
    std::vector<Name>& keys = (*keys_)[static_cast<std::size_t>(depth)];
    std::size_t count = 0;
    ++p_;
    skip_ws();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    while (true) {
      skip_ws();
      if (p_ >= end_ || *p_ != '"') return false;
      std::string_view body;
      if (!string(&body)) return false;
      // The decoded name, for the duplicate check ("a" and "\u0061" are the same name).
      if (count >= keys.size()) keys.emplace_back();
      Name& key = keys[count];
      key.set(body, escaped_);
      if (count < kLinearDupLimit) {
        for (std::size_t i = 0; i < count; ++i) {
          if (keys[i] == key) {
            error_ = Reason::kDuplicateKey;
            return false;
          }
        }
      }
      const std::size_t index = count++;
      skip_ws();
      if (p_ >= end_ || *p_ != ':') return false;
      ++p_;
      skip_ws();
      const std::size_t begin = static_cast<std::size_t>(p_ - base_);
      Type type;
      if (!value(depth + 1, &type)) return false;
      if (depth == 0 && top_ != nullptr) {
        top_->push_back(Member{index, begin, static_cast<std::size_t>(p_ - base_), type, type == Type::kString && escaped_});
      }
      skip_ws();
      if (p_ >= end_) return false;
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ == '}') {
        ++p_;
        break;
      }
      return false;
    }
    if (count > kLinearDupLimit) {
      std::vector<std::string_view> sorted;
      sorted.reserve(count);
      for (std::size_t i = 0; i < count; ++i) sorted.emplace_back(keys[i].text());
      std::sort(sorted.begin(), sorted.end());
      if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
        error_ = Reason::kDuplicateKey;
        return false;
      }
    }
    return true;
  }

  std::vector<std::vector<Name>>* keys_;
  std::vector<Member>* top_;
  const char* base_ = nullptr;
  const char* p_ = nullptr;
  const char* end_ = nullptr;
  Reason error_ = Reason::kMalformed;
  Type root_ = Type::kNull;
  bool escaped_ = false;
};

// A parsed JSON document's top-level members with lookups by name.
struct Doc {
  std::string_view text;
  std::vector<std::vector<Name>> keys;
  std::vector<Member> members;

  const Member* find(std::string_view name) const {
    for (const Member& m : members) {
      if (keys[0][m.key].text() == name) return &m;
    }
    return nullptr;
  }
  std::string_view raw(const Member& m) const { return text.substr(m.begin, m.end - m.begin); }
  // A string member's decoded value.
  void string_value(const Member& m, std::string* out) const {
    const std::string_view v = string_view(m, out);
    if (v.data() != out->data()) out->assign(v.data(), v.size());
  }
  // A string member's decoded value as a view: into the text when it has no escapes, else into *scratch.
  std::string_view string_view(const Member& m, std::string* scratch) const {
    const std::string_view body = text.substr(m.begin + 1, m.end - m.begin - 2);
    if (!m.escaped) return body;
    unescape(body, scratch);
    return *scratch;
  }
  double number_value(const Member& m) const {
    const std::string_view s = raw(m);
    double value = 0;
    const auto result = std::from_chars(s.data(), s.data() + s.size(), value);
    if (result.ec == std::errc()) return value;
    // Out of range: as JSON.parse, overflow is +-Infinity and underflow +-0.
    const std::string copy(s);
    return std::strtod(copy.c_str(), nullptr);
  }
};

Reason parse_doc(std::string_view text, Doc* doc) {
  doc->text = text;
  Reader reader(&doc->keys, &doc->members);
  const Reason r = reader.read(text);
  if (r != Reason::kOk) return r;
  if (reader.root_type() != Type::kObject) return Reason::kMalformed;
  return Reason::kOk;
}

// Calls fn(body) for each string element of the array member `m` (validated JSON); false when an element
// is not a string.
template <typename Fn>
bool each_string(std::string_view raw, Fn&& fn) {
  // raw is "[ ... ]"; elements of a validated array, walked shallowly.
  std::size_t i = 1;
  auto ws = [&]() {
    while (i < raw.size() && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r')) ++i;
  };
  ws();
  if (raw[i] == ']') return true;
  while (true) {
    ws();
    if (raw[i] != '"') return false;
    const std::size_t start = ++i;
    while (raw[i] != '"') i += raw[i] == '\\' ? 2 : 1;
    fn(raw.substr(start, i - start));
    ++i;
    ws();
    if (raw[i] == ']') return true;
    ++i;  // ','
  }
}

std::string normalize_typ(std::string_view typ) {
  std::string out(typ);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (out.rfind("application/", 0) == 0) out.erase(0, 12);
  return out;
}

// ---- ECDSA raw R||S -> DER -------------------------------------------------------------------------------

void der_integer(const unsigned char* v, std::size_t n, std::string* out) {
  while (n > 1 && *v == 0) {
    ++v;
    --n;
  }
  const bool pad = (*v & 0x80) != 0;
  out->push_back(0x02);
  out->push_back(static_cast<char>(n + (pad ? 1 : 0)));
  if (pad) out->push_back(0);
  out->append(reinterpret_cast<const char*>(v), n);
}

std::string ecdsa_der(std::string_view raw) {
  const std::size_t half = raw.size() / 2;
  std::string body;
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  der_integer(p, half, &body);
  der_integer(p + half, half, &body);
  std::string out;
  out.push_back(0x30);
  out.push_back(static_cast<char>(body.size()));  // < 128 for P-256 and P-384
  out += body;
  return out;
}

}  // namespace

bool looks_like_public_key(std::string_view bytes) noexcept {
  if (bytes.find("-----BEGIN") != std::string_view::npos) return true;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  EVP_PKEY* pkey = d2i_PUBKEY(nullptr, &p, static_cast<long>(bytes.size()));
  if (pkey != nullptr) {
    EVP_PKEY_free(pkey);
    return true;
  }
  ERR_clear_error();  // leave no error behind on the thread's queue: node's crypto reads that queue
  std::size_t i = 0;
  while (i < bytes.size() && (bytes[i] == ' ' || bytes[i] == '\t' || bytes[i] == '\n' || bytes[i] == '\r')) ++i;
  return i < bytes.size() && bytes[i] == '{' && bytes.find("\"kty\"") != std::string_view::npos;
}

std::string_view reason_name(Reason reason) noexcept {
  const auto i = static_cast<std::size_t>(reason);
  return i < kReasonCount ? kReasonNames[i] : std::string_view();
}

Reason check_json(std::string_view text) noexcept {
  std::vector<std::vector<Name>> keys;
  Reader reader(&keys, nullptr);
  return reader.read(text);
}

uint64_t hash_token(std::string_view token) noexcept {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ULL;
  uint64_t h = 0x243F6A8885A308D3ULL ^ (token.size() * kMul);
  const char* p = token.data();
  std::size_t n = token.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p, n);
  h = (h ^ tail) * kMul;
  h ^= h >> 32;
  return h;
}

// ---- keys -----------------------------------------------------------------------------------------------

struct Key::HmacState {
  // Hash state after the (key ^ ipad) and (key ^ opad) blocks, per hash.
  SHA256_CTX inner256, outer256;
  SHA512_CTX inner384, outer384, inner512, outer512;
};

struct Key::Pkey {
  EVP_PKEY* pkey = nullptr;
  EVP_MD* sha256 = nullptr;
  EVP_MD* sha384 = nullptr;
  EVP_MD* sha512 = nullptr;
  ~Pkey() {
    EVP_PKEY_free(pkey);
    EVP_MD_free(sha256);
    EVP_MD_free(sha384);
    EVP_MD_free(sha512);
  }
};

Key::~Key() = default;

std::unique_ptr<Key> Key::hmac(std::string_view kid, bool has_kid, std::string_view secret, uint32_t algorithms,
                               std::string* error) {
  if (secret.empty()) {
    *error = "an HMAC secret must not be empty";
    return nullptr;
  }
  if (looks_like_public_key(secret)) {
    *error = "an HMAC secret must not be a public key (PEM, DER SPKI or JWK): that is the key-confusion attack";
    return nullptr;
  }
  std::unique_ptr<Key> key(new Key());
  key->kind_ = Kind::kHmac;
  key->kid_.assign(kid.data(), kid.size());
  key->has_kid_ = has_kid;
  key->algorithms_ = algorithms == 0 ? kHmacAlgs : (algorithms & kHmacAlgs);
  key->hmac_ = std::make_unique<HmacState>();
  HmacState& s = *key->hmac_;
  // SHA-256: 64-byte blocks.
  {
    unsigned char block[64] = {};
    if (secret.size() > 64) {
      SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), block);
    } else {
      std::memcpy(block, secret.data(), secret.size());
    }
    unsigned char pad[64];
    for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x36;
    SHA256_Init(&s.inner256);
    SHA256_Update(&s.inner256, pad, 64);
    for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x5c;
    SHA256_Init(&s.outer256);
    SHA256_Update(&s.outer256, pad, 64);
    OPENSSL_cleanse(block, sizeof(block));
    OPENSSL_cleanse(pad, sizeof(pad));
  }
  // SHA-384 and SHA-512: 128-byte blocks.
  for (int which = 0; which < 2; ++which) {
    unsigned char block[128] = {};
    if (secret.size() > 128) {
      if (which == 0) {
        SHA384(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), block);
      } else {
        SHA512(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), block);
      }
    } else {
      std::memcpy(block, secret.data(), secret.size());
    }
    SHA512_CTX* inner = which == 0 ? &s.inner384 : &s.inner512;
    SHA512_CTX* outer = which == 0 ? &s.outer384 : &s.outer512;
    unsigned char pad[128];
    for (int i = 0; i < 128; ++i) pad[i] = block[i] ^ 0x36;
    if (which == 0) SHA384_Init(inner); else SHA512_Init(inner);
    SHA512_Update(inner, pad, 128);
    for (int i = 0; i < 128; ++i) pad[i] = block[i] ^ 0x5c;
    if (which == 0) SHA384_Init(outer); else SHA512_Init(outer);
    SHA512_Update(outer, pad, 128);
    OPENSSL_cleanse(block, sizeof(block));
    OPENSSL_cleanse(pad, sizeof(pad));
  }
  return key;
}

std::unique_ptr<Key> Key::spki(std::string_view kid, bool has_kid, std::string_view der, uint32_t algorithms,
                               std::string* error) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EVP_PKEY* pkey = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (pkey == nullptr || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    *error = "the key is not a DER SubjectPublicKeyInfo";
    return nullptr;
  }
  std::unique_ptr<Key> key(new Key());
  key->pkey_ = std::make_unique<Pkey>();
  key->pkey_->pkey = pkey;
  key->kid_.assign(kid.data(), kid.size());
  key->has_kid_ = has_kid;
  const int id = EVP_PKEY_get_base_id(pkey);
  uint32_t family = 0;
  if (id == EVP_PKEY_RSA) {
    if (EVP_PKEY_get_bits(pkey) < 2048) {
      *error = "RSA keys must have at least 2048 bits";
      return nullptr;
    }
    key->kind_ = Kind::kRsa;
    family = kRsaAlgs;
  } else if (id == EVP_PKEY_EC) {
    char group[64] = {};
    std::size_t length = 0;
    if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &length) != 1) {
      *error = "the EC key has no named curve";
      return nullptr;
    }
    const std::string_view name(group, length);
    if (name == "prime256v1" || name == "P-256") {
      key->kind_ = Kind::kEcP256;
      family = bit(Alg::kES256);
    } else if (name == "secp384r1" || name == "P-384") {
      key->kind_ = Kind::kEcP384;
      family = bit(Alg::kES384);
    } else {
      *error = "EC keys must be on P-256 or P-384";
      return nullptr;
    }
  } else if (id == EVP_PKEY_ED25519) {
    key->kind_ = Kind::kEd25519;
    family = bit(Alg::kEdDSA);
  } else {
    *error = "unsupported public key type (RSA, EC P-256/P-384 and Ed25519 are supported)";
    return nullptr;
  }
  key->algorithms_ = algorithms == 0 ? family : (algorithms & family);
  if (key->algorithms_ == 0) {
    *error = "the key's algorithm does not match its type";
    return nullptr;
  }
  key->pkey_->sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  key->pkey_->sha384 = EVP_MD_fetch(nullptr, "SHA384", nullptr);
  key->pkey_->sha512 = EVP_MD_fetch(nullptr, "SHA512", nullptr);
  if (key->pkey_->sha256 == nullptr || key->pkey_->sha384 == nullptr || key->pkey_->sha512 == nullptr) {
    *error = "OpenSSL has no SHA-2 digests";
    return nullptr;
  }
  return key;
}

bool Key::accepts(Alg alg) const noexcept { return (algorithms_ & bit(alg)) != 0; }

bool Key::verify(Alg alg, std::string_view data, std::string_view signature) const noexcept {
  if (!accepts(alg)) return false;
  const auto* d = reinterpret_cast<const unsigned char*>(data.data());
  if (kind_ == Kind::kHmac) {
    unsigned char inner[SHA512_DIGEST_LENGTH];
    unsigned char mac[SHA512_DIGEST_LENGTH];
    std::size_t n;
    if (alg == Alg::kHS256) {
      n = SHA256_DIGEST_LENGTH;
      if (signature.size() != n) return false;
      SHA256_CTX ctx = hmac_->inner256;
      SHA256_Update(&ctx, d, data.size());
      SHA256_Final(inner, &ctx);
      ctx = hmac_->outer256;
      SHA256_Update(&ctx, inner, n);
      SHA256_Final(mac, &ctx);
    } else {
      const bool is384 = alg == Alg::kHS384;
      n = is384 ? SHA384_DIGEST_LENGTH : SHA512_DIGEST_LENGTH;
      if (signature.size() != n) return false;
      SHA512_CTX ctx = is384 ? hmac_->inner384 : hmac_->inner512;
      SHA512_Update(&ctx, d, data.size());
      if (is384) SHA384_Final(inner, &ctx); else SHA512_Final(inner, &ctx);
      ctx = is384 ? hmac_->outer384 : hmac_->outer512;
      SHA512_Update(&ctx, inner, n);
      if (is384) SHA384_Final(mac, &ctx); else SHA512_Final(mac, &ctx);
    }
    return CRYPTO_memcmp(mac, signature.data(), n) == 0;
  }
  const EVP_MD* md = nullptr;
  bool pss = false;
  std::string der;
  std::string_view sig = signature;
  switch (alg) {
    case Alg::kRS256: md = pkey_->sha256; break;
    case Alg::kRS384: md = pkey_->sha384; break;
    case Alg::kRS512: md = pkey_->sha512; break;
    case Alg::kPS256: md = pkey_->sha256; pss = true; break;
    case Alg::kPS384: md = pkey_->sha384; pss = true; break;
    case Alg::kPS512: md = pkey_->sha512; pss = true; break;
    case Alg::kES256:
    case Alg::kES384: {
      // JWS carries raw R||S of fixed length; a DER signature (or any other length) is refused.
      const std::size_t want = alg == Alg::kES256 ? 64 : 96;
      if (signature.size() != want) return false;
      md = alg == Alg::kES256 ? pkey_->sha256 : pkey_->sha384;
      der = ecdsa_der(signature);
      sig = der;
      break;
    }
    case Alg::kEdDSA:
      if (signature.size() != 64) return false;
      break;
    default: return false;
  }
  if (kind_ == Kind::kRsa && signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(pkey_->pkey))) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return false;
  EVP_PKEY_CTX* pctx = nullptr;
  bool ok = EVP_DigestVerifyInit(ctx, &pctx, md, nullptr, pkey_->pkey) == 1;
  if (ok && pss) {
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
  }
  ok = ok && EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(), d, data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  // A refused signature leaves errors on the thread's OpenSSL queue; node's own crypto calls on this thread
  // would report them as theirs.
  if (!ok) ERR_clear_error();
  return ok;
}

// ---- verification ---------------------------------------------------------------------------------------

namespace {

struct Segments {
  std::string_view header, payload, signature, signing_input;
};

bool split(std::string_view token, Segments* s) {
  const std::size_t a = token.find('.');
  if (a == std::string_view::npos) return false;
  const std::size_t b = token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos) return false;
  s->header = token.substr(0, a);
  s->payload = token.substr(a + 1, b - a - 1);
  s->signature = token.substr(b + 1);
  s->signing_input = token.substr(0, b);
  return true;
}


// Step 2 of the order in jwt.h for the payload and signature segments: both must be canonical base64url
// before anything else is decided. They are decoded here, once (decoding is the check).
Reason decode_body(const Segments& seg, std::string* payload, std::string* signature) {
  payload->clear();
  signature->clear();
  if (!base64url_decode(seg.payload, payload) || !base64url_decode(seg.signature, signature)) return Reason::kMalformed;
  return Reason::kOk;
}

// Steps 2-4 of the order in jwt.h for a split token: header base64url, payload and signature base64url
// (decoded into `payload` and `signature`), header JSON and header fields.
Reason check_header(const Segments& segments, const Policy& policy, Doc* header, std::string* scratch,
                    std::string* payload, std::string* signature, HeaderFields* fields) {
  const Segments* seg = &segments;
  scratch->clear();
  if (!base64url_decode(seg->header, scratch)) return Reason::kMalformed;
  Reason r = decode_body(segments, payload, signature);
  if (r != Reason::kOk) return r;
  r = parse_doc(*scratch, header);
  if (r != Reason::kOk) return r;
  const Member* alg = header->find("alg");
  const Member* kid = header->find("kid");
  const Member* typ = header->find("typ");
  if (alg == nullptr || alg->type != Type::kString) return Reason::kMalformed;
  if (kid != nullptr && kid->type != Type::kString) return Reason::kMalformed;
  if (typ != nullptr && typ->type != Type::kString) return Reason::kMalformed;
  std::string value;
  header->string_value(*alg, &value);
  if (!alg_from_name(value, &fields->alg) || (policy.algorithms & bit(fields->alg)) == 0) return Reason::kAlgNotAllowed;
  if (header->find("crit") != nullptr) return Reason::kCritUnsupported;
  if (const Member* b64 = header->find("b64"); b64 != nullptr && b64->type != Type::kTrue)
    return Reason::kB64Unsupported;
  if (!policy.typ.empty()) {
    if (typ == nullptr) return Reason::kWrongTyp;
    header->string_value(*typ, &value);
    if (normalize_typ(value) != policy.typ) return Reason::kWrongTyp;
  }
  if (kid != nullptr) {
    fields->has_kid = true;
    header->string_value(*kid, &fields->kid);
  }
  return Reason::kOk;
}

struct Claims {
  const Member* exp = nullptr;
  const Member* nbf = nullptr;
  const Member* iat = nullptr;
  const Member* iss = nullptr;
  const Member* aud = nullptr;
  const Member* sub = nullptr;
  const Member* scope = nullptr;
  const Member* scp = nullptr;
};

// The registered claim a member name is, found in one pass over the members (one length switch and one
// short compare per member, instead of a lookup by name per claim).
const Member** claim_slot(std::string_view name, Claims* c) {
  switch (name.size()) {
    case 3:
      if (name == "exp") return &c->exp;
      if (name == "nbf") return &c->nbf;
      if (name == "iat") return &c->iat;
      if (name == "iss") return &c->iss;
      if (name == "aud") return &c->aud;
      if (name == "sub") return &c->sub;
      if (name == "scp") return &c->scp;
      return nullptr;
    case 5:
      return name == "scope" ? &c->scope : nullptr;
    default:
      return nullptr;
  }
}

// Steps 7-8: payload JSON and claim types.
Reason check_payload_types(const Doc& payload, Claims* c) {
  // Names are unique (the reader refused duplicates), so each slot is set at most once.
  for (const Member& m : payload.members) {
    if (const Member** slot = claim_slot(payload.keys[0][m.key].text(), c); slot != nullptr) *slot = &m;
  }
  for (const Member* m : {c->exp, c->nbf, c->iat}) {
    if (m != nullptr && m->type != Type::kNumber) return Reason::kInvalidClaim;
  }
  for (const Member* m : {c->iss, c->sub, c->scope}) {
    if (m != nullptr && m->type != Type::kString) return Reason::kInvalidClaim;
  }
  for (const Member* m : {c->aud, c->scp}) {
    if (m == nullptr) continue;
    if (m->type == Type::kArray) {
      if (!each_string(payload.raw(*m), [](std::string_view) {})) return Reason::kInvalidClaim;
    } else if (m->type != Type::kString) {
      return Reason::kInvalidClaim;
    }
  }
  return Reason::kOk;
}

bool contains(const std::vector<std::string>& list, std::string_view value) {
  for (const std::string& s : list) {
    if (s == value) return true;
  }
  return false;
}

// Steps 9-12: required claims, time, issuer, audience. Sets the window [from, until) in which the verdict
// holds for the cache.
Reason check_claims(const Doc& payload, const Claims& c, const Policy& policy, double now, double* from,
                    double* until) {
  if (c.exp == nullptr && policy.require_exp) return Reason::kMissingClaim;
  if (c.iss == nullptr && !policy.issuers.empty()) return Reason::kMissingClaim;
  if (c.aud == nullptr && !policy.audiences.empty()) return Reason::kMissingClaim;
  if (c.iat == nullptr && policy.max_token_age >= 0) return Reason::kMissingClaim;
  for (const std::string& name : policy.required) {
    if (payload.find(name) == nullptr) return Reason::kMissingClaim;
  }
  const double tol = policy.clock_tolerance;
  *from = -std::numeric_limits<double>::infinity();
  *until = std::numeric_limits<double>::infinity();
  if (c.exp != nullptr) {
    const double exp = payload.number_value(*c.exp);
    if (now - tol >= exp) return Reason::kExpired;
    *until = exp;
  }
  if (c.nbf != nullptr) {
    const double nbf = payload.number_value(*c.nbf);
    if (nbf > now + tol) return Reason::kNotYetValid;
    *from = std::max(*from, nbf - tol);
  }
  if (policy.max_token_age >= 0) {
    const double iat = payload.number_value(*c.iat);
    if (iat > now + tol) return Reason::kNotYetValid;
    if (now - iat - tol > policy.max_token_age) return Reason::kTooOld;
    *from = std::max(*from, iat - tol);
    *until = std::min(*until, iat + policy.max_token_age + tol);
  }
  std::string value;
  if (!policy.issuers.empty()) {
    if (!contains(policy.issuers, payload.string_view(*c.iss, &value))) return Reason::kWrongIssuer;
  }
  if (!policy.audiences.empty()) {
    bool match = false;
    if (c.aud->type == Type::kString) {
      match = contains(policy.audiences, payload.string_view(*c.aud, &value));
    } else {
      each_string(payload.raw(*c.aud), [&](std::string_view body) {
        if (match) return;
        if (std::memchr(body.data(), '\\', body.size()) == nullptr) {
          match = contains(policy.audiences, body);
        } else {
          unescape(body, &value);
          match = contains(policy.audiences, value);
        }
      });
    }
    if (!match) return Reason::kWrongAudience;
  }
  return Reason::kOk;
}

thread_local Doc t_header;
thread_local Doc t_payload;

}  // namespace

Reason parse_only(std::string_view token, const Policy& policy) {
  if (token.size() > policy.max_token_bytes) return Reason::kTooLarge;
  Segments seg;
  Doc header;
  std::string scratch;
  HeaderFields fields;
  Policy all = policy;
  all.algorithms = (1u << kAlgCount) - 1;
  if (!split(token, &seg)) return Reason::kMalformed;
  std::string payload_text;
  std::string sig;
  Reason r = check_header(seg, all, &header, &scratch, &payload_text, &sig, &fields);
  if (r != Reason::kOk) return r;
  Doc payload;
  r = parse_doc(payload_text, &payload);
  if (r != Reason::kOk) return r;
  Claims claims;
  return check_payload_types(payload, &claims);
}

Verifier::Verifier(Policy policy) : policy_(std::move(policy)) { entries_.resize(policy_.cache_size); }

Verifier::~Verifier() = default;

void Verifier::set_keys(std::vector<std::unique_ptr<Key>> keys) {
  keys_ = std::move(keys);
  any_kid_ = false;
  for (const auto& k : keys_) any_kid_ = any_kid_ || k->has_kid();
  clear_cache();
}

void Verifier::clear_cache() {
  index_.clear();
  for (Entry& e : entries_) {
    e.used = false;
    e.token.clear();
    e.prev = e.next = -1;
  }
  head_ = tail_ = -1;
  free_ = 0;
}

Reason Verifier::verify_uncached(std::string_view token, double now, double* from, double* until) {
  Segments seg;
  if (!split(token, &seg)) return Reason::kMalformed;
  // Tokens of one issuer mostly share their header segment: one that passed check_header before is
  // not decoded and parsed again (its fields depend only on its bytes and this verifier's policy).
  Reason r;
  if (!last_header_.empty() && seg.header == last_header_) {
    r = decode_body(seg, &payload_, &signature_);
  } else {
    r = check_header(seg, policy_, &t_header, &header_, &payload_, &signature_, &last_fields_);
    if (r == Reason::kOk) last_header_.assign(seg.header.data(), seg.header.size());
    else last_header_.clear();
  }
  if (r != Reason::kOk) return r;
  const HeaderFields& fields = last_fields_;

  // Key selection (docs/jwt.md section 3): by kid when the token names one and a key carries it; else the
  // keys without a kid. Then only keys of the algorithm's family (an HS* token never meets a public key).
  const Key* candidates[16];
  std::size_t count = 0;
  bool by_kid = false;
  if (fields.has_kid) {
    for (const auto& k : keys_) by_kid = by_kid || (k->has_kid() && k->kid() == fields.kid);
  }
  bool pool_empty = true;
  bool overflow = false;
  for (const auto& k : keys_) {
    const bool in_pool = by_kid ? (k->has_kid() && k->kid() == fields.kid) : (!fields.has_kid || !k->has_kid());
    if (!in_pool) continue;
    pool_empty = false;
    if (!k->accepts(fields.alg)) continue;
    if (count < 16) candidates[count++] = k.get(); else overflow = true;
  }
  (void)overflow;
  if (pool_empty) return fields.has_kid ? Reason::kUnknownKid : Reason::kNoKey;
  if (count == 0) return Reason::kNoKey;

  bool verified = false;
  for (std::size_t i = 0; i < count && !verified; ++i) {
    verified = candidates[i]->verify(fields.alg, seg.signing_input, signature_);
  }
  if (!verified) return Reason::kBadSignature;

  r = parse_doc(payload_, &t_payload);
  if (r != Reason::kOk) return r;
  Claims claims;
  r = check_payload_types(t_payload, &claims);
  if (r != Reason::kOk) return r;
  return check_claims(t_payload, claims, policy_, now, from, until);
}

void Verifier::touch(int32_t slot) {
  if (head_ == slot) return;
  Entry& e = entries_[static_cast<std::size_t>(slot)];
  // unlink
  if (e.prev >= 0) entries_[static_cast<std::size_t>(e.prev)].next = e.next;
  if (e.next >= 0) entries_[static_cast<std::size_t>(e.next)].prev = e.prev;
  if (tail_ == slot) tail_ = e.prev;
  // push front
  e.prev = -1;
  e.next = head_;
  if (head_ >= 0) entries_[static_cast<std::size_t>(head_)].prev = slot;
  head_ = slot;
  if (tail_ < 0) tail_ = slot;
}

int32_t Verifier::insert(std::string_view token, uint64_t hash, double from, double until) {
  int32_t slot;
  if (free_ < static_cast<int32_t>(entries_.size())) {
    slot = free_++;
  } else {
    // Evict the least recently used entry.
    slot = tail_;
    Entry& old = entries_[static_cast<std::size_t>(slot)];
    auto range = index_.equal_range(old.hash);
    for (auto it = range.first; it != range.second; ++it) {
      if (it->second == slot) {
        index_.erase(it);
        break;
      }
    }
  }
  Entry& e = entries_[static_cast<std::size_t>(slot)];
  if (!e.used) {
    e.used = true;
    e.prev = e.next = -1;
    if (head_ < 0) {
      head_ = tail_ = slot;
    } else {
      e.next = head_;
      entries_[static_cast<std::size_t>(head_)].prev = slot;
      head_ = slot;
    }
  } else {
    touch(slot);
  }
  e.token.assign(token.data(), token.size());
  e.hash = hash;
  e.from = from;
  e.until = until;
  index_.emplace(hash, slot);
  return slot;
}

Reason Verifier::verify(std::string_view token, double now, Verified* out) {
  out->payload = {};
  out->slot = -1;
  out->cached = false;
  if (token.size() > policy_.max_token_bytes) return Reason::kTooLarge;
  uint64_t hash = 0;
  int32_t stale = -1;
  if (!entries_.empty()) {
    hash = hash_token(token);
    auto range = index_.equal_range(hash);
    for (auto it = range.first; it != range.second; ++it) {
      Entry& e = entries_[static_cast<std::size_t>(it->second)];
      if (e.token.size() == token.size() && std::memcmp(e.token.data(), token.data(), token.size()) == 0) {
        if (now >= e.from && now < e.until) {
          touch(it->second);
          out->slot = it->second;
          out->cached = true;
          out->from = e.from;
          out->until = e.until;
          return Reason::kOk;
        }
        stale = it->second;
        break;
      }
    }
  }
  double from = 0;
  double until = 0;
  const Reason r = verify_uncached(token, now, &from, &until);
  if (stale >= 0 && r != Reason::kOk) {
    // Outside its window the entry is dropped; make it the next slot to reuse.
    Entry& e = entries_[static_cast<std::size_t>(stale)];
    auto range = index_.equal_range(e.hash);
    for (auto it = range.first; it != range.second; ++it) {
      if (it->second == stale) {
        index_.erase(it);
        break;
      }
    }
    e.from = 0;
    e.until = 0;  // never matches again; index entry removed
    e.token.clear();
  }
  if (r != Reason::kOk) return r;
  out->payload = payload_;
  out->from = from;
  out->until = until;
  if (!entries_.empty()) {
    if (stale >= 0) {
      Entry& e = entries_[static_cast<std::size_t>(stale)];
      e.from = from;
      e.until = until;
      touch(stale);
      out->slot = stale;
    } else {
      out->slot = insert(token, hash, from, until);
    }
  }
  return Reason::kOk;
}

}  // namespace mcp::jwt
