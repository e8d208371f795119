// src/sandbox/limits.ts and causes.ts: limit checks, what limits become for the kernel and V8, pool
// settings, the cause of an exit nobody asked for, failure results, and how a runner's value
// becomes a CallToolResult (pool.ts toolResult).
import { describe, expect, it } from 'vitest';
import { classifyExit, errorCode, failureResult, isRunnerCause, SANDBOX_ERROR_CODES } from '../../src/sandbox/causes.js';
import { cpuSecondsFor, DEFAULT_SANDBOX_LIMITS, heapMb, processLimits, resolveLimits, resolvePool, checkAllow, semiSpaceMb } from '../../src/sandbox/limits.js';
import { toolResult } from '../../src/sandbox/pool.js';
import type { ExitInfo } from '../../src/sandbox/launcher/types.js';

describe('sandbox limits', () => {
  it('merges overrides over the defaults and checks each value', () => {
    expect(resolveLimits(DEFAULT_SANDBOX_LIMITS, { cpuMs: 50 }, 't')).toEqual({ ...DEFAULT_SANDBOX_LIMITS, cpuMs: 50 });
    expect(() => resolveLimits(DEFAULT_SANDBOX_LIMITS, { cpuMs: 0 }, 'tool x')).toThrow('tool x: limit cpuMs must be an integer from 1 to 3600000, got 0');
    expect(() => resolveLimits(DEFAULT_SANDBOX_LIMITS, { memoryMb: 32 }, 't')).toThrow(/memoryMb must be an integer from 64/);
    expect(() => resolveLimits(DEFAULT_SANDBOX_LIMITS, { wallMs: 1.5 }, 't')).toThrow(RangeError);
    expect(() => resolveLimits(DEFAULT_SANDBOX_LIMITS, { cpu: 1 } as never, 't')).toThrow('t: unknown limit "cpu"');
  });

  it('turns limits into rlimits (no RLIMIT_NPROC: it counts the whole uid), a V8 heap under the data limit', () => {
    const l = resolveLimits(DEFAULT_SANDBOX_LIMITS, { cpuMs: 1500, memoryMb: 128 }, 't');
    expect(processLimits(l)).toEqual({ cpuSeconds: 3, dataBytes: (128 + 64) * 1048576, openFiles: 64, fileSizeBytes: 16 * 1048576, processes: 0, coreBytes: 0 });
    expect(processLimits(l, 512 * 1048576).dataBytes).toBe((128 + 64 + 512) * 1048576);
    expect(heapMb(l)).toBe(80);
    expect(semiSpaceMb(l)).toBe(4);
    // Old space, a young generation of 3 semi-spaces and node's own ~40 MiB fit well under the data limit.
    expect(heapMb(l) + 3 * semiSpaceMb(l) + 40).toBeLessThan(processLimits(l).dataBytes / 1048576 - 32);
    expect(semiSpaceMb(resolveLimits(DEFAULT_SANDBOX_LIMITS, { memoryMb: 4096 }, 't'))).toBe(16);
  });

  it('gives RLIMIT_CPU room for exactly one more call', () => {
    expect(cpuSecondsFor(0, 1000)).toBe(1);
    expect(cpuSecondsFor(1, 1000)).toBe(2);
    expect(cpuSecondsFor(2_500_000, 400)).toBe(3);
  });

  it('reads pool settings: pool 0 is fresh, fresh means one call per process', () => {
    expect(resolvePool({}, {}, 't')).toEqual({ size: 2, mode: 'warm', recycleAfter: 1000, maxQueue: 256 });
    expect(resolvePool({ pool: 0 }, {}, 't')).toMatchObject({ size: 0, mode: 'fresh', recycleAfter: 1 });
    expect(resolvePool({ mode: 'fresh', recycleAfter: 9 }, { pool: 3 }, 't')).toMatchObject({ size: 3, mode: 'fresh', recycleAfter: 1 });
    expect(() => resolvePool({ pool: -1 }, {}, 't')).toThrow('t: pool must be an integer from 0 to 256, got -1');
    expect(() => resolvePool({ mode: 'hot' as never }, {}, 't')).toThrow(/mode must be 'warm' or 'fresh'/);
  });

  it('wants absolute allow.fs paths', () => {
    expect(checkAllow({ fs: ['/data'] }, 't')).toEqual(['/data']);
    expect(() => checkAllow({ fs: ['data'] }, 't')).toThrow('t: allow.fs entries must be absolute paths, got "data"');
  });
});

