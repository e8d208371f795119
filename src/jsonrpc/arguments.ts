// Arguments read for JS (docs/jsonrpc-engine.md section 11): the pure-JS twin of native/core/arguments.
// The `arguments` of an engine call's requests whose params the record spans become one JSON array text of
// values plus a table saying how each record's arguments are built from them: an object of plain member
// names member by member (names by key id, values from the array), anything else as one value taken whole.
// JSON.parse of the array and assignment under the kept names build what JSON.parse of each text would,
// for much less than JSON.parse spends making every object (buildArguments).
import { Buffer } from 'node:buffer';
import {
  ARGS_END,
  ARGS_START,
  FLAGS,
  FLAG_PARAMS_SPANNED,
  FLAG_SRC_CARRY,
  KIND,
  KIND_NOTIFICATION,
  KIND_REQUEST,
  RECORD_STRIDE,
} from './records.js';

/** Largest ARGS span read this way (kMaxReadArgumentsBytes): longer arguments are parsed alone. */
export const MAX_READ_ARGUMENTS_BYTES = 1024;
/** Most members of an object read member by member; an object with more is taken whole. */
export const MAX_ARGUMENT_MEMBERS = 32;
/** A key table's bounds: names, and bytes per name. */
export const MAX_KEYS = 256;
export const MAX_KEY_BYTES = 64;

/**
 * What Engine.readArguments gives. `table` holds, for each record of the call, the offset of its entry or
 * -1; an entry is `count, first, id * count`: an object whose members are the names of the ids (`keys`)
 * with values first, first + 1, ... of JSON.parse(values), in order; a count of -1 says the arguments are
 * value `first` itself.
 */
export interface ArgumentsRead {
  values: string;
  table: Int32Array;
  /** Member names by key id, as property keys (internalized). */
  keys: readonly string[];
  /**
   * By key id: whether assignment makes the member (the name is not found on Object.prototype, checked when
   * the name is first met). Assignment to a name Object.prototype has would call its setter or, frozen as
   * under --frozen-intrinsics, throw; such members are defined, as JSON.parse does.
   */
  assignable: readonly boolean[];
}

const utf8Slice = Buffer.prototype.utf8Slice as (this: Uint8Array, start: number, end: number) => string;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function skipSpace(s: Uint8Array, p: number, end: number): number {
  while (p < end && isSpace(s[p]!)) p++;
  return p;
}

/** At an opening quote: the index after the closing one, or -1. */
function skipString(s: Uint8Array, p: number, end: number): number {
  const first = ++p;
  while (p < end) {
    const at = s.indexOf(QUOTE, p);
    if (at < 0 || at >= end) return -1;
    let run = at;
    while (run > first && s[run - 1] === BACKSLASH) run--;
    if (((at - run) & 1) === 0) return at + 1;
    p = at + 1;
  }
  return -1;
}

/** At a value: the index after it, or -1 (containers skipped by counting brackets outside strings). */
function skipValue(s: Uint8Array, p: number, end: number): number {
  if (p >= end) return -1;
  const c = s[p]!;
  if (c === QUOTE) return skipString(s, p, end);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    while (p < end) {
      const d = s[p]!;
      if (d === QUOTE) {
        p = skipString(s, p, end);
        if (p < 0) return -1;
        continue;
      }
      if (d === 0x7b || d === 0x5b) depth++;
      else if ((d === 0x7d || d === 0x5d) && --depth === 0) return p + 1;
      p++;
    }
    return -1;
  }
  const start = p;
  while (p < end) {
    const d = s[p]!;
    if (d === 0x2c || d === 0x7d || d === 0x5d || isSpace(d)) break;
    p++;
  }
  return p === start ? -1 : p;
}

/**
 * The members of the JSON object text s[start, end) (valid JSON, no surrounding whitespace), pushed onto
 * `spans` as name start, name end (raw content), value start, value end; false when there are more than
 * `maxMembers` or it is not such an object (any bytes are safe to pass).
 */
export function readMembers(s: Uint8Array, start: number, end: number, maxMembers: number, spans: number[]): boolean {
  if (start >= end || s[start] !== 0x7b) return false;
  let p = skipSpace(s, start + 1, end);
  if (p < end && s[p] === 0x7d) return p + 1 === end;
  let count = 0;
  while (p < end && s[p] === QUOTE) {
    if (++count > maxMembers) return false;
    const nameEnd = skipString(s, p, end);
    if (nameEnd < 0) return false;
    const nameStart = p + 1;
    p = skipSpace(s, nameEnd, end);
    if (p >= end || s[p] !== 0x3a) return false;
    p = skipSpace(s, p + 1, end);
    const valueEnd = skipValue(s, p, end);
    if (valueEnd < 0) return false;
    spans.push(nameStart, nameEnd - 1, p, valueEnd);
    p = skipSpace(s, valueEnd, end);
    if (p >= end) return false;
    if (s[p] === 0x7d) return p + 1 === end;
    if (s[p] !== 0x2c) return false;
    p = skipSpace(s, p + 1, end);
  }
  return false;
}

