// The ids of one engine call's records as one text (docs/jsonrpc-engine.md section 12). A request's id is
// most of what JS must read from a chunk's bytes once the engine has routed the method and name and read the
// arguments: decoding the whole chunk (a 64 KiB copy per read) for its ids cost more than the ids
// themselves. id_text gathers them instead, so JS makes one small string per read and takes each id as a
// piece of it. src/jsonrpc/js.ts (the JS twin's idText) gives the same text.
#ifndef FASTERMCP_NATIVE_CORE_ID_TEXT_H_
#define FASTERMCP_NATIVE_CORE_ID_TEXT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mcp::jsonrpc {

/// Sets `out` to the raw ID spans (kIdStart..kIdEnd, as written: a string id with its quotes) of the `count`
/// records (kRecordStride int32 each) that have one, in record order, with nothing between them: a reader
/// that walks the records in order finds each id at the sum of the lengths before it. Spans index `source`
/// (the call's chunk or message) or, with SRC_CARRY, `carried`. False, with `out` empty, when an id holds a
/// byte above 0x7f (offsets would then not be character offsets) or a span lies outside its source.
bool id_text(const int32_t* records, std::size_t count, std::string_view source, std::string_view carried,
             std::string* out);

}  // namespace mcp::jsonrpc

#endif  // FASTERMCP_NATIVE_CORE_ID_TEXT_H_
