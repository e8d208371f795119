// Arguments read for JS: see arguments.h and docs/jsonrpc-engine.md section 11.
#include "core/arguments.h"

#include <cstring>

#include "core/records.h"

namespace mcp::jsonrpc {
namespace {

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::size_t skip_space(std::string_view s, std::size_t p) noexcept {
  while (p < s.size() && is_space(s[p])) ++p;
  return p;
}

// At an opening quote: the index after the closing one (a quote after an even run of backslashes), or kNone.
std::size_t skip_string(std::string_view s, std::size_t p) noexcept {
  const std::size_t first = ++p;
  while (p < s.size()) {
    const void* quote = std::memchr(s.data() + p, '"', s.size() - p);
    if (quote == nullptr) return kNone;
    const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(quote) - s.data());
    std::size_t run = at;
    while (run > first && s[run - 1] == '\\') --run;
    if (((at - run) & 1) == 0) return at + 1;
    p = at + 1;
  }
  return kNone;
}

// At a value: the index after it, or kNone. Containers are skipped by counting brackets outside strings.
std::size_t skip_value(std::string_view s, std::size_t p) noexcept {
  if (p >= s.size()) return kNone;
  const char c = s[p];
  if (c == '"') return skip_string(s, p);
  if (c == '{' || c == '[') {
    std::size_t depth = 0;
    while (p < s.size()) {
      const char d = s[p];
      if (d == '"') {
        p = skip_string(s, p);
        if (p == kNone) return kNone;
        continue;
      }
      if (d == '{' || d == '[') {
        ++depth;
      } else if (d == '}' || d == ']') {
        if (--depth == 0) return p + 1;
      }
      ++p;
    }
    return kNone;
  }
  // A number or a literal: up to the next delimiter.
  const std::size_t start = p;
  while (p < s.size() && s[p] != ',' && s[p] != '}' && s[p] != ']' && !is_space(s[p])) ++p;
  return p == start ? kNone : p;
}

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

bool is_ascii(std::string_view text) noexcept {
  const char* p = text.data();
  const char* end = p + text.size();
  uint64_t bits = 0;
  for (; end - p >= 8; p += 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    bits |= word;
  }
  for (; p < end; ++p) bits |= static_cast<uint8_t>(*p);
  return (bits & 0x8080808080808080ULL) == 0;
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

bool read_members(std::string_view object, std::size_t max_members, std::vector<MemberSpan>* members) {
  if (object.empty() || object[0] != '{') return false;
  std::size_t p = skip_space(object, 1);
  if (p < object.size() && object[p] == '}') return p + 1 == object.size();
  std::size_t count = 0;
  while (p < object.size() && object[p] == '"') {
    if (++count > max_members) return false;
    const std::size_t name_end = skip_string(object, p);
    if (name_end == kNone) return false;
    const std::string_view name = object.substr(p + 1, name_end - p - 2);
    p = skip_space(object, name_end);
    if (p >= object.size() || object[p] != ':') return false;
    p = skip_space(object, p + 1);
    const std::size_t value_end = skip_value(object, p);
    if (value_end == kNone) return false;
    members->emplace_back(name, object.substr(p, value_end - p));
    p = skip_space(object, value_end);
    if (p >= object.size()) return false;
    if (object[p] == '}') return p + 1 == object.size();
    if (object[p] != ',') return false;
    p = skip_space(object, p + 1);
  }
  return false;
}

void read_arguments(const int32_t* records, std::size_t count, std::string_view source, std::string_view carried,
                    KeyTable* keys, std::vector<MemberSpan>* scratch, ArgumentsRead* out) {
  out->table.assign(count, -1);
  out->values.assign(1, '[');
  out->value_count = 0;
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
    scratch->clear();
    bool by_member = read_members(text, kMaxArgumentMembers, scratch);
    for (std::size_t m = 0; by_member && m < scratch->size(); ++m) {
      const std::string_view name = (*scratch)[m].first;
      int32_t id = m < static_cast<std::size_t>(last_count) ? out->table[last + 2 + m] : -1;
      if (id < 0 || !same(keys->name(id), name)) id = keys->intern(name);
      if (id < 0) by_member = false;
      out->table.push_back(id);
    }
    if (!by_member) {
      out->table.resize(entry + 2);
      append_value(out, text);
      continue;
    }
    out->table[entry] = static_cast<int32_t>(scratch->size());
    last = entry;
    last_count = out->table[entry];
    for (const MemberSpan& member : *scratch) append_value(out, member.second);
  }
  out->values.push_back(']');
  out->ascii = is_ascii(out->values);
}

}  // namespace mcp::jsonrpc
