// Routing table (docs/jsonrpc-engine.md section 6): an unescaped method name maps to a slot (the index of a
// TS handler) and optionally to one of three name tables (tools, resources, prompts) that map the routed
// params field to a slot. Lookups take std::string_view and never allocate.
#ifndef FASTERMCP_NATIVE_CORE_ROUTER_H_
#define FASTERMCP_NATIVE_CORE_ROUTER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace mcp::jsonrpc {

/// Name tables and the params field each one routes by.
namespace table {
inline constexpr int32_t kNone = -1;      ///< the method has no name table
inline constexpr int32_t kTools = 0;      ///< params field "name"
inline constexpr int32_t kResources = 1;  ///< params field "uri"
inline constexpr int32_t kPrompts = 2;    ///< params field "name"
inline constexpr int32_t kCount = 3;
}  // namespace table

// Hash and comparison of names, inline because every routed message looks up a method and a name.
namespace router_detail {

inline uint64_t load8(const char* p) noexcept {
  uint64_t word;
  std::memcpy(&word, p, sizeof(word));
  return word;
}

inline uint32_t load4(const char* p) noexcept {
  uint32_t word;
  std::memcpy(&word, p, sizeof(word));
  return word;
}

// Hash of a name. Names are short (methods, tool names): up to 16 bytes take two overlapping loads and no
// loop; longer ones fold 8-byte words. Not keyed: the table holds only names the server registered, so a
// peer can lengthen a probe at most to a cluster of those.
inline uint64_t hash_name(std::string_view text) noexcept {
  constexpr uint64_t kMultiplier = 0x9E3779B97F4A7C15ULL;
  const char* p = text.data();
  const std::size_t size = text.size();
  uint64_t first = 0;
  uint64_t last = 0;
  if (size > 16) {
    for (std::size_t at = 0; at + 8 < size; at += 8) first = (first ^ load8(p + at)) * kMultiplier;
    last = load8(p + size - 8);
  } else if (size >= 8) {
    first = load8(p);
    last = load8(p + size - 8);
  } else if (size >= 4) {
    first = load4(p);
    last = load4(p + size - 4);
  } else if (size > 0) {
    first = static_cast<uint64_t>(static_cast<uint8_t>(p[0])) << 16 |
            static_cast<uint64_t>(static_cast<uint8_t>(p[size >> 1])) << 8 | static_cast<uint8_t>(p[size - 1]);
  }
  uint64_t hash = (first ^ (size * kMultiplier)) * 0xBF58476D1CE4E5B9ULL;
  hash = (hash ^ last ^ (hash >> 31)) * 0x94D049BB133111EBULL;
  return hash ^ (hash >> 29);
}

// Byte equality of a stored name and a key of the same size, without a call for short names.
inline bool same_name(const std::string& stored, std::string_view key) noexcept {
  const std::size_t size = key.size();
  if (stored.size() != size) return false;
  const char* a = stored.data();
  const char* b = key.data();
  if (size > 16) return std::memcmp(a, b, size) == 0;
  if (size >= 8) return load8(a) == load8(b) && load8(a + size - 8) == load8(b + size - 8);
  if (size >= 4) return load4(a) == load4(b) && load4(a + size - 4) == load4(b + size - 4);
  for (std::size_t i = 0; i < size; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

}  // namespace router_detail

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

  /// Changes with every change above: what was looked up under one version may differ under the next.
  uint64_t version() const noexcept { return version_; }

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
  uint64_t version_ = 0;
};

template <typename T>
inline const T* Router::Map<T>::find(std::string_view key) const noexcept {
  if (size_ == 0) return nullptr;
  const uint64_t hash = router_detail::hash_name(key);
  for (std::size_t i = home(hash);; i = (i + 1) & (slots_.size() - 1)) {
    const Slot& slot = slots_[i];
    if (!slot.used) return nullptr;
    if (slot.hash == hash && router_detail::same_name(slot.key, key)) return &slot.value;
  }
}

inline const Router::Route* Router::find_method(std::string_view method) const noexcept {
  return methods_.find(method);
}

inline int32_t Router::find_name(int32_t index, std::string_view name) const noexcept {
  if (index < 0 || index >= table::kCount) return -1;
  const int32_t* slot = names_[static_cast<std::size_t>(index)].find(name);
  return slot != nullptr ? *slot : -1;
}

}  // namespace mcp::jsonrpc

#endif  // FASTERMCP_NATIVE_CORE_ROUTER_H_
