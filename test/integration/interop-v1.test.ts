// Interop with the official v1 SDK client (@modelcontextprotocol/sdk 1.32.2) in the legacy era:
// initialize, sessions and server->client requests. The same feature suite runs over a stdio child
// (`fastermcp serve test/fixtures/interop/server.mjs --stdio`, once per engine: native and the
// pure-JS twin, FASTERMCP_FORCE_JS=1) and over Streamable HTTP (serveHttp in-process, on
// 127.0.0.1 port 0; the engine of this process is whatever the run picked). The fixture exposes
// what a test must trigger or observe on the server side as tools (see its header).
//
// Needs the built package: `npm run build:ts` (dist/).
import type { ChildProcess } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  EmptyResultSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  McpError as SdkMcpError,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { JSONRPCMessage, LoggingMessageNotification, Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { McpServer, serveHttp } from '../../dist/index.js';
import type { RunningHttpServer } from '../../dist/index.js';
import { register, registerPaged } from '../fixtures/interop/server.mjs';
import { ENGINES, ENGINE_LINE, ROOTS, WAIT, cli, engineEnv, engineRuns, fixture, nativeLoads, pagedFixture, pkg, root } from '../fixtures/interop/engines.js';
import type { Engine } from '../fixtures/interop/engines.js';


const SERVER_INFO = { name: 'interop-fixture', version: pkg.version, title: 'fastermcp' };
const CAPABILITIES = {
  tools: { listChanged: true },
  resources: { subscribe: true, listChanged: true },
  prompts: { listChanged: true },
  completions: {},
  logging: {},
};
const TOOL_NAMES = [
  'echo',
  'add',
  'whoami',
  'count',
  'release',
  'block',
  'cancellation',
  'ask_model',
  'ask_user',
  'ask_twice',
  'roots',
  'where',
  'log_levels',
  'add_tool',
  'remove_tool',
  'touch',
];
function childEnv(engine: Engine): Record<string, string> {
  return { ...getDefaultEnvironment(), ...engineEnv(engine) };
}

// ---- the client side -----------------------------------------------------------------------------

/** What the client's request handlers were asked, in order. */
interface Asked {
  elicitations: string[];
  samplings: string[];
  roots: number;
  /** Abort reasons of elicitation handlers the server cancelled (message "hang" waits for that). */
  cancelled: string[];
  /** Called when a "hang" elicitation starts waiting. */
  onHang?: () => void;
}

/** A v1 Client declaring sampling, elicitation and roots, with handlers that record what they were asked. */
function newClient(asked: Asked, errors: string[]): Client {
  const client = new Client({ name: 'interop-v1', version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: {}, roots: {} } });
  client.onerror = (e) => void errors.push(e.message);
  client.setRequestHandler(ElicitRequestSchema, (request, extra) => {
    if (request.params.message === 'hang') {
      return new Promise((resolve) => {
        extra.signal.addEventListener(
          'abort',
          () => {
            asked.cancelled.push(String(extra.signal.reason));
            resolve({ action: 'cancel' });
          },
          { once: true },
        );
        asked.onHang?.();
      });
    }
    asked.elicitations.push(request.params.message);
    return { action: 'accept', content: { name: `Ada (${request.params.message})` } };
  });
  client.setRequestHandler(CreateMessageRequestSchema, (request) => {
    const first = request.params.messages[0]!.content;
    const text = !Array.isArray(first) && first.type === 'text' ? first.text : '?';
    asked.samplings.push(text);
    return { role: 'assistant', model: 'test-model', content: { type: 'text', text: `echo of ${text}` } };
  });
  client.setRequestHandler(ListRootsRequestSchema, () => {
    asked.roots++;
    return { roots: ROOTS };
  });
  return client;
}

/** Makes the client's initialize ask for `version` (the v1 Client always asks for its newest). */
function askForVersion<T extends Transport>(transport: T, version: string): T {
  const send = transport.send.bind(transport);
  transport.send = (message: JSONRPCMessage, options?: Parameters<Transport['send']>[1]) => {
    if ('method' in message && message.method === 'initialize' && 'id' in message) {
      return send({ ...message, params: { ...message.params, protocolVersion: version } }, options);
    }
    return send(message, options);
  };
  return transport;
}

function textOf(result: unknown): string {
  const content = (result as { content: { type: string; text?: string }[] }).content;
  expect(content).toHaveLength(1);
  expect(content[0]!.type).toBe('text');
  return content[0]!.text!;
}

