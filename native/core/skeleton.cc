// Skeleton: see skeleton.h and docs/jsonrpc-engine.md section 13.
#include "core/skeleton.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "core/arguments.h"
#include "core/json_number.h"

namespace mcp::jsonrpc {
namespace {

// The record fields that hold positions (spans), by pairs.
constexpr std::array<std::size_t, 14> kPositionFields = {
    field::kStart,     field::kEnd,     field::kIdStart,   field::kIdEnd,   field::kMethodStart,
    field::kMethodEnd, field::kBodyStart, field::kBodyEnd, field::kNameStart, field::kNameEnd,
    field::kArgsStart, field::kArgsEnd, field::kMetaStart, field::kMetaEnd};

bool is_number_byte(uint8_t c) noexcept {
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

// The end of a plain string's content starting at p: the first byte that is a quote, a backslash, a control
// character or not ASCII, or `end`. Eight bytes at a time while they are there.
const uint8_t* plain_run(const uint8_t* p, const uint8_t* end) noexcept {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  for (; end - p >= 8; p += 8) {
    uint64_t word;
    std::memcpy(&word, p, sizeof(word));
    // A byte is special when it has its high bit (non-ASCII), is below 0x20, or is '"' or '\\'. Each test sets
    // the high bit of the bytes it finds (the subtractions' borrows only reach bytes above a found one, which
    // the byte-wise fallback then sorts out).
    const uint64_t below = word - kOnes * 0x20;
    const uint64_t quote = (word ^ (kOnes * '"')) - kOnes;
    const uint64_t backslash = (word ^ (kOnes * '\\')) - kOnes;
    if (((word | below | quote | backslash) & kHighs) != 0) break;
  }
  while (p < end) {
    const uint8_t c = *p;
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') return p;
    ++p;
  }
  return p;
}

}  // namespace

void Skeleton::clear() noexcept {
  line_.clear();
  values_ = 0;
  record_position_count_ = 0;
  has_members_ = false;
  member_count_ = 0;
  member_positions_.clear();
}

bool Skeleton::build(const uint8_t* line, std::size_t size, std::size_t offset, const int32_t* record,
                     const int32_t* members, uint64_t router_version) {
  clear();
  const int32_t flags = record[field::kFlags];
  if (record[field::kKind] != kind::kRequest || (flags & flag::kParamsSpanned) == 0 ||
      (flags & (flag::kMethodEscaped | flag::kNameEscaped | flag::kLimited | flag::kBodyIsReply)) != 0 ||
      size > kMaxLineBytes) {
    return false;
  }
  const auto rel = [offset](int32_t at) { return static_cast<int64_t>(at) - static_cast<int64_t>(offset); };
  const auto inside = [size](int64_t start, int64_t end) { return start >= 0 && start <= end && end <= static_cast<int64_t>(size); };
  // The id: a string's content or a number.
  const int64_t id_start = rel(record[field::kIdStart]);
  const int64_t id_end = rel(record[field::kIdEnd]);
  const int32_t id = (flags & flag::kIdKindMask) >> flag::kIdKindShift;
  if (!inside(id_start, id_end) || id_end - id_start < 1) return false;
  std::array<Value, kMaxValues> found{};
  std::size_t count = 0;
  if (id == id_kind::kString) {
    if (id_end - id_start < 2) return false;
    found[count++] = {static_cast<uint32_t>(id_start + 1), static_cast<uint32_t>(id_end - 1), true};
  } else if (id == id_kind::kNumber) {
    found[count++] = {static_cast<uint32_t>(id_start), static_cast<uint32_t>(id_end), false};
  } else {
    return false;
  }
  // The arguments' string and number values; the rest of the arguments stays in the skeleton's bytes.
  if (members != nullptr) {
    const int32_t listed = members[1];
    if (listed < 0 || record[field::kArgsStart] < 0) return false;
    for (int32_t m = 0; m < listed; ++m) {
      const int64_t start = rel(members[2 + 4 * m + 2]);
      const int64_t end = rel(members[2 + 4 * m + 3]);
      if (!inside(start, end) || end - start < 1) return false;
      const auto first = static_cast<uint8_t>(line[start]);
      const bool string = first == '"';
      if (!string && first != '-' && !(first >= '0' && first <= '9')) continue;
      if (count == kMaxValues) return false;
      if (string) {
        if (end - start < 2) return false;
        found[count++] = {static_cast<uint32_t>(start + 1), static_cast<uint32_t>(end - 1), true};
      } else {
        found[count++] = {static_cast<uint32_t>(start), static_cast<uint32_t>(end), false};
      }
    }
  }
  std::sort(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(count),
            [](const Value& a, const Value& b) { return a.start < b.start; });
  // Each value has bytes of the skeleton on both sides (a quote, a colon, a comma...), so none touch.
  for (std::size_t i = 0; i < count; ++i) {
    if (found[i].start == 0 || found[i].end >= size) return false;
    if (i > 0 && found[i].start <= found[i - 1].end) return false;
  }
  const auto after = [&](int64_t at) {
    uint8_t n = 0;
    for (std::size_t i = 0; i < count; ++i) {
      if (found[i].end <= at) ++n;
    }
    return n;
  };
  record_ = {};
  std::copy(record, record + kRecordStride, record_.begin());
  record_[field::kFlags] = flags & ~flag::kSrcCarry;
  for (const std::size_t f : kPositionFields) {
    if (record[f] < 0) continue;
    const int64_t at = rel(record[f]);
    if (!inside(at, at)) return false;
    record_fields_[record_position_count_] = static_cast<uint8_t>(f);
    record_positions_[record_position_count_++] = {static_cast<uint32_t>(at), after(at)};
  }
  if (members != nullptr) {
    member_count_ = members[1];
    member_positions_.reserve(4 * static_cast<std::size_t>(member_count_));
    for (int32_t i = 0; i < 4 * member_count_; ++i) {
      const int64_t at = rel(members[2 + i]);
      if (!inside(at, at)) {
        clear();
        return false;
      }
      member_positions_.push_back({static_cast<uint32_t>(at), after(at)});
    }
    has_members_ = true;
    const int64_t args_start = rel(record[field::kArgsStart]);
    const int64_t args_end = rel(record[field::kArgsEnd]);
    args_start_ = {static_cast<uint32_t>(args_start), after(args_start)};
    args_end_ = {static_cast<uint32_t>(args_end), after(args_end)};
  }
  line_.assign(reinterpret_cast<const char*>(line), size);
  value_ = found;
  values_ = count;
  router_version_ = router_version;
  return true;
}

bool Skeleton::match(const uint8_t* line, std::size_t size, std::size_t offset, int32_t flags, uint64_t router_version,
                     std::vector<int32_t>* records, std::vector<int32_t>* members) const {
  if (values_ == 0 || router_version != router_version_ || size > UINT32_MAX / 2) return false;
  const auto* skeleton = reinterpret_cast<const uint8_t*>(line_.data());
  // growth[i]: how much the first i values grew (their new length less their old), summed. Only the entries
  // written are read: zeroing the whole array (rep stos) cost a third of a match.
  std::array<int64_t, kMaxValues + 1> growth;  // NOLINT(cppcoreguidelines-pro-type-member-init)
  growth[0] = 0;
  std::size_t at = 0;    // in the line
  uint32_t from = 0;     // in the skeleton: where its next bytes start
  for (std::size_t i = 0; i < values_; ++i) {
    const Value& value = value_[i];
    const std::size_t fixed = value.start - from;
    if (size - at < fixed || std::memcmp(line + at, skeleton + from, fixed) != 0) return false;
    at += fixed;
    const uint8_t* start = line + at;
    const uint8_t* stop;
    if (value.string) {
      // Its closing quote is the skeleton's next byte: the run must end there.
      stop = plain_run(start, line + size);
      if (stop == line + size || *stop != '"') return false;
    } else {
      stop = start;
      while (stop < line + size && is_number_byte(*stop)) ++stop;
      bool integer = false;
      if (!is_json_number(std::string_view(reinterpret_cast<const char*>(start), static_cast<std::size_t>(stop - start)),
                          &integer)) {
        return false;
      }
    }
    const auto length = static_cast<int64_t>(stop - start);
    growth[i + 1] = growth[i] + length - static_cast<int64_t>(value.end - value.start);
    at += static_cast<std::size_t>(length);
    from = value.end;
  }
  const std::size_t rest = line_.size() - from;
  if (size - at != rest || std::memcmp(line + at, skeleton + from, rest) != 0) return false;
  // The full scan lists the members of arguments only up to kMaxReadArgumentsBytes; longer ones are its miss.
  const auto moved = [&](const Position& p) { return static_cast<int64_t>(offset) + p.at + growth[p.after]; };
  if (has_members_ && moved(args_end_) - moved(args_start_) > static_cast<int64_t>(kMaxReadArgumentsBytes)) return false;
  if (static_cast<int64_t>(offset) + static_cast<int64_t>(size) > INT32_MAX) return false;
  const std::size_t index = records->size() / kRecordStride;
  records->insert(records->end(), record_.begin(), record_.end());
  int32_t* record = records->data() + index * kRecordStride;
  record[field::kFlags] |= flags;
  for (std::size_t i = 0; i < record_position_count_; ++i) {
    record[record_fields_[i]] = static_cast<int32_t>(moved(record_positions_[i]));
  }
  if (has_members_ && members != nullptr) {
    const std::size_t entry = members->size();
    members->resize(entry + 2 + member_positions_.size());
    int32_t* out = members->data() + entry;
    out[0] = static_cast<int32_t>(index);
    out[1] = member_count_;
    for (std::size_t i = 0; i < member_positions_.size(); ++i) out[2 + i] = static_cast<int32_t>(moved(member_positions_[i]));
  }
  return true;
}

}  // namespace mcp::jsonrpc
