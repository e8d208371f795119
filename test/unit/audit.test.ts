// The audit log (src/ops/audit*.ts): canonical JSON, the writer's chain (resumed across restarts,
// refused when the file's last record does not check out, bounded when the disk is slow), verify
// naming the first bad line for each kind of tampering, and the observer's entries.
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { argumentsDigest, canonicalJson, readAuditKey, recordMac } from '../../src/ops/audit-chain.js';
import type { AuditEntry } from '../../src/ops/audit-chain.js';
import { AuditWriter } from '../../src/ops/audit.js';
import { auditObserver } from '../../src/ops/audit-observer.js';
import { verifyAuditLog } from '../../src/ops/audit-verify.js';
import { handleNotification, handleRequest } from '../../src/server/dispatch.js';
import type { RequestEnv } from '../../src/server/dispatch.js';
import { ErrorCode } from '../../src/server/protocol.js';
import { McpServer } from '../../src/server/server.js';
import { Session } from '../../src/server/session.js';
import { FakeChannel } from './helpers/fake-channel.js';

const dir = mkdtempSync(join(tmpdir(), 'fastermcp-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
const newFile = (): string => join(dir, `audit-${++fileNo}.jsonl`);
const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 8);

function entry(i: number): AuditEntry {
  return { time: new Date(1_700_000_000_000 + i).toISOString(), subject: 'alice', tool: `t${i}`, args: argumentsDigest({ i }), outcome: 'ok', ms: 1, cost: 1 };
}

async function writeLog(path: string, n: number, key = KEY): Promise<string[]> {
  const w = await AuditWriter.open(path, key);
  for (let i = 1; i <= n; i++) expect(w.append(entry(i))).toBe(true);
  await w.close();
  return readFileSync(path, 'utf8').split('\n').slice(0, -1);
}

function rewrite(path: string, lines: string[]): string {
  const copy = `${path}.copy${++fileNo}`;
  writeFileSync(copy, lines.map((l) => l + '\n').join(''));
  return copy;
}

describe('canonical JSON and digests', () => {
  it('sorts keys at every depth, keeps array order, drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' }, u: undefined })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
    expect(argumentsDigest({ a: 1, b: 2 })).toBe(argumentsDigest({ b: 2, a: 1 }));
    expect(argumentsDigest({ a: 1 })).not.toBe(argumentsDigest({ a: 2 }));
    expect(argumentsDigest(undefined)).toBe(argumentsDigest({}));
  });

  it('a key file needs 32 bytes; one trailing newline is not part of the key', () => {
    const short = join(dir, 'short.key');
    writeFileSync(short, 'x'.repeat(31) + '\n');
    expect(() => readAuditKey(short)).toThrow(/holds 31 bytes; it needs at least 32/);
    const ok = join(dir, 'ok.key');
    writeFileSync(ok, 'k'.repeat(40) + '\n');
    expect(readAuditKey(ok)).toEqual(Buffer.from('k'.repeat(40)));
  });
});

