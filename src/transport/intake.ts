// From engine records to messages: the one place where transports turn the JSON-RPC engine's
// records (docs/jsonrpc-engine.md section 7) into what dispatch.ts takes. Everything a message
// needs is copied out here, synchronously, because the engine reuses its buffers on the next call.
import { isAscii } from 'node:buffer';
import {
  ARGS_END,
  ARGS_START,
  BODY_END,
  BODY_START,
  END,
  FLAGS,
  FLAG_IN_BATCH,
  FLAG_LIMITED,
  FLAG_META_REPEATED,
  LIMITED_REMAINING,
  LIMITED_RESET,
  LIMITED_RETRY_AFTER,
  LIMITED_RULE,
  FLAG_METHOD_ESCAPED,
  FLAG_NAME_ESCAPED,
  FLAG_PARAMS_SPANNED,
  FLAG_SRC_CARRY,
  ID_END,
  ID_START,
  KIND,
  KIND_BATCH,
  KIND_ERROR_RESPONSE,
  KIND_INVALID,
  KIND_NOTIFICATION,
  KIND_REQUEST,
  KIND_RESPONSE,
  MAX_READ_ARGUMENTS_BYTES,
  META_END,
  META_START,
  METHOD_END,
  METHOD_START,
  NAME_END,
  NAME_SLOT,
  NAME_START,
  NAME_TABLE_PROMPTS,
  NAME_TABLE_RESOURCES,
  NAME_TABLE_TOOLS,
  REASON,
  REASON_NAMES,
  RECORD_STRIDE,
  SLOT,
  START,
  buildArguments,
  createRouter,
} from '../jsonrpc/index.js';
import type { Engine, NameTable, Router } from '../jsonrpc/index.js';
import type { ReasonName } from '../jsonrpc/errors.js';
import type { Admission, Denial } from '../ratelimit/admission.js';
import { METHOD_SLOTS } from '../server/protocol.js';
import { SharedJson } from '../server/shared-json.js';

/** Admission for one read: the server's rules and quotas, and who is calling. */
export interface Gate {
  readonly admission: Admission;
  readonly client: string;
  /** The engine admitted the requests itself (refused ones are FLAG_LIMITED records). */
  readonly fused: boolean;
}

/** What each native engine was last given for fused admission (to set it only when it changes). */
const fusedState = new WeakMap<Engine, { admission: Admission | undefined; client: string | undefined }>();
/** Engines ever given fused admission (lets a server without limits skip the lookup). */
let fusedEngines = 0;

export interface RequestMessage {
  kind: 'request';
  idRaw: string;
  method: string;
  params: unknown;
}

export type Message =
  | RequestMessage
  | { kind: 'notification'; method: string; params: unknown }
  | { kind: 'response'; idRaw: string; message: Record<string, unknown> }
  /** The engine already wrote the whole error reply (parse error, invalid request, too large); `reason` says why. */
  | { kind: 'invalid'; reply: string; reason: Exclude<ReasonName, 'ok'> }
  /** A rate-limit rule or quota refused the request (src/ratelimit/admission.ts): answer with `denial`. */
  | { kind: 'limited'; denial: Denial }
  /** Cluster-mode admission still asking Redis: run `request` if `admitted` resolves undefined, else answer the denial. */
  | { kind: 'deferred'; request: RequestMessage; admitted: Promise<Denial | undefined> }
  | { kind: 'batch'; items: Message[] };

const LIMITED_FIELDS = { rule: LIMITED_RULE, retryAfter: LIMITED_RETRY_AFTER, remaining: LIMITED_REMAINING, reset: LIMITED_RESET, slot: SLOT, nameSlot: NAME_SLOT };

/** Every method the server knows, by router slot: the engine resolves them without a string. */
const METHODS = METHOD_SLOTS;

/**
 * The methods whose params name a tool, prompt or resource, and the name table that routes them: the
 * engine then captures that member (NAME) and can mark params as spanned (docs/jsonrpc-engine.md
 * section 7), and refuses a request that names two. ROUTED_BY_URI says which member (uri, else name), by method slot.
 */
