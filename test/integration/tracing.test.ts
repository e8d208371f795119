// Tracing (src/ops/tracing.ts) with a real OpenTelemetry SDK (BasicTracerProvider, SimpleSpanProcessor,
// InMemorySpanExporter) and the AsyncLocalStorage context manager, over real HTTP (serveHttp, fast lane
// and node:http), over the stdio transport, and through `fastermcp serve` with an SDK loaded by
// --import: one SERVER span per request named and attributed per the MCP semantic conventions, the
// parent from _meta over the traceparent header, a malformed traceparent ignored, error statuses, and
// a handler's own spans nested under the request span.
import { context, trace } from '@opentelemetry/api';
import type { SpanContext } from '@opentelemetry/api';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseTraceparent, tracingObserver } from '../../src/ops/tracing.js';
import { META } from '../../src/server/protocol.js';
import { McpServer } from '../../src/server/server.js';
import { serveHttp } from '../../src/transport/http.js';
import type { RunningHttpServer } from '../../src/transport/http.js';
import { MemoryClient } from '../helpers/memory-client.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const userTracer = provider.getTracer('user');
const contextManager = new AsyncLocalStorageContextManager();

const TRACE_A = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_A = '00f067aa0ba902b7';
const TRACE_B = '0af7651916cd43dd8448eb211c80319c';
const SPAN_B = 'b7ad6b7169203331';
const tp = (traceId: string, spanId: string, flags = '01'): string => `00-${traceId}-${spanId}-${flags}`;

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  context.disable();
});
afterEach(() => exporter.reset());

function demoServer(): McpServer {
  const server = new McpServer({ name: 'traced', version: '1' });
  server.tool('echo', { inputSchema: { type: 'object', properties: { text: { type: 'string' } } } }, (args: { text?: string }) => args.text ?? '');
  server.tool('nested', {}, () => userTracer.startActiveSpan('inside the handler', (span) => (span.end(), 'sync')));
  server.tool('nested-async', {}, async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    const span = userTracer.startSpan('after an await');
    span.end();
    return 'async';
  });
  server.tool('fails', {}, () => {
    throw new Error('tool broke');
  });
  server.prompt('greet', {}, () => 'hello');
  server.observe(tracingObserver(server, { tracerProvider: provider }));
  return server;
}

function serverSpans(): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
}

function only(name: string): ReadableSpan {
  const found = exporter.getFinishedSpans().filter((s) => s.name === name);
  expect(found, `spans named ${name}: ${exporter.getFinishedSpans().map((s) => s.name)}`).toHaveLength(1);
  return found[0]!;
}

const STATELESS_META = { [META.protocolVersion]: '2026-07-28', [META.clientCapabilities]: {} };

