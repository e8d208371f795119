#include "core/router.h"

namespace mcp::jsonrpc {
namespace {

constexpr bool valid_table(int32_t index) noexcept { return index >= 0 && index < table::kCount; }

}  // namespace

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
  const Route route{slot, index};
  const auto found = methods_.find(method);
  if (found != methods_.end()) {
    found->second = route;
  } else {
    methods_.emplace(std::string(method), route);
  }
  return true;
}

bool Router::delete_method(std::string_view method) {
  const auto found = methods_.find(method);
  if (found == methods_.end()) return false;
  methods_.erase(found);
  return true;
}

bool Router::set_name(int32_t index, std::string_view name, int32_t slot) {
  if (slot < 0 || !valid_table(index)) return false;
  auto& names = names_[static_cast<std::size_t>(index)];
  const auto found = names.find(name);
  if (found != names.end()) {
    found->second = slot;
  } else {
    names.emplace(std::string(name), slot);
  }
  return true;
}

bool Router::delete_name(int32_t index, std::string_view name) {
  if (!valid_table(index)) return false;
  auto& names = names_[static_cast<std::size_t>(index)];
  const auto found = names.find(name);
  if (found == names.end()) return false;
  names.erase(found);
  return true;
}

void Router::clear() noexcept {
  methods_.clear();
  for (auto& names : names_) names.clear();
}

const Router::Route* Router::find_method(std::string_view method) const noexcept {
  const auto found = methods_.find(method);
  return found != methods_.end() ? &found->second : nullptr;
}

int32_t Router::find_name(int32_t index, std::string_view name) const noexcept {
  if (!valid_table(index)) return -1;
  const auto& names = names_[static_cast<std::size_t>(index)];
  const auto found = names.find(name);
  return found != names.end() ? found->second : -1;
}

}  // namespace mcp::jsonrpc
