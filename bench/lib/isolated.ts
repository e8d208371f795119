// What the micro-benchmarks that time each contender in a process of its own share (bench/jwt.bench.ts,
// bench/ratelimit.bench.ts): re-running the file under another node (--node node24), and the parent's
// loop that runs one child per (case, contender) pair, rounds interleaved, and keeps every child's number.
// In one shared process every contender's calls go through the same call sites and the JIT's feedback turns
// megamorphic; a fresh process gives each contender the same monomorphic start.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { ROOT } from './report.js';

/** Set in every child this file starts. */
const CHILD = 'FASTERMCP_BENCH_CHILD';

/**
 * With `--node SPEC` (node24, or a path) in `args`, runs this file again under that node, writing its results
 * as `<name>-<SPEC>`, and exits with its status. Otherwise returns the results name (`name`, or the one a
 * parent chose).
 */
export function resultsNameOrRerun(name: string, args: readonly string[]): string {
  const at = args.findIndex((a) => a === '--node' || a.startsWith('--node='));
  if (at >= 0 && process.env[CHILD] !== '1') {
    const inline = args[at]!.includes('=');
    const spec = inline ? args[at]!.split('=')[1]! : args[at + 1]!;
    const bin = /^node\d+$/.test(spec) ? join(ROOT, 'node_modules', spec, 'bin', 'node') : spec;
    if (!existsSync(bin)) throw new Error(`--node ${spec}: ${bin} is missing`);
    const rest = args.filter((_, i) => i !== at && !(i === at + 1 && !inline));
    const r = spawnSync(bin, ['--import', 'tsx', process.argv[1]!, ...rest], {
      stdio: 'inherit',
      env: { ...process.env, [CHILD]: '1', FASTERMCP_BENCH_NAME: `${name}-${spec}` },
    });
    process.exit(r.status ?? 1);
  }
  return process.env.FASTERMCP_BENCH_NAME ?? name;
}

/**
 * Runs this file once per pair and round (rounds outermost), each child told its pair through `variable`
 * (the pair's parts joined by a tab) and answering with a last stdout line `{"ns": number | null}`.
 * Returns every pair's numbers, keyed by the joined pair.
 */
export function runIsolated(variable: string, pairs: readonly (readonly (string | number)[])[], rounds: number): Map<string, number[]> {
  const samples = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    for (const pair of pairs) {
      const key = pair.join('\t');
      const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!], {
        encoding: 'utf8',
        env: { ...process.env, [CHILD]: '1', [variable]: key },
        maxBuffer: 1 << 20,
      });
      if (child.status !== 0) throw new Error(`${pair.join(' ')}: child exited ${child.status ?? child.signal}\n${child.stderr}`);
      const { ns } = JSON.parse(child.stdout.trim().split('\n').pop()!) as { ns: number | null };
      samples.set(key, [...(samples.get(key) ?? []), ns ?? NaN]);
    }
    console.log(`round ${r + 1}/${rounds} done`);
  }
  return samples;
}

/**
 * A child's number: tinybench's median time of `read` (one read of `items` things, returning what it read),
 * in ns per thing. Throws when nothing was read.
 */
export async function p50PerItem(name: string, read: () => { length: number }, items: number): Promise<number> {
  const bench = new Bench({ time: 600, warmupTime: 200 });
  let seen = 0;
  bench.add(name, () => {
    seen += read().length;
  });
  await bench.run();
  if (seen === 0) throw new Error(`${name}: nothing read`);
  const p50 = (bench.tasks[0]!.result as unknown as { latency: { p50: number } }).latency.p50 * 1e6;
  return p50 / items;
}

/** --rounds N or --rounds=N (scripts/bench.mjs passes the value as the next argument). */
export function roundsOption(args: readonly string[], fallback: number): number {
  const at = args.findIndex((a) => a === '--rounds' || a.startsWith('--rounds='));
  if (at < 0) return fallback;
  const value = Number(args[at]!.includes('=') ? args[at]!.split('=')[1] : args[at + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--rounds takes a positive integer, got ${args[at + 1] ?? args[at]}`);
  return value;
}

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