for (const fastLane of [true, false]) {
  describe(`over HTTP (${fastLane ? 'fast lane' : 'node:http'})`, () => {
    let running: RunningHttpServer;
    beforeAll(async () => {
      running = await serveHttp(demoServer(), { port: 0, fastLane });
    });
    afterAll(() => running.close());

    async function post(method: string, params: Record<string, unknown>, headers: Record<string, string> = {}, id: unknown = 1): Promise<any> {
      const name = typeof params['name'] === 'string' ? { 'mcp-name': params['name'] } : {};
      const res = await fetch(running.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': method,
          ...name,
          ...headers,
        },
        body: JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: { ...STATELESS_META, ...(params['_meta'] as object) } } }),
        signal: AbortSignal.timeout(10_000),
      });
      return res.json();
    }

    it('takes the parent from the traceparent header; names and attributes the span per the conventions', async () => {
      const reply = await post('tools/call', { name: 'echo', arguments: { text: 'hi' } }, { traceparent: tp(TRACE_A, SPAN_A), tracestate: 'rojo=00f067aa0ba902b7' }, 'req-7');
      expect(reply.result.content[0].text).toBe('hi');
      const span = only('tools/call echo');
      expect(span.kind).toBe(SpanKind.SERVER);
      expect(span.spanContext().traceId).toBe(TRACE_A);
      expect(span.parentSpanContext?.spanId).toBe(SPAN_A);
      expect(span.parentSpanContext?.isRemote).toBe(true);
      expect(span.spanContext().traceState?.get('rojo')).toBe('00f067aa0ba902b7');
      expect(span.attributes).toEqual({
        'mcp.method.name': 'tools/call',
        'gen_ai.tool.name': 'echo',
        'gen_ai.operation.name': 'execute_tool',
        'jsonrpc.request.id': 'req-7',
        'mcp.protocol.version': '2026-07-28',
        'network.transport': 'tcp',
        'network.protocol.name': 'http',
      });
      expect(span.status.code).toBe(SpanStatusCode.UNSET);
      expect(span.links).toEqual([]);
    });

    it('takes the parent from _meta over the header, and links the header context', async () => {
      await post('tools/call', { name: 'echo', arguments: {}, _meta: { traceparent: tp(TRACE_B, SPAN_B) } }, { traceparent: tp(TRACE_A, SPAN_A) });
      const span = only('tools/call echo');
      expect(span.spanContext().traceId).toBe(TRACE_B);
      expect(span.parentSpanContext?.spanId).toBe(SPAN_B);
      expect(span.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([[TRACE_A, SPAN_A]]);
    });

    it('ignores a malformed traceparent: the span is a new root', async () => {
      await post('tools/call', { name: 'echo', arguments: {}, _meta: { traceparent: tp(TRACE_B.toUpperCase(), SPAN_B) } }, { traceparent: `01-${TRACE_A}-${SPAN_A}-01` });
      const span = only('tools/call echo');
      expect(span.parentSpanContext).toBeUndefined();
      expect([TRACE_A, TRACE_B.toUpperCase(), TRACE_B]).not.toContain(span.spanContext().traceId);
    });

    it('falls back to the header when the _meta traceparent is malformed', async () => {
      await post('tools/call', { name: 'echo', arguments: {}, _meta: { traceparent: 'garbage' } }, { traceparent: tp(TRACE_A, SPAN_A) });
      expect(only('tools/call echo').parentSpanContext?.spanId).toBe(SPAN_A);
    });

    it('sets error.type, rpc.response.status_code and ERROR status with the JSON-RPC message', async () => {
      const reply = await post('tools/call', { name: 'no-such-tool', arguments: {} });
      const span = only('tools/call'); // an unregistered name stays out of the span name
      expect(span.attributes['gen_ai.tool.name']).toBe('no-such-tool');
      expect(span.attributes['error.type']).toBe(String(reply.error.code));
      expect(span.attributes['rpc.response.status_code']).toBe(String(reply.error.code));
      expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: reply.error.message });
    });

    it('marks a tool error with error.type tool_error and ERROR status', async () => {
      const reply = await post('tools/call', { name: 'fails', arguments: {} });
      expect(reply.result.isError).toBe(true);
      const span = only('tools/call fails');
      expect(span.attributes['error.type']).toBe('tool_error');
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      expect(span.attributes['rpc.response.status_code']).toBeUndefined();
    });

    it("nests a handler's own spans under the request span (synchronous and after an await)", async () => {
      await post('tools/call', { name: 'nested', arguments: {} }, { traceparent: tp(TRACE_A, SPAN_A) });
      await post('tools/call', { name: 'nested-async', arguments: {} }, { traceparent: tp(TRACE_A, SPAN_A) }, 2);
      for (const [request, inner] of [
        ['tools/call nested', 'inside the handler'],
        ['tools/call nested-async', 'after an await'],
      ] as const) {
        const outer = only(request);
        const child = only(inner);
        expect(child.spanContext().traceId).toBe(TRACE_A);
        expect(child.parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
      }
    });

    it('cuts a client-chosen tool name to 256 characters in its attribute', async () => {
      await post('tools/call', { name: 'y'.repeat(1000), arguments: {} });
      expect(only('tools/call').attributes['gen_ai.tool.name']).toBe('y'.repeat(256));
    });

    it('names prompts/get by its prompt and leaves other methods unnamed', async () => {
      await post('prompts/get', { name: 'greet' });
      await post('tools/list', {}, {}, 2);
      expect(only('prompts/get greet').attributes['gen_ai.prompt.name']).toBe('greet');
      expect(only('tools/list').attributes['mcp.method.name']).toBe('tools/list');
    });
  });
}

