// libFuzzer target for native/core/skeleton.h: differential, the engine with skeletons against the engine
// without (test/native/engine_twins.h). Input: byte 0 picks a primer request (the line a skeleton is made of)
// or none, byte 1 a chunk size; the rest is the stream that follows the primer's line. The stream is fed as one
// chunk, then the same again in chunks of that size, then ended, and its first line is also given to scan()
// after the primer. Invariant (abort): both engines give the same records, replies, carried line, arguments and
// id text after every call. The seeds (test/fuzz/corpus-skeleton) are requests shaped like the primers with
// other values, so mutations explore the edges of a match.
#include <cstdint>
#include <string>
#include <string_view>

#include "../native/engine_twins.h"
#include "engine_fixture.h"

namespace {

const char* const kPrimers[] = {
    R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}})",
    R"({"jsonrpc":"2.0","id":"r-1","method":"tools/call","params":{"name":"a","arguments":{"n":1.5,"s":"x","o":{"k":[1]},"b":true}}})",
    R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"a"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}})",
    R"( {"id":-3e2, "jsonrpc":"2.0","params":{"arguments":{"x":""},"name":"echo"},"method":"tools/call"} )",
    R"({"jsonrpc":"2.0","id":9,"method":"resources/read","params":{"uri":"u"}})",
};
constexpr std::size_t kPrimerCount = sizeof(kPrimers) / sizeof(kPrimers[0]);

void require_same(const std::string& diff) {
  if (!diff.empty()) fuzz::fail("fuzz_skeleton", diff.c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t pick = data[0] % (kPrimerCount + 1);
  const std::size_t cut = 1 + data[1];
  const std::string primer = pick < kPrimerCount ? kPrimers[pick] : "";
  const std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  const std::string stream = primer.empty() ? std::string(rest) : primer + "\n" + std::string(rest);

  twins::EngineTwins engines(&fuzz::router(), &fuzz::scanner());
  require_same(engines.feed(stream));
  for (std::size_t at = 0; at < stream.size(); at += cut) {
    require_same(engines.feed(std::string_view(stream).substr(at, cut)));
  }
  require_same(engines.end());

  twins::EngineTwins whole(&fuzz::router(), &fuzz::scanner());
  if (!primer.empty()) require_same(whole.scan(primer));
  require_same(whole.scan(rest.substr(0, rest.find('\n'))));
  return 0;
}
