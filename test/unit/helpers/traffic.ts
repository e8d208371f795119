// Seeded generator of realistic JSON-RPC traffic and a byte mutator, for the differential test
// (test/unit/jsonrpc-differential.test.ts). Everything is drawn from one Rng, so a seed reproduces a run.
//
// The generator writes JSON source text: requests, notifications, responses, error responses, batches
// and malformed envelopes, with string ids carrying escapes, raw unicode (astral included) and escaped
// surrogate pairs, numeric ids as written (`1.50`, `-0`, `1e400`, 30-digit integers), methods and routed
// names from the default routing table (test/vectors/routes.json), escaped or not, and unknown ones,
// params nested up to and past a depth limit, duplicate and escaped-duplicate member names, and a few
// tokens JSON.parse accepts but the engine must not (escaped lone surrogates). The mutator then breaks
// bytes: flips, deletions, insertions of structural characters, control bytes, invalid UTF-8, CR, LF
// and BOMs, duplicated members and truncation.
import { mulberry32 } from './prng.js';

/** mulberry32 (./prng.ts): small, fast, good enough for test data. */
export class Rng {
  /** A uint32. */
  readonly next: () => number;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.next() / 4294967296) * n);
  }

  /** An integer in [low, high]. */
  range(low: number, high: number): number {
    return low + this.int(high - low + 1);
  }

  chance(p: number): boolean {
    return this.next() / 4294967296 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

/** Methods of test/vectors/routes.json, and some that are not routed. */
export const ROUTED_METHODS = [
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/read',
  'prompts/get',
  'notifications/initialized',
  'resources/list',
];
const UNKNOWN_METHODS = ['tools/call2', 'Tools/call', 'tools', '', 'notifications/cancelled', 'wörk/😀', 'constructor', '__proto__'];
const TOOL_NAMES = ['echo', 'add', 'café', 'greet', 'nope', '', 'ECHO', '😀', 'constructor'];
const URIS = ['file:///a.txt', 'file:///b.txt', '', 'file:///a.txt ', 'https://x/é'];

// Pieces of string content as JSON source text.
const PLAIN = ['a', 'echo', 'x y', 'hello world', 'tools/call', '0', 'é', '€', '中文', '😀', '𝄞', '\u{10FFFF}', '\u2028', '\u007f', "'", 'null'];
const ESCAPES = [
  '\\n', '\\t', '\\"', '\\\\', '\\/', '\\b', '\\f', '\\r', '\\u0041', '\\u00e9', '\\u00E9', '\\u20ac', '\\u0000',
  '\\u001f', '\\ud83d\\ude00', '\\uD834\\uDD1E', '\\uDBFF\\uDFFF', '\\u0022', '\\u005c',
];
/** Escapes JSON.parse accepts and the engine refuses (spec section 4). */
const LONE_SURROGATES = ['\\ud800', '\\udc00', '\\uDBFF', '\\ud800\\u0041', '\\ud800\\ud800', '\\udfff\\ud800', '\\ud83d"'];
const BAD_ESCAPES = ['\\x41', '\\u12', '\\U0041', '\\a', '\\'];

const NUMBERS = [
  '0', '-0', '1', '-1', '42', '1.50', '-1.5e10', '1e400', '-1e400', '1E-400', '2.5E+3', '0.1', '1e0', '-0.0',
  '123456789012345678901234567890', '-123456789012345678901234567890', '9007199254740993', '100000000000000000000000',
];
const BAD_NUMBERS = ['01', '1.', '.5', '+1', '-', '1e', '0x10', 'NaN', 'Infinity', '--1', '1.e5', '-01', '1e+'];
const BAD_LITERALS = ['nul', 'True', 'nulll', 'tru', 'falsey', 'undefined'];

export interface TrafficOptions {
  /** The engine's maxDepth: params nest up to it and a little past it. */
  maxDepth: number;
  /** The engine's maxBatch: batches have up to one element more. */
  maxBatch: number;
}

/** JSON source text of realistic JSON-RPC traffic, drawn from `rng`. */
export class Traffic {
  /** The last `_meta` value written: a 2026-07-28 client sends the same one with every request. */
  private lastMeta: string | null = null;

  constructor(
    private readonly rng: Rng,
    private readonly options: TrafficOptions,
  ) {}

  /** Whitespace between tokens: usually none, sometimes JSON whitespace (LF rarely: it splits lines). */
  ws(): string {
    const r = this.rng;
    if (!r.chance(0.15)) return '';
    if (r.chance(0.03)) return '\n';
    return r.pick([' ', '  ', '\t', '\r', ' \t ', '\r\r']);
  }

  /** String content (between the quotes) as JSON source. */
  content(): string {
    const r = this.rng;
    let out = '';
    const pieces = r.range(0, 4);
    for (let p = 0; p < pieces; p++) {
      const roll = r.next() / 4294967296;
      if (roll < 0.7) out += r.pick(PLAIN);
      else if (roll < 0.97) out += r.pick(ESCAPES);
      else if (roll < 0.99) out += r.pick(LONE_SURROGATES);
      else out += r.pick(BAD_ESCAPES);
    }
    return out;
  }

  /** Long string content (tens to thousands of bytes), mostly plain text, for the engines' long-string paths. */
  longContent(): string {
    const r = this.rng;
    const target = r.pick([40, 50, 64, 100, 300, 2000]);
    let out = '';
    while (out.length < target) {
      const roll = r.int(100);
      if (roll < 80) out += 'the quick brown fox jumps over the lazy dog '.slice(0, r.range(1, 44));
      else if (roll < 97) out += this.content();
      else out += r.pick(['\t', '\u0000', '\\', '\"', 'é€😀']);
    }
    return out;
  }

  /** `text` as JSON string content, some characters written as escapes. */
  escaped(text: string, p = 0.3): string {
    const r = this.rng;
    let out = '';
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      if (ch === '"' || ch === '\\') out += '\\' + ch;
      else if (cp < 0x20) out += '\\u' + cp.toString(16).padStart(4, '0');
      else if (!r.chance(p)) out += ch;
      else if (ch === '/' && r.chance(0.5)) out += '\\/';
      else if (cp < 0x10000) out += '\\u' + this.hex4(cp);
      else out += '\\u' + this.hex4(0xd800 + ((cp - 0x10000) >> 10)) + '\\u' + this.hex4(0xdc00 + ((cp - 0x10000) & 0x3ff));
    }
    return out;
  }

  private hex4(unit: number): string {
    const hex = unit.toString(16).padStart(4, '0');
    return this.rng.chance(0.5) ? hex : hex.toUpperCase();
  }

  /** A name the engine looks up (method, tool, uri), usually as is, sometimes escaped. */
  name(choices: readonly string[]): string {
    const text = this.rng.pick(choices);
    return '"' + this.escaped(text, this.rng.chance(0.25) ? 0.4 : 0) + '"';
  }

  number(): string {
    const r = this.rng;
    if (r.chance(0.01)) return r.pick(BAD_NUMBERS);
    if (r.chance(0.5)) return r.pick(NUMBERS);
    return r.chance(0.5) ? String(r.int(100000)) : String(r.int(2000000) - 1000000) + '.' + String(r.int(1000));
  }

  scalar(): string {
    const r = this.rng;
    const roll = r.int(10);
    if (roll < 4) return '"' + this.content() + '"';
    if (roll < 7) return this.number();
    if (r.chance(0.01)) return r.pick(BAD_LITERALS);
    return r.pick(['true', 'false', 'null']);
  }

  /** Any value; containers nest at most `budget` more levels. */
  value(budget: number): string {
    const r = this.rng;
    if (budget > 0 && r.chance(0.35)) return r.chance(0.5) ? this.object(budget - 1) : this.array(budget - 1);
    return this.scalar();
  }

  array(budget: number): string {
    const n = this.rng.range(0, 4);
    const items: string[] = [];
    for (let i = 0; i < n; i++) items.push(this.value(budget));
    return this.join('[', items, ']');
  }

  object(budget: number): string {
    const n = this.rng.range(0, 4);
    const members: [string, string][] = [];
    for (let i = 0; i < n; i++) members.push([this.rng.chance(0.2) ? this.rng.pick(['k', 'name', 'uri', 'a']) : this.content(), this.value(budget)]);
    return this.members(members);
  }

  /** A chain of exactly `levels` containers (objects and arrays) around a scalar. */
  chain(levels: number): string {
    let out = this.scalar();
    for (let l = 0; l < levels; l++) out = this.rng.chance(0.5) ? '[' + out + ']' : '{"d":' + out + '}';
    return out;
  }

  join(open: string, items: string[], close: string): string {
    const sep = (): string => this.ws() + ',' + this.ws();
    let out = open + this.ws();
    items.forEach((item, i) => {
      out += (i > 0 ? sep() : '') + item;
    });
    if (this.rng.chance(0.005) && items.length > 0) out += ','; // a trailing comma
    return out + this.ws() + close;
  }

  /** An object from [key content, value source] pairs. */
  members(members: [string, string][]): string {
    return this.join('{', members.map(([k, v]) => '"' + k + '"' + this.ws() + ':' + this.ws() + v), '}');
  }

  /** A member name as written: usually plain, sometimes with escapes (the same name after unescaping). */
  key(name: string): string {
    return this.rng.chance(0.05) ? this.escaped(name, 0.5) : name;
  }

  id(): string {
    const r = this.rng;
    const roll = r.int(100);
    if (roll < 45) return this.number();
    if (roll < 85) return '"' + this.content() + '"';
    if (roll < 92) return 'null';
    return r.pick(['true', 'false', '{}', '[]', '[1]', '{"id":1}']);
  }

  version(): string {
    const r = this.rng;
    if (r.chance(0.9)) return '"2.0"';
    return r.pick(['"2\\u002e0"', '"\\u0032.0"', '"1.0"', '2.0', '"2.0 "', '"2"', 'null', '"2.00"', '["2.0"]']);
  }

  /** params (or arguments) for `method`: the routed field, nested values up to and past the depth limit. */
  params(method: string): string {
    const r = this.rng;
    if (r.chance(0.05)) return r.pick(['1', '"x"', 'null', 'true']);
    if (r.chance(0.1)) return this.array(3);
    const members: [string, string][] = [];
    const field = method === 'resources/read' ? 'uri' : 'name';
    const routedValue = (): string =>
      r.chance(0.9) ? this.name(field === 'uri' ? URIS : TOOL_NAMES) : this.value(1);
    if (r.chance(0.85)) members.push([this.key(field), routedValue()]);
    if (r.chance(0.3)) members.push([r.pick(['name', 'uri']), routedValue()]);
    if (r.chance(0.04)) members.push([this.key(field), routedValue()]); // the routed field twice
    if (r.chance(0.6)) {
      // arguments: usually shallow, sometimes a chain that reaches or passes maxDepth
      // (the message is depth 1, params 2, arguments 3).
      const roll = r.int(100);
      members.push([
        this.key('arguments'),
        roll < 15
          ? this.chain(r.range(this.options.maxDepth - 4, this.options.maxDepth))
          : roll < 30
            ? this.members([['text', '"' + this.longContent() + '"']])
            : this.object(2),
      ]);
    }
    if (r.chance(0.03)) members.push(['arguments', this.object(1)]); // arguments twice
    if (r.chance(0.4)) members.push([this.key('_meta'), this.meta()]);
    if (r.chance(0.03)) members.push(['_meta', this.object(1)]); // _meta twice
    if (r.chance(0.2)) members.push([this.content(), this.value(2)]);
    return this.members(r.chance(0.3) ? r.shuffle(members) : members);
  }

  /** A `_meta` value: with chance `again` the last one again, byte for byte (META_REPEATED in a batch);
   * else a new one, an object nested up to `budget` levels below it. */
  meta(again = 0.5, budget = 2): string {
    const r = this.rng;
    if (this.lastMeta === null || !r.chance(again)) this.lastMeta = r.chance(0.9) ? this.object(budget) : this.value(1);
    return this.lastMeta;
  }

  errorObject(): string {
    const r = this.rng;
    if (r.chance(0.05)) return r.pick(['null', '"oops"', '[]', '1']);
    const members: [string, string][] = [];
    if (r.chance(0.95)) members.push([this.key('code'), r.chance(0.85) ? r.pick(['-32601', '-32602', '-32603', '0', '1', '-0', '99999999999999999999']) : r.pick(['1.5', '1e3', '-32601.0', '"x"', 'null', '1E2'])]);
    if (r.chance(0.95)) members.push([this.key('message'), r.chance(0.9) ? '"' + this.content() + '"' : r.pick(['1', 'null', '{}'])]);
    if (r.chance(0.3)) members.push(['data', this.value(2)]);
    if (r.chance(0.03)) members.push([r.pick(['code', 'message']), r.pick(['1', '"m"'])]);
    return this.members(r.chance(0.3) ? r.shuffle(members) : members);
  }

  /** One message object (or, rarely, something else a message can be). */
  message(): string {
    const r = this.rng;
    const members: [string, string][] = [];
    const roll = r.int(100);
    const withVersion = r.chance(0.97);
    if (withVersion) members.push([this.key('jsonrpc'), this.version()]);
    let method = '';
    if (roll < 55) {
      // request (or notification without an id)
      if (roll < 42) members.push([this.key('id'), this.id()]);
      method = r.chance(0.85) ? r.pick(ROUTED_METHODS) : r.pick(UNKNOWN_METHODS);
      members.push([this.key('method'), r.chance(0.97) ? '"' + this.escaped(method, r.chance(0.2) ? 0.4 : 0) + '"' : this.scalar()]);
      if (r.chance(0.85)) members.push([this.key('params'), this.params(method)]);
    } else if (roll < 75) {
      members.push([this.key('id'), this.id()]);
      members.push([this.key('result'), r.chance(0.1) ? '"' + this.longContent() + '"' : this.value(3)]);
    } else if (roll < 93) {
      members.push([this.key('id'), r.chance(0.2) ? 'null' : this.id()]);
      members.push([this.key('error'), this.errorObject()]);
    } else {
      // shapes that are not a request, notification or response
      const shape = r.pick([
        ['method', 'result'],
        ['result', 'error'],
        ['id'],
        [],
        ['method', 'error'],
        ['params'],
      ]);
      for (const k of shape) members.push([this.key(k), k === 'method' ? '"ping"' : this.value(1)]);
    }
    if (r.chance(0.15)) members.push([r.pick(['extra', 'ID', 'jsonrpc2', 'Method', '']), this.value(2)]);
    if (r.chance(0.03)) {
      // a wide message: past the 16 names the engines compare pairwise before using a set
      const n = r.range(10, 40);
      for (let k = 0; k < n; k++) members.push(['k' + String(r.int(n * 3)), this.scalar()]);
    }
    if (r.chance(0.04) && members.length > 0) {
      // a member twice, as written or escaped
      const [k, v] = r.pick(members);
      members.push([k.includes('\\') || r.chance(0.5) ? k : this.escaped(k, 1), r.chance(0.5) ? v : this.scalar()]);
    }
    return this.members(r.chance(0.25) ? r.shuffle(members) : members);
  }

  /** A 2026-07-28 client's pipeline as a batch of two to five tools/call requests that carry one `_meta`,
   * byte for byte, now and then another; no larger than maxBatch allows (but two) and nested to fit
   * maxDepth, so that most reach the engine's META_REPEATED (two `_meta` in one generic batch are rare and
   * usually too deep or invalid). */
  pipeline(): string {
    const { maxBatch, maxDepth } = this.options;
    const n = this.rng.range(2, Math.max(2, Math.min(maxBatch, 5)));
    // batch 1, message 2, params 3, `arguments` and `_meta` 4: budget 1 nests them one level more
    const budget = maxDepth >= 5 ? 1 : 0;
    const items: string[] = [];
    for (let i = 0; i < n; i++) {
      const params = this.members([
        ['name', this.name(TOOL_NAMES)],
        ['arguments', this.object(budget)],
        [this.key('_meta'), this.meta(0.85, budget)],
      ]);
      items.push(this.members([['jsonrpc', '"2.0"'], ['id', String(i)], ['method', '"tools/call"'], ['params', params]]));
    }
    return this.join('[', items, ']');
  }

  /** A whole message as sent: usually one object, sometimes a batch or a scalar. */
  top(): string {
    const r = this.rng;
    const roll = r.int(100);
    if (roll < 86) return this.message();
    if (roll < 97) {
      if (r.chance(0.3)) return this.pipeline();
      const n = r.chance(0.1) ? 0 : r.range(1, Math.min(this.options.maxBatch + 1, 6));
      const items: string[] = [];
      for (let i = 0; i < n; i++) items.push(r.chance(0.9) ? this.message() : this.value(2));
      return this.join('[', items, ']');
    }
    return this.value(2);
  }
}