async function rejection(promise: Promise<unknown>): Promise<SdkMcpError> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SdkMcpError);
  return e as SdkMcpError;
}

// ---- harnesses: one connected client per suite -------------------------------------------------

interface Harness {
  client: Client;
  asked: Asked;
  /** Everything the client reported through onerror (stray or malformed messages). */
  errors: string[];
  /** Resolves once the server can push notifications that belong to no request (HTTP: the GET stream is open). */
  pushReady: Promise<void>;
  /** stdio: the child's stderr so far. */
  stderr(): string;
  /** stdio: the child process (for its exit status). */
  child: ChildProcess | undefined;
  close(): Promise<void>;
}

async function stdioHarness(engine: Engine, script: string[], version?: string): Promise<Harness> {
  const asked: Asked = { elicitations: [], samplings: [], roots: 0, cancelled: [] };
  const errors: string[] = [];
  const client = newClient(asked, errors);
  let transport = new StdioClientTransport({ command: process.execPath, args: script, env: childEnv(engine), stderr: 'pipe', cwd: root });
  let stderr = '';
  transport.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  if (version !== undefined) transport = askForVersion(transport, version);
  await client.connect(transport);
  // The transport keeps its child private; the exit status is part of what the tests check.
  const child = (transport as unknown as { _process: ChildProcess })._process;
  return {
    client,
    asked,
    errors,
    pushReady: Promise.resolve(),
    stderr: () => stderr,
    child,
    close: async () => {
      await client.close();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

async function httpHarness(server: McpServer, version?: string): Promise<Harness & { running: RunningHttpServer }> {
  const running = await serveHttp(server, { port: 0, host: '127.0.0.1' });
  // Listeners run in order: by the time this one runs, the transport has attached the GET stream.
  const pushReady = new Promise<void>((resolve) =>
    running.httpServer.on('request', (req: { method?: string }) => {
      if (req.method === 'GET') resolve();
    }),
  );
  const asked: Asked = { elicitations: [], samplings: [], roots: 0, cancelled: [] };
  const errors: string[] = [];
  const client = newClient(asked, errors);
  let transport = new StreamableHTTPClientTransport(new URL(running.url));
  if (version !== undefined) transport = askForVersion(transport, version);
  await client.connect(transport);
  return {
    client,
    asked,
    errors,
    pushReady,
    stderr: () => '',
    child: undefined,
    running,
    close: async () => {
      await client.close();
      await running.close();
    },
  };
}

function fixtureServer(options: { pageSize?: number } = {}): McpServer {
  return new McpServer({ ...SERVER_INFO, ...options });
}

// ---- the feature suite -----------------------------------------------------------------------------

/** Every legacy-era feature, against whatever `connect` starts. `tag` keeps keys and names unique. */
function legacySuite(tag: string, connect: () => Promise<Harness>): void {
  let h: Harness;
  beforeAll(async () => {
    h = await connect();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('initialize: server info, capabilities, no instructions, revision 2025-11-25', async () => {
    expect(h.client.getServerVersion()).toEqual(SERVER_INFO);
    expect(h.client.getServerCapabilities()).toEqual(CAPABILITIES);
    expect(h.client.getInstructions()).toBeUndefined();
    expect(textOf(await h.client.callTool({ name: 'whoami', arguments: {} }))).toBe('legacy 2025-11-25 interop-v1');
  });

  it('lists tools with their definitions', async () => {
    const { tools, nextCursor } = await h.client.listTools();
    expect(nextCursor).toBeUndefined();
    expect(tools.map((t) => t.name)).toEqual(TOOL_NAMES);
    expect(tools[0]).toEqual({
      name: 'echo',
      title: 'Echo',
      description: 'Returns its text argument.',
      inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'], additionalProperties: false },
      annotations: { readOnlyHint: true },
    });
    expect(tools[1]!.outputSchema).toEqual({
      type: 'object',
      properties: { sum: { type: 'number' } },
      required: ['sum'],
      additionalProperties: false,
    });
  });

  it('calls a tool', async () => {
    expect(await h.client.callTool({ name: 'echo', arguments: { text: 'hello' } })).toEqual({ content: [{ type: 'text', text: 'hello' }] });
  });

  it('arguments that fail the inputSchema give an isError result', async () => {
    expect(await h.client.callTool({ name: 'echo', arguments: { text: 5 } })).toEqual({
      content: [{ type: 'text', text: 'Invalid arguments for tool "echo": /text must be string' }],
      isError: true,
    });
  });

  it('structuredContent that matches the outputSchema, mirrored as text', async () => {
    await h.client.listTools(); // the client validates structuredContent against the listed outputSchema
    expect(await h.client.callTool({ name: 'add', arguments: { a: 2, b: 3.5 } })).toEqual({
      content: [{ type: 'text', text: '{"sum":5.5}' }],
      structuredContent: { sum: 5.5 },
    });
  });

  it('an unknown tool is a protocol error (-32602)', async () => {
    const e = await rejection(h.client.callTool({ name: 'no_such_tool', arguments: {} }));
    expect(e.code).toBe(-32602);
    expect(e.message).toBe('MCP error -32602: Unknown tool: no_such_tool');
  });

  it('lists and reads resources: static, template; an unknown uri is -32002', async () => {
    expect(await h.client.listResources()).toEqual({
      resources: [
        { uri: 'interop://static', name: 'static', title: 'Static text', mimeType: 'text/plain' },
        { uri: 'interop://watched', name: 'watched', mimeType: 'text/plain' },
        { uri: 'interop://private', name: 'private', mimeType: 'text/plain' },
      ],
    });
    expect(await h.client.readResource({ uri: 'interop://static' })).toEqual({
      contents: [{ uri: 'interop://static', mimeType: 'text/plain', text: 'static text' }],
    });
    expect(await h.client.readResource({ uri: 'interop://items/a%20b' })).toEqual({
      contents: [{ uri: 'interop://items/a%20b', mimeType: 'application/json', text: '{"id":"a b"}' }],
    });
    const e = await rejection(h.client.readResource({ uri: 'interop://missing' }));
    expect(e.code).toBe(-32002);
    expect(e.data).toEqual({ uri: 'interop://missing' });
  });

  it('lists resource templates', async () => {
    expect(await h.client.listResourceTemplates()).toEqual({
      resourceTemplates: [{ uriTemplate: 'interop://items/{id}', name: 'item', description: 'One item by id', mimeType: 'application/json' }],
    });
  });

  it('lists prompts and gets one with arguments; a missing required argument is -32602', async () => {
    expect(await h.client.listPrompts()).toEqual({
      prompts: [
        {
          name: 'greet',
          title: 'Greeting',
          description: 'Greets someone',
          arguments: [
            { name: 'name', description: 'Who to greet', required: true },
            { name: 'style', description: 'formal or friendly' },
          ],
        },
        { name: 'ask_greet', description: 'Asks the user whom to greet' },
      ],
    });
    expect(await h.client.getPrompt({ name: 'greet', arguments: { name: 'Bo', style: 'formal' } })).toEqual({
      description: 'A greeting',
      messages: [{ role: 'user', content: { type: 'text', text: 'Greet Bo in a formal way.' } }],
    });
    expect(await h.client.getPrompt({ name: 'greet', arguments: { name: 'Cy' } })).toEqual({
      description: 'A greeting',
      messages: [{ role: 'user', content: { type: 'text', text: 'Greet Cy in a plain way.' } }],
    });
    const e = await rejection(h.client.getPrompt({ name: 'greet', arguments: { style: 'formal' } }));
    expect(e.code).toBe(-32602);
  });

  it('completes prompt arguments and template variables', async () => {
    expect(await h.client.complete({ ref: { type: 'ref/prompt', name: 'greet' }, argument: { name: 'style', value: 'f' } })).toEqual({
      completion: { values: ['formal', 'friendly', 'funny'], total: 3, hasMore: false },
    });
    expect(
      await h.client.complete({ ref: { type: 'ref/resource', uri: 'interop://items/{id}' }, argument: { name: 'id', value: 'ap' } }),
    ).toEqual({ completion: { values: ['apple', 'apricot'], total: 2, hasMore: false } });
  });

  it('progress notifications reach onprogress, in order', async () => {
    const seen: Progress[] = [];
    const gate = `progress_${tag}`;
    const result = await h.client.callTool({ name: 'count', arguments: { steps: 3, gate } }, undefined, {
      onprogress: (p) => {
        seen.push(p);
        if (p.progress === 3) void h.client.callTool({ name: 'release', arguments: { gate } });
      },
    });
    expect(textOf(result)).toBe('counted to 3');
    expect(seen).toEqual([
      { progress: 1, total: 3, message: 'step 1' },
      { progress: 2, total: 3, message: 'step 2' },
      { progress: 3, total: 3, message: 'step 3' },
    ]);
  });

  it("cancelling a call (AbortSignal) fires the handler's ctx.signal with the client's reason", async () => {
    const key = `cancel_${tag}`;
    const controller = new AbortController();
    const call = h.client.callTool({ name: 'block', arguments: { key } }, undefined, {
      signal: controller.signal,
      onprogress: () => controller.abort('the user pressed stop'),
    });
    const e = await rejection(call);
    expect(e.message).toContain('the user pressed stop');
    expect(textOf(await h.client.callTool({ name: 'cancellation', arguments: { key } }))).toBe('cancelled: the user pressed stop');
  });

  it('sampling: the tool gets the answer of the client model', async () => {
    const before = h.asked.samplings.length;
    expect(textOf(await h.client.callTool({ name: 'ask_model', arguments: { prompt: 'capital of France?' } }))).toBe(
      'model said: echo of capital of France? (test-model)',
    );
    expect(h.asked.samplings.slice(before)).toEqual(['capital of France?']);
  });

  it('elicitation: the tool gets the answers of the user, one request after the other', async () => {
    const before = h.asked.elicitations.length;
    expect(textOf(await h.client.callTool({ name: 'ask_user', arguments: { message: 'Your name?' } }))).toBe(
      'user accept: {"name":"Ada (Your name?)"}',
    );
    expect(textOf(await h.client.callTool({ name: 'ask_twice', arguments: {} }))).toBe('first=Ada (first?) second=Ada (second?)');
    expect(h.asked.elicitations.slice(before)).toEqual(['Your name?', 'first?', 'second?']);
  });

  // Runs after other server->client requests on purpose: the v1 SDK ignores notifications/cancelled
  // for request id 0 (`if (!notification.params.requestId) return;` in shared/protocol.js), and
  // fastermcp numbers a session's requests to the client from 0.
  it("cancelling a call while its elicitation is pending cancels the client's handler too", async () => {
    const controller = new AbortController();
    h.asked.onHang = () => controller.abort('the user pressed stop');
    try {
      const e = await rejection(h.client.callTool({ name: 'ask_user', arguments: { message: 'hang' } }, undefined, { signal: controller.signal }));
      expect(e.message).toContain('the user pressed stop');
      await vi.waitFor(() => expect(h.asked.cancelled).toEqual(['The request that needed it was cancelled']), WAIT);
    } finally {
      h.asked.onHang = undefined;
    }
  });

  it('elicitation during prompts/get and resources/read', async () => {
    const before = h.asked.elicitations.length;
    expect(await h.client.getPrompt({ name: 'ask_greet' })).toEqual({
      messages: [{ role: 'user', content: { type: 'text', text: 'Greet Ada (Whom to greet?).' } }],
    });
    expect(await h.client.readResource({ uri: 'interop://private' })).toEqual({
      contents: [{ uri: 'interop://private', mimeType: 'text/plain', text: 'private text for Ada (Who is reading?)' }],
    });
    expect(h.asked.elicitations.slice(before)).toEqual(['Whom to greet?', 'Who is reading?']);
  });

  it('roots/list: the tool gets the client roots', async () => {
    const before = h.asked.roots;
    expect(textOf(await h.client.callTool({ name: 'roots', arguments: {} }))).toBe('file:///work/a a\nfile:///work/b b');
    expect(h.asked.roots).toBe(before + 1);
  });

  it('logging: setLoggingLevel filters notifications/message', async () => {
    const logs: LoggingMessageNotification['params'][] = [];
    h.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params));
    try {
      expect(await h.client.setLoggingLevel('warning')).toEqual({});
      expect(textOf(await h.client.callTool({ name: 'log_levels', arguments: {} }))).toBe('logged');
      await vi.waitFor(() => expect(logs).toHaveLength(2), WAIT);
      expect(logs).toEqual([
        { level: 'warning', logger: 'interop', data: { said: 'warning' } },
        { level: 'error', logger: 'interop', data: { said: 'error' } },
      ]);
      await h.client.setLoggingLevel('debug');
      await h.client.callTool({ name: 'log_levels', arguments: {} });
      await vi.waitFor(() => expect(logs).toHaveLength(6), WAIT);
      expect(logs.slice(2).map((l) => l.level)).toEqual(['debug', 'info', 'warning', 'error']);
      const e = await rejection(h.client.request({ method: 'logging/setLevel', params: { level: 'loud' } }, EmptyResultSchema));
      expect(e.code).toBe(-32602);
    } finally {
      h.client.removeNotificationHandler('notifications/message');
    }
  });

  it('resource subscriptions: updates for subscribed uris only, none after unsubscribe', async () => {
    await h.pushReady;
    const updates: string[] = [];
    h.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params.uri));
    try {
      expect(await h.client.subscribeResource({ uri: 'interop://watched' })).toEqual({});
      await h.client.callTool({ name: 'touch', arguments: { uri: 'interop://static' } }); // not subscribed
      await h.client.callTool({ name: 'touch', arguments: { uri: 'interop://watched' } });
      await vi.waitFor(() => expect(updates).toHaveLength(1), WAIT);
      expect(await h.client.unsubscribeResource({ uri: 'interop://watched' })).toEqual({});
      await h.client.subscribeResource({ uri: 'interop://static' });
      // Same stream, in order: an update for watched would arrive before the one for static.
      await h.client.callTool({ name: 'touch', arguments: { uri: 'interop://watched' } });
      await h.client.callTool({ name: 'touch', arguments: { uri: 'interop://static' } });
      await vi.waitFor(() => expect(updates).toHaveLength(2), WAIT);
      expect(updates).toEqual(['interop://watched', 'interop://static']);
    } finally {
      await h.client.unsubscribeResource({ uri: 'interop://static' });
      h.client.removeNotificationHandler('notifications/resources/updated');
    }
  });

  it('tools/list_changed when a tool is registered and removed at run time', async () => {
    await h.pushReady;
    const name = `dyn_${tag}`;
    let changes = 0;
    h.client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changes++);
    try {
      expect(textOf(await h.client.callTool({ name: 'add_tool', arguments: { name } }))).toBe(`added ${name}`);
      await vi.waitFor(() => expect(changes).toBe(1), WAIT);
      expect((await h.client.listTools()).tools.map((t) => t.name)).toEqual([...TOOL_NAMES, name]);
      expect(textOf(await h.client.callTool({ name, arguments: {} }))).toBe(`I am ${name}`);
      await h.client.callTool({ name: 'remove_tool', arguments: { name } });
      await vi.waitFor(() => expect(changes).toBe(2), WAIT);
      expect((await h.client.listTools()).tools.map((t) => t.name)).toEqual(TOOL_NAMES);
    } finally {
      h.client.removeNotificationHandler('notifications/tools/list_changed');
    }
  });

  it('the client reported no stray or malformed messages', () => {
    expect(h.errors).toEqual([]);
  });
}