const ROUTED: Readonly<Record<string, NameTable>> = {
  'tools/call': NAME_TABLE_TOOLS,
  'prompts/get': NAME_TABLE_PROMPTS,
  'resources/read': NAME_TABLE_RESOURCES,
  'resources/subscribe': NAME_TABLE_RESOURCES,
  'resources/unsubscribe': NAME_TABLE_RESOURCES,
};
const ROUTED_BY_URI: readonly boolean[] = METHODS.map((m) => ROUTED[m] === NAME_TABLE_RESOURCES);

/**
 * The rate-limit client of an HTTP request: the authenticated subject, else the remote address. The
 * prefixes keep a subject that looks like an address apart from the address.
 */
export function clientKey(auth: { readonly subject: string } | undefined, remoteAddress: string | undefined): string {
  return auth !== undefined ? `s:${auth.subject}` : `a:${remoteAddress ?? ''}`;
}

/**
 * The gate for one read: undefined when the server has no limits. The first time an admission meets a
 * router, it fills the router's name tables (the ids its rules key on), and keeps them current.
 */
export function gateFor(admission: Admission | undefined, router: Router, client: string, engine: Engine): Gate | undefined {
  if (admission === undefined && fusedEngines === 0) return undefined; // the usual case: no limits anywhere
  const fuse = admission !== undefined && admission.fusable && engine.setAdmission !== undefined;
  const state = engine.setAdmission === undefined ? undefined : fusedState.get(engine);
  if (state !== undefined || fuse) {
    // A native engine: hand it the rule set (or take it away) when the server's limits change.
    const wanted = fuse ? admission : undefined;
    const s = state ?? { admission: undefined, client: undefined };
    if (s.admission !== wanted) {
      engine.setAdmission!(wanted === undefined ? null : wanted.nativeRuleSet, wanted === undefined ? [] : wanted.replyParts());
      if (state === undefined) fusedEngines++;
      s.admission = wanted;
      s.client = undefined;
      fusedState.set(engine, s);
    }
    if (fuse && s.client !== client) {
      engine.setClient!(client);
      s.client = client;
    }
  }
  if (admission === undefined) return undefined;
  admission.attach(router);
  return { admission, client, fused: fuse };
}

/** A router with every MCP method (a new one, or `router` filled); one per transport (routers are per thread). */
export function methodRouter(router: Router = createRouter()): Router {
  METHODS.forEach((method, slot) => router.setMethod(method, slot, ROUTED[method]));
  return router;
}

// Buffer's own UTF-8 slice: no view object per field, and a leading U+FEFF inside a value is kept
// (TextDecoder would drop it). The engine has already checked that the bytes are valid UTF-8.
const utf8Slice = Buffer.prototype.utf8Slice as (this: Uint8Array, start: number, end: number) => string;
const latin1Slice = Buffer.prototype.latin1Slice as (this: Uint8Array, start: number, end: number) => string;

/** V8 copies substrings shorter than this; longer ones are views that keep their whole parent alive. */
const MIN_VIEW_LENGTH = 13;

/**
 * Spans a SourceText reads one by one (a Buffer slice call each) before it decodes its whole source, when
 * that is ASCII: decoding 64 KiB costs about what a hundred slice calls do.
 */
const SPANS_BEFORE_DECODING = 16;

/**
 * The text of spans of one source. A Buffer slice call costs about 80 ns, so a source whose spans are read
 * many times (the JS twin's requests, or params parsed whole) is decoded once, when ASCII (the usual case),
 * and its spans are taken as substrings, which cost almost nothing: byte offsets are then character
 * offsets. With the native engine most requests need no text from their chunk at all (the method and name
 * are routed, the arguments read, the ids given by Engine.idText), so the chunk is decoded only once
 * SPANS_BEFORE_DECODING spans have been read from it. Texts that may be kept (ids, names) are copied when a
 * substring would be a view that keeps the whole chunk alive.
 */
