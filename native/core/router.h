// Routing table (docs/jsonrpc-engine.md section 6): an unescaped method name maps to a slot (the index of a
// TS handler) and optionally to one of three name tables (tools, resources, prompts) that map the routed
// params field to a slot. Lookups take std::string_view and never allocate.
#ifndef FASTERMCP_NATIVE_CORE_ROUTER_H_
#define FASTERMCP_NATIVE_CORE_ROUTER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mcp::jsonrpc {

/// Name tables and the params field each one routes by.
namespace table {
inline constexpr int32_t kNone = -1;       ///< the method has no name table
inline constexpr int32_t kTools = 0;       ///< params field "name"
inline constexpr int32_t kResources = 1;   ///< params field "uri"
inline constexpr int32_t kPrompts = 2;     ///< params field "name"
inline constexpr int32_t kCount = 3;
}  // namespace table

class Router {
 public:
  struct Route {
    int32_t slot;   ///< >= 0
    int32_t table;  ///< table::kNone or a table index
  };

  /// The params member a table routes by ("name" or "uri"); "" for kNone or out of range.
  static std::string_view name_field(int32_t table) noexcept;

  /// Adds or replaces a method. False (and no change) for slot < 0 or a table out of range.
  bool set_method(std::string_view method, int32_t slot, int32_t table);
  /// Removes a method; false when it was not there.
  bool delete_method(std::string_view method);
  /// Adds or replaces a name in a table. False (and no change) for slot < 0 or a table out of range.
  bool set_name(int32_t table, std::string_view name, int32_t slot);
  /// Removes a name; false when it was not there (or the table is out of range).
  bool delete_name(int32_t table, std::string_view name);
  /// Removes every method and every name.
  void clear() noexcept;

  /// The route of an unescaped method name, or nullptr.
  const Route* find_method(std::string_view method) const noexcept;
  /// The slot of an unescaped name in a table, or -1.
  int32_t find_name(int32_t table, std::string_view name) const noexcept;

 private:
  // Transparent hash and equality so that find() takes a std::string_view without building a string.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
  };
  template <typename T>
  using Map = std::unordered_map<std::string, T, Hash, std::equal_to<>>;

  Map<Route> methods_;
  std::array<Map<int32_t>, table::kCount> names_;
};

}  // namespace mcp::jsonrpc

#endif  // FASTERMCP_NATIVE_CORE_ROUTER_H_