/** Lists every page of tools/list through nextCursor. */
async function allPages(client: Client): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? undefined : { cursor });
    pages.push(page.tools.map((t) => t.name));
    cursor = page.nextCursor;
  } while (cursor !== undefined && pages.length < 10);
  return pages;
}

const PAGES = [['page_a', 'page_b'], ['page_c', 'page_d'], ['page_e']];

// ---- the suites -------------------------------------------------------------------------------------

describe.each(ENGINES)('v1 client over stdio (fastermcp serve --stdio), %s engine', (engine) => {
  describe.skipIf(!engineRuns(engine))('fixture server', () => {
    let stderr = (): string => '';
    legacySuite(`stdio_${engine}`, async () => {
      const h = await stdioHarness(engine, [cli, 'serve', fixture, '--stdio', '--name', SERVER_INFO.name]);
      stderr = h.stderr;
      return h;
    });

    it(`runs the ${engine} engine`, async () => {
      await vi.waitFor(() => expect(stderr()).toContain('JSON-RPC engine'), WAIT);
      // stderr is JSON log lines (src/ops/log.ts): the engine line, and nothing else.
      expect(stderr().trim().split('\n').map((l) => `${JSON.parse(l).msg}\n`)).toEqual([ENGINE_LINE[engine]]);
    });
  });

  describe.skipIf(!engineRuns(engine))('pagination (pageSize 2, five tools)', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await stdioHarness(engine, [pagedFixture]);
    });
    afterAll(async () => {
      await h?.close();
    });

    it('walks every page through nextCursor; a forged cursor is -32602', async () => {
      expect(await allPages(h.client)).toEqual(PAGES);
      const e = await rejection(h.client.listTools({ cursor: 'not-a-cursor' }));
      expect(e.code).toBe(-32602);
    });

    it('the server exits with code 0 when the client closes its stdin', async () => {
      const child = h.child!;
      const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve([child.exitCode, child.signalCode]);
        else child.once('exit', (code, signal) => resolve([code, signal]));
      });
      await h.client.close();
      expect(await exited).toEqual([0, null]);
    });
  });
});