const INSERTS: readonly (readonly number[])[] = [
  [0x2c], // ,
  [0x5d], // ]
  [0x7d], // }
  [0x22], // "
  [0x5c], // \
  [0x3a], // :
  [0x5b], // [
  [0x7b], // {
  [0x0d], // CR
  [0x0a], // LF
  [0x20],
  [0xef, 0xbb, 0xbf], // BOM
  [0xff], // never in UTF-8
  [0x80], // a lone continuation byte
  [0xc0, 0x80], // overlong NUL
  [0xe0, 0x80, 0xaf], // overlong '/'
  [0xed, 0xa0, 0x80], // U+D800 encoded
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xe2, 0x82], // truncated €
  [0xc3], // truncated é
];
/** Members inserted right after a `{`: duplicates of envelope members, as written or escaped. */
const MEMBER_INSERTS = [
  '"jsonrpc":"2.0",',
  '"id":1,',
  '"\\u0069d":"x",',
  '"method":"ping",',
  '"m\\u0065thod":"tools/call",',
  '"params":{},',
  '"name":"echo",',
  '"n\\u0061me":"add",',
  '"uri":"file:///a.txt",',
  '"result":0,',
  '"code":1,',
  '"message":"m",',
].map((s) => new TextEncoder().encode(s));

function splice(bytes: Uint8Array, at: number, remove: number, insert: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(bytes.length - remove + insert.length);
  out.set(bytes.subarray(0, at), 0);
  out.set(insert, at);
  out.set(bytes.subarray(at + remove), at + insert.length);
  return out;
}

