// Bench-only preload for bench/memory.bench.ts: `node --expose-gc --import ./bench/http/mem-hook.mjs
// <server>`. Each line "mem" on stdin is answered on stdout with one line
// `MEM {"rss":..,"heapUsed":..,"heapTotal":..,"external":..,"arrayBuffers":..,"newSpace":..}` measured
// after full garbage collections. `newSpace` is the resident size of V8's young generation (its
// semispaces, empty after the GCs but kept committed): part of rss that a burst of allocation grows
// and V8 gives back only when idle for some seconds. The server itself is unchanged (nothing of this
// is in src/).
import { createInterface } from 'node:readline';
import { getHeapSpaceStatistics } from 'node:v8';

const gc = globalThis.gc;
if (typeof gc !== 'function') {
  process.stderr.write('mem-hook: run node with --expose-gc\n');
  process.exit(2);
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'mem') return;
  // Let pending callbacks (socket closes, timers of 0) run, then collect until the heap settles.
  setTimeout(() => {
    let last = Infinity;
    for (let i = 0; i < 6; i++) {
      gc();
      const used = process.memoryUsage().heapUsed;
      if (Math.abs(last - used) < 1024) break;
      last = used;
    }
    const m = process.memoryUsage();
    const newSpace = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.physical_space_size ?? 0;
    process.stdout.write(`MEM ${JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, newSpace })}\n`);
  }, 50);
});
