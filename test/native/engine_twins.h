// Two engines over one router and scanner, alike but for skeletons (core/skeleton.h): `with` matches requests
// shaped like the one before against its skeleton, `without` scans every message. Whatever they are given, both
// must leave the same records, replies, carried line, arguments read for JS and id text: the skeleton is only a
// faster way to the scan's own answer. skeleton_test.cc and fuzz_skeleton.cc drive them.
#ifndef FASTERMCP_TEST_NATIVE_ENGINE_TWINS_H_
#define FASTERMCP_TEST_NATIVE_ENGINE_TWINS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/engine.h"
#include "core/records.h"

namespace twins {

namespace jr = mcp::jsonrpc;

class EngineTwins {
 public:
  EngineTwins(const jr::Router* router, jr::Scanner* scanner, const jr::Limits& limits = jr::Limits{})
      : with_(router, scanner, limits), without_(router, scanner, limits) {
    without_.use_skeletons(false);
  }

  /// Feeds `chunk` to both; "" when they agree, else what differs.
  std::string feed(std::string_view chunk) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(chunk.data());
    if (with_.feed(bytes, chunk.size()) != without_.feed(bytes, chunk.size())) return "feed() results differ";
    return compare(chunk);
  }

  /// end() on both, as feed().
  std::string end() {
    with_.end();
    without_.end();
    return compare({});
  }

  /// scan() of one whole message on both, as feed().
  std::string scan(std::string_view message) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(message.data());
    if (with_.scan(bytes, message.size()) != without_.scan(bytes, message.size())) return "scan() results differ";
    return compare(message);
  }

  jr::Engine& with() noexcept { return with_; }

 private:
  std::string compare(std::string_view source) {
    if (with_.record_count() != without_.record_count()) {
      return "record counts " + std::to_string(with_.record_count()) + " and " + std::to_string(without_.record_count());
    }
    for (std::size_t i = 0; i < with_.record_count() * jr::kRecordStride; ++i) {
      if (with_.records()[i] != without_.records()[i]) {
        return "record " + std::to_string(i / jr::kRecordStride) + " field " + std::to_string(i % jr::kRecordStride) + ": " +
               std::to_string(with_.records()[i]) + " and " + std::to_string(without_.records()[i]);
      }
    }
    if (with_.replies() != without_.replies()) return "replies differ";
    if (with_.carried() != without_.carried()) return "carried lines differ";
    // What JS reads: the arguments (built from the walk's member list) and the ids.
    const jr::ArgumentsRead& a = with_.read_arguments(source);
    const jr::ArgumentsRead& b = without_.read_arguments(source);
    if (a.table != b.table) return "argument tables differ";
    if (a.values != b.values) return "argument values differ: " + a.values + " and " + b.values;
    if (with_.keys().size() != without_.keys().size()) return "key tables differ";
    for (std::size_t k = 0; k < with_.keys().size(); ++k) {
      if (with_.keys().name(static_cast<int32_t>(k)) != without_.keys().name(static_cast<int32_t>(k))) return "key names differ";
    }
    const std::string* ids_a = with_.id_text(source);
    const std::string* ids_b = without_.id_text(source);
    if ((ids_a == nullptr) != (ids_b == nullptr) || (ids_a != nullptr && *ids_a != *ids_b)) return "id texts differ";
    return "";
  }

  jr::Engine with_;
  jr::Engine without_;
};

}  // namespace twins

#endif  // FASTERMCP_TEST_NATIVE_ENGINE_TWINS_H_
