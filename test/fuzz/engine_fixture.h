// What the JSON-RPC engine's fuzz targets share (fuzz_jsonrpc.cc, fuzz_admission.cc): the invariant check,
// the thread's scanner and one router with methods and names in every table.
#ifndef FASTERMCP_TEST_FUZZ_ENGINE_FIXTURE_H_
#define FASTERMCP_TEST_FUZZ_ENGINE_FIXTURE_H_

#include <cstdio>
#include <cstdlib>

#include "core/router.h"
#include "core/scan.h"

namespace fuzz {

[[noreturn]] inline void fail(const char* file, const char* what) {
  std::fprintf(stderr, "%s: invariant violated: %s\n", file, what);
  std::abort();
}

inline mcp::jsonrpc::Scanner& scanner() {
  static mcp::jsonrpc::Scanner instance;
  return instance;
}

/// ping 1, tools/call 3, resources/read 4, prompts/get 5; tools echo 0 and a 1, resource u 0, prompt p 0.
inline const mcp::jsonrpc::Router& router() {
  namespace jr = mcp::jsonrpc;
  static const jr::Router instance = [] {
    jr::Router r;
    r.set_method("ping", 1, jr::table::kNone);
    r.set_method("tools/call", 3, jr::table::kTools);
    r.set_method("resources/read", 4, jr::table::kResources);
    r.set_method("prompts/get", 5, jr::table::kPrompts);
    r.set_name(jr::table::kTools, "echo", 0);
    r.set_name(jr::table::kTools, "a", 1);
    r.set_name(jr::table::kResources, "u", 0);
    r.set_name(jr::table::kPrompts, "p", 0);
    return r;
  }();
  return instance;
}

}  // namespace fuzz

#define REQUIRE(condition)                                \
  do {                                                    \
    if (!(condition)) ::fuzz::fail(__FILE__, #condition); \
  } while (0)

#endif  // FASTERMCP_TEST_FUZZ_ENGINE_FIXTURE_H_
