// An oracle for scan() built on JSON.parse, independent of both engines (docs/jsonrpc-engine.md
// sections 3 (scan), 4, 5, 6, 7 and 8): it gives the exact records and reply bytes a message must
// produce. JSON.parse decides whether the text is JSON; a small walk over the text JSON.parse accepted
// then finds what JSON.parse does not report: escaped lone surrogates, nesting deeper than maxDepth
// (whichever comes first in document order) and duplicate member names. Spans are computed from that
// walk's character positions, converted to byte offsets.
import { isUtf8 } from 'node:buffer';
import { REASON_WIRE_CODES, Reason, formatReasonMessage } from '../../../src/jsonrpc/errors.js';
import type { EngineLimits } from '../../../src/jsonrpc/js.js';
import {
  FLAG_BODY_IS_REPLY,
  FLAG_IN_BATCH,
  FLAG_META_REPEATED,
  FLAG_METHOD_ESCAPED,
  FLAG_NAME_ESCAPED,
  FLAG_PARAMS_SPANNED,
  ID_KIND_SHIFT,
  ID_NONE,
  ID_NULL,
  ID_NUMBER,
  ID_STRING,
  KIND_BATCH,
  KIND_ERROR_RESPONSE,
  KIND_INVALID,
  KIND_NOTIFICATION,
  KIND_REQUEST,
  KIND_RESPONSE,
  RECORD_STRIDE,
} from '../../../src/jsonrpc/records.js';
import { writeError } from '../../../src/jsonrpc/response.js';
import type { Routes } from './impls.js';

type NodeType = 'object' | 'array' | 'string' | 'number' | 'true' | 'false' | 'null';

/** A value of the text, by UTF-16 index: [s, e). */
export interface RawNode {
  type: NodeType;
  s: number;
  e: number;
  members?: RawMember[];
  elements?: RawNode[];
}

export interface RawMember {
  key: string; // unescaped (JSON.parse of the key token)
  value: RawNode;
}

class Problem {
  constructor(readonly reason: number) {}
}

/** Walks text that JSON.parse accepted; throws Problem for a lone surrogate escape or too deep nesting. */
class RawWalk {
  private i = 0;

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  top(): RawNode {
    const node = this.value(1);
    this.ws();
    if (this.i !== this.text.length) throw new Error('oracle: JSON.parse accepted trailing text?');
    return node;
  }

  private ws(): void {
    const t = this.text;
    while (this.i < t.length && (t[this.i] === ' ' || t[this.i] === '\t' || t[this.i] === '\n' || t[this.i] === '\r')) this.i++;
  }

  /** A value at this.i; `depth` is the depth it has if it is a container. */
  private value(depth: number): RawNode {
    this.ws();
    const t = this.text;
    const s = this.i;
    const c = t[s];
    if (c === '{' || c === '[') {
      if (depth > this.maxDepth) throw new Problem(Reason.too_deep);
      this.i++;
      this.ws();
      const close = c === '{' ? '}' : ']';
      const node: RawNode = c === '{' ? { type: 'object', s, e: -1, members: [] } : { type: 'array', s, e: -1, elements: [] };
      if (t[this.i] !== close) {
        for (;;) {
          if (c === '{') {
            this.ws();
            const keyStart = this.i;
            this.string();
            const key = JSON.parse(t.slice(keyStart, this.i)) as string;
            this.ws();
            this.i++; // :
            node.members!.push({ key, value: this.value(depth + 1) });
          } else {
            node.elements!.push(this.value(depth + 1));
          }
          this.ws();
          if (t[this.i] === ',') {
            this.i++;
            continue;
          }
          break;
        }
      }
      this.i++; // the closing bracket
      node.e = this.i;
      return node;
    }
    if (c === '"') {
      this.string();
      return { type: 'string', s, e: this.i };
    }
    if (c === 't' || c === 'n') {
      this.i += 4;
      return { type: c === 't' ? 'true' : 'null', s, e: this.i };
    }
    if (c === 'f') {
      this.i += 5;
      return { type: 'false', s, e: this.i };
    }
    while (this.i < t.length && '-+.eE0123456789'.includes(t[this.i]!)) this.i++;
    return { type: 'number', s, e: this.i };
  }

