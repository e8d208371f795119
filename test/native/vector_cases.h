// Runs the cases of one shared vector file ({"cases": [...]}, each with an optional "name"): the loop the
// native tests of one-file vectors share. A failing case prints its name and the failf() lines.
#ifndef FASTERMCP_TEST_NATIVE_VECTOR_CASES_H_
#define FASTERMCP_TEST_NATIVE_VECTOR_CASES_H_

#include <simdjson.h>

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

#include "check.h"

namespace check {

/// Calls `run_case(case)` (true: passed) for every case of `file`; counts them into *cases and returns the
/// failures (1 when the file cannot be loaded). `label` names the vectors in failure lines.
template <typename RunCase>
int run_vector_cases(const std::filesystem::path& file, const char* label, std::size_t* cases, RunCase&& run_case) {
  std::string json;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array all;
  if (!read_file(file, &json) || parser.parse(json).get(doc) != simdjson::SUCCESS ||
      doc["cases"].get_array().get(all) != simdjson::SUCCESS) {
    std::fprintf(stdout, "FAIL cannot load %s\n", file.string().c_str());
    return 1;
  }
  int failures = 0;
  for (simdjson::dom::element c : all) {
    ++*cases;
    if (run_case(c)) continue;
    std::string_view name = "(unnamed)";
    if (c["name"].get_string().get(name) != simdjson::SUCCESS) name = "(unnamed)";
    std::fprintf(stdout, "FAIL %s vector: %.*s\n%s", label, static_cast<int>(name.size()), name.data(),
                 g_failure.c_str());
    g_failure.clear();
    ++failures;
  }
  return failures;
}

}  // namespace check

#endif  // FASTERMCP_TEST_NATIVE_VECTOR_CASES_H_
