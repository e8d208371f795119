// Interop with the official v2 client (@modelcontextprotocol/client 2.4.0) in the 2026-07-28 era:
// no initialize; the client pins the revision (`versionNegotiation: { mode: { pin: '2026-07-28' } }`),
// checks it with server/discover at connect, then puts its version, info and capabilities in every
// request's `_meta`. Server->client requests are gone: sampling, elicitation and roots come back as
// `input_required` results, which the client fulfils through its request handlers and retries
// (multi-round-trip, SEP-2322). The same suite runs over Streamable HTTP (serveHttp in-process,
// 127.0.0.1 port 0) and over a stdio child (`fastermcp serve <fixture> --stdio`, once per engine:
// native and the pure-JS twin, FASTERMCP_FORCE_JS=1). The fixture exposes what a test must trigger
// or observe on the server side as tools (test/fixtures/interop/server.mjs).
//
// Needs the built package: `npm run build:ts` (dist/).
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import {
  Client,
  LOG_LEVEL_META_KEY,
  ProtocolError,
  SERVER_INFO_META_KEY,
  SUBSCRIPTION_ID_META_KEY,
  StreamableHTTPClientTransport,
} from '@modelcontextprotocol/client';
import type { ClientCapabilities, LoggingMessageNotificationParams, Progress } from '@modelcontextprotocol/client';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { McpServer, serveHttp } from '../../dist/index.js';
import type { RunningHttpServer } from '../../dist/index.js';
import { register, registerPaged } from '../fixtures/interop/server.mjs';
import { ENGINES, ENGINE_LINE, ROOTS, WAIT, cli, engineEnv, engineRuns, fixture, nativeLoads, pagedFixture, pkg, root } from '../fixtures/interop/engines.js';
import type { Engine } from '../fixtures/interop/engines.js';


const VERSION = '2026-07-28';
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
/** list and read results of this era carry caching hints; the fixture server keeps the defaults. */
const CACHE = { ttlMs: 0, cacheScope: 'public' };
function childEnv(engine: Engine): Record<string, string> {
  return { ...getDefaultEnvironment(), ...engineEnv(engine) };
}

// ---- the client side -----------------------------------------------------------------------------

/** What the client's input handlers were asked, in order. */
interface Asked {
  elicitations: string[];
  samplings: string[];
  roots: number;
}

interface ClientOptions {
  /** false: manual multi-round-trip mode (input_required results are handed back). */
  autoFulfill?: boolean;
  capabilities?: Pick<ClientCapabilities, 'sampling' | 'elicitation' | 'roots'>;
}

/** A v2 Client pinned to 2026-07-28 whose input handlers record what they were asked. */
function newClient(asked: Asked, options: ClientOptions = {}): Client {
  const capabilities = options.capabilities ?? { sampling: {}, elicitation: {}, roots: {} };
  const client = new Client(
    { name: 'interop-v2', version: '2.0.0' },
    { capabilities, versionNegotiation: { mode: { pin: VERSION } }, inputRequired: { autoFulfill: options.autoFulfill ?? true } },
  );
  if (capabilities.elicitation !== undefined) {
    client.setRequestHandler('elicitation/create', (request) => {
      asked.elicitations.push(request.params.message);
      return { action: 'accept', content: { name: `Ada (${request.params.message})` } };
    });
  }
  if (capabilities.sampling !== undefined) {
    client.setRequestHandler('sampling/createMessage', (request) => {
      const first = request.params.messages[0]!.content;
      const block = Array.isArray(first) ? first[0] : first;
      const text = block?.type === 'text' ? block.text : '?';
      asked.samplings.push(text);
      return { role: 'assistant', model: 'test-model', content: { type: 'text', text: `echo of ${text}` } };
    });
  }
  if (capabilities.roots !== undefined) {
    client.setRequestHandler('roots/list', () => {
      asked.roots++;
      return { roots: ROOTS };
    });
  }
  return client;
}

