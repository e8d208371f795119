// bench/lib/report.ts: a results file says when the servers ran a build older than the sources it is made from.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { staleBuilds } from '../../bench/lib/report.js';

const roots: string[] = [];

/** A checkout with these files, each modified at its given time (seconds). */
function checkout(files: Record<string, number>): string {
  const root = mkdtempSync(join(tmpdir(), 'bench-report-'));
  roots.push(root);
  for (const [path, seconds] of Object.entries(files)) {
    const file = join(root, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, '');
    utimesSync(file, seconds, seconds);
  }
  return root;
}

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('staleBuilds', () => {
  it('is empty when every build is newer than its sources, or there is no build', () => {
    expect(staleBuilds(checkout({ 'src/a.ts': 100, 'src/x/b.ts': 110, 'dist/a.js': 120, 'native/core/c.cc': 100, 'build/Release/mcp_native.node': 130 }))).toEqual([]);
    expect(staleBuilds(checkout({ 'src/a.ts': 100, 'native/core/c.cc': 100 }))).toEqual([]);
  });

  it('names dist/ when a source in any folder of src/ changed after the last compile', () => {
    expect(staleBuilds(checkout({ 'src/a.ts': 100, 'src/transport/b.ts': 200, 'dist/a.js': 150, 'dist/transport/b.js': 150 }))).toEqual([
      'dist/ is older than src/',
    ]);
  });

  it('names the addon when a C++ source or header changed after it was built', () => {
    expect(staleBuilds(checkout({ 'native/binding/a.cc': 100, 'native/core/b.h': 200, 'build/Release/mcp_native.node': 150 }))).toEqual([
      'build/Release/mcp_native.node is older than native/',
    ]);
    // Other files do not count.
    expect(staleBuilds(checkout({ 'native/sources.gypi': 200, 'src/notes.md': 200, 'dist/a.js': 150, 'build/Release/mcp_native.node': 150 }))).toEqual([]);
  });
});