class SourceText {
  /** The whole source, once decoded (ASCII only). */
  private ascii: string | undefined = undefined;
  /** Span reads left before the whole source is decoded; -1 once that has been decided. */
  private untilDecoded: number;

  /** `eager`: decode now (a source whose spans will be read); else after SPANS_BEFORE_DECODING reads. */
  constructor(
    private readonly bytes: Uint8Array,
    eager: boolean,
  ) {
    this.untilDecoded = eager ? 0 : SPANS_BEFORE_DECODING;
    if (eager) this.decode();
  }

  /** Text that is only read now (parsed, compared). */
  read(start: number, end: number): string {
    if (this.ascii === undefined && this.untilDecoded >= 0 && --this.untilDecoded < 0) this.decode();
    return this.ascii !== undefined ? this.ascii.slice(start, end) : utf8Slice.call(this.bytes, start, end);
  }

  /** Text that may outlive the chunk. */
  keep(start: number, end: number): string {
    return end - start < MIN_VIEW_LENGTH ? this.read(start, end) : this.copy(start, end);
  }

  /** A new string, whatever its length. */
  copy(start: number, end: number): string {
    return utf8Slice.call(this.bytes, start, end);
  }

  private decode(): void {
    const bytes = this.bytes;
    this.untilDecoded = -1;
    if (bytes.length > 0 && isAscii(bytes)) this.ascii = latin1Slice.call(bytes, 0, bytes.length);
  }

  /**
   * An unescaped routed name (kept: a tool's or prompt's name, a resource's URI): the last one given when its
   * bytes are the same ASCII text, else a new string. A name of MIN_VIEW_LENGTH characters or more would
   * otherwise be copied by a Buffer slice call on every request.
   */
  name(start: number, end: number): string {
    const last = lastName;
    if (end - start === last.length) {
      const bytes = this.bytes;
      let i = 0;
      for (; i < last.length; i++) {
        const c = bytes[start + i]!;
        if (c >= 0x80 || c !== last.charCodeAt(i)) break;
      }
      if (i === last.length) return last;
    }
    return (lastName = this.keep(start, end));
  }
}

/** The last name SourceText.name gave: a client mostly calls the same tools, so it is mostly the next one too. */
let lastName = '';

/**
 * Parsed `_meta` values by their JSON text. A 2026-07-28 client sends the same `_meta` (protocol
 * version, capabilities, client info) with every request, and parsing it was most of a small
 * request's cost. Requests that sent the same text share one value, so values are deeply frozen.
 * A `_meta` with a progress token is new on every request and is not kept. Bounded: at most 64
 * texts of at most 2048 characters; a full table starts over.
 */
const metaValues = new SharedJson(64, 2048);

/** The last `_meta` text looked up and its value: one comparison for a client that repeats itself. */
let lastMetaJson = '';
let lastMeta: unknown;

/**
 * The `_meta` value of a record. META_REPEATED says the engine found the same bytes in the read's
 * previous record with a `_meta`; when that one's value is shared (cached, frozen), it is this one's
 * too, without even comparing texts.
 */
function metaOf(read: ChunkRead, text: SourceText, start: number, end: number, flags: number): unknown {
  if ((flags & FLAG_META_REPEATED) !== 0 && read.lastMeta !== NOT_SHARED) return read.lastMeta;
  const value = lookupMeta(text, start, end);
  // Values from the cache are deeply frozen (so are primitives); a request's own value is not shared.
  read.lastMeta = Object.isFrozen(value) ? value : NOT_SHARED;
  return value;
}

function lookupMeta(text: SourceText, start: number, end: number): unknown {
  const json = text.read(start, end);
  if (json === lastMetaJson) return lastMeta;
  const cached = metaValues.lookup(json);
  if (cached !== undefined) {
    // Copied, as the table's keys are: a substring of the chunk would keep the whole chunk alive.
    lastMetaJson = text.copy(start, end);
    lastMeta = cached;
    return cached;
  }
  const value = JSON.parse(json) as unknown;
  if (json.length > metaValues.maxText || json.includes('"progressToken"')) return value;
  const key = text.copy(start, end);
  metaValues.keep(key, value);
  lastMetaJson = key;
  lastMeta = value;
  return value;
}

