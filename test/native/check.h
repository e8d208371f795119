// Minimal test harness for the native tests: bool-returning test functions and ASSERT macros that print
// the failing expression (and both values for ASSERT_EQ) and return false.
#ifndef FASTERMCP_TEST_NATIVE_CHECK_H_
#define FASTERMCP_TEST_NATIVE_CHECK_H_

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <type_traits>

namespace check {

/// Details of the vector case being run: failf() appends a line and returns false.
inline std::string g_failure;

inline bool failf(const std::string& message) {
  g_failure += "    " + message + "\n";
  return false;
}

/// The whole file at `path` (binary); false (and a failf line) when it cannot be read.
inline bool read_file(const std::filesystem::path& path, std::string* out) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return failf("cannot read " + path.string());
  out->assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  return true;
}

inline std::string show(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7F) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}
inline std::string show(const std::string& text) { return show(std::string_view(text)); }
inline std::string show(const char* text) { return show(std::string_view(text)); }
inline std::string show(bool value) { return value ? "true" : "false"; }
template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T>>>
std::string show(T value) {
  return std::to_string(value);
}

}  // namespace check

#define ASSERT_TRUE(condition)                                                                 \
  do {                                                                                         \
    if (!(condition)) {                                                                        \
      std::fprintf(stderr, "%s:%d: ASSERT_TRUE(%s) failed\n", __FILE__, __LINE__, #condition); \
      return false;                                                                            \
    }                                                                                          \
  } while (0)

#define ASSERT_FALSE(condition) ASSERT_TRUE(!(condition))

#define ASSERT_EQ(actual, expected)                                                                                 \
  do {                                                                                                              \
    const auto& actual_value_ = (actual);                                                                           \
    const auto& expected_value_ = (expected);                                                                       \
    if (!(actual_value_ == expected_value_)) {                                                                      \
      std::fprintf(stderr, "%s:%d: ASSERT_EQ(%s, %s) failed\n  actual:   %s\n  expected: %s\n", __FILE__, __LINE__, \
                   #actual, #expected, check::show(actual_value_).c_str(), check::show(expected_value_).c_str());   \
      return false;                                                                                                 \
    }                                                                                                               \
  } while (0)

// Runs one test function and counts failures: `int failures = 0; RUN(test_x); return failures ? 1 : 0;`
#define RUN(test)                               \
  do {                                          \
    if (test()) {                               \
      std::fprintf(stdout, "ok   %s\n", #test); \
    } else {                                    \
      std::fprintf(stdout, "FAIL %s\n", #test); \
      ++failures;                               \
    }                                           \
  } while (0)

#endif  // FASTERMCP_TEST_NATIVE_CHECK_H_
