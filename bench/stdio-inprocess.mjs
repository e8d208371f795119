// The stdio server's own work per tools/call, in one process, without pipes or a load generator: the
// requests bench/native/stdio_loadgen.cc sends (echo, distinct ids and texts) are cut into 64 KiB chunks,
// as a pipe would deliver them, and fed to a StdioTransport on the demo server (what `fastermcp serve
// --stdio` runs); the replies go to /dev/null with writeSync, so Node still measures and copies them.
// No scheduler or pipe noise: an A/B of two builds sees a few percent here that real pipes hide.
//
//   node bench/stdio-inprocess.mjs [--era legacy|stateless] [--calls N] [--rounds R] [--dist DIR]...
//
// With two or more --dist (each a built dist/ directory, e.g. a copy of an older commit's), the rounds
// alternate between them, one child process per round, and the medians are compared. FASTERMCP_FORCE_JS=1
// measures the pure-JS twin (the engine column says which ran). `--child` runs one round in this process,
// for a profiler; `--child --cpu-profile FILE` writes a .cpuprofile of its timed run alone, and
// `--child --heap-profile FILE` a .heapprofile of what it allocated (V8's sampling heap profiler, every 512
// bytes, objects the GCs collected included) and prints the bytes per call by allocating function; run that
// with --no-turbo-inlining --no-maglev-inlining to charge each allocation to the function that makes it
// (docs/benchmarks-howto.md).
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const { values } = parseArgs({
  options: {
    era: { type: 'string', default: 'legacy' },
    calls: { type: 'string', default: '500000' },
    warmup: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '10' },
    dist: { type: 'string', multiple: true, default: ['dist'] },
    child: { type: 'boolean', default: false },
    'cpu-profile': { type: 'string' },
    'heap-profile': { type: 'string' },
  },
});
const era = values.era;
if (era !== 'legacy' && era !== 'stateless') throw new Error('--era is legacy or stateless');
const calls = Number(values.calls);
const warmup = Number(values.warmup);
const rounds = Number(values.rounds);
const CHUNK = 64 * 1024;
// A full GC before each timed run, so that it does not pay for what was built before it.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc');
/** The build a child measures (the parent only spawns children). */
const distDir = resolve(values.dist[0]);

// ---- the requests, byte for byte those of stdio_loadgen --------------------------------------------

const META = ',"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}';
const HANDSHAKE =
  '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"stdio_loadgen","version":"1.0.0"}}}\n' +
  '{"jsonrpc":"2.0","method":"notifications/initialized"}\n';

/** The chunks of `count` calls from id `first`, cut every 64 KiB wherever that falls, written into
 * buffers a few hundred lines at a time: one large JS string of them all would be garbage that a major
 * GC collects inside the timed run. */
function requests(first, count) {
  const chunks = [];
  let buf = Buffer.allocUnsafeSlow(CHUNK);
  let used = 0;
  const put = (text) => {
    const bytes = Buffer.from(text);
    for (let at = 0; at < bytes.length; ) {
      const n = bytes.copy(buf, used, at);
      at += n;
      used += n;
      if (used === CHUNK) {
        chunks.push(buf);
        buf = Buffer.allocUnsafeSlow(CHUNK);
        used = 0;
      }
    }
  };
  const meta = era === 'stateless' ? META : '';
  let text = era === 'legacy' ? HANDSHAKE : '';
  for (let id = first; id < first + count; id++) {
    text += `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":{"text":"echo ${id} the quick brown fox jumps over the lazy dog"}${meta}}}\n`;
    if (text.length >= CHUNK) {
      put(text);
      text = '';
    }
  }
  put(text);
  if (used > 0) chunks.push(buf.subarray(0, used));
  return chunks;
}

// ---- one transport over fake streams ----------------------------------------------------------------

/** A readable that hands out its chunks one per macrotask, as a pipe does, and honours pause(). */
class ChunkSource extends EventEmitter {
  constructor(chunks) {
    super();
    this.chunks = chunks;
    this.next = 0;
    this.paused = false;
    this.scheduled = false;
  }
  pause() {
    this.paused = true;
    return this;
  }
  resume() {
    this.paused = false;
    this.schedule();
    return this;
  }
  schedule() {
    if (this.scheduled || this.paused) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.paused) return;
      if (this.next < this.chunks.length) {
        this.emit('data', this.chunks[this.next++]);
        this.schedule();
      } else if (this.next === this.chunks.length) {
        this.next++;
        this.emit('end');
      }
    });
  }
}

/** Replies to /dev/null; `lines` counts them when asked (outside the timed rounds). */
class NullSink extends EventEmitter {
  constructor(count) {
    super();
    this.fd = openSync('/dev/null', 'w');
    this.count = count;
    this.lines = 0;
    this.first = '';
    this.writable = true;
  }
  write(text) {
    writeSync(this.fd, text);
    if (this.count) {
      // The transport writes its replies as bytes (a Buffer) or, the pure-JS twin's, as a string.
      if (this.first === '') this.first = String(text.slice(0, text.indexOf('\n')));
      for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) this.lines++;
    }
    return true;
  }
  close() {
    closeSync(this.fd);
  }
}

/**
 * A profile of the timed run only, written by stop(file): the CPU sampler (50 µs) or, with `heap`, the
 * sampling heap profiler counting every object, also those the GCs have collected since.
 */
async function startProfile(heap) {
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connect();
  const post = (method, params) =>
    new Promise((ok, fail) => session.post(method, params, (err, result) => (err ? fail(err) : ok(result))));
  if (heap) {
    await post('HeapProfiler.enable');
    await post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  } else {
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 50 });
    await post('Profiler.start');
  }
  return {
    async stop(file) {
      const { profile } = await post(heap ? 'HeapProfiler.stopSampling' : 'Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
      return profile;
    },
  };
}

