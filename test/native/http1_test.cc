// The shared head vectors (test/vectors/http1-head.json) against the C++ head parser (native/core/http1.h):
// every case from an exact-size heap copy of buf[0, end) and again from a copy of buf[start, end) alone (so
// AddressSanitizer sees any read outside [start, end)); every proper prefix of an accepted head reads 0;
// the SSE2 path and the scalar path give the same fields on every case, every prefix and 20000 mutated heads.
// Usage: http1_test <test/vectors directory>.
#include <simdjson.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "check.h"
#include "core/http1.h"

namespace {

namespace fs = std::filesystem;
namespace dom = simdjson::dom;
namespace h1 = mcp::http1;

using check::failf;
using check::g_failure;
using check::read_file;

// A vector string (UTF-8 in the JSON) as bytes: each code point U+0000-U+00FF is one byte.
bool latin1_of(std::string_view utf8, std::string* out) {
  out->clear();
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      out->push_back(static_cast<char>(c));
    } else if ((c & 0xE0) == 0xC0 && c <= 0xC3 && i + 1 < utf8.size()) {
      out->push_back(static_cast<char>(((c & 0x1F) << 6) | (static_cast<unsigned char>(utf8[++i]) & 0x3F)));
    } else {
      return failf("input has a character above U+00FF");
    }
  }
  return true;
}

// Parses `bytes[start, end)` from an exact-size heap copy of bytes[0, end), so a read at or past `end`
// is a heap overflow under AddressSanitizer.
int32_t parse_exact(const std::string& bytes, std::size_t start, std::size_t end, std::size_t max, int32_t* fields,
                    bool scalar = false) {
  std::unique_ptr<uint8_t[]> copy(new uint8_t[end == 0 ? 1 : end]);
  if (end > 0) std::memcpy(copy.get(), bytes.data(), end);
  const uint8_t* buf = end == 0 ? nullptr : copy.get();
  return scalar ? h1::parse_head_scalar(buf, start, end, max, fields) : h1::parse_head(buf, start, end, max, fields);
}

const char* const kMethods[] = {"OTHER", "GET", "POST", "DELETE", "HEAD", "OPTIONS", "PUT", "PATCH"};
const char* const kFlagNames[] = {"transfer-encoding", "chunked", "close", "keep-alive", "upgrade", "expect"};

int64_t int_of(dom::element e) {
  int64_t v = 0;
  if (e.get_int64().get(v) != simdjson::SUCCESS) v = INT64_MIN;
  return v;
}

std::string text(const std::string& bytes, int32_t s, int32_t e) {
  return bytes.substr(static_cast<std::size_t>(s), static_cast<std::size_t>(e - s));
}

// The fields a parse defines: the status, and when > 0 the head and its header entries.
std::vector<int32_t> defined(const int32_t* f) {
  if (f[h1::field::kStatus] <= 0) return {f[h1::field::kStatus]};
  return std::vector<int32_t>(f, f + h1::field::kFields + f[h1::field::kCount] * h1::kFieldStride);
}

bool same_paths(const std::string& bytes, std::size_t start, std::size_t end, std::size_t max) {
  int32_t a[h1::kFieldsLength], b[h1::kFieldsLength];
  parse_exact(bytes, start, end, max, a);
  parse_exact(bytes, start, end, max, b, true);
  if (defined(a) != defined(b)) {
    return failf("SSE2 and scalar paths differ on " + check::show(bytes.substr(0, end)) + " from " +
                 std::to_string(start));
  }
  return true;
}

