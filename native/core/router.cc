#include "core/router.h"

#include <cstring>
#include <utility>

namespace mcp::jsonrpc {
namespace {

constexpr bool valid_table(int32_t index) noexcept { return index >= 0 && index < table::kCount; }

}  // namespace

using router_detail::hash_name;
using router_detail::same_name;

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
  ++version_;
  return true;
}

bool Router::delete_method(std::string_view method) {
  ++version_;
  return methods_.erase(method);
}

bool Router::set_name(int32_t index, std::string_view name, int32_t slot) {
  if (slot < 0 || !valid_table(index)) return false;
  names_[static_cast<std::size_t>(index)].set(name, slot);
  ++version_;
  return true;
}

bool Router::delete_name(int32_t index, std::string_view name) {
  if (!valid_table(index)) return false;
  ++version_;
  return names_[static_cast<std::size_t>(index)].erase(name);
}

void Router::clear() noexcept {
  ++version_;
  methods_.clear();
  for (auto& names : names_) names.clear();
}

}  // namespace mcp::jsonrpc