describe('AuditWriter and verify', () => {
  it('writes a chain that verifies: seq from 1, prev linking each mac, mac over the rest', async () => {
    const path = newFile();
    const lines = await writeLog(path, 4);
    const records = lines.map((l) => JSON.parse(l));
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(records[0].prev).toBeNull();
    for (let i = 1; i < 4; i++) expect(records[i].prev).toBe(records[i - 1].mac);
    for (const r of records) expect(recordMac(KEY, r)).toBe(r.mac);
    expect(records[2].tool).toBe('t3');
    const verdict = await verifyAuditLog(path, KEY);
    expect(verdict).toEqual({ ok: true, records: 4, last: { seq: 4, mac: records[3].mac } });
  });

  it('names the first bad line: edited, removed (first, middle), reordered, damaged, wrong key', async () => {
    const path = newFile();
    const lines = await writeLog(path, 5);
    const edited = [...lines];
    edited[2] = edited[2]!.replace('"t3"', '"t9"');
    const cases: [string, string, number, RegExp][] = [
      ['edited', rewrite(path, edited), 3, /mac mismatch: the record was edited/],
      ['first removed', rewrite(path, lines.slice(1)), 1, /first record has seq 2/],
      ['middle removed', rewrite(path, [...lines.slice(0, 2), ...lines.slice(3)]), 3, /seq 4 follows seq 2: records were removed or reordered/],
      ['pair reordered', rewrite(path, [lines[0]!, lines[2]!, lines[1]!, lines[3]!, lines[4]!]), 2, /seq 3 follows seq 1/],
      ['damaged', rewrite(path, [...lines.slice(0, 4), lines[4]!.slice(0, 30)]), 5, /not valid JSON/],
      ['blank line', rewrite(path, [...lines.slice(0, 2), '', ...lines.slice(2)]), 3, /an empty line/],
    ];
    for (const [what, file, line, reason] of cases) {
      const verdict = await verifyAuditLog(file, KEY);
      expect(verdict.ok, what).toBe(false);
      if (!verdict.ok) {
        expect(verdict.line, what).toBe(line);
        expect(verdict.reason, what).toMatch(reason);
      }
    }
    const wrongKey = await verifyAuditLog(path, OTHER_KEY);
    expect(wrongKey).toMatchObject({ ok: false, line: 1, reason: expect.stringMatching(/mac mismatch/) });
  });

  it('a record swapped in with a forged seq still fails: its prev does not match', async () => {
    const path = newFile();
    const lines = await writeLog(path, 3);
    // Re-mac a record under the right key but keep a wrong prev: only prev catches it.
    const r = JSON.parse(lines[2]!);
    r.prev = 'f'.repeat(64);
    r.mac = recordMac(KEY, r);
    const verdict = await verifyAuditLog(rewrite(path, [lines[0]!, lines[1]!, JSON.stringify(r)]), KEY);
    expect(verdict).toMatchObject({ ok: false, line: 3, reason: expect.stringMatching(/prev does not match/) });
  });

  it('resumes the chain across writer restarts', async () => {
    const path = newFile();
    await writeLog(path, 3);
    const w = await AuditWriter.open(path, KEY);
    expect(w.last.seq).toBe(3);
    w.append(entry(4));
    w.append(entry(5));
    await w.close();
    const w2 = await AuditWriter.open(path, KEY);
    w2.append(entry(6));
    await w2.close();
    const verdict = await verifyAuditLog(path, KEY);
    expect(verdict).toMatchObject({ ok: true, records: 6, last: { seq: 6 } });
  });

  it('refuses to continue a file whose last record is edited, torn or under another key', async () => {
    const path = newFile();
    const lines = await writeLog(path, 2);
    await expect(AuditWriter.open(path, OTHER_KEY)).rejects.toThrow(/does not match its mac under this key/);
    const edited = rewrite(path, [lines[0]!, lines[1]!.replace('"t2"', '"tX"')]);
    await expect(AuditWriter.open(edited, KEY)).rejects.toThrow(/last record \(seq 2\) does not match/);
    const torn = rewrite(path, lines);
    appendFileSync(torn, lines[0]!.slice(0, 20));
    await expect(AuditWriter.open(torn, KEY)).rejects.toThrow(/last line is incomplete/);
    const junk = rewrite(path, [...lines, '{"hello":1}']);
    await expect(AuditWriter.open(junk, KEY)).rejects.toThrow(/not an audit record/);
    // The refused files are left untouched.
    expect(readFileSync(edited, 'utf8').split('\n')).toHaveLength(3);
  });

  it('bounds memory: past maxPendingBytes entries are dropped and a chained record counts them', async () => {
    const path = newFile();
    const w = await AuditWriter.open(path, KEY, { maxPendingBytes: 1 });
    expect(w.append(entry(1))).toBe(true); // the queue was empty
    expect(w.append(entry(2))).toBe(false);
    expect(w.append(entry(3))).toBe(false);
    await w.flush();
    expect(w.append(entry(4))).toBe(true);
    await w.close();
    expect(w.dropped).toBe(2);
    const records = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(records.map((r) => [r.seq, r.tool ?? r.event, r.count])).toEqual([
      [1, 't1', undefined],
      [2, 'dropped', 2],
      [3, 't4', undefined],
    ]);
    expect(await verifyAuditLog(path, KEY)).toMatchObject({ ok: true, records: 3 });
  });

  it.skipIf(!existsSync('/dev/full'))('stops on a write error, reports it once, and counts later entries as dropped', async () => {
    const errors: Error[] = [];
    const w = await AuditWriter.open('/dev/full', KEY, { onError: (e) => errors.push(e) });
    expect(w.append(entry(1))).toBe(true);
    await expect(w.flush()).rejects.toThrow(/ENOSPC/);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/write failed, auditing stopped: .*ENOSPC/);
    expect(w.append(entry(2))).toBe(false);
    expect(w.dropped).toBe(2); // the one lost in the failed batch, and the one after
    await w.close();
  });

  it('after close, entries are dropped, not written', async () => {
    const path = newFile();
    const w = await AuditWriter.open(path, KEY);
    await w.close();
    expect(w.append(entry(1))).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('');
  });
});