bool check_expect(dom::element expect, const std::string& bytes, const int32_t* f, int32_t status) {
  const int64_t want = int_of(expect["status"].value_unsafe());
  if (status != want) return failf("status " + std::to_string(status) + ", expected " + std::to_string(want));
  if (status <= 0) return true;
  std::string_view s;
  if (expect["method"].get_string().get(s) != simdjson::SUCCESS) return failf("no expect.method");
  const int32_t method = f[h1::field::kMethod];
  if (method < 0 || method > 7 || s != kMethods[method]) return failf("method " + std::to_string(method));
  std::string target;
  if (expect["target"].get_string().get(s) != simdjson::SUCCESS || !latin1_of(s, &target)) return failf("target");
  if (text(bytes, f[h1::field::kTargetStart], f[h1::field::kTargetEnd]) != target) {
    return failf("target " + check::show(text(bytes, f[h1::field::kTargetStart], f[h1::field::kTargetEnd])));
  }
  if (f[h1::field::kVersion] != int_of(expect["version"].value_unsafe())) return failf("version");
  if (f[h1::field::kContentLength] != int_of(expect["contentLength"].value_unsafe())) {
    return failf("contentLength " + std::to_string(f[h1::field::kContentLength]));
  }
  int32_t flags = 0;
  dom::array flag_list;
  if (expect["flags"].get_array().get(flag_list) != simdjson::SUCCESS) return failf("no expect.flags");
  for (dom::element name : flag_list) {
    bool known = false;
    for (int k = 0; k < 6; ++k) {
      if (name.get_string().value_unsafe() == kFlagNames[k]) {
        flags |= 1 << k;
        known = true;
      }
    }
    if (!known) return failf("unknown flag name");
  }
  if (f[h1::field::kFlags] != flags) return failf("flags " + std::to_string(f[h1::field::kFlags]));
  dom::array headers;
  if (expect["headers"].get_array().get(headers) != simdjson::SUCCESS) return failf("no expect.headers");
  if (static_cast<std::size_t>(f[h1::field::kCount]) != headers.size()) {
    return failf("count " + std::to_string(f[h1::field::kCount]));
  }
  const int32_t* e = f + h1::field::kFields;
  for (dom::element h : headers) {
    dom::array triple = h.get_array().value_unsafe();
    std::string name, value;
    if (!latin1_of(triple.at(1).get_string().value_unsafe(), &name) ||
        !latin1_of(triple.at(2).get_string().value_unsafe(), &value)) {
      return false;
    }
    if (e[0] != int_of(triple.at(0).value_unsafe()) || text(bytes, e[1], e[2]) != name ||
        text(bytes, e[3], e[4]) != value || e[1] >= e[2] || e[2] >= e[3] || e[3] > e[4]) {
      return failf("header " + check::show(name) + ": id " + std::to_string(e[0]) + " " +
                   check::show(text(bytes, e[1], e[2])) + " " + check::show(text(bytes, e[3], e[4])));
    }
    e += h1::kFieldStride;
  }
  return true;
}

bool run_case(dom::element c) {
  std::string bytes;
  std::string_view input;
  if (c["input"].get_string().get(input) != simdjson::SUCCESS || !latin1_of(input, &bytes)) return failf("input");
  int64_t v = 0;
  const std::size_t start = c["start"].get_int64().get(v) == simdjson::SUCCESS ? static_cast<std::size_t>(v) : 0;
  const std::size_t end = c["end"].get_int64().get(v) == simdjson::SUCCESS ? static_cast<std::size_t>(v) : bytes.size();
  const std::size_t max =
      c["maxHeadBytes"].get_int64().get(v) == simdjson::SUCCESS ? static_cast<std::size_t>(v) : h1::kDefaultMaxHeadBytes;
  const dom::element expect = c["expect"].value_unsafe();

  int32_t f[h1::kFieldsLength];
  const int32_t status = parse_exact(bytes, start, end, max, f);
  if (f[h1::field::kStatus] != status) return failf("fields[0] differs from the return value");
  if (!check_expect(expect, bytes, f, status)) return false;

  // The same bytes alone, [start, end) copied to offset 0: nothing before start is needed.
  const std::string alone = bytes.substr(start, end - start);
  int32_t g[h1::kFieldsLength];
  const int32_t status_alone = parse_exact(alone, 0, alone.size(), max, g);
  if (status_alone != status) return failf("from offset 0: status " + std::to_string(status_alone));
  if (status > 0) {
    std::vector<int32_t> shifted = defined(g), original = defined(f);
    for (std::size_t k = 0; k < shifted.size(); ++k) {
      const bool offset = k == h1::field::kTargetStart || k == h1::field::kTargetEnd ||
                          (k >= h1::field::kFields && (k - h1::field::kFields) % h1::kFieldStride != 0);
      if (offset) shifted[k] += static_cast<int32_t>(start);
    }
    if (shifted != original) return failf("from offset 0: other fields");
  }
  if (!same_paths(bytes, start, end, max)) return false;

  // Every proper prefix of an accepted head is incomplete.
  if (status > 0) {
    for (std::size_t cut = start; cut < start + static_cast<std::size_t>(status); ++cut) {
      const int32_t s = parse_exact(bytes, start, cut, max, f);
      if (s != 0) return failf("prefix cut at " + std::to_string(cut) + " reads " + std::to_string(s));
      if (!same_paths(bytes, start, cut, max)) return false;
    }
  }
  return true;
}

