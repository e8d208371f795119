// Growing the stdio pipes (native/core/pipes.h through the addon's pipeGrow / pipeCapacity, and
// src/transport/pipes.ts): the shared vectors of test/vectors/pipes.json, the binding's argument checks,
// and what growPipe() reports for each kind of stream. Pipes are FIFOs opened read-write (Node has no
// pipe()); a FIFO opened by nobody before is a new pipe with the default capacity.
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { growPipe } from '../../src/transport/pipes.js';
import { openFifo } from '../helpers/fifo.js';
import { NATIVE_BINDING, NATIVE_PROBLEM, REQUIRE_NATIVE } from './helpers/impls.js';

interface Case {
  name: string;
  fd: 'pipe' | 'file' | 'devnull' | 'closed';
  end: 'read' | 'write';
  beforePages?: number;
  askPages?: number;
  askPlus?: number;
  askBytes?: number;
  expect: { pages: number } | { errno: string };
  bindingThrows?: string;
}

const vectors = JSON.parse(readFileSync(fileURLToPath(new URL('../vectors/pipes.json', import.meta.url)), 'utf8')) as { cases: Case[] };
const page = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim());
const binding = NATIVE_BINDING;
const skip = binding === null && !REQUIRE_NATIVE;
if (skip) console.warn(`[fastermcp tests] NATIVE PIPE FUNCTIONS SKIPPED: ${NATIVE_PROBLEM}`);

let dir = '';
const opened: number[] = [];
afterEach(() => {
  for (const fd of opened.splice(0)) closeSync(fd);
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
  dir = '';
});

/** A new pipe's descriptor (a FIFO opened read-write never blocks on Linux), or another kind of fd. */
function open(kind: Case['fd']): number {
  if (dir === '') dir = mkdtempSync(join(tmpdir(), 'fastermcp-pipes-'));
  let fd: number;
  if (kind === 'pipe') fd = openFifo(join(dir, `fifo-${opened.length}`));
  else if (kind === 'file') fd = openSync(join(dir, 'file'), 'w+');
  else fd = openSync('/dev/null', 'r');
  if (kind === 'closed') closeSync(fd);
  else opened.push(fd);
  return fd;
}

describe.skipIf(skip)('pipeGrow / pipeCapacity: the shared vectors', () => {
  for (const c of vectors.cases) {
    it(c.name, () => {
      const b = binding!;
      // A FIFO opened once is one descriptor for both ends: `end` changes nothing here (the C++ test
      // reads both ends of a pipe2()).
      const fd = open(c.fd);
      if (c.beforePages !== undefined) expect(b.pipeGrow(fd, c.beforePages * page)).toBe(c.beforePages * page);
      const ask = c.askBytes ?? (c.askPages ?? 0) * page + (c.askPlus ?? 0);
      if (c.bindingThrows !== undefined) {
        expect(() => b.pipeGrow(fd, ask)).toThrow(c.bindingThrows === 'RangeError' ? RangeError : TypeError);
        return;
      }
      const got = b.pipeGrow(fd, ask);
      if ('errno' in c.expect) {
        expect(got).toBe(-constants.errno[c.expect.errno as keyof typeof constants.errno]);
        expect(b.pipeCapacity(fd)).toBe(-constants.errno[c.expect.errno as keyof typeof constants.errno]);
      } else {
        expect(got).toBe(c.expect.pages * page);
        expect(b.pipeCapacity(fd)).toBe(got);
      }
    });
  }

  it('checks its arguments: a TypeError for a non-number, a RangeError outside the range', () => {
    const b = binding!;
    expect(() => b.pipeGrow('0' as unknown as number, page)).toThrow(TypeError);
    expect(() => b.pipeGrow(-1, page)).toThrow(RangeError);
    expect(() => b.pipeGrow(0.5, page)).toThrow(RangeError);
    expect(() => b.pipeGrow(0, Number.NaN)).toThrow(RangeError);
    expect(() => b.pipeCapacity(2 ** 31)).toThrow(RangeError);
  });
});

describe('growPipe', () => {
  it('leaves a stream without a descriptor alone', () => {
    expect(growPipe({}, 1 << 20)).toEqual({ fd: undefined, skipped: 'no-fd' });
    expect(growPipe({ fd: -1 }, 1 << 20)).toEqual({ fd: undefined, skipped: 'no-fd' });
  });

  it.skipIf(skip)('grows a pipe and says how large it is now', () => {
    const fd = open('pipe');
    expect(growPipe({ fd }, 200 * 1024)).toEqual({ fd, bytes: 256 * 1024 });
  });

  it.skipIf(skip)('says "not-a-pipe" for a file, with the errno name', () => {
    const fd = open('file');
    expect(growPipe({ fd }, 1 << 20)).toEqual({ fd, skipped: 'not-a-pipe', error: 'EBADF' });
  });
});
