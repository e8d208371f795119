// The audit log's record format and hash chain, shared by the writer (src/ops/audit.ts) and
// `fastermcp audit verify` (src/ops/audit-verify.ts).
//
// One record per JSON line. Each carries `seq` (1 for the first line of a file, then +1), `prev` (the
// previous record's mac, null on the first line) and `mac` = HMAC-SHA256(key, canonical JSON of the
// record without mac), hex. Canonical JSON sorts object keys at every depth and writes no whitespace,
// so the mac does not depend on how a record was serialised.
import * as crypto from 'node:crypto';
import { createHash, createHmac } from 'node:crypto';
import { readKeyFile } from '../key-file.js';

/** What the observer hands a sink: plain JSON, no chain fields (a worker can send it over IPC). */
export interface AuditEntry {
  /** When the call arrived (ISO 8601). */
  time: string;
  /** The authenticated principal's subject, or null. */
  subject: string | null;
  /** The session id, when the call had one (an HTTP legacy session, or the stdio connection's). */
  session?: string;
  tool: string;
  /** SHA-256 (hex) of the canonical JSON of the call's arguments ({} when it had none). */
  args: string;
  outcome: 'ok' | 'error' | 'tool_error' | 'cancelled';
  /** The JSON-RPC error code, for outcome 'error'. */
  code?: number;
  ms: number;
  /** The tool's rate-limit cost (ToolDefinition.cost, default 1). */
  cost: number;
  [extra: string]: unknown;
}

/** A record as written: the entry plus its place in the chain. */
export interface AuditRecord {
  seq: number;
  prev: string | null;
  mac: string;
  [field: string]: unknown;
}

export const MIN_AUDIT_KEY_BYTES = 32;

/** Characters JSON.stringify escapes in a string (control characters, quote, backslash, lone surrogates). */
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;

/** A string as JSON text, without JSON.stringify when nothing needs escaping (most keys and values). */
function quote(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/** Canonical JSON: keys sorted at every depth, no whitespace; undefined members are left out. */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      throw new TypeError(`canonicalJson: ${typeof value} is not JSON`);
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += value[i] === undefined ? 'null' : canonicalJson(value[i]);
    }
    return out + ']';
  }
  const obj = value as Record<string, unknown>;
  if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') return canonicalJson((obj as { toJSON: () => unknown }).toJSON());
  const keys = Object.keys(obj).sort();
  let out = '{';
  for (const key of keys) {
    const v = obj[key];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    if (out.length > 1) out += ',';
    out += quote(key) + ':' + canonicalJson(v);
  }
  return out + '}';
}

/** One-shot hashing where Node has it (20.12+): half the cost of a Hash object. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

/** SHA-256 (hex) of the canonical JSON of a call's arguments. */
export function argumentsDigest(args: unknown): string {
  const text = canonicalJson(args ?? {});
  return oneShot !== undefined ? oneShot('sha256', text, 'hex') : createHash('sha256').update(text).digest('hex');
}

/** HMAC-SHA256 (hex) of a record's canonical JSON without its mac. */
export function macOf(key: Buffer, canonicalBody: string): string {
  return createHmac('sha256', key).update(canonicalBody).digest('hex');
}

/** The mac of a record: over every field but `mac` itself. */
export function recordMac(key: Buffer, record: Record<string, unknown>): string {
  const { mac: _mac, ...body } = record;
  return macOf(key, canonicalJson(body));
}

/** Reads an audit key file (src/key-file.ts: a text key's trailing newline is not part of it): at least 32 bytes. */
export function readAuditKey(path: string): Buffer {
  const key = readKeyFile(path);
  if (key.length < MIN_AUDIT_KEY_BYTES) {
    throw new RangeError(`audit key file ${path} holds ${key.length} bytes; it needs at least ${MIN_AUDIT_KEY_BYTES} (e.g. head -c 32 /dev/urandom > ${path})`);
  }
  return key;
}

/** Why one line fails to follow the previous one, or undefined when it follows. */
export function chainFault(key: Buffer, line: string, previous: { seq: number; mac: string } | undefined): string | undefined {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return 'not valid JSON (a damaged or partly written record)';
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return 'not a JSON object';
  const r = record as Record<string, unknown>;
  if (typeof r['mac'] !== 'string' || typeof r['seq'] !== 'number' || !(typeof r['prev'] === 'string' || r['prev'] === null)) {
    return 'missing seq, prev or mac';
  }
  if (recordMac(key, r) !== r['mac']) return 'mac mismatch: the record was edited (or the key is not the one it was written with)';
  if (previous === undefined) {
    if (r['seq'] !== 1 || r['prev'] !== null) return `the first record has seq ${r['seq']} (expected 1, prev null): records before it were removed`;
    return undefined;
  }
  if (r['seq'] !== previous.seq + 1) return `seq ${r['seq']} follows seq ${previous.seq}: records were removed or reordered`;
  if (r['prev'] !== previous.mac) return "prev does not match the previous record's mac: records were removed or reordered";
  return undefined;
}

/**
 * Chains an entry after `prev`: its line (JSON with the mac, no newline) and its mac. Fields named
 * seq, prev or mac in the entry are replaced. The line is the canonical body with the mac appended.
 */
export function chainEntry(key: Buffer, entry: Readonly<Record<string, unknown>>, seq: number, prev: string | null): { line: string; mac: string } {
  // The canonical body is built here directly (the entry's keys plus seq and prev, sorted) rather
  // than by copying the entry into a new object first: this runs once per audited call.
  const keys = Object.keys(entry).filter((k) => k !== 'mac' && k !== 'seq' && k !== 'prev');
  keys.push('prev', 'seq');
  keys.sort();
  let body = '{';
  for (const k of keys) {
    const v = k === 'seq' ? seq : k === 'prev' ? prev : entry[k];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    if (body.length > 1) body += ',';
    body += quote(k) + ':' + canonicalJson(v);
  }
  body += '}';
  const mac = macOf(key, body);
  return { line: `${body.slice(0, -1)},"mac":"${mac}"}`, mac };
}