describe('v1 client over Streamable HTTP (serveHttp in-process)', () => {
  describe('fixture server', () => {
    legacySuite('http', async () => {
      const server = fixtureServer();
      register(server);
      return httpHarness(server);
    });
  });

  describe('pagination (pageSize 2, five tools)', () => {
    let h: Harness;
    beforeAll(async () => {
      const server = fixtureServer({ pageSize: 2 });
      registerPaged(server);
      h = await httpHarness(server);
    });
    afterAll(async () => {
      await h?.close();
    });

    it('walks every page through nextCursor; a forged cursor is -32602', async () => {
      expect(await allPages(h.client)).toEqual(PAGES);
      const e = await rejection(h.client.listTools({ cursor: 'not-a-cursor' }));
      expect(e.code).toBe(-32602);
    });
  });
});

describe('v1 client over Streamable HTTP: the session lifecycle', () => {
  let running: RunningHttpServer;
  beforeAll(async () => {
    const server = fixtureServer();
    register(server);
    running = await serveHttp(server, { port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await running?.close();
  });

  it('terminateSession (DELETE) ends the session; a client naming an unknown session gets 404 / -32001', async () => {
    const client = new Client({ name: 'interop-v1', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(running.url));
    await client.connect(transport);
    expect(transport.sessionId).toMatch(/^[\x21-\x7e]+$/);
    expect(running.transport.sessionCount).toBe(1);
    await transport.terminateSession();
    expect(transport.sessionId).toBeUndefined();
    expect(running.transport.sessionCount).toBe(0);
    await client.close();

    // A transport given a session id resumes it without initialize; this one was never issued.
    const stale = new Client({ name: 'interop-v1', version: '1.0.0' });
    await stale.connect(new StreamableHTTPClientTransport(new URL(running.url), { sessionId: 'no-such-session' }));
    const e = (await stale.listTools().then(
      () => undefined,
      (err: unknown) => err,
    )) as { code?: unknown; message?: string };
    expect(e.code).toBe(404);
    expect(e.message).toContain('"code":-32001');
    await stale.close();
  });
});

// The v1 Client always asks for 2025-11-25; a transport wrapper makes it ask for an older revision,
// which the server grants and the client accepts (both list it as supported).
describe.each(['2025-03-26', '2024-11-05'])('v1 client negotiating %s', (version) => {
  const engine: Engine = nativeLoads ? 'native' : 'js';
  for (const kind of ['stdio', 'http'] as const) {
    describe(kind, () => {
      let h: Harness;
      beforeAll(async () => {
        if (kind === 'stdio') {
          h = await stdioHarness(engine, [cli, 'serve', fixture, '--stdio', '--name', SERVER_INFO.name], version);
        } else {
          const server = fixtureServer();
          register(server);
          h = await httpHarness(server, version);
        }
      });
      afterAll(async () => {
        await h?.close();
      });

      it('the handler sees the negotiated revision', async () => {
        expect(h.client.getServerVersion()).toEqual(SERVER_INFO);
        expect(textOf(await h.client.callTool({ name: 'whoami', arguments: {} }))).toBe(`legacy ${version} interop-v1`);
      });

      it('tools, resources, sampling and progress work', async () => {
        expect(textOf(await h.client.callTool({ name: 'echo', arguments: { text: 'old' } }))).toBe('old');
        expect(await h.client.readResource({ uri: 'interop://static' })).toEqual({
          contents: [{ uri: 'interop://static', mimeType: 'text/plain', text: 'static text' }],
        });
        expect(textOf(await h.client.callTool({ name: 'ask_model', arguments: { prompt: 'hi' } }))).toBe('model said: echo of hi (test-model)');
        const seen: number[] = [];
        const gate = `old_${version}_${kind}`;
        await h.client.callTool({ name: 'count', arguments: { steps: 2, gate } }, undefined, {
          onprogress: (p) => {
            seen.push(p.progress);
            if (p.progress === 2) void h.client.callTool({ name: 'release', arguments: { gate } });
          },
        });
        expect(seen).toEqual([1, 2]);
      });
    });
  }
});