/** Whether a member name of `spans` (readMembers') holds a backslash. */
function anyEscaped(s: Uint8Array, spans: number[]): boolean {
  for (let m = 0; m < spans.length; m += 4) {
    for (let i = spans[m]!; i < spans[m + 1]!; i++) if (s[i] === BACKSLASH) return true;
  }
  return false;
}

/** The property key of `name`: the engine's strings are plain; a property key is internalized once here. */
export function propertyKey(name: string): string {
  return Object.keys({ [name]: 0 })[0]!;
}

/**
 * What JS keeps of an engine's key ids: each name as a property key, and whether assignment makes it
 * (ArgumentsRead.keys and .assignable), added in id order as names are first met.
 */
export class ArgumentKeys {
  readonly names: string[] = [];
  readonly assignable: boolean[] = [];

  /** Adds the name of the next id. */
  add(name: string): void {
    this.names.push(propertyKey(name));
    this.assignable.push(!(name in Object.prototype));
  }
}

/** Member names with ids (KeyTable): bounded like the native table, and with the same ids. */
export class KeyTable extends ArgumentKeys {
  private readonly ids = new Map<string, number>();

  /** The id of the name s[start, end), added when new; -1 when it gets none (see KeyTable::intern). */
  intern(s: Uint8Array, start: number, end: number): number {
    if (end - start > MAX_KEY_BYTES || s.subarray(start, end).includes(BACKSLASH)) return -1;
    const name = utf8Slice.call(s, start, end);
    if (name === '__proto__') return -1;
    const known = this.ids.get(name);
    if (known !== undefined) return known;
    if (this.names.length >= MAX_KEYS) return -1;
    const id = this.names.length;
    this.ids.set(name, id);
    this.add(name);
    return id;
  }
}

/** Engine.readArguments for `count` records (see read_arguments in native/core/arguments.h). */
export function readArguments(
  records: Int32Array,
  count: number,
  source: Uint8Array,
  carried: Uint8Array,
  keys: KeyTable,
): ArgumentsRead {
  const table: number[] = new Array<number>(count).fill(-1);
  const values: string[] = [];
  const spans: number[] = [];
  for (let i = 0; i < count; i++) {
    const r = i * RECORD_STRIDE;
    const kind = records[r + KIND]!;
    const flags = records[r + FLAGS]!;
    if ((kind !== KIND_REQUEST && kind !== KIND_NOTIFICATION) || (flags & FLAG_PARAMS_SPANNED) === 0) continue;
    const start = records[r + ARGS_START]!;
    const end = records[r + ARGS_END]!;
    const from = (flags & FLAG_SRC_CARRY) !== 0 ? carried : source;
    if (start < 0 || end < start || end - start > MAX_READ_ARGUMENTS_BYTES || end > from.length) continue;
    table[i] = table.length;
    const entry = table.length;
    table.push(-1, values.length);
    spans.length = 0;
    // An object with an escaped name is taken whole before any of its names gets an id (as the native
    // engine's walk does not list its members).
    let byMember = readMembers(from, start, end, MAX_ARGUMENT_MEMBERS, spans) && !anyEscaped(from, spans);
    for (let m = 0; byMember && m < spans.length; m += 4) {
      const id = keys.intern(from, spans[m]!, spans[m + 1]!);
      if (id < 0) byMember = false;
      table.push(id);
    }
    if (!byMember) {
      table.length = entry + 2;
      values.push(utf8Slice.call(from, start, end));
      continue;
    }
    table[entry] = spans.length / 4;
    for (let m = 0; m < spans.length; m += 4) values.push(utf8Slice.call(from, spans[m + 2]!, spans[m + 3]!));
  }
  return { values: '[' + values.join(',') + ']', table: Int32Array.from(table), keys: keys.names, assignable: keys.assignable };
}

/** The arguments of the record `record` (its index) from a read and its parsed values; undefined: no entry. */
export function buildArguments(read: ArgumentsRead, values: unknown[], record: number): unknown {
  const table = read.table;
  const at = table[record]!;
  if (at < 0) return undefined;
  const count = table[at]!;
  let v = table[at + 1]!;
  if (count < 0) return values[v];
  const keys = read.keys;
  const assignable = read.assignable;
  const out: Record<string, unknown> = {};
  for (let k = at + 2, last = at + 2 + count; k < last; k++) {
    const id = table[k]!;
    if (assignable[id]) out[keys[id]!] = values[v++];
    else Object.defineProperty(out, keys[id]!, { value: values[v++], writable: true, enumerable: true, configurable: true });
  }
  return out;
}
