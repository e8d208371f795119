// Routing table (docs/jsonrpc-engine.md section 6): an unescaped method name maps to a slot (the index of a
// TS handler) and optionally to one of three name tables (tools, resources, prompts) that map the routed
// params field to a slot. Lookups take std::string_view and never allocate.
#ifndef FASTERMCP_NATIVE_CORE_ROUTER_H_
#define FASTERMCP_NATIVE_CORE_ROUTER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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
  // Open addressing with linear probing over a power-of-two table (at most half full), the hash stored
  // per slot, backward-shift deletion. A lookup hashes the view in place, compares stored hashes first and
  // the bytes only on a hash match: no allocation, no division, usually one cache line.
  template <typename T>
  class Map {
   public:
    const T* find(std::string_view key) const noexcept;
    void set(std::string_view key, T value);
    bool erase(std::string_view key) noexcept;
    void clear() noexcept;

   private:
    struct Slot {
      std::string key;
      uint64_t hash = 0;
      T value{};
      bool used = false;
    };
    std::size_t home(uint64_t hash) const noexcept { return static_cast<std::size_t>(hash) & (slots_.size() - 1); }
    void grow();

    std::vector<Slot> slots_;
    std::size_t size_ = 0;
  };

  Map<Route> methods_;
  std::array<Map<int32_t>, table::kCount> names_;
};

}  // namespace mcp::jsonrpc

#endif  // FASTERMCP_NATIVE_CORE_ROUTER_H_
