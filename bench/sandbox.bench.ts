// Sandbox call round trips, p50/p99 (issue 7 targets: warm p50 <= 200 us with every limit in force;
// a fresh-process call no slower than a plain child_process.fork round trip).
//
// Contenders, in one process, each result checked before timing:
//   warm (native launcher)   a warm sandbox process: permission model, uid drop, rlimits, seccomp,
//                            netns, cgroups as the host offers them, wall/CPU watchdogs, output bounds
//   warm (js launcher)       the same through the pure-JS launcher (no seccomp)
//   fresh, spare ready       mode 'fresh' with one pre-started spare: every call gets a new process
//   fresh, on demand         pool 0: the process starts when the call arrives (launch + node + tool)
//   child_process.fork       a bare fork(): start node, one message, one reply (no limits)
//   in-process               the same handler called directly
//
//   npm run bench -- sandbox               2000 warm calls, 30 process starts per contender
//   npm run bench -- sandbox --quick       500 / 10
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSandbox, type Sandbox } from '../src/sandbox/parent.js';
import { getLauncher, JsLauncher } from '../src/sandbox/launcher/index.js';
import type { CallToolResult } from '../src/server/types.js';

const quick = process.argv.includes('--quick');
const WARM = quick ? 500 : 2000;
const STARTS = quick ? 10 : 30;
const echoModule = fileURLToPath(new URL('../test/fixtures/sandbox/echo.mjs', import.meta.url));
const ctx = { signal: new AbortController().signal } as never;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function time(n: number, run: (i: number) => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await run(i);
    out.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  return out.sort((a, b) => a - b);
}

const rows: [string, number[]][] = [];
const text = (r: CallToolResult): string => (r.content[0] as { text: string }).text;

async function sandboxed(label: string, sandbox: Sandbox, options: object, n: number, warmup: number): Promise<void> {
  const tool = await sandbox.tool(echoModule, { name: `echo_${rows.length}`, ...options });
  const check = (await tool.handler({ text: 'check' }, ctx, undefined)) as CallToolResult;
  if (text(check) !== 'check') throw new Error(`${label}: wrong result ${JSON.stringify(check)}`);
  for (let i = 0; i < warmup; i++) await tool.handler({ text: 'w' }, ctx, undefined);
  rows.push([
    label,
    await time(n, async (i) => {
      const r = (await tool.handler({ text: `t${i}` }, ctx, undefined)) as CallToolResult;
      if (text(r) !== `t${i}`) throw new Error(`${label}: wrong result`);
    }),
  ]);
}

const launcher = getLauncher();
const native = createSandbox({ defaults: { cpuMs: 1000, wallMs: 5000, memoryMb: 128 } });
await sandboxed(`warm (${launcher.kind} launcher)`, native, { pool: 1, recycleAfter: 1_000_000 }, WARM, 200);
const js = launcher.kind === 'js' ? native : createSandbox({ launcher: new JsLauncher(), defaults: { cpuMs: 1000, wallMs: 5000, memoryMb: 128 } });
if (js !== native) await sandboxed('warm (js launcher)', js, { pool: 1, recycleAfter: 1_000_000 }, WARM, 200);
await sandboxed(`fresh, spare ready (${launcher.kind})`, native, { mode: 'fresh', pool: 1 }, STARTS, 2);
await sandboxed(`fresh, on demand (${launcher.kind})`, native, { pool: 0 }, STARTS, 2);
if (js !== native) await sandboxed('fresh, on demand (js)', js, { pool: 0 }, STARTS, 2);

// The baseline: a bare fork of node with a module that answers one message.
const dir = mkdtempSync(join(tmpdir(), 'fastermcp-bench-fork-'));
chmodSync(dir, 0o755);
const child = join(dir, 'child.mjs');
writeFileSync(child, "process.once('message', (m) => { process.send({ text: m.text }, () => process.disconnect()); });\n");
rows.push([
  'child_process.fork round trip',
  await time(STARTS, async (i) => {
    const c = fork(child, [], { stdio: 'ignore', execArgv: [] }); // not the bench's own --import tsx
    const reply = await new Promise<{ text: string }>((resolve) => {
      c.once('message', (m) => resolve(m as { text: string }));
      c.send({ text: `f${i}` });
    });
    if (reply.text !== `f${i}`) throw new Error('fork: wrong result');
    await new Promise((r) => c.once('exit', r));
  }),
]);
rmSync(dir, { recursive: true, force: true });

const echo = (await import(echoModule)) as { default: (a: { text: string }) => string };
rows.push(['in-process call', await time(WARM, async (i) => void echo.default({ text: `t${i}` }))]);

await native.close();
if (js !== native) await js.close();

console.log(`node ${process.version}, ${launcher.kind} launcher, report: ${native.report().line}`);
console.log('| contender | calls | p50 µs | p99 µs |');
console.log('|---|---:|---:|---:|');
for (const [label, t] of rows) console.log(`| ${label} | ${t.length} | ${pct(t, 0.5).toFixed(1)} | ${pct(t, 0.99).toFixed(1)} |`);
