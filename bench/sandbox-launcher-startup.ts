// Start-up cost of the sandbox launchers (docs/sandbox-launcher.md, "Measured"): not a unit test, a script.
//   npx tsx bench/sandbox-launcher-startup.ts [rounds=200] [nodeRounds=20] [ballastMiB=0]
// 1. launch -> exit callback of /bin/true through: the native launcher (fork), the native launcher
//    (clone CLONE_VM|CLONE_VFORK), the js launcher with no limits (a bare spawn), the js launcher with
//    limits (through util-linux prlimit), and child_process.spawn itself (its 'exit' event).
// 2. node child start -> first byte on fd 3 (net.Socket({fd: 3}).write) through the same paths.
// Contenders take turns within each round, so load from other users of the machine hits all of them alike.
// ballastMiB > 0 first fills that much of this process's memory, to show how fork's cost grows with the
// parent's size (page tables are copied) while vfork's does not.
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { loadNative } from '../src/native.js';
import { JsLauncher, NativeLauncher, type LaunchSpec, type Launcher } from '../src/sandbox/launcher/index.js';

const rounds = Number(process.argv[2] ?? 200);
const nodeRounds = Number(process.argv[3] ?? 20);
const ballastMiB = Number(process.argv[4] ?? 0);
const ballast = ballastMiB > 0 ? Buffer.alloc(ballastMiB * 1024 * 1024, 1) : null;

const native = loadNative();
if (native === null || typeof native.sandboxLaunch !== 'function') throw new Error('build the addon first (node-gyp rebuild)');

const none = { cpuSeconds: 0, dataBytes: 0, openFiles: 0, fileSizeBytes: 0, processes: 0, coreBytes: Infinity };
const limited = { cpuSeconds: 10, dataBytes: 1 << 30, openFiles: 256, fileSizeBytes: 1 << 24, processes: 0, coreBytes: 0 };
const spec = (file: string, argv: string[], limits: LaunchSpec['limits'], seccomp: boolean): LaunchSpec => ({
  file,
  argv,
  env: { PATH: '/usr/bin:/bin' },
  cwd: '/',
  limits,
  denyNetwork: seccomp,
  denySpawn: seccomp,
  restrictKill: seccomp,
  newNetNamespace: false,
  cgroupProcs: [],
});

type Contender = { name: string; start: (file: string, argv: string[], untilControl: boolean) => Promise<number> };

function viaLauncher(name: string, launcher: Launcher, limits: LaunchSpec['limits'], seccomp: boolean): Contender {
  return {
    name,
    start: (file, argv, untilControl) =>
      new Promise((resolve) => {
        const t0 = process.hrtime.bigint();
        let done = false;
        const finish = (): void => {
          if (!done) {
            done = true;
            resolve(Number(process.hrtime.bigint() - t0) / 1000);
          }
        };
        const l = launcher.launch(spec(file, argv, limits, seccomp), () => {
          if (!untilControl) finish();
        });
        if (untilControl) l.control.once('data', finish);
        for (const s of [l.control, l.stdout, l.stderr] as Readable[]) s.resume();
      }),
  };
}

const childProcess: Contender = {
  name: 'child_process.spawn',
  start: (file, argv, untilControl) =>
    new Promise((resolve) => {
      const t0 = process.hrtime.bigint();
      const finish = (): void => resolve(Number(process.hrtime.bigint() - t0) / 1000);
      const c = spawn(file, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], env: { PATH: '/usr/bin:/bin' } });
      for (const s of c.stdio) (s as Readable | null)?.resume();
      if (untilControl) (c.stdio[3] as Readable).once('data', finish);
      else c.once('exit', finish);
    }),
};

const contenders: Contender[] = [
  viaLauncher('native fork', new NativeLauncher(native), none, false),
  viaLauncher('native vfork', new NativeLauncher(native, { useVfork: true }), none, false),
  viaLauncher('native vfork + limits + seccomp', new NativeLauncher(native, { useVfork: true }), limited, true),
  viaLauncher('js (bare spawn)', new JsLauncher(), none, false),
  viaLauncher('js + limits (prlimit, setpriv)', new JsLauncher(), limited, false),
  childProcess,
];

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] as number;

async function measure(title: string, n: number, file: string, argv: string[], untilControl: boolean): Promise<void> {
  const times = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (const c of contenders) await c.start(file, argv, untilControl); // warm-up
  for (let i = 0; i < n; i++) {
    for (const c of contenders) times.get(c.name)?.push(await c.start(file, argv, untilControl));
  }
  console.log(`\n${title} (${n} rounds${ballast ? `, parent holds ${ballastMiB} MiB` : ''}; µs)`);
  console.log('contender'.padEnd(34), 'p50'.padStart(9), 'p90'.padStart(9), 'min'.padStart(9));
  for (const [name, xs] of times) {
    console.log(name.padEnd(34), pct(xs, 0.5).toFixed(0).padStart(9), pct(xs, 0.9).toFixed(0).padStart(9), Math.min(...xs).toFixed(0).padStart(9));
  }
}

console.log(`node ${process.version}, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
await measure('launch -> exit of /bin/true', rounds, '/bin/true', ['true'], false);
await measure(
  'node child start -> first byte on fd 3',
  nodeRounds,
  process.execPath,
  ['node', '-e', "new (require('node:net').Socket)({ fd: 3 }).write('x')"],
  true,
);
if (ballast !== null) console.log(`(ballast ${ballast.length} bytes kept)`);
