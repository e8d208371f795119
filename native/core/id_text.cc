// The ids of one engine call's records as one text: see id_text.h.
#include "core/id_text.h"

#include "core/ascii.h"
#include "core/records.h"

namespace mcp::jsonrpc {

bool id_text(const int32_t* records, std::size_t count, std::string_view source, std::string_view carried,
             std::string* out) {
  out->clear();
  for (std::size_t i = 0; i < count; ++i) {
    const int32_t* record = records + i * kRecordStride;
    const int32_t start = record[field::kIdStart];
    if (start < 0) continue;
    const int32_t end = record[field::kIdEnd];
    const std::string_view from = (record[field::kFlags] & flag::kSrcCarry) != 0 ? carried : source;
    if (end < start || static_cast<std::size_t>(end) > from.size()) {
      out->clear();
      return false;
    }
    out->append(from.data() + start, static_cast<std::size_t>(end - start));
  }
  if (!is_ascii(*out)) {
    out->clear();
    return false;
  }
  return true;
}

}  // namespace mcp::jsonrpc
