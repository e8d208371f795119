// Fused admission (docs/ratelimit.md section 8): the native engine checks requests against a native rule
// set in the same crossing as framing and scanning. Its answers must be the TS admission's, byte for byte:
// the same traffic through a server whose rule set is the pure-JS twin (admitted in intake.ts) gives the
// same messages, replies and headers. Runs where the addon loads (the js run of the suite skips it).
import { describe, expect, it, vi } from 'vitest';
import { McpServer } from '../../src/server/server.js';
import { createEngine } from '../../src/jsonrpc/index.js';
import { implementation } from '../../src/jsonrpc/index.js';
import { gateFor, methodRouter, readMessages } from '../../src/transport/intake.js';
import type { Message } from '../../src/transport/intake.js';
import type { LimitsOptions } from '../../src/ratelimit/admission.js';

const native = implementation === 'native';

function server(impl: 'native' | 'js', limits: LimitsOptions): McpServer {
  const s = new McpServer({ name: 'fused', version: '1.0.0' });
  s.tool('echo', {}, () => 'ok');
  s.tool('costly', { cost: 3 }, () => 'ok');
  s.prompt('hello', {}, () => ({ messages: [] }));
  s.limits({ ...limits, implementation: impl });
  return s;
}

const line = (id: number | string, method: string, params: Record<string, unknown> = {}): string =>
  JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n';

/** Feeds `chunks` through a fresh engine and returns every message, as the stdio transport reads them. */
function run(s: McpServer, chunks: { text: string; client: string }[]): { messages: Message[]; fused: boolean[] } {
  const router = methodRouter();
  const engine = createEngine({ router });
  const messages: Message[] = [];
  const fused: boolean[] = [];
  for (const { text, client } of chunks) {
    const gate = gateFor(s.admission, router, client, engine);
    fused.push(gate?.fused ?? false);
    const bytes = Buffer.from(text);
    messages.push(...readMessages(engine, engine.feed(bytes), bytes, gate));
  }
  return { messages, fused };
}

describe.runIf(native)('fused admission in the native engine', () => {
  const limits: LimitsOptions = {
    rules: [
      { name: 'per-client', scope: 'client', algorithm: 'token-bucket', limit: 4, windowMs: 60_000 },
      { name: 'costly-tool', scope: 'tool', algorithm: 'fixed-window', limit: 3, windowMs: 3_600_000, tools: ['costly'] },
      { name: 'prompts', scope: 'method', algorithm: 'sliding-window-log', limit: 1, windowMs: 3_600_000, methods: ['prompts/get'] },
    ],
  };
  const traffic = [
    { client: 'a', text: line(1, 'tools/call', { name: 'echo' }) + line('x"y', 'tools/call', { name: 'costly' }) + line(3, 'tools/call', { name: 'echo' }) },
    { client: 'a', text: line(4, 'tools/call', { name: 'echo' }) + line(5, 'prompts/get', { name: 'hello' }) + line(6, 'prompts/get', { name: 'hello' }) },
    { client: 'b', text: line(7, 'tools/call', { name: 'costly' }) + line(8, 'tools/call', { name: 'echo' }) + '{"jsonrpc":"2.0","method":"notifications/initialized"}\n' },
    { client: 'b', text: '[' + line(9, 'tools/call', { name: 'echo' }).trim() + ',' + line(10, 'tools/call', { name: 'echo' }).trim() + ']\n' },
    { client: 'a', text: line(11, 'tools/list') + line(12, 'tools/call', { name: 'nope' }) },
  ];

  it('refuses in the engine what the TS admission refuses, with the same bytes and headers', () => {
    const fusedServer = server('native', limits);
    const admit = vi.spyOn(fusedServer.admission!, 'admit');
    const a = run(fusedServer, traffic);
    const b = run(server('js', limits), traffic);
    expect(a.fused.every(Boolean)).toBe(true);
    expect(b.fused.some(Boolean)).toBe(false);
    expect(admit).not.toHaveBeenCalled(); // every decision was the engine's
    // The two runs read the wall clock a few ms apart: numbers of time are compared within 100 ms, the rest
    // byte for byte.
    const times: [number, number][] = [];
    const untimed = (ms: Message[], into: number[]) =>
      JSON.stringify(ms, (_k, v: unknown) => (typeof v === 'string' ? v.replace(/(retry after |"retryAfterMs":|;t=|^)(\d+)/g, (_m, p: string, n: string) => (into.push(Number(n)), `${p}#`)) : v));
    const na: number[] = [];
    const nb: number[] = [];
    expect(untimed(a.messages, na)).toEqual(untimed(b.messages, nb));
    expect(na.length).toBe(nb.length);
    na.forEach((x, i) => times.push([x, nb[i]!]));
    for (const [x, y] of times) expect(Math.abs(x - y)).toBeLessThanOrEqual(100);
    const limited = a.messages.flatMap((m) => (m.kind === 'batch' ? m.items : [m])).filter((m) => m.kind === 'limited');
    expect(limited.length).toBeGreaterThanOrEqual(4);
    for (const m of limited) {
      if (m.kind !== 'limited') continue;
      const reply = JSON.parse(m.denial.reply) as { error: { code: number; data: { policy: string } } };
      expect(reply.error.code).toBe(-32029);
      expect(m.denial.status).toBe(429);
      expect(m.denial.headers['RateLimit']).toContain(JSON.stringify(reply.error.data.policy));
    }
  });

  it('a refused request between two equal _meta texts never lends the request after it an older _meta', () => {
    // The engine marks id 3's _meta as repeating id 2's; id 2 was refused (by the engine, or in intake.ts),
    // so its _meta was never read, and id 3's must not be taken from id 1's.
    const metaA = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' };
    const metaB = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
    const text =
      line(1, 'prompts/get', { name: 'hello', _meta: metaA }) +
      line(2, 'prompts/get', { name: 'hello', _meta: metaB }) +
      line(3, 'tools/call', { name: 'echo', _meta: metaB });
    for (const impl of ['native', 'js'] as const) {
      const { messages } = run(server(impl, limits), [{ client: 'm', text }]);
      expect(messages.map((m) => m.kind), impl).toEqual(['request', 'limited', 'request']);
      expect((messages[0] as { params: { _meta: unknown } }).params._meta, impl).toEqual(metaA);
      expect((messages[2] as { params: { _meta: unknown } }).params._meta, impl).toEqual(metaB);
    }
  });

  it('stops admitting in the engine when the limits are removed, and follows a new client', () => {
    const s = server('native', limits);
    const router = methodRouter();
    const engine = createEngine({ router });
    const feed = (text: string, client: string): Message[] => {
      const gate = gateFor(s.admission, router, client, engine);
      const bytes = Buffer.from(text);
      return readMessages(engine, engine.feed(bytes), bytes, gate);
    };
    const calls = (n: number, from: number) => Array.from({ length: n }, (_, i) => line(from + i, 'tools/call', { name: 'echo' })).join('');
    expect(feed(calls(5, 1), 'a').map((m) => m.kind)).toEqual(['request', 'request', 'request', 'request', 'limited']);
    expect(feed(calls(1, 6), 'b').map((m) => m.kind)).toEqual(['request']);
    s.limits({});
    expect(feed(calls(3, 7), 'a').map((m) => m.kind)).toEqual(['request', 'request', 'request']);
  });
});