function textOf(result: unknown): string {
  const content = (result as { content: { type: string; text?: string }[] }).content;
  expect(content).toHaveLength(1);
  expect(content[0]!.type).toBe('text');
  return content[0]!.text!;
}

async function rejection(promise: Promise<unknown>): Promise<ProtocolError> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ProtocolError);
  return e as ProtocolError;
}

// ---- harnesses ---------------------------------------------------------------------------------------

interface Harness {
  client: Client;
  asked: Asked;
  /** Everything the client reported through onerror (stray or malformed messages). */
  errors: string[];
  /** stdio: the child's stderr so far. */
  stderr(): string;
  /** HTTP in-process: the server, to count what listens to it. */
  server: McpServer | undefined;
  running: RunningHttpServer | undefined;
  /** HTTP in-process: the headers of every request the server received. */
  headers: IncomingHttpHeaders[];
  close(): Promise<void>;
}

async function stdioHarness(engine: Engine, script: string[], options?: ClientOptions): Promise<Harness> {
  const asked: Asked = { elicitations: [], samplings: [], roots: 0 };
  const errors: string[] = [];
  const client = newClient(asked, options);
  client.onerror = (e) => void errors.push(e.message);
  const transport = new StdioClientTransport({ command: process.execPath, args: script, env: childEnv(engine), stderr: 'pipe', cwd: root });
  let stderr = '';
  transport.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  await client.connect(transport);
  return { client, asked, errors, stderr: () => stderr, server: undefined, running: undefined, headers: [], close: () => client.close() };
}

async function httpHarness(server: McpServer, options?: ClientOptions): Promise<Harness> {
  const running = await serveHttp(server, { port: 0, host: '127.0.0.1' });
  const headers: IncomingHttpHeaders[] = [];
  // Every request the transport answers, whichever lane read it (the fast lane emits no 'request' event).
  const handle = running.transport.handle.bind(running.transport) as (req: IncomingMessage, res: never) => void;
  running.transport.handle = ((req: IncomingMessage, res: never) => {
    const seen: IncomingHttpHeaders = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) seen[req.rawHeaders[i]!.toLowerCase()] = req.rawHeaders[i + 1]!;
    headers.push(seen);
    handle(req, res);
  }) as typeof running.transport.handle;
  const asked: Asked = { elicitations: [], samplings: [], roots: 0 };
  const errors: string[] = [];
  const client = newClient(asked, options);
  client.onerror = (e) => void errors.push(e.message);
  await client.connect(new StreamableHTTPClientTransport(new URL(running.url)));
  return {
    client,
    asked,
    errors,
    stderr: () => '',
    server,
    running,
    headers,
    close: async () => {
      await client.close();
      await running.close();
    },
  };
}

function fixtureServer(options: { pageSize?: number } = {}): McpServer {
  const server = new McpServer({ ...SERVER_INFO, ...options });
  if (options.pageSize === undefined) register(server);
  else registerPaged(server);
  return server;
}

/**
 * How many things listen to `server`'s notifications (legacy sessions, listen streams). McpServer
 * keeps the set private; the teardown tests read it to see a listen stream end on the server side,
 * which over HTTP the client cannot observe.
 */
function listenerCount(server: McpServer): number {
  return (server as unknown as { listeners: Set<unknown> }).listeners.size;
}

const stdioArgs = [cli, 'serve', fixture, '--stdio', '--name', SERVER_INFO.name];

// ---- the feature suite -------------------------------------------------------------------------------