describe('auditObserver', () => {
  it('hands one plain entry per tools/call to the sink: subject, session, tool, digest, outcome, code, cost', async () => {
    const server = new McpServer({ name: 's', version: '1' });
    server.tool('cheap', {}, () => 'fine');
    server.tool('dear', { cost: 5 }, () => {
      throw new Error('boom');
    });
    const session = new Session({ requestTimeoutMs: 1000 });
    const env: RequestEnv = { session, channel: new FakeChannel(), auth: { subject: 'alice', scopes: [] }, signal: undefined };
    handleRequest(server, env, '0', 'initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } });
    handleNotification(env, 'notifications/initialized', undefined);
    const entries: AuditEntry[] = [];
    server.observe(auditObserver(server, { append: (e) => entries.push(e) }));

    await handleRequest(server, env, '1', 'tools/call', { name: 'cheap', arguments: { b: 2, a: 1 } });
    await handleRequest(server, env, '2', 'tools/call', { name: 'dear', arguments: {} });
    await handleRequest(server, env, '3', 'tools/call', { name: 'nope' });
    await handleRequest(server, env, '4', 'tools/list', {});

    expect(entries).toHaveLength(3); // tools/list is not audited
    expect(entries[0]).toMatchObject({ subject: 'alice', session: session.id, tool: 'cheap', args: argumentsDigest({ a: 1, b: 2 }), outcome: 'ok', cost: 1 });
    expect(entries[0]!.code).toBeUndefined();
    expect(entries[1]).toMatchObject({ tool: 'dear', outcome: 'tool_error', cost: 5 });
    expect(entries[2]).toMatchObject({ tool: 'nope', outcome: 'error', code: ErrorCode.InvalidParams, cost: 1 });
    for (const e of entries) {
      expect(typeof e.ms).toBe('number');
      expect(new Date(e.time).toISOString()).toBe(e.time);
      expect(JSON.parse(JSON.stringify(e))).toEqual(e); // plain JSON, ready for IPC
    }
  });
});

describe('canonicalJson agrees with JSON.stringify on values with sorted keys', () => {
  it.each([
    ['escapes', { 'q"uote': 'back\\slash', ctl: '\u0001\n\t', lone: '\ud800x', pair: '😀', sep: '\u2028' }],
    ['numbers', { a: 1.5, b: -0, c: 1e21, d: NaN, e: Infinity, f: 0.1 + 0.2 }],
    ['nesting', { z: [1, 'two', null, true, false, { y: [], x: {} }], a: { c: undefined, b: new Date(0) } }],
  ])('%s', (_what, value) => {
    const sorted = (v: unknown): unknown =>
      v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])]))
        : Array.isArray(v) ? v.map(sorted) : v;
    expect(canonicalJson(value)).toBe(JSON.stringify(sorted(value)));
  });
});
