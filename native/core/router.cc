#include "core/router.h"

#include <cstring>
#include <utility>

namespace mcp::jsonrpc {
namespace {

constexpr bool valid_table(int32_t index) noexcept { return index >= 0 && index < table::kCount; }

uint64_t load8(const char* p) noexcept {
  uint64_t word;
  std::memcpy(&word, p, sizeof(word));
  return word;
}

uint32_t load4(const char* p) noexcept {
  uint32_t word;
  std::memcpy(&word, p, sizeof(word));
  return word;
}

// Hash of a name. Names are short (methods, tool names): up to 16 bytes take two overlapping loads and no
// loop; longer ones fold 8-byte words. Not keyed: the table holds only names the server registered, so a
// peer can lengthen a probe at most to a cluster of those.
uint64_t hash_name(std::string_view text) noexcept {
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
bool same_name(const std::string& stored, std::string_view key) noexcept {
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

}  // namespace

template <typename T>
const T* Router::Map<T>::find(std::string_view key) const noexcept {
  if (size_ == 0) return nullptr;
  const uint64_t hash = hash_name(key);
  for (std::size_t i = home(hash);; i = (i + 1) & (slots_.size() - 1)) {
    const Slot& slot = slots_[i];
    if (!slot.used) return nullptr;
    if (slot.hash == hash && same_name(slot.key, key)) return &slot.value;
  }
}

template <typename T>
void Router::Map<T>::set(std::string_view key, T value) {
  if ((size_ + 1) * 2 > slots_.size()) grow();
  const uint64_t hash = hash_name(key);
  for (std::size_t i = home(hash);; i = (i + 1) & (slots_.size() - 1)) {
    Slot& slot = slots_[i];
    if (!slot.used) {
      slot.key.assign(key);
      slot.hash = hash;
      slot.value = value;
      slot.used = true;
      ++size_;
      return;
    }
    if (slot.hash == hash && same_name(slot.key, key)) {
      slot.value = value;
      return;
    }
  }
}

template <typename T>
bool Router::Map<T>::erase(std::string_view key) noexcept {
  if (size_ == 0) return false;
  const uint64_t hash = hash_name(key);
  const std::size_t mask = slots_.size() - 1;
  std::size_t hole = home(hash);
  for (;; hole = (hole + 1) & mask) {
    const Slot& slot = slots_[hole];
    if (!slot.used) return false;
    if (slot.hash == hash && same_name(slot.key, key)) break;
  }
  // Backward-shift: move later members of the cluster into the hole when their home allows it.
  for (std::size_t next = (hole + 1) & mask; slots_[next].used; next = (next + 1) & mask) {
    const std::size_t want = home(slots_[next].hash);
    // `next` may fill the hole when its home is not in the cyclic range (hole, next].
    const bool stays = hole <= next ? (want > hole && want <= next) : (want > hole || want <= next);
    if (stays) continue;
    slots_[hole] = std::move(slots_[next]);
    hole = next;
  }
  slots_[hole].used = false;
  slots_[hole].key.clear();
  --size_;
  return true;
}

template <typename T>
void Router::Map<T>::clear() noexcept {
  for (Slot& slot : slots_) {
    slot.used = false;
    slot.key.clear();
  }
  size_ = 0;
}

template <typename T>
void Router::Map<T>::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_ = std::vector<Slot>(old.empty() ? 16 : old.size() * 2);
  size_ = 0;
  for (Slot& slot : old) {
    if (!slot.used) continue;
    for (std::size_t i = home(slot.hash);; i = (i + 1) & (slots_.size() - 1)) {
      if (!slots_[i].used) {
        slots_[i] = std::move(slot);
        ++size_;
        break;
      }
    }
  }
}

std::string_view Router::name_field(int32_t index) noexcept {
  switch (index) {
    case table::kTools:
    case table::kPrompts:
      return "name";
    case table::kResources:
      return "uri";
    default:
      return {};
  }
}

bool Router::set_method(std::string_view method, int32_t slot, int32_t index) {
  if (slot < 0 || (index != table::kNone && !valid_table(index))) return false;
  methods_.set(method, Route{slot, index});
  return true;
}

bool Router::delete_method(std::string_view method) {
  return methods_.erase(method);
}

bool Router::set_name(int32_t index, std::string_view name, int32_t slot) {
  if (slot < 0 || !valid_table(index)) return false;
  names_[static_cast<std::size_t>(index)].set(name, slot);
  return true;
}

bool Router::delete_name(int32_t index, std::string_view name) {
  if (!valid_table(index)) return false;
  return names_[static_cast<std::size_t>(index)].erase(name);
}

void Router::clear() noexcept {
  methods_.clear();
  for (auto& names : names_) names.clear();
}

const Router::Route* Router::find_method(std::string_view method) const noexcept {
  return methods_.find(method);
}

int32_t Router::find_name(int32_t index, std::string_view name) const noexcept {
  if (!valid_table(index)) return -1;
  const int32_t* slot = names_[static_cast<std::size_t>(index)].find(name);
  return slot != nullptr ? *slot : -1;
}

}  // namespace mcp::jsonrpc