  /** Skips the string at this.i; throws for an escaped lone surrogate. */
  private string(): void {
    const t = this.text;
    let i = this.i + 1;
    for (;;) {
      const c = t[i];
      if (c === '"') break;
      if (c !== '\\') {
        i++;
        continue;
      }
      if (t[i + 1] !== 'u') {
        i += 2;
        continue;
      }
      const unit = parseInt(t.slice(i + 2, i + 6), 16);
      if (unit >= 0xdc00 && unit <= 0xdfff) throw new Problem(Reason.invalid_json);
      if (unit >= 0xd800 && unit <= 0xdbff) {
        const low = t[i + 6] === '\\' && t[i + 7] === 'u' ? parseInt(t.slice(i + 8, i + 12), 16) : -1;
        if (!(low >= 0xdc00 && low <= 0xdfff)) throw new Problem(Reason.invalid_json);
        i += 12;
      } else {
        i += 6;
      }
    }
    this.i = i + 1;
  }
}

/**
 * The deepest nesting of `bytes` counted the way simdjson's stage 1 sees strings (a backslash escapes
 * the next byte, every other quote toggles). When this is within maxDepth, too_deep is impossible.
 */
function naiveDepth(bytes: Uint8Array): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x5c) i++;
    else if (b === 0x22) inString = !inString;
    else if (!inString && (b === 0x7b || b === 0x5b)) deepest = Math.max(deepest, ++depth);
    else if (!inString && (b === 0x7d || b === 0x5d)) depth--;
  }
  return deepest;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** What a scan() must produce. */
export interface Expected {
  records: Int32Array;
  replies: Uint8Array;
  /** JSON.parse accepted the message; `parsed` is its result. */
  parsedOk: boolean;
  parsed?: unknown;
  /** JSON.parse refused the message, and nesting deeper than maxDepth comes before the error or not:
   * the oracle does not know which, so too_deep is as good as invalid_json here. */
  tooDeepAllowed: boolean;
  /** The same expectation with the reason too_deep (when tooDeepAllowed). */
  alternative?: { records: Int32Array; replies: Uint8Array };
}

class Builder {
  readonly records: number[] = [];
  private readonly replies: Uint8Array[] = [];
  private replyLength = 0;
  /** The `_meta` text of the closest earlier record with one (section 7, META_REPEATED); the message is
   * valid UTF-8, so equal text is equal bytes. */
  private lastMeta: string | null = null;

  constructor(
    private readonly limits: EngineLimits,
    private readonly toByte: (index: number) => number,
    private readonly text: string,
  ) {}

  record(fields: number[]): void {
    if (fields.length !== RECORD_STRIDE) throw new Error('oracle: bad record');
    this.records.push(...fields);
  }

  span(node: RawNode | null | undefined, inner = false): [number, number] {
    if (node === null || node === undefined) return [-1, -1];
    return inner ? [this.toByte(node.s + 1), this.toByte(node.e - 1)] : [this.toByte(node.s), this.toByte(node.e)];
  }

  /** An invalid record over bytes [start, end) (or -1); `id` is the raw id reused by the reply, or null. */
  invalid(reason: number, flags: number, start: number, end: number, id: RawNode | null): void {
    const code = REASON_WIRE_CODES[reason]!;
    const reply = encoder.encode(writeError(id === null ? null : this.text.slice(id.s, id.e), code, formatReasonMessage(reason, this.limits)));
    const idKind = id === null ? ID_NULL : id.type === 'string' ? ID_STRING : ID_NUMBER;
    const [idStart, idEnd] = this.span(id);
    this.record([
      KIND_INVALID,
      flags | FLAG_BODY_IS_REPLY | (idKind << ID_KIND_SHIFT),
      start,
      end,
      idStart,
      idEnd,
      -1,
      -1,
      this.replyLength,
      this.replyLength + reply.length,
      -1,
      -1,
      -1,
      -1,
      code,
      reason,
      -1,
      -1,
      -1,
      -1,
    ]);
    this.replies.push(reply);
    this.replyLength += reply.length;
  }

  /** META_REPEATED for a request or notification whose `_meta` is `meta`, remembering it for the next. */
  metaRepeated(meta: RawNode | null): number {
    if (meta === null) return 0;
    const bytes = this.text.slice(meta.s, meta.e);
    const repeated = bytes === this.lastMeta;
    this.lastMeta = bytes;
    return repeated ? FLAG_META_REPEATED : 0;
  }

  done(): { records: Int32Array; replies: Uint8Array } {
    const replies = new Uint8Array(this.replyLength);
    let at = 0;
    for (const r of this.replies) {
      replies.set(r, at);
      at += r.length;
    }
    return { records: Int32Array.from(this.records), replies };
  }
}

const isWs = (b: number | undefined): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
const own = <T>(table: Record<string, T>, key: string): T | undefined => (Object.hasOwn(table, key) ? table[key] : undefined);

