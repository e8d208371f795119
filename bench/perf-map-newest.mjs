// Makes a V8 perf map name what is at each address now, before `perf report` reads it.
//
// `node --perf-basic-prof` appends a line to /tmp/perf-<pid>.map for every piece of code it makes
// ("<start hex> <size hex> <name>"). V8 reuses code space: once a function's early code (an interpreter
// trampoline copy, baseline code) is collected, optimized code can be placed at the same addresses, and the
// map then holds both lines. perf names a sample after the older one, so the hot optimized functions of a
// long run show up under the names of whatever sat there at start-up ("Eval:~ :1:1", "JS:~ :1:20", a
// regular expression under "normalizeString node:path"): five percent of a stdio server's profile was
// misnamed that way. This keeps, wherever lines overlap, only the newest.
//
//   node bench/perf-map-newest.mjs /tmp/perf-<pid>.map     rewrites the map in place; prints what it dropped
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const LINE = /^([0-9a-fA-F]+) ([0-9a-fA-F]+) (.*)$/;

/**
 * The lines of a perf map without those that overlap a later line, in their order. Lines that are not
 * map entries are kept as they are.
 */
export function newestEntries(lines) {
  // Kept ranges, sorted by start and never overlapping: each new one is checked against its neighbours.
  const starts = [];
  const ends = [];
  const keep = new Array(lines.length).fill(true);
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = LINE.exec(lines[i]);
    if (m === null) continue;
    const start = BigInt('0x' + m[1]);
    const end = start + BigInt('0x' + m[2]);
    if (end === start) continue;
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] < start) lo = mid + 1;
      else hi = mid;
    }
    // lo: the first kept range starting at or after `start`; the one before it may still reach into this one.
    if ((lo < starts.length && starts[lo] < end) || (lo > 0 && ends[lo - 1] > start)) {
      keep[i] = false;
      continue;
    }
    starts.splice(lo, 0, start);
    ends.splice(lo, 0, end);
  }
  return lines.filter((_, i) => keep[i]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (file === undefined) {
    console.error('usage: node bench/perf-map-newest.mjs /tmp/perf-<pid>.map');
    process.exit(2);
  }
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const kept = newestEntries(lines);
  writeFileSync(file, kept.map((l) => l + '\n').join(''));
  console.log(`${file}: ${lines.length} lines, ${lines.length - kept.length} overwritten by later code dropped`);
}
