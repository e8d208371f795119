// The ids of one engine call's records as one text (docs/jsonrpc-engine.md section 12): the pure-JS twin of
// native/core/id_text. Transports take a request's id as a piece of it instead of decoding the whole chunk
// for its ids (src/transport/intake.ts); only the native engine's is cheaper than that decoding
// (Engine.readsIds), but both give the same text.
import { FLAGS, FLAG_SRC_CARRY, ID_END, ID_START, RECORD_STRIDE } from './records.js';

/**
 * The raw ID spans (a string id with its quotes) of the `count` records that have one, in record order,
 * with nothing between them; spans index `source`, or `carried` with SRC_CARRY. null when an id holds a
 * byte above 0x7f (offsets would not be character offsets) or a span lies outside its source.
 */
export function idText(records: Int32Array, count: number, source: Uint8Array, carried: Uint8Array): string | null {
  let text = '';
  for (let i = 0; i < count; i++) {
    const r = i * RECORD_STRIDE;
    const start = records[r + ID_START]!;
    if (start < 0) continue;
    const end = records[r + ID_END]!;
    const from = (records[r + FLAGS]! & FLAG_SRC_CARRY) !== 0 ? carried : source;
    if (end < start || end > from.length) return null;
    for (let k = start; k < end; k++) {
      const c = from[k]!;
      if (c > 0x7f) return null;
      text += String.fromCharCode(c);
    }
  }
  return text;
}