describe('over stdio', () => {
  it('parents from _meta, records the session and the negotiated version, transport pipe', async () => {
    const client = new MemoryClient(demoServer());
    await client.initialize('2025-11-25');
    const id = client.call('echo', { text: 'x' }, { traceparent: tp(TRACE_B, SPAN_B) });
    expect((await client.reply(id)).result.content[0].text).toBe('x');
    const init = only('initialize');
    expect(init.attributes['mcp.protocol.version']).toBe('2025-11-25');
    const span = only('tools/call echo');
    expect(span.spanContext().traceId).toBe(TRACE_B);
    expect(span.parentSpanContext?.spanId).toBe(SPAN_B);
    expect(span.attributes['network.transport']).toBe('pipe');
    expect(span.attributes['mcp.protocol.version']).toBe('2025-11-25');
    expect(span.attributes['jsonrpc.request.id']).toBe(String(id));
    expect(typeof span.attributes['mcp.session.id']).toBe('string');
    expect(span.attributes['mcp.session.id']).toBe(init.attributes['mcp.session.id']);
  });

  it('follows an unsampled parent: nothing is recorded, and the handler sees the unsampled context', async () => {
    const client = new MemoryClient(demoServer());
    await client.initialize('2025-11-25');
    exporter.reset();
    await client.reply(client.call('nested', {}, { traceparent: tp(TRACE_B, SPAN_B, '00') }));
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('a 2026-07-28 request over stdio has no session attribute', async () => {
    const client = new MemoryClient(demoServer());
    await client.reply(client.call('echo', {}, { ...STATELESS_META, traceparent: tp(TRACE_A, SPAN_A) }));
    const span = only('tools/call echo');
    expect(span.attributes['mcp.session.id']).toBeUndefined();
    expect(span.attributes['mcp.protocol.version']).toBe('2026-07-28');
    expect(span.parentSpanContext?.spanId).toBe(SPAN_A);
  });

  it('nests handler spans over stdio too', async () => {
    const client = new MemoryClient(demoServer());
    await client.initialize('2025-11-25');
    await client.reply(client.call('nested-async', {}));
    expect(only('after an await').parentSpanContext?.spanId).toBe(only('tools/call nested-async').spanContext().spanId);
  });
});

describe('fastermcp serve with an SDK registered by --import', () => {
  it('traces every request, parented by the traceparent header', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fastermcp-otel-'));
    try {
      const spansFile = join(dir, 'spans.jsonl');
      const resolve = (m: string): string => pathToFileURL(createRequire(import.meta.url).resolve(m)).href;
      // An exporter that appends each span (name, ids, attributes) to a file, as the SDK finishes it.
      writeFileSync(
        join(dir, 'otel.mjs'),
        `import { appendFileSync } from 'node:fs';
import { trace } from '${resolve('@opentelemetry/api')}';
import { BasicTracerProvider, SimpleSpanProcessor } from '${resolve('@opentelemetry/sdk-trace-base')}';
const exporter = {
  export(spans, done) {
    for (const s of spans) appendFileSync(${JSON.stringify(spansFile)}, JSON.stringify({ name: s.name, kind: s.kind, traceId: s.spanContext().traceId, parent: s.parentSpanContext?.spanId, attributes: s.attributes }) + '\\n');
    done({ code: 0 });
  },
  async shutdown() {},
};
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
`,
      );
      const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
      const child = spawn(process.execPath, ['--import', pathToFileURL(join(dir, 'otel.mjs')).href, cli, 'serve', '--http', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      try {
        const url = await new Promise<string>((resolveUrl, reject) => {
          let out = '';
          const timer = setTimeout(() => reject(new Error(`no URL; stderr: ${stderr}`)), 20_000);
          child.stdout!.setEncoding('utf8').on('data', (d: string) => {
            out += d;
            const m = /serving MCP on (\S+)/.exec(out);
            if (m !== null) {
              clearTimeout(timer);
              resolveUrl(m[1]!);
            }
          });
          child.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
        });
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo', traceparent: tp(TRACE_A, SPAN_A) },
          body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' }, _meta: STATELESS_META } }),
          signal: AbortSignal.timeout(10_000),
        });
        expect(res.status).toBe(200);
      } finally {
        child.kill('SIGKILL');
      }
      expect(stderr).toContain('tracing: one span per request');
      const spans = readFileSync(spansFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(spans).toEqual([
        expect.objectContaining({ name: 'tools/call echo', kind: SpanKind.SERVER, traceId: TRACE_A, parent: SPAN_A, attributes: expect.objectContaining({ 'jsonrpc.request.id': '9' }) }),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('without an SDK', () => {
  it('declines every request while the global provider is the no-op one, and traces once one is registered', async () => {
    const server = new McpServer({ name: 's', version: '1' });
    server.tool('echo', {}, () => 'e');
    const observer = tracingObserver(server);
    const client = new MemoryClient(server);
    const info = { method: 'tools/list', params: {}, idRaw: '1', env: { session: undefined, channel: { send() {}, open: true }, auth: undefined, signal: undefined } };
    expect(observer.begin(info as never)).toBeUndefined();
    server.observe(observer);
    await client.initialize('2025-11-25');
    expect(serverSpans()).toHaveLength(0);
    expect(trace.setGlobalTracerProvider(provider)).toBe(true);
    try {
      expect(observer.begin(info as never)).toBeDefined();
      await client.reply(client.call('echo', {}));
      expect(serverSpans().map((s) => s.name)).toContain('tools/call echo');
    } finally {
      trace.disable();
    }
    exporter.reset();
    expect(observer.begin(info as never)).toBeUndefined();
  });
});

describe('parseTraceparent (W3C Trace Context level 1, version 00)', () => {
  const good = tp(TRACE_A, SPAN_A);
  it('accepts version 00 with lowercase hex ids, keeps the sampled flag', () => {
    expect(parseTraceparent(good)).toEqual<SpanContext>({ traceId: TRACE_A, spanId: SPAN_A, traceFlags: 1, isRemote: true });
    expect(parseTraceparent(tp(TRACE_A, SPAN_A, '00'))?.traceFlags).toBe(0);
    expect(parseTraceparent(tp(TRACE_A, SPAN_A, '03'))?.traceFlags).toBe(1); // unknown flag bits are ignored
  });
  it.each([
    ['uppercase hex', good.toUpperCase()],
    ['version ff', `ff-${TRACE_A}-${SPAN_A}-01`],
    ['version 01 (unknown to level 1 with this exact layout check)', `01-${TRACE_A}-${SPAN_A}-01`],
    ['all-zero trace id', tp('0'.repeat(32), SPAN_A)],
    ['all-zero span id', tp(TRACE_A, '0'.repeat(16))],
    ['short trace id', tp(TRACE_A.slice(1), SPAN_A)],
    ['trailing data', `${good}-extra`],
    ['leading space', ` ${good}`.slice(0, 55)],
    ['non-hex flags', tp(TRACE_A, SPAN_A, 'zz')],
    ['not a string', 42],
    ['empty', ''],
  ])('refuses %s', (_what, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });
  it('drops a tracestate that does not parse, keeps one that does', () => {
    expect(parseTraceparent(good, 'a=1,b=2')?.traceState?.get('b')).toBe('2');
    expect(parseTraceparent(good, 42)?.traceState).toBeUndefined();
  });
});