/** The records and replies scan(bytes) must give under `limits` and `routes`. */
export function scanOracle(bytes: Uint8Array, limits: EngineLimits, routes: Routes): Expected {
  const whole = (reason: number, start: number, end: number): { records: Int32Array; replies: Uint8Array } => {
    const b = new Builder(limits, () => -1, '');
    b.invalid(reason, 0, start, end, null);
    return b.done();
  };
  if (bytes.length > limits.maxMessageBytes) return { ...whole(Reason.too_large, -1, -1), parsedOk: false, tooDeepAllowed: false };
  let start = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  let end = bytes.length;
  while (start < end && isWs(bytes[start])) start++;
  while (end > start && isWs(bytes[end - 1])) end--;
  if (start === end) return { ...whole(Reason.invalid_json, start, end), parsedOk: false, tooDeepAllowed: false };
  const message = bytes.subarray(start, end);
  if (!isUtf8(message)) return { ...whole(Reason.invalid_utf8, start, end), parsedOk: false, tooDeepAllowed: false };
  const text = decoder.decode(message);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const tooDeepAllowed = naiveDepth(message) > limits.maxDepth;
    return {
      ...whole(Reason.invalid_json, start, end),
      parsedOk: false,
      tooDeepAllowed,
      alternative: tooDeepAllowed ? whole(Reason.too_deep, start, end) : undefined,
    };
  }
  let root: RawNode;
  try {
    root = new RawWalk(text, limits.maxDepth).top();
  } catch (err) {
    if (!(err instanceof Problem)) throw err;
    return { ...whole(err.reason, start, end), parsedOk: true, parsed, tooDeepAllowed: false };
  }

  // UTF-16 index -> byte offset in `bytes`.
  const toByteTable = new Int32Array(text.length + 1);
  let b = start;
  for (let i = 0; i < text.length; i++) {
    toByteTable[i] = b;
    const unit = text.charCodeAt(i);
    if (unit < 0x80) b += 1;
    else if (unit < 0x800) b += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff) {
      b += 4;
      toByteTable[++i] = b; // never a span boundary
    } else b += 3;
  }
  toByteTable[text.length] = b;
  const builder = new Builder(limits, (index) => toByteTable[index]!, text);
  classifyTop(builder, root, text, limits, routes, start, end);
  return { ...builder.done(), parsedOk: true, parsed, tooDeepAllowed: false };
}

function classifyTop(out: Builder, root: RawNode, text: string, limits: EngineLimits, routes: Routes, start: number, end: number): void {
  if (root.type === 'object') return classifyMessage(out, root, text, routes, 0);
  if (root.type !== 'array') return out.invalid(Reason.not_object, 0, start, end, null);
  const elements = root.elements!;
  if (!limits.allowBatch) return out.invalid(Reason.batch_not_allowed, 0, start, end, null);
  if (elements.length === 0) return out.invalid(Reason.empty_batch, 0, start, end, null);
  if (elements.length > limits.maxBatch) return out.invalid(Reason.batch_too_large, 0, start, end, null);
  out.record([KIND_BATCH, 0, start, end, -1, -1, -1, -1, -1, -1, elements.length, -1, -1, -1, 0, 0, -1, -1, -1, -1]);
  for (const element of elements) {
    if (element.type === 'object') classifyMessage(out, element, text, routes, FLAG_IN_BATCH);
    else out.invalid(Reason.not_object, FLAG_IN_BATCH, ...out.span(element), null);
  }
}

const stringValue = (text: string, node: RawNode): string => JSON.parse(text.slice(node.s, node.e)) as string;

function isErrorObject(text: string, node: RawNode): boolean {
  if (node.type !== 'object') return false;
  const codes = node.members!.filter((m) => m.key === 'code');
  const messages = node.members!.filter((m) => m.key === 'message');
  if (codes.length !== 1 || messages.length !== 1) return false;
  const code = codes[0]!.value;
  return code.type === 'number' && !/[.eE]/.test(text.slice(code.s, code.e)) && messages[0]!.value.type === 'string';
}

