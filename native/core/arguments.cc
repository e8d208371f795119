// Arguments read for JS: see arguments.h and docs/jsonrpc-engine.md section 11.
#include "core/arguments.h"

#include <cstring>

#include "core/ascii.h"
#include "core/records.h"

namespace mcp::jsonrpc {
namespace {

// Names are short: a byte loop, not a call to memcmp.
bool same(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

uint32_t hash_of(std::string_view name) noexcept {
  uint32_t h = 2166136261u;  // FNV-1a
  for (const char c : name) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
  return h;
}

void append_value(ArgumentsRead* out, std::string_view value) {
  if (out->value_count++ != 0) out->values.push_back(',');
  out->values.append(value);
}

}  // namespace

int32_t KeyTable::intern(std::string_view name) {
  if (name.size() > kMaxKeyBytes || name == "__proto__" || name.find('\\') != std::string_view::npos) return -1;
  std::size_t slot = hash_of(name) & (kSlots - 1);
  for (;;) {
    const uint16_t held = slots_[slot];
    if (held == 0) break;
    if (same(this->name(held - 1), name)) return held - 1;
    slot = (slot + 1) & (kSlots - 1);
  }
  if (size() >= kMaxKeys) return -1;
  const auto id = static_cast<int32_t>(size());
  names_.append(name);
  offsets_.push_back(static_cast<uint32_t>(names_.size()));
  slots_[slot] = static_cast<uint16_t>(id + 1);
  return id;
}

std::string_view KeyTable::name(int32_t id) const noexcept {
  const auto at = static_cast<std::size_t>(id);
  return std::string_view(names_).substr(offsets_[at], offsets_[at + 1] - offsets_[at]);
}

namespace {

// The member list's entry of record `i`, found from `*at` on (entries of earlier records, refused or not
// eligible, are passed), or null; its members follow it.
const int32_t* entry_of(ArgumentMembers members, std::size_t* at, std::size_t i) noexcept {
  while (*at + 2 <= members.size) {
    const int32_t* entry = members.data + *at;
    if (entry[0] < 0 || entry[1] < 0) return nullptr;  // not the scanner's list
    const auto index = static_cast<std::size_t>(entry[0]);
    if (index > i) return nullptr;
    const std::size_t next = *at + 2 + 4 * static_cast<std::size_t>(entry[1]);
    if (next > members.size) return nullptr;
    *at = next;
    if (index == i) return entry;
  }
  return nullptr;
}

}  // namespace

void read_arguments(const int32_t* records, std::size_t count, ArgumentMembers members, std::string_view source,
                    std::string_view carried, KeyTable* keys, ArgumentsRead* out) {
  out->table.assign(count, -1);
  out->values.assign(1, '[');
  out->value_count = 0;
  std::size_t listed = 0;  // the next entry of `members`
  // The last entry read member by member: requests to one tool mostly name the same members in the same
  // order, so each name is first compared with the one at its place there, and interned only if it differs.
  std::size_t last = 0;
  int32_t last_count = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const int32_t* record = records + i * kRecordStride;
    const int32_t record_kind = record[field::kKind];
    const int32_t flags = record[field::kFlags];
    if ((record_kind != kind::kRequest && record_kind != kind::kNotification) || (flags & flag::kParamsSpanned) == 0) {
      continue;
    }
    const int32_t start = record[field::kArgsStart];
    const int32_t end = record[field::kArgsEnd];
    const std::string_view from = (flags & flag::kSrcCarry) != 0 ? carried : source;
    if (start < 0 || end < start || static_cast<std::size_t>(end - start) > kMaxReadArgumentsBytes ||
        static_cast<std::size_t>(end) > from.size()) {
      continue;
    }
    const std::string_view text = from.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(end - start));
    out->table[i] = static_cast<int32_t>(out->table.size());
    const std::size_t entry = out->table.size();
    out->table.push_back(-1);
    out->table.push_back(static_cast<int32_t>(out->value_count));
    const int32_t* listing = entry_of(members, &listed, i);
    const int32_t member_count = listing != nullptr ? listing[1] : -1;
    bool by_member = member_count >= 0;
    const int32_t* spans = by_member ? listing + 2 : nullptr;
    for (int32_t m = 0; by_member && m < member_count; ++m) {
      const int32_t* span = spans + 4 * m;
      if (span[0] < start || span[1] < span[0] || span[2] < span[1] || span[3] < span[2] || span[3] > end) {
        by_member = false;
        break;
      }
      const std::string_view name = from.substr(static_cast<std::size_t>(span[0]), static_cast<std::size_t>(span[1] - span[0]));
      int32_t id = m < last_count ? out->table[last + 2 + static_cast<std::size_t>(m)] : -1;
      if (id < 0 || !same(keys->name(id), name)) id = keys->intern(name);
      if (id < 0) by_member = false;
      out->table.push_back(id);
    }
    if (!by_member) {
      out->table.resize(entry + 2);
      append_value(out, text);
      continue;
    }
    out->table[entry] = member_count;
    last = entry;
    last_count = member_count;
    for (int32_t m = 0; m < member_count; ++m) {
      const int32_t* span = spans + 4 * m;
      append_value(out, from.substr(static_cast<std::size_t>(span[2]), static_cast<std::size_t>(span[3] - span[2])));
    }
  }
  out->values.push_back(']');
  out->ascii = is_ascii(out->values);
}

}  // namespace mcp::jsonrpc