function parseSpan(text: SourceText, start: number, end: number): unknown {
  return JSON.parse(text.read(start, end));
}

function parseBody(read: ChunkRead, text: SourceText, rec: Int32Array, r: number, flags: number, slot: number): unknown {
  const start = rec[r + BODY_START]!;
  if (start < 0) return undefined;
  if ((flags & FLAG_PARAMS_SPANNED) === 0) {
    read.skipMeta(rec, r);
    return parseSpan(text, start, rec[r + BODY_END]!);
  }
  // params is just its routed name, arguments and _meta (section 7): rebuilt from those spans, so
  // only `arguments` is parsed (with the rest of the read's, see ChunkRead), and a repeated `_meta`
  // is looked up.
  // Made with its routed member as a literal: one map, where a computed key added to {} was a keyed store.
  const nameStart = rec[r + NAME_START]!;
  const params: Record<string, unknown> =
    nameStart < 0 ? {} : ROUTED_BY_URI[slot] === true ? { uri: nameOf(text, rec, r, flags) } : { name: nameOf(text, rec, r, flags) };
  const argsStart = rec[r + ARGS_START]!;
  if (argsStart >= 0) {
    const argsEnd = rec[r + ARGS_END]!;
    if (argsEnd - argsStart > MAX_READ_ARGUMENTS_BYTES) params['arguments'] = parseSpan(text, argsStart, argsEnd);
    else {
      params['arguments'] = undefined; // keeps the members in their usual order
      read.deferArguments(params, r);
    }
  }
  const metaStart = rec[r + META_START]!;
  if (metaStart >= 0) params['_meta'] = metaOf(read, text, metaStart, rec[r + META_END]!, flags);
  return params;
}

/** ChunkRead.lastMeta when there is no value a META_REPEATED record may reuse. */
const NOT_SHARED: unique symbol = Symbol('not shared');

/**
 * One readMessages call's sources, and the `arguments` of its requests. A read of many requests has the
 * native engine read their arguments (Engine.readArguments, docs/jsonrpc-engine.md section 11): one
 * JSON.parse of all their values, and objects of plain member names built by assignment under names the
 * engine keeps by id, which costs much less than JSON.parse making each object (bench/results/arguments.md).
 * With the JS engine their texts are joined into one array and parsed once (JSON.parse has a fixed cost per
 * call; the engine has validated each span, so each element is what parsing its span alone gives). A read
 * of one request parses its arguments alone, and so are arguments longer than MAX_READ_ARGUMENTS_BYTES.
 */
class ChunkRead {
  readonly chunk: SourceText;
  /**
   * The `_meta` value of the read's last record with a META span, or NOT_SHARED when there is none,
   * it was not read through metaOf, or its value is the request's own (not frozen): what a record
   * with META_REPEATED may reuse.
   */
  lastMeta: unknown = NOT_SHARED;
  private carriedText: SourceText | undefined;
  /**
   * The params waiting for their arguments and their records' offsets, `waitingCount` of them (sized for
   * every record of the read).
   */
  private waiting: Record<string, unknown>[] | undefined;
  private waitingAt: Int32Array | undefined;
  private waitingCount = 0;
  /**
   * The read's ids as one text (Engine.idText, docs/jsonrpc-engine.md section 12), or null: ids are then
   * read from their source. `idRecord` is the offset of the first record whose id is not yet counted in
   * `idAt`, the offset in `ids` where that record's id (if it has one) starts.
   */
  private readonly ids: string | null;
  private idRecord = 0;
  private idAt = 0;

  constructor(
    readonly engine: Engine,
    private readonly bytes: Uint8Array,
    private readonly records: number,
  ) {
    // A read of one request needs no more than one span: no crossing for it.
    this.ids = records > 1 && engine.readsIds ? engine.idText(bytes) : null;
    // Without the engine's ids every request reads its id from the chunk: decoded at once.
    this.chunk = new SourceText(bytes, !engine.readsIds);
  }