/** 1 to 3 random byte-level mutations of `bytes`. */
export function mutate(rng: Rng, bytes: Uint8Array): Uint8Array {
  let out = bytes;
  const count = rng.range(1, 3);
  for (let m = 0; m < count; m++) {
    const at = rng.int(out.length + 1);
    switch (rng.int(8)) {
      case 0: // flip a bit or replace a byte
        if (at < out.length) {
          out = out.slice();
          out[at] = rng.chance(0.5) ? out[at]! ^ (1 << rng.int(8)) : rng.int(256);
        }
        break;
      case 1: // delete a few bytes
        out = splice(out, at, Math.min(rng.range(1, 3), out.length - at), []);
        break;
      case 2:
      case 3: // insert a structural character, a control byte, invalid UTF-8, CR, LF or a BOM
        out = splice(out, at, 0, rng.chance(0.2) ? [rng.int(0x20)] : rng.pick(INSERTS));
        break;
      case 4: {
        // duplicate a member: insert an envelope member after some `{`
        const braces: number[] = [];
        out.forEach((b, i) => {
          if (b === 0x7b) braces.push(i);
        });
        if (braces.length > 0) out = splice(out, rng.pick(braces) + 1, 0, rng.pick(MEMBER_INSERTS));
        break;
      }
      case 5: // truncate
        out = out.subarray(0, at);
        break;
      case 6: // swap two neighbours
        if (at + 1 < out.length) {
          out = out.slice();
          const b = out[at]!;
          out[at] = out[at + 1]!;
          out[at + 1] = b;
        }
        break;
      default: // repeat a slice
        if (at < out.length) {
          const length = rng.range(1, 8);
          out = splice(out, at, 0, out.slice(at, at + length));
        }
    }
  }
  return out;
}