/** Bytes per call by the function that allocated them (self sizes of a heap profile's nodes), largest first. */
function allocationsPerCall(profile, count) {
  const bytes = new Map();
  const visit = (node) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = `${functionName || '(anonymous)'} ${url.split('/').pop()}:${lineNumber + 1}`;
    bytes.set(where, (bytes.get(where) ?? 0) + node.selfSize);
    for (const child of node.children) visit(child);
  };
  visit(profile.head);
  const rows = [...bytes].filter(([, b]) => b / count >= 0.5).sort((a, b) => b[1] - a[1]);
  const total = [...bytes.values()].reduce((a, b) => a + b, 0);
  return [`${(total / count).toFixed(0)} B per call allocated in all`, ...rows.map(([where, b]) => `${(b / count).toFixed(1).padStart(8)} B  ${where}`)].join('\n');
}

async function serveOnce(lib, chunks, count, profile = undefined) {
  const server = new lib.McpServer({ name: 'fastermcp', version: '0', title: 'fastermcp' });
  const { registerDemo } = await import(pathToFileURL(resolve(distDir, 'demo/everything.js')).href);
  registerDemo(server);
  const input = new ChunkSource(chunks);
  const output = new NullSink(count);
  const transport = new lib.StdioTransport(server, { input, output, pipeBytes: 0 });
  const done = transport.start();
  collectGarbage();
  const profiler = profile !== undefined ? await startProfile(profile === 'heap') : undefined;
  const cpu = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  input.resume();
  await done;
  const wallNs = Number(process.hrtime.bigint() - t0);
  const used = process.cpuUsage(cpu);
  const written = profiler !== undefined ? await profiler.stop(values[profile === 'heap' ? 'heap-profile' : 'cpu-profile']) : undefined;
  output.close();
  return { wallNs, cpuNs: (used.user + used.system) * 1000, lines: output.lines, first: output.first, heap: profile === 'heap' ? written : undefined };
}

async function child() {
  const lib = await import(pathToFileURL(resolve(distDir, 'index.js')).href);
  const check = await serveOnce(lib, requests(1, warmup), true);
  const profile = values['heap-profile'] !== undefined ? 'heap' : values['cpu-profile'] !== undefined ? 'cpu' : undefined;
  const expected = warmup + (era === 'legacy' ? 1 : 0);
  if (check.lines !== expected) throw new Error(`warm-up: ${check.lines} replies, expected ${expected}`);
  const id = era === 'legacy' ? 0 : 1;
  if (!check.first.startsWith(`{"jsonrpc":"2.0","id":${id},"result":`)) throw new Error(`warm-up: first reply ${check.first}`);
  const run = await serveOnce(lib, requests(warmup + 1, calls), false, profile);
  const { implementation } = lib.runtimeInfo();
  process.stdout.write(JSON.stringify({ wallNs: run.wallNs / calls, cpuNs: run.cpuNs / calls, implementation }) + '\n');
  if (run.heap !== undefined) process.stderr.write(allocationsPerCall(run.heap, calls) + '\n');
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function parent() {
  const dists = values.dist.map((d) => resolve(d));
  const results = dists.map(() => ({ wall: [], cpu: [], implementation: '' }));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < dists.length; k++) {
      const i = (r + k) % dists.length; // the first build rotates
      const args = [...process.execArgv, new URL(import.meta.url).pathname, '--child', '--era', era, '--calls', String(calls), '--warmup', String(warmup), '--dist', dists[i]];
      const out = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      if (out.status !== 0) throw new Error(`round ${r} with ${dists[i]} exited with ${out.status ?? out.signal}`);
      const { wallNs, cpuNs, implementation } = JSON.parse(out.stdout);
      results[i].implementation = implementation;
      results[i].wall.push(wallNs);
      results[i].cpu.push(cpuNs);
    }
  }
  console.log(`${era}, ${calls} calls per round after ${warmup} warm-up, ${rounds} rounds, node ${process.version}`);
  // The machine's noise comes in bursts that slow a round by up to 2x: the lower quartile and the
  // minimum are the steadier figures when the medians disagree from run to run.
  console.log('dist | engine | wall ns/call median (lower quartile, min) | CPU ns/call median');
  dists.forEach((d, i) => {
    const w = [...results[i].wall].sort((a, b) => a - b);
    console.log(`${d} | ${results[i].implementation} | ${median(w).toFixed(0)} (${w[Math.floor(w.length / 4)].toFixed(0)}, ${w[0].toFixed(0)}) | ${median(results[i].cpu).toFixed(0)}`);
  });
  if (dists.length > 1) {
    console.log(`wall ratio ${dists.slice(1).map((_, j) => (median(results[j + 1].wall) / median(results[0].wall)).toFixed(3)).join(', ')} (vs the first)`);
    // Each round's builds ran back to back: the median of their per-round ratios cancels the machine's
    // slower drifts, which move both alike (the quartiles show how far one round may stray).
    const paired = dists.slice(1).map((_, j) => {
      const ratios = results[j + 1].wall.map((w, r) => w / results[0].wall[r]).sort((a, b) => a - b);
      const q = (f) => ratios[Math.min(ratios.length - 1, Math.floor(f * ratios.length))].toFixed(3);
      return `${median(ratios).toFixed(3)} (quartiles ${q(0.25)}-${q(0.75)})`;
    });
    console.log(`paired wall ratio ${paired.join(', ')} (per round, vs the first)`);
  }
}

if (values.child) await child();
else parent();
