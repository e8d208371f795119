// Test helper: the element texts of a values array read_arguments wrote (`[v0,v1,...]`, each value's JSON text
// as its message held it), split at its top-level commas. Used by arguments_test and fuzz_arguments.
#ifndef FASTERMCP_TEST_NATIVE_VALUES_TEXT_H_
#define FASTERMCP_TEST_NATIVE_VALUES_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace check {

/// The texts of the `count` values of `values` (a valid JSON array text without whitespace around it).
inline std::vector<std::string> values_of(std::string_view values, std::size_t count) {
  std::vector<std::string> out;
  if (count == 0 || values.size() < 2) return out;
  const std::string_view body = values.substr(1, values.size() - 2);
  std::size_t depth = 0;
  bool in_string = false;
  std::string current;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      current.push_back(c);
      if (c == '\\' && i + 1 < body.size()) {
        current.push_back(body[++i]);
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == ',' && depth == 0) {
      out.push_back(current);
      current.clear();
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') --depth;
    current.push_back(c);
  }
  out.push_back(current);
  return out;
}

}  // namespace check

#endif  // FASTERMCP_TEST_NATIVE_VALUES_TEXT_H_