function modernSuite(tag: string, connect: () => Promise<Harness>): void {
  let h: Harness;
  beforeAll(async () => {
    h = await connect();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('connects through server/discover: versions, capabilities, server info', async () => {
    expect(h.client.getProtocolEra()).toBe('modern');
    expect(h.client.getNegotiatedProtocolVersion()).toBe(VERSION);
    expect(h.client.getServerVersion()).toEqual(SERVER_INFO);
    expect(h.client.getServerCapabilities()).toEqual(CAPABILITIES);
    const discovered = {
      supportedVersions: [VERSION, '2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'],
      capabilities: CAPABILITIES,
      ...CACHE,
      _meta: { [SERVER_INFO_META_KEY]: SERVER_INFO },
    };
    // The connect-time probe keeps the result as sent; discover() hands it back without resultType.
    expect(h.client.getDiscoverResult()).toEqual({ ...discovered, resultType: 'complete' });
    expect(await h.client.discover()).toEqual(discovered);
    expect(textOf(await h.client.callTool({ name: 'whoami', arguments: {} }))).toBe(`stateless ${VERSION} interop-v2`);
  });

  it('lists tools with their definitions', async () => {
    const listed = await h.client.listTools();
    expect(listed.nextCursor).toBeUndefined();
    expect(listed.tools.map((t) => t.name)).toEqual(TOOL_NAMES);
    expect(listed.tools[0]).toEqual({
      name: 'echo',
      title: 'Echo',
      description: 'Returns its text argument.',
      inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'], additionalProperties: false },
      annotations: { readOnlyHint: true },
    });
  });

  it('calls tools: plain, invalid arguments (isError), structuredContent; an unknown tool is -32602', async () => {
    expect(await h.client.callTool({ name: 'echo', arguments: { text: 'hello' } })).toEqual({ content: [{ type: 'text', text: 'hello' }] });
    expect(await h.client.callTool({ name: 'echo', arguments: { text: 5 } })).toEqual({
      content: [{ type: 'text', text: 'Invalid arguments for tool "echo": /text must be string' }],
      isError: true,
    });
    expect(await h.client.callTool({ name: 'add', arguments: { a: 2, b: 3.5 } })).toEqual({
      content: [{ type: 'text', text: '{"sum":5.5}' }],
      structuredContent: { sum: 5.5 },
    });
    const e = await rejection(h.client.callTool({ name: 'no_such_tool', arguments: {} }));
    expect(e.code).toBe(-32602);
    expect(e.message).toBe('Unknown tool: no_such_tool');
  });

  it('x-mcp-header arguments (over HTTP also Mcp-Param-Region, base64 when not plain ASCII)', async () => {
    await h.client.listTools(); // the client mirrors the arguments its cached tools/list marks
    expect(textOf(await h.client.callTool({ name: 'where', arguments: { region: 'eu-west-1' } }))).toBe('region eu-west-1');
    expect(textOf(await h.client.callTool({ name: 'where', arguments: { region: 'Zürich' } }))).toBe('region Zürich');
    if (h.running !== undefined) {
      const sent = h.headers.filter((x) => x['mcp-name'] === 'where').map((x) => [x['mcp-method'], x['mcp-param-region']]);
      expect(sent).toEqual([
        ['tools/call', 'eu-west-1'],
        ['tools/call', `=?base64?${Buffer.from('Zürich').toString('base64')}?=`],
      ]);
    }
  });

  it('lists and reads resources: static, template; an unknown uri is -32602 with the uri', async () => {
    expect(await h.client.listResources()).toEqual({
      resources: [
        { uri: 'interop://static', name: 'static', title: 'Static text', mimeType: 'text/plain' },
        { uri: 'interop://watched', name: 'watched', mimeType: 'text/plain' },
        { uri: 'interop://private', name: 'private', mimeType: 'text/plain' },
      ],
      ...CACHE,
    });
    expect(await h.client.readResource({ uri: 'interop://static' })).toEqual({
      contents: [{ uri: 'interop://static', mimeType: 'text/plain', text: 'static text' }],
      ...CACHE,
    });
    expect(await h.client.readResource({ uri: 'interop://items/a%20b' })).toEqual({
      contents: [{ uri: 'interop://items/a%20b', mimeType: 'application/json', text: '{"id":"a b"}' }],
      ...CACHE,
    });
    const e = await rejection(h.client.readResource({ uri: 'interop://missing' }));
    expect(e.code).toBe(-32602);
    expect(e.data).toEqual({ uri: 'interop://missing' });
  });

  it('lists resource templates', async () => {
    expect(await h.client.listResourceTemplates()).toEqual({
      resourceTemplates: [{ uriTemplate: 'interop://items/{id}', name: 'item', description: 'One item by id', mimeType: 'application/json' }],
      ...CACHE,
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
      ...CACHE,
    });
    expect(await h.client.getPrompt({ name: 'greet', arguments: { name: 'Bo', style: 'formal' } })).toEqual({
      description: 'A greeting',
      messages: [{ role: 'user', content: { type: 'text', text: 'Greet Bo in a formal way.' } }],
    });
    const e = await rejection(h.client.getPrompt({ name: 'greet', arguments: { style: 'formal' } }));
    expect(e.code).toBe(-32602);
  });

  it('completes prompt arguments and template variables', async () => {
    expect(await h.client.complete({ ref: { type: 'ref/prompt', name: 'greet' }, argument: { name: 'style', value: 'fr' } })).toEqual({
      completion: { values: ['friendly'], total: 1, hasMore: false },
    });
    expect(
      await h.client.complete({ ref: { type: 'ref/resource', uri: 'interop://items/{id}' }, argument: { name: 'id', value: 'ap' } }),
    ).toEqual({ completion: { values: ['apple', 'apricot'], total: 2, hasMore: false } });
  });

  it('progress notifications reach onprogress, in order', async () => {
    const seen: Progress[] = [];
    const gate = `progress_${tag}`;
    const result = await h.client.callTool(
      { name: 'count', arguments: { steps: 3, gate } },
      {
        onprogress: (p) => {
          seen.push(p);
          if (p.progress === 3) void h.client.callTool({ name: 'release', arguments: { gate } });
        },
      },
    );
    expect(textOf(result)).toBe('counted to 3');
    expect(seen).toEqual([
      { progress: 1, total: 3, message: 'step 1' },
      { progress: 2, total: 3, message: 'step 2' },
      { progress: 3, total: 3, message: 'step 3' },
    ]);
  });

  it('input_required: elicitation answered by the client handler, in one round and in two', async () => {
    const before = h.asked.elicitations.length;
    expect(textOf(await h.client.callTool({ name: 'ask_user', arguments: { message: 'Your name?' } }))).toBe(
      'user accept: {"name":"Ada (Your name?)"}',
    );
    expect(textOf(await h.client.callTool({ name: 'ask_twice', arguments: {} }))).toBe('first=Ada (first?) second=Ada (second?)');
    // Round one of ask_twice asks "first?"; round two carries that answer and asks "second?".
    expect(h.asked.elicitations.slice(before)).toEqual(['Your name?', 'first?', 'second?']);
  });

  it('input_required during prompts/get and resources/read', async () => {
    const before = h.asked.elicitations.length;
    expect(await h.client.getPrompt({ name: 'ask_greet' })).toEqual({
      messages: [{ role: 'user', content: { type: 'text', text: 'Greet Ada (Whom to greet?).' } }],
    });
    expect(await h.client.readResource({ uri: 'interop://private' })).toEqual({
      contents: [{ uri: 'interop://private', mimeType: 'text/plain', text: 'private text for Ada (Who is reading?)' }],
      ...CACHE,
    });
    expect(h.asked.elicitations.slice(before)).toEqual(['Whom to greet?', 'Who is reading?']);
  });

  it('input_required: sampling and roots answered by the client handlers', async () => {
    const samplings = h.asked.samplings.length;
    const roots = h.asked.roots;
    expect(textOf(await h.client.callTool({ name: 'ask_model', arguments: { prompt: 'capital of France?' } }))).toBe(
      'model said: echo of capital of France? (test-model)',
    );
    expect(h.asked.samplings.slice(samplings)).toEqual(['capital of France?']);
    expect(textOf(await h.client.callTool({ name: 'roots', arguments: {} }))).toBe('file:///work/a a\nfile:///work/b b');
    expect(h.asked.roots).toBe(roots + 1);
  });

  it('logging: the log level in _meta filters notifications/message; none without it', async () => {
    const logs: LoggingMessageNotificationParams[] = [];
    h.client.setNotificationHandler('notifications/message', (n) => void logs.push(n.params));
    try {
      await h.client.callTool({ name: 'log_levels', arguments: {} });
      await h.client.callTool({ name: 'log_levels', arguments: {}, _meta: { [LOG_LEVEL_META_KEY]: 'warning' } });
      await vi.waitFor(() => expect(logs).toHaveLength(2), WAIT);
      expect(logs).toEqual([
        { level: 'warning', logger: 'interop', data: { said: 'warning' } },
        { level: 'error', logger: 'interop', data: { said: 'error' } },
      ]);
    } finally {
      h.client.removeNotificationHandler('notifications/message');
    }
  });

  it('subscriptions/listen: acknowledged filter, resources/updated for watched uris, tools/list_changed', async () => {
    const updates: { uri: string; id: unknown }[] = [];
    let toolChanges = 0;
    h.client.setNotificationHandler('notifications/resources/updated', (n) =>
      void updates.push({ uri: n.params.uri, id: n.params._meta?.[SUBSCRIPTION_ID_META_KEY] }),
    );
    h.client.setNotificationHandler('notifications/tools/list_changed', () => void toolChanges++);
    const before = h.server === undefined ? 0 : listenerCount(h.server);
    const sub = await h.client.listen({ toolsListChanged: true, resourceSubscriptions: ['interop://watched'] });
    try {
      expect(sub.honoredFilter).toEqual({ toolsListChanged: true, resourceSubscriptions: ['interop://watched'] });
      if (h.server !== undefined) expect(listenerCount(h.server)).toBe(before + 1);
      await h.client.callTool({ name: 'touch', arguments: { uri: 'interop://static' } }); // not watched
      await h.client.callTool({ name: 'touch', arguments: { uri: 'interop://watched' } });
      await vi.waitFor(() => expect(updates).toHaveLength(1), WAIT);
      expect(updates[0]!.uri).toBe('interop://watched');
      expect(typeof updates[0]!.id).toBe('string');

      const name = `dyn_${tag}`;
      await h.client.callTool({ name: 'add_tool', arguments: { name } });
      await vi.waitFor(() => expect(toolChanges).toBe(1), WAIT);
      expect((await h.client.listTools()).tools.map((t) => t.name)).toEqual([...TOOL_NAMES, name]);
      expect(textOf(await h.client.callTool({ name, arguments: {} }))).toBe(`I am ${name}`);
      await h.client.callTool({ name: 'remove_tool', arguments: { name } });
      await vi.waitFor(() => expect(toolChanges).toBe(2), WAIT);
      expect((await h.client.listTools()).tools.map((t) => t.name)).toEqual(TOOL_NAMES);
    } finally {
      await sub.close();
      h.client.removeNotificationHandler('notifications/resources/updated');
      h.client.removeNotificationHandler('notifications/tools/list_changed');
    }
    expect(await sub.closed).toBe('local');
    if (h.server !== undefined) await vi.waitFor(() => expect(listenerCount(h.server!)).toBe(before), WAIT);
  });

  it('the client reported no stray or malformed messages', () => {
    expect(h.errors).toEqual([]);
  });
}

/** Manual multi-round-trip mode: the input_required results as the server sends them. */
function manualInputSuite(connect: () => Promise<Harness>): void {
  let h: Harness;
  beforeAll(async () => {
    h = await connect();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('input_required carries the input requests and a requestState that the next round echoes', async () => {
    const first = (await h.client.callTool({ name: 'ask_user', arguments: { message: 'Who?' } }, { allowInputRequired: true })) as Record<string, unknown>;
    expect(first).toEqual({
      resultType: 'input_required',
      inputRequests: {
        elicitation_0: {
          method: 'elicitation/create',
          params: { message: 'Who?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } },
        },
      },
      requestState: expect.any(String),
    });
    // The typed tools/call params have no multi-round-trip fields (auto mode adds them itself).
    const answer = { elicitation_0: { action: 'accept', content: { name: 'Zed' } } };
    const retry = { name: 'ask_user', arguments: { message: 'Who?' }, inputResponses: answer, requestState: first['requestState'] as string };
    const second = await h.client.callTool(retry, { allowInputRequired: true });
    expect(second).toEqual({ content: [{ type: 'text', text: 'user accept: {"name":"Zed"}' }] });
    // The state is signed: a state that claims an earlier answer the client never gave is refused.
    const [body, signature] = (first['requestState'] as string).split('.');
    const claims = JSON.parse(Buffer.from(body!, 'base64url').toString('utf8')) as { p: { r: Record<string, unknown> } };
    claims.p.r = { elicitation_0: { action: 'accept', content: { name: 'Mallory' } } };
    const forged = { name: 'ask_user', arguments: { message: 'Who?' }, requestState: `${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}` };
    const e = await rejection(h.client.callTool(forged, { allowInputRequired: true }));
    expect(e.code).toBe(-32602);
    expect(e.message).toBe('Invalid requestState (bad_signature)');
    expect(e.data).toEqual({ reason: 'bad_signature' });
  });

  it('a request the client lacks the capability for is -32021', async () => {
    const e = await rejection(h.client.callTool({ name: 'ask_model', arguments: { prompt: 'x' } }, { allowInputRequired: true }));
    expect(e.code).toBe(-32021);
    expect(e.data).toEqual({ requiredCapabilities: { sampling: {} } });
  });
}

/** Cancellation and the end of listen streams, each on a client of its own. */
function teardownSuite(kind: 'http' | 'stdio', connect: () => Promise<Harness>): void {
  let h: Harness;
  beforeAll(async () => {
    h = await connect();
  });
  afterAll(async () => {
    await h?.close();
  });

  // Over HTTP the client aborts the POST, which is what the server sees; over stdio it sends
  // notifications/cancelled with the reason.
  const reason = kind === 'http' ? 'The client closed the request' : 'the user pressed stop';

  async function cancelBlock(key: string): Promise<void> {
    const controller = new AbortController();
    const call = h.client.callTool(
      { name: 'block', arguments: { key } },
      { signal: controller.signal, onprogress: () => controller.abort('the user pressed stop') },
    );
    await expect(call).rejects.toThrow('the user pressed stop');
  }

  it("cancelling a call (AbortSignal) fires the handler's ctx.signal", async () => {
    const key = `cancel_${kind}`;
    await cancelBlock(key);
    expect(textOf(await h.client.callTool({ name: 'cancellation', arguments: { key } }))).toBe(`cancelled: ${reason}`);
  });

  // A request that notifications/cancelled aborted gets no response in either era (a stray one makes
  // the client report "Received a response for an unknown message ID").
  it('sends no response for the cancelled call', async () => {
    const seen = h.errors.length;
    const key = `cancel_again_${kind}`;
    await cancelBlock(key);
    await h.client.callTool({ name: 'cancellation', arguments: { key } });
    await h.client.callTool({ name: 'whoami', arguments: {} }); // anything stray was written before this reply
    expect(h.errors.slice(seen)).toEqual([]);
  });

  it('closing a listen subscription ends it on the server', async () => {
    const updates: unknown[] = [];
    h.client.setNotificationHandler('notifications/resources/updated', (n) => void updates.push(n.params._meta?.[SUBSCRIPTION_ID_META_KEY]));
    const touch = () => h.client.callTool({ name: 'touch', arguments: { uri: 'interop://watched' } });
    try {
      const before = h.server === undefined ? 0 : listenerCount(h.server);
      const closing = await h.client.listen({ resourceSubscriptions: ['interop://watched'] });
      await touch();
      await vi.waitFor(() => expect(updates).toHaveLength(1), WAIT);
      const closingId = updates[0];
      const staying = await h.client.listen({ resourceSubscriptions: ['interop://watched'] });
      await touch();
      await vi.waitFor(() => expect(updates).toHaveLength(3), WAIT);
      const stayingId = updates.slice(1).find((id) => id !== closingId);
      expect(updates.slice(1).sort()).toEqual([closingId, stayingId].sort());

      await closing.close();
      expect(await closing.closed).toBe('local');
      if (h.server !== undefined) await vi.waitFor(() => expect(listenerCount(h.server!)).toBe(before + 1), WAIT);
      // One round trip first, so the cancellation has certainly reached the server (a cancelled
      // subscription sends nothing more even before its listener is removed; the race itself is
      // checked by the signal in the listen handler).
      await h.client.callTool({ name: 'whoami', arguments: {} });
      await touch();
      await vi.waitFor(() => expect(updates).toHaveLength(4), WAIT);
      // Over stdio everything shares one stream: an update for the closed subscription would have
      // come before the reply to this call.
      await h.client.callTool({ name: 'whoami', arguments: {} });
      expect(updates.slice(3)).toEqual([stayingId]);
      await staying.close();
      if (h.server !== undefined) await vi.waitFor(() => expect(listenerCount(h.server!)).toBe(before), WAIT);
    } finally {
      h.client.removeNotificationHandler('notifications/resources/updated');
    }
  });

  // Likewise for subscriptions/listen: the cancelled listen request gets no result.
  it('sends no response for a listen the client closed', async () => {
    const seen = h.errors.length;
    const sub = await h.client.listen({ toolsListChanged: true });
    await sub.close();
    await h.client.callTool({ name: 'whoami', arguments: {} });
    expect(h.errors.slice(seen)).toEqual([]);
  });

  if (kind === 'http') {
    it('server shutdown ends a listen stream gracefully', async () => {
      const sub = await h.client.listen({ toolsListChanged: true });
      await h.running!.close();
      expect(await sub.closed).toBe('graceful');
    });
  }
}

/** Walks tools/list page by page: the first page through a plain request (listTools() without a cursor aggregates). */
async function allPages(client: Client): Promise<string[][]> {
  const pages: string[][] = [];
  let page = await client.request({ method: 'tools/list', params: {} });
  pages.push(page.tools.map((t) => t.name));
  while (page.nextCursor !== undefined && pages.length < 10) {
    page = await client.listTools({ cursor: page.nextCursor });
    pages.push(page.tools.map((t) => t.name));
  }
  return pages;
}

function pagingSuite(connect: () => Promise<Harness>): void {
  let h: Harness;
  beforeAll(async () => {
    h = await connect();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('walks the pages through nextCursor, and listTools() aggregates them all; a forged cursor is -32602', async () => {
    expect(await allPages(h.client)).toEqual([['page_a', 'page_b'], ['page_c', 'page_d'], ['page_e']]);
    expect((await h.client.listTools()).tools.map((t) => t.name)).toEqual(['page_a', 'page_b', 'page_c', 'page_d', 'page_e']);
    const e = await rejection(h.client.listTools({ cursor: 'not-a-cursor' }));
    expect(e.code).toBe(-32602);
  });
}

// ---- the suites -------------------------------------------------------------------------------------

describe('v2 client over Streamable HTTP (serveHttp in-process), 2026-07-28', () => {
  describe('fixture server', () => modernSuite('http', () => httpHarness(fixtureServer())));
  describe('manual multi-round-trip (autoFulfill: false, elicitation only)', () =>
    manualInputSuite(() => httpHarness(fixtureServer(), { autoFulfill: false, capabilities: { elicitation: {} } })));
  describe('cancellation and listen teardown', () => teardownSuite('http', () => httpHarness(fixtureServer())));
  describe('pagination (pageSize 2, five tools)', () => pagingSuite(() => httpHarness(fixtureServer({ pageSize: 2 }))));
});

// How the v2 client finds the era: 'auto' probes with server/discover and takes 2026-07-28 from a
// server that offers it; the default ('legacy') runs initialize as a 2025 client would.
describe('v2 client version negotiation', () => {
  const engine: Engine = nativeLoads ? 'native' : 'js';
  let running: RunningHttpServer;
  beforeAll(async () => {
    running = await serveHttp(fixtureServer(), { port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await running?.close();
  });

  const cases = [
    ['http', 'auto', 'modern', `stateless ${VERSION}`],
    ['stdio', 'auto', 'modern', `stateless ${VERSION}`],
    ['http', 'legacy', 'legacy', 'legacy 2025-11-25'],
    ['stdio', 'legacy', 'legacy', 'legacy 2025-11-25'],
  ] as const;
  it.each(cases)('over %s, mode %s: the %s era (%s)', async (kind, mode, era, seen) => {
    const client = new Client({ name: 'interop-v2', version: '2.0.0' }, { versionNegotiation: { mode } });
    const errors: string[] = [];
    client.onerror = (e) => void errors.push(e.message);
    const transport =
      kind === 'http'
        ? new StreamableHTTPClientTransport(new URL(running.url))
        : new StdioClientTransport({ command: process.execPath, args: stdioArgs, env: childEnv(engine), stderr: 'pipe', cwd: root });
    await client.connect(transport);
    try {
      expect(client.getProtocolEra()).toBe(era);
      expect(client.getNegotiatedProtocolVersion()).toBe(era === 'modern' ? VERSION : '2025-11-25');
      expect(client.getServerVersion()).toEqual(SERVER_INFO);
      expect(textOf(await client.callTool({ name: 'whoami', arguments: {} }))).toBe(`${seen} interop-v2`);
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: mode } }))).toBe(mode);
      expect(errors).toEqual([]);
    } finally {
      await client.close();
    }
  });
});

describe.each(ENGINES)('v2 client over stdio (fastermcp serve --stdio), 2026-07-28, %s engine', (engine) => {
  describe.skipIf(!engineRuns(engine))('fixture server', () => {
    let stderr = (): string => '';
    modernSuite(`stdio_${engine}`, async () => {
      const h = await stdioHarness(engine, stdioArgs);
      stderr = h.stderr;
      return h;
    });

    it(`runs the ${engine} engine`, async () => {
      await vi.waitFor(() => expect(stderr()).toContain('JSON-RPC engine'), WAIT);
      // stderr is JSON log lines (src/ops/log.ts): the engine line, and nothing else.
      expect(stderr().trim().split('\n').map((l) => `${JSON.parse(l).msg}\n`)).toEqual([ENGINE_LINE[engine]]);
    });
  });
  describe.skipIf(!engineRuns(engine))('manual multi-round-trip (autoFulfill: false, elicitation only)', () =>
    manualInputSuite(() => stdioHarness(engine, stdioArgs, { autoFulfill: false, capabilities: { elicitation: {} } })));
  describe.skipIf(!engineRuns(engine))('cancellation and listen teardown', () => teardownSuite('stdio', () => stdioHarness(engine, stdioArgs)));
  describe.skipIf(!engineRuns(engine))('pagination (pageSize 2, five tools)', () => pagingSuite(() => stdioHarness(engine, [pagedFixture])));
});