  /**
   * The raw id of the record at offset `r` (its ID span, from `text`), which may be kept. Records are asked
   * for in order: each id is found in `ids` after the ids of the records before it.
   */
  id(text: SourceText, rec: Int32Array, r: number): string {
    const start = rec[r + ID_START]!;
    const end = rec[r + ID_END]!;
    const ids = this.ids;
    if (ids === null || r < this.idRecord) return text.keep(start, end);
    let at = this.idAt;
    for (let q = this.idRecord; q < r; q += RECORD_STRIDE) {
      const s = rec[q + ID_START]!;
      if (s >= 0) at += rec[q + ID_END]! - s;
    }
    this.idRecord = r + RECORD_STRIDE;
    this.idAt = at + end - start;
    // A longer piece would be a view keeping the whole text alive, as long as the request is kept.
    return end - start < MIN_VIEW_LENGTH ? ids.slice(at, this.idAt) : text.copy(start, end);
  }

  /** A request or notification with a META span left unread (its params parsed whole, or refused). */
  skipMeta(rec: Int32Array, r: number): void {
    if (rec[r + META_START]! >= 0) this.lastMeta = NOT_SHARED;
  }

  /** The source of a message that began in an earlier chunk. */
  carried(): SourceText {
    return (this.carriedText ??= new SourceText(this.engine.carried(), true));
  }

  /** Has the arguments of the record at offset `r` set into `params` by finish(). */
  deferArguments(params: Record<string, unknown>, r: number): void {
    if (this.waiting === undefined) {
      // Sized once: pushing one by one grew it several times per read.
      this.waiting = new Array<Record<string, unknown>>(this.records);
      this.waitingAt = new Int32Array(this.records);
    }
    this.waiting[this.waitingCount] = params;
    this.waitingAt![this.waitingCount++] = r;
  }

  /** Reads the deferred arguments into their params. */
  finish(): void {
    const waiting = this.waiting;
    if (waiting === undefined) return;
    const at = this.waitingAt!;
    if (this.waitingCount === 1) {
      waiting[0]!['arguments'] = this.parseAlone(at[0]!);
      return;
    }
    if (!this.engine.readsArguments) {
      const all = JSON.parse('[' + this.joined() + ']') as unknown[];
      for (let i = 0; i < this.waitingCount; i++) waiting[i]!['arguments'] = all[i];
      return;
    }
    const read = this.engine.readArguments(this.bytes);
    const values = JSON.parse(read.values) as unknown[];
    for (let i = 0; i < this.waitingCount; i++) {
      const r = at[i]!;
      const built = buildArguments(read, values, r / RECORD_STRIDE);
      // Every deferred record has an entry (the engine applies parseBody's rule); parsed alone if not.
      waiting[i]!['arguments'] = built !== undefined ? built : this.parseAlone(r);
    }
  }

  /** The texts of the deferred arguments, joined by commas. */
  private joined(): string {
    const at = this.waitingAt!;
    let json = this.argsText(at[0]!);
    for (let i = 1; i < this.waitingCount; i++) json += ',' + this.argsText(at[i]!);
    return json;
  }

  private argsText(r: number): string {
    const rec = this.engine.records;
    const text = (rec[r + FLAGS]! & FLAG_SRC_CARRY) !== 0 ? this.carried() : this.chunk;
    return text.read(rec[r + ARGS_START]!, rec[r + ARGS_END]!);
  }

  private parseAlone(r: number): unknown {
    return JSON.parse(this.argsText(r));
  }
}

function nameOf(text: SourceText, rec: Int32Array, r: number, flags: number): string {
  const start = rec[r + NAME_START]!;
  const end = rec[r + NAME_END]!;
  return (flags & FLAG_NAME_ESCAPED) !== 0 ? (JSON.parse('"' + text.read(start, end) + '"') as string) : text.name(start, end);
}

