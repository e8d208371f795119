// What the JSON-RPC engine's fuzz targets share (fuzz_jsonrpc.cc, fuzz_admission.cc): the invariant check,
// the thread's scanner and one router with methods and names in every table.
#ifndef FASTERMCP_TEST_FUZZ_ENGINE_FIXTURE_H_
#define FASTERMCP_TEST_FUZZ_ENGINE_FIXTURE_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "core/engine.h"
#include "core/records.h"
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

/// Whether the last call's records set META_REPEATED exactly where a request's or notification's META bytes
/// equal those of the call's closest earlier record with a META; `input` is the chunk or message given.
inline bool meta_repeated_holds(const mcp::jsonrpc::Engine& engine, std::string_view input) {
  namespace jr = mcp::jsonrpc;
  namespace f = jr::field;
  bool has_last = false;
  std::string_view last;
  for (std::size_t i = 0; i < engine.record_count(); ++i) {
    const int32_t* r = engine.records() + i * jr::kRecordStride;
    const bool repeated = (r[f::kFlags] & jr::flag::kMetaRepeated) != 0;
    const bool call = r[f::kKind] == jr::kind::kRequest || r[f::kKind] == jr::kind::kNotification;
    if (!call || r[f::kMetaStart] < 0) {
      if (repeated) return false;
      continue;
    }
    const std::string_view source = (r[f::kFlags] & jr::flag::kSrcCarry) != 0 ? engine.carried() : input;
    const std::string_view meta = source.substr(static_cast<std::size_t>(r[f::kMetaStart]),
                                                static_cast<std::size_t>(r[f::kMetaEnd] - r[f::kMetaStart]));
    if (repeated != (has_last && meta == last)) return false;
    last = meta;
    has_last = true;
  }
  return true;
}

}  // namespace fuzz

#define REQUIRE(condition)                                \
  do {                                                    \
    if (!(condition)) ::fuzz::fail(__FILE__, #condition); \
  } while (0)

#endif  // FASTERMCP_TEST_FUZZ_ENGINE_FIXTURE_H_