// xorshift64*: a fixed-seed source for the mutation test.
struct Random {
  uint64_t state;
  uint64_t next() {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1DULL;
  }
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }
};

// The vector inputs, mutated (set by main before the test runs).
std::vector<std::string> g_seeds;

bool test_paths_on_mutations() {
  const std::vector<std::string>& seeds = g_seeds;
  if (seeds.empty()) return failf("no seeds");
  Random r{0x68747470ULL};
  const uint8_t interesting[] = {13, 10, 32, 9, ':', ',', 0, 0x7F, 0xE9, 'a', 'A', '0', '-'};
  for (int n = 0; n < 20000; ++n) {
    std::string bytes = seeds[r.below(seeds.size())];
    const std::size_t mutations = r.below(4);
    for (std::size_t m = 0; m < mutations; ++m) {
      const std::size_t at = r.below(bytes.size() + 1);
      const char byte = static_cast<char>(r.below(5) == 0 ? r.below(256) : interesting[r.below(sizeof(interesting))]);
      const std::size_t op = r.below(3);
      if (op == 0 && at < bytes.size()) {
        bytes[at] = byte;
      } else if (op == 1) {
        bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(at), byte);
      } else if (at < bytes.size()) {
        bytes.erase(at, 1);
      }
    }
    const std::size_t end = r.below(5) == 0 ? r.below(bytes.size() + 1) : bytes.size();
    const std::size_t start = r.below(4) == 0 ? r.below(end + 1) : 0;
    const std::size_t max = r.below(6) == 0 ? 1 + r.below(bytes.size() + 16) : h1::kDefaultMaxHeadBytes;
    if (!same_paths(bytes, start, end, max)) {
      std::fprintf(stderr, "%s", g_failure.c_str());
      return false;
    }
  }
  return true;
}

bool test_limits() {
  // 16 KiB of a single header value: accepted at the default limit, -431 below it, 0 when cut.
  std::string head = "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(16000, 'v') + "\r\n\r\n";
  int32_t f[h1::kFieldsLength];
  ASSERT_EQ(parse_exact(head, 0, head.size(), h1::kDefaultMaxHeadBytes, f), static_cast<int32_t>(head.size()));
  ASSERT_EQ(parse_exact(head, 0, head.size(), head.size() - 1, f), h1::kTooLarge);
  ASSERT_EQ(parse_exact(head, 0, head.size() - 1, h1::kDefaultMaxHeadBytes, f), h1::kIncomplete);
  // A max_head_bytes far above the input (no overflow of start + max).
  ASSERT_EQ(parse_exact(head, 0, head.size(), SIZE_MAX, f), static_cast<int32_t>(head.size()));
  ASSERT_EQ(parse_exact(head, 0, 0, 16, f), h1::kIncomplete);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <test/vectors directory>\n", argv[0]);
    return 2;
  }
  int failures = 0;
  RUN(test_limits);

  std::string json;
  dom::parser parser;
  dom::element doc;
  if (!read_file(fs::path(argv[1]) / "http1-head.json", &json) || parser.parse(json).get(doc) != simdjson::SUCCESS) {
    std::fprintf(stdout, "FAIL cannot load http1-head.json\n%s", g_failure.c_str());
    return 1;
  }
  dom::array cases;
  if (doc["cases"].get_array().get(cases) != simdjson::SUCCESS) {
    std::fprintf(stdout, "FAIL http1-head.json has no cases\n");
    return 1;
  }
  std::size_t count = 0;
  for (dom::element c : cases) {
    ++count;
    g_failure.clear();
    const std::string name(c["name"].get_string().value_unsafe());
    if (!run_case(c)) {
      std::fprintf(stdout, "FAIL %s\n%s", name.c_str(), g_failure.c_str());
      ++failures;
    }
    std::string bytes;
    if (latin1_of(c["input"].get_string().value_unsafe(), &bytes)) g_seeds.push_back(bytes);
  }
  std::fprintf(stdout, "%s %zu vector cases\n", failures == 0 ? "ok  " : "FAIL", count);
  RUN(test_paths_on_mutations);
  return failures == 0 ? 0 : 1;
}