function methodOf(text: SourceText, rec: Int32Array, r: number, flags: number): string {
  const slot = rec[r + SLOT]!;
  if (slot >= 0 && slot < METHODS.length) return METHODS[slot]!;
  const raw = text.keep(rec[r + METHOD_START]!, rec[r + METHOD_END]!);
  return (flags & FLAG_METHOD_ESCAPED) !== 0 ? (JSON.parse('"' + raw + '"') as string) : raw;
}

function one(read: ChunkRead, rec: Int32Array, r: number, gate: Gate | undefined): Message | null {
  const kind = rec[r + KIND]!;
  const flags = rec[r + FLAGS]!;
  if (kind === KIND_INVALID) {
    const replies = read.engine.replies();
    const reply = utf8Slice.call(replies, rec[r + BODY_START]!, rec[r + BODY_END]!);
    if ((flags & FLAG_LIMITED) !== 0 && gate !== undefined) return { kind: 'limited', denial: gate.admission.denialOf(rec, r, reply, LIMITED_FIELDS) };
    return { kind: 'invalid', reply, reason: (REASON_NAMES[rec[r + REASON]!] ?? 'invalid_json') as Exclude<ReasonName, 'ok'> };
  }
  const text = (flags & FLAG_SRC_CARRY) !== 0 ? read.carried() : read.chunk;
  switch (kind) {
    case KIND_REQUEST: {
      const idRaw = read.id(text, rec, r);
      let admitted: ReturnType<Admission['admit']>;
      if (gate === undefined) admitted = undefined;
      else if (gate.fused) {
        gate.admission.admitted++; // the engine admitted it: counted here
        admitted = undefined;
      }
      else admitted = gate.admission.admit(rec[r + SLOT]!, rec[r + NAME_SLOT]!, gate.client, idRaw);
      if (admitted === undefined) {
        return { kind: 'request', idRaw, method: methodOf(text, rec, r, flags), params: parseBody(read, text, rec, r, flags, rec[r + SLOT]!) };
      }
      if (!(admitted instanceof Promise)) {
        read.skipMeta(rec, r);
        return { kind: 'limited', denial: admitted };
      }
      // Cluster mode, a lease to claim first: the request is read now (the engine's buffers are reused).
      const request: RequestMessage = { kind: 'request', idRaw, method: methodOf(text, rec, r, flags), params: parseBody(read, text, rec, r, flags, rec[r + SLOT]!) };
      return { kind: 'deferred', request, admitted };
    }
    case KIND_NOTIFICATION:
      return { kind: 'notification', method: methodOf(text, rec, r, flags), params: parseBody(read, text, rec, r, flags, rec[r + SLOT]!) };
    case KIND_RESPONSE:
    case KIND_ERROR_RESPONSE:
      return {
        kind: 'response',
        idRaw: rec[r + ID_START]! < 0 ? 'null' : read.id(text, rec, r),
        message: parseSpan(text, rec[r + START]!, rec[r + END]!) as Record<string, unknown>,
      };
    default:
      return null;
  }
}

/** The messages of the last engine call (`count` records over `chunk`), requests admitted through `gate`. */
export function readMessages(engine: Engine, count: number, chunk: Uint8Array, gate?: Gate): Message[] {
  if (count === 0) return [];
  // Sized for every record and trimmed at the end: pushing one by one grew it several times per read.
  const out = new Array<Message>(count);
  let n = 0;
  const rec = engine.records;
  const read = new ChunkRead(engine, chunk, count);
  for (let i = 0; i < count; ) {
    const r = i * RECORD_STRIDE;
    if (rec[r + KIND] === KIND_BATCH) {
      const items: Message[] = [];
      let j = i + 1;
      for (; j < count && (rec[j * RECORD_STRIDE + FLAGS]! & FLAG_IN_BATCH) !== 0; j++) {
        const m = one(read, rec, j * RECORD_STRIDE, gate);
        if (m !== null) items.push(m);
      }
      out[n++] = { kind: 'batch', items };
      i = j;
      continue;
    }
    const m = one(read, rec, r, gate);
    if (m !== null) out[n++] = m;
    i++;
  }
  out.length = n;
  read.finish();
  return out;
}