function classifyMessage(out: Builder, node: RawNode, text: string, routes: Routes, flags: number): void {
  const [start, end] = out.span(node);
  const members = node.members!;
  const find = (name: string): RawMember[] => members.filter((m) => m.key === name);
  const ids = find('id');
  const id = ids[0]?.value;
  const replyId = ids.length === 1 && (id!.type === 'string' || id!.type === 'number') ? id! : null;
  const reject = (reason: number): void => out.invalid(reason, flags, start, end, replyId);

  // 1. duplicate member names
  if (new Set(members.map((m) => m.key)).size !== members.length) return reject(Reason.duplicate_key);
  // 2. version
  const version = find('jsonrpc')[0]?.value;
  if (version === undefined || version.type !== 'string' || stringValue(text, version) !== '2.0') return reject(Reason.bad_version);
  // 3. id type
  if (id !== undefined && id.type !== 'string' && id.type !== 'number' && id.type !== 'null') return reject(Reason.bad_id);
  const method = find('method')[0]?.value;
  const params = find('params')[0]?.value;
  const result = find('result')[0]?.value;
  const error = find('error')[0]?.value;
  // 4. shape
  if (method !== undefined && result === undefined && error === undefined) {
    // 5. request or notification
    if (method.type !== 'string') return reject(Reason.bad_method);
    if (params !== undefined && params.type !== 'object' && params.type !== 'array') return reject(Reason.bad_params);
    if (id !== undefined && id.type === 'null') return reject(Reason.bad_id);
    // 6. routing, and check 7
    const methodText = stringValue(text, method);
    const route = own(routes.methods, methodText);
    let nameNode: RawNode | null = null;
    let nameSlot = -1;
    if (route !== undefined && route.table !== undefined && params?.type === 'object') {
      const field = route.table === 1 ? 'uri' : 'name';
      const named = params.members!.filter((m) => m.key === field);
      if (named.length > 1) return reject(Reason.duplicate_key);
      if (named.length === 1 && named[0]!.value.type === 'string') {
        nameNode = named[0]!.value;
        nameSlot = own(routes.names[String(route.table)] ?? {}, stringValue(text, nameNode)) ?? -1;
      }
    }
    const [methodStart, methodEnd] = out.span(method, true);
    const [nameStart, nameEnd] = out.span(nameNode, true);
    let recordFlags = flags;
    if (text.slice(method.s, method.e).includes('\\')) recordFlags |= FLAG_METHOD_ESCAPED;
    if (nameNode !== null && text.slice(nameNode.s, nameNode.e).includes('\\')) recordFlags |= FLAG_NAME_ESCAPED;
    const idKind = id === undefined ? ID_NONE : id.type === 'string' ? ID_STRING : ID_NUMBER;
    // Section 7: "arguments" and "_meta" of an object params, and whether params is exactly the
    // routed name (as captured), "arguments" and "_meta", each at most once.
    let argsNode: RawNode | null = null;
    let metaNode: RawNode | null = null;
    if (params?.type === 'object') {
      const members = params.members!;
      const args = members.filter((m) => m.key === 'arguments');
      const meta = members.filter((m) => m.key === '_meta');
      if (args.length === 1) argsNode = args[0]!.value;
      if (meta.length === 1) metaNode = meta[0]!.value;
      const routedKey = nameNode === null ? null : route!.table === 1 ? 'uri' : 'name';
      const spanned =
        args.length <= 1 &&
        meta.length <= 1 &&
        members.every((m) => m.key === 'arguments' || m.key === '_meta' || (m.key === routedKey && m.value === nameNode));
      if (spanned) recordFlags |= FLAG_PARAMS_SPANNED;
    }
    recordFlags |= out.metaRepeated(metaNode);
    out.record([
      id === undefined ? KIND_NOTIFICATION : KIND_REQUEST,
      recordFlags | (idKind << ID_KIND_SHIFT),
      start,
      end,
      ...out.span(id),
      methodStart,
      methodEnd,
      ...out.span(params),
      route === undefined ? -1 : route.slot,
      nameSlot,
      nameStart,
      nameEnd,
      0,
      0,
      ...out.span(argsNode),
      ...out.span(metaNode),
    ]);
    return;
  }
  if (method !== undefined || (result !== undefined) === (error !== undefined)) return reject(Reason.bad_shape);
  // 6. responses
  if (id === undefined || (result !== undefined && id.type === 'null')) return reject(Reason.bad_id);
  if (error !== undefined && !isErrorObject(text, error)) return reject(Reason.bad_error);
  const idKind = id.type === 'string' ? ID_STRING : id.type === 'number' ? ID_NUMBER : ID_NULL;
  out.record([
    result !== undefined ? KIND_RESPONSE : KIND_ERROR_RESPONSE,
    flags | (idKind << ID_KIND_SHIFT),
    start,
    end,
    ...out.span(id),
    -1,
    -1,
    ...out.span(result ?? error),
    -1,
    -1,
    -1,
    -1,
    0,
    0,
    -1,
    -1,
    -1,
    -1,
  ]);
}

