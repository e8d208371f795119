// The audit log end to end with the real CLI: `fastermcp serve --audit-log` records every tools/call
// (over stdio here), a second run continues the chain, `fastermcp audit verify` accepts the file and
// rejects edited, removed and reordered copies with exit 1 and the right line, and serve refuses to
// append to a file whose last record was tampered with.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { argumentsDigest } from '../../src/ops/audit-chain.js';

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fastermcp-audit-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const keyFile = join(dir, 'audit.key');
writeFileSync(keyFile, randomBytes(32));
const log = join(dir, 'audit.jsonl');

/** Runs `fastermcp serve --stdio` with the audit log, sends `calls` after initialize, closes stdin. */
function serveCalls(calls: { name: string; arguments: object }[], extra: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cli, 'serve', '--stdio', '--audit-log', log, '--audit-key-file', keyFile, ...extra], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const messages = [
    { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    ...calls.map((params, i) => ({ jsonrpc: '2.0', id: i + 1, method: 'tools/call', params })),
  ];
  child.stdin.end(messages.map((m) => JSON.stringify(m) + '\n').join(''));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function verify(file: string, key = keyFile): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [cli, 'audit', 'verify', file, '--audit-key-file', key], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

function copyWith(lines: string[], name: string): string {
  const file = join(dir, name);
  writeFileSync(file, lines.map((l) => l + '\n').join(''));
  return file;
}

describe('fastermcp serve --audit-log and fastermcp audit verify', () => {
  it('records every tools/call, continues the chain across runs, and verify names the first bad line', async () => {
    const first = await serveCalls([
      { name: 'echo', arguments: { text: 'one' } },
      { name: 'echo', arguments: { text: 'two' } },
      { name: 'no-such-tool', arguments: {} },
    ]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim().split('\n')).toHaveLength(4); // the replies, each answered
    const second = await serveCalls([
      { name: 'echo', arguments: { text: 'three' } },
      { name: 'echo', arguments: { text: 'four' } },
    ]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('appending after seq 3');

    const lines = readFileSync(log, 'utf8').trim().split('\n');
    const records = lines.map((l) => JSON.parse(l));
    expect(records.map((r) => [r.seq, r.tool, r.outcome])).toEqual([
      [1, 'echo', 'ok'],
      [2, 'echo', 'ok'],
      [3, 'no-such-tool', 'error'],
      [4, 'echo', 'ok'],
      [5, 'echo', 'ok'],
    ]);
    expect(records[0]).toMatchObject({ subject: null, args: argumentsDigest({ text: 'one' }), cost: 1 });
    expect(records[2].code).toBe(-32602);
    expect(records[0].session).toBe(records[1].session);
    expect(records[3].session).not.toBe(records[0].session); // another run, another stdio session

    const ok = verify(log);
    expect(ok.status, ok.out).toBe(0);
    expect(ok.out).toContain(`intact, 5 records, last seq 5 mac ${records[4].mac}`);

    const edited = [...lines];
    edited[1] = edited[1]!.replace(argumentsDigest({ text: 'two' }), argumentsDigest({ text: 'TWO' }));
    const bad: [string, string[], number, RegExp][] = [
      ['edited', edited, 2, /mac mismatch/],
      ['first-removed', lines.slice(1), 1, /records before it were removed/],
      ['middle-removed', [lines[0]!, lines[1]!, lines[3]!, lines[4]!], 3, /seq 4 follows seq 2/],
      ['reordered', [lines[0]!, lines[1]!, lines[3]!, lines[2]!, lines[4]!], 3, /seq 4 follows seq 2/],
      ['damaged', [...lines.slice(0, 3), '{"seq":4,', lines[4]!], 4, /not valid JSON/],
    ];
    for (const [name, content, line, reason] of bad) {
      const r = verify(copyWith(content, `${name}.jsonl`));
      expect(r.status, `${name}: ${r.out}`).toBe(1);
      expect(r.out, name).toContain(`: line ${line}: `);
      expect(r.out, name).toMatch(reason);
    }
    // Cutting the tail leaves a valid shorter chain: the printed anchor (seq, mac) is what shows it.
    const cut = verify(copyWith(lines.slice(0, 4), 'cut.jsonl'));
    expect(cut.status).toBe(0);
    expect(cut.out).toContain('last seq 4 ');

    const otherKey = join(dir, 'other.key');
    writeFileSync(otherKey, randomBytes(32));
    const wrongKey = verify(log, otherKey);
    expect(wrongKey.status).toBe(1);
    expect(wrongKey.out).toMatch(/line 1: mac mismatch/);
  }, 90_000);

  it('serve refuses to append to a file whose last record was edited; verify needs its key', async () => {
    const tampered = join(dir, 'tampered.jsonl');
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    writeFileSync(tampered, [...lines.slice(0, -1), lines.at(-1)!.replace('"ok"', '"error"')].map((l) => l + '\n').join(''));
    const r = spawnSync(process.execPath, [cli, 'serve', '--stdio', '--audit-log', tampered, '--audit-key-file', keyFile], { input: '', encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('does not match its mac under this key');
    expect(readFileSync(tampered, 'utf8').trim().split('\n')).toHaveLength(lines.length);

    const noKey = spawnSync(process.execPath, [cli, 'audit', 'verify', log], { encoding: 'utf8', timeout: 20_000 });
    expect(noKey.status).toBe(2);
    expect(noKey.stderr).toContain('needs --audit-key-file');
    const halfFlags = spawnSync(process.execPath, [cli, 'serve', '--stdio', '--audit-log', log], { input: '', encoding: 'utf8', timeout: 20_000 });
    expect(halfFlags.status).toBe(2);
    expect(halfFlags.stderr).toContain('--audit-log and --audit-key-file go together');
  }, 60_000);
});
