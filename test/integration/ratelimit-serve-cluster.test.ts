// `fastermcp serve --redis-url` end to end (docs/ratelimit-cluster.md): two server processes on one real
// redis-server enforce one per-client budget within the documented bound, and when Redis is killed mid-run
// each process follows its --redis-down policy (open: its own per-process limits; closed: 503 with
// JSON-RPC -32029 and reason redis_unavailable), promptly, and recovers when Redis is back.
import { describe, expect, it } from 'vitest';
import { useCliServers } from '../helpers/cli-serve.js';
import { useRedisServer } from '../helpers/redis-server.js';
import { StdioChild } from '../fixtures/transport/stdio-child.js';

const redis = useRedisServer();
const META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
const serve = useCliServers();

interface Result {
  status: number;
  body: Record<string, any>;
  ms: number;
}

async function call(url: string): Promise<Result> {
  const t0 = Date.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'Mcp-Method': 'tools/call', 'Mcp-Name': 'echo', 'MCP-Protocol-Version': '2026-07-28' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' }, _meta: META } }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any>, ms: Date.now() - t0 };
}

describe('fastermcp serve --redis-url', () => {
  it('two processes share one budget, within the documented over-admission bound', async () => {
    // 40 per client per hour; leases of 2 permits: at most 2 processes x 2 leased permits beyond the limit.
    const flags = ['--rate-limit-per-client', '40/3600', '--redis-url', redis().url];
    const [a, b] = await Promise.all([serve(flags), serve(flags)]);
    let admitted = 0;
    let refused = 0;
    for (let i = 0; i < 100; i++) {
      const r = await call(i % 2 === 0 ? a : b);
      if (r.status === 200) admitted++;
      else {
        expect(r.status).toBe(429);
        expect(r.body.error.code).toBe(-32029);
        expect(r.body.error.data.policy).toBe('per-client');
        refused++;
      }
    }
    // Each process alone would admit 40 (80 together); one shared budget admits 40, up to the lease bound.
    expect(admitted).toBeGreaterThanOrEqual(40 - 2 * 2);
    expect(admitted).toBeLessThanOrEqual(40 + 2 * 2);
    expect(admitted + refused).toBe(100);
  });

  it('Redis killed mid-run: --redis-down open keeps deciding with per-process limits, closed refuses with 503; both recover', async () => {
    await redis().restart(); // empty: the budget of the test before is gone (no persistence)
    const open = await serve(['--rate-limit-per-client', '3/3600', '--redis-url', redis().url, '--redis-down', 'open']);
    const closed = await serve(['--rate-limit-per-client', '1000/3600', '--redis-url', redis().url, '--redis-down', 'closed']);
    expect((await call(open)).status).toBe(200);
    expect((await call(closed)).status).toBe(200);
    await redis().kill();

    // open: calls are decided locally (3 per client per process), each answered promptly.
    const local: Result[] = [];
    for (let i = 0; i < 6; i++) local.push(await call(open));
    for (const r of local) expect(r.ms).toBeLessThan(1000);
    expect(local.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(1);
    expect(local.filter((r) => r.status === 200).length).toBeLessThanOrEqual(3);
    expect(local.some((r) => r.status === 429)).toBe(true);

    // closed: refused with 503, reason redis_unavailable, promptly (a lease left over may admit a few first).
    let unavailable: Result | undefined;
    for (let i = 0; i < 200 && unavailable === undefined; i++) {
      const r = await call(closed);
      expect(r.ms).toBeLessThan(1000);
      if (r.status !== 200) unavailable = r;
    }
    expect(unavailable, 'a call refused while Redis is down').toBeDefined();
    expect(unavailable!.status).toBe(503);
    expect(unavailable!.body.error.code).toBe(-32029);
    expect(unavailable!.body.error.data.reason).toBe('redis_unavailable');

    await redis().restart();
    const deadline = Date.now() + 10_000;
    let back = await call(closed);
    while (back.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      back = await call(closed);
    }
    expect(back.status, JSON.stringify(back.body)).toBe(200);
  });

  it('over stdio: calls wait for their lease claim and are refused past the shared budget', async () => {
    await redis().restart();
    const c = new StdioChild('native', ['--rate-limit-per-client', '3/3600', '--redis-url', redis().url], null);
    try {
      await c.initialize('2025-06-18');
      for (const id of [2, 3, 4, 5]) c.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } });
      const replies = await Promise.all([2, 3, 4, 5].map((id) => c.reply(id)));
      expect(replies.filter((r) => r.result?.content?.[0]?.text === "x"), JSON.stringify(replies)).toHaveLength(3);
      const refused = replies.find((r) => r.error !== undefined)!;
      expect(refused.error.code).toBe(-32029);
      expect(refused.error.data.policy).toBe('per-client');
    } finally {
      await c.close();
    }
  });
});
