// staleNames (src/sandbox/stale.ts): which leftovers of dead servers a new server removes.
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive, staleNames } from '../../src/sandbox/stale.js';

const PATTERN = /^fastermcp-sandbox-(\d+)-\d+$/;

/** A pid no process has right now (checked with kill(pid, 0)). */
function deadPid(): number {
  for (let pid = 4_000_000; ; pid++) if (!pidAlive(pid)) return pid;
}

describe('staleNames', () => {
  it("lists a dead server's entries, never this server's, a live one's or a name outside the pattern", () => {
    const dir = mkdtempSync(join(tmpdir(), 'fastermcp-stale-'));
    try {
      const dead = deadPid();
      for (const name of [`fastermcp-sandbox-${dead}-1`, `fastermcp-sandbox-${process.pid}-2`, 'fastermcp-sandbox-1-3', `other-${dead}-4`]) {
        mkdirSync(join(dir, name));
      }
      // pid 1 (init) is alive: its folder stays.
      expect(staleNames(dir, PATTERN)).toEqual([`fastermcp-sandbox-${dead}-1`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds nothing in a folder it cannot read', () => {
    expect(staleNames('/nonexistent/fastermcp-stale', PATTERN)).toEqual([]);
  });
});