describe('sandbox causes', () => {
  const exit = (over: Partial<ExitInfo>): ExitInfo => ({ pid: 9, exitCode: null, signal: null, userMicros: null, systemMicros: null, maxRssKiB: null, ...over });
  const facts = { stderrTail: '', cgroupMemoryExceeded: false, peakBytes: null, memoryLimitBytes: 128 * 1048576 };

  it('classifies exits', () => {
    expect(classifyExit({ ...facts, info: exit({ signal: 'SIGXCPU' }) }).cause).toBe('cpu_limit');
    expect(classifyExit({ ...facts, info: exit({ signal: 'SIGABRT' }), stderrTail: 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory' }).cause).toBe('memory_limit');
    expect(classifyExit({ ...facts, info: exit({ signal: 'SIGKILL' }), cgroupMemoryExceeded: true })).toEqual({ cause: 'memory_limit', detail: 'the process hit its cgroup memory limit (it was killed by SIGKILL)' });
    expect(classifyExit({ ...facts, info: exit({ signal: 'SIGSEGV' }), peakBytes: 120 * 1048576 }).cause).toBe('memory_limit');
    expect(classifyExit({ ...facts, info: exit({ signal: 'SIGSEGV' }), peakBytes: 40 * 1048576 })).toEqual({ cause: 'crashed', detail: 'the process was killed by SIGSEGV mid-call' });
    expect(classifyExit({ ...facts, info: exit({ exitCode: 3 }) })).toEqual({ cause: 'crashed', detail: 'the process exited with status 3 mid-call' });
  });

  it('builds an isError result naming the cause, with the cause in structuredContent and _meta', () => {
    const r = failureResult('spin', 'timeout', 'after 500 ms wall clock');
    expect(r.content).toEqual([{ type: 'text', text: 'sandbox: timeout after 500 ms wall clock' }]);
    expect(r.isError).toBe(true);
    expect(r.structuredContent).toEqual({ sandbox: { tool: 'spin', cause: 'timeout', code: 'MCP_SANDBOX_TIMEOUT' } });
    expect(r._meta).toEqual(r.structuredContent);
    expect(errorCode('denied:network')).toBe(SANDBOX_ERROR_CODES.denied);
  });

  it('lets a runner claim only the causes it can see', () => {
    expect(isRunnerCause('denied:fs')).toBe(true);
    expect(isRunnerCause('memory_limit')).toBe(true);
    expect(isRunnerCause('timeout')).toBe(false);
    expect(isRunnerCause('cancelled')).toBe(false);
    expect(isRunnerCause('denied:Evil Text')).toBe(false);
  });

  it('turns a runner value into a CallToolResult', () => {
    expect(toolResult('hi')).toEqual({ content: [{ type: 'text', text: 'hi' }] });
    expect(toolResult([{ type: 'text', text: 'a' }])).toEqual({ content: [{ type: 'text', text: 'a' }] });
    expect(toolResult({ content: [], isError: true, extra: 1 })).toEqual({ content: [], isError: true });
    expect(toolResult({ n: 1 })).toEqual({ content: [{ type: 'text', text: '{"n":1}' }], structuredContent: { n: 1 } });
    expect(toolResult(null)).toEqual({ content: [{ type: 'text', text: 'null' }] });
  });
});
