// The audit log's record format and hash chain, shared by the writer (src/ops/audit.ts) and
// `fastermcp audit verify` (src/ops/audit-verify.ts).
//
// One record per JSON line. Each carries `seq` (1 for the first line of a file, then +1), `prev` (the
// previous record's mac, null on the first line) and `mac` = HMAC-SHA256(key, canonical JSON of the
// record without mac), hex. Canonical JSON sorts object keys at every depth and writes no whitespace,
// so the mac does not depend on how a record was serialised.
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** What the observer hands a sink: plain JSON, no chain fields (a worker can send it over IPC). */
export interface AuditEntry {
  /** When the call arrived (ISO 8601). */
  time: string;
  /** The authenticated principal's subject, or null. */
  subject: string | null;
  /** The legacy session id, when the call had one. */
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

/** Canonical JSON: keys sorted at every depth, no whitespace; undefined members are left out. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`canonicalJson: ${typeof value} is not JSON`);
    return text;
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(obj).sort()) {
    const v = obj[key];
    if (v === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}

/** SHA-256 (hex) of the canonical JSON of a call's arguments. */
export function argumentsDigest(args: unknown): string {
  return createHash('sha256')
    .update(canonicalJson(args ?? {}))
    .digest('hex');
}

/** The mac of a record: over every field but `mac` itself. */
export function recordMac(key: Buffer, record: Record<string, unknown>): string {
  const { mac: _mac, ...body } = record;
  return createHmac('sha256', key).update(canonicalJson(body)).digest('hex');
}

/** Reads an audit key file: at least 32 bytes; one trailing newline (as editors add) is dropped. */
export function readAuditKey(path: string): Buffer {
  let key = readFileSync(path);
  if (key.length > 0 && key[key.length - 1] === 0x0a) key = key.subarray(0, key.length - (key.length > 1 && key[key.length - 2] === 0x0d ? 2 : 1));
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
