// McpServer: where users register tools, resources, resource templates and prompts. Transports
// (src/transport/*) feed it requests through dispatch.ts; this file holds the registries, the
// server's identity and capabilities, and the notifications that fan out to connected clients.
import { METHOD_SLOTS, STATELESS_VERSION } from './protocol.js';
import { Admission, type LimitsOptions } from '../ratelimit/admission.js';
import { StateSigner, randomStateKey } from './request-state.js';
import { Registry } from './registry.js';
import type { Entry } from './registry.js';
import { compileToolSchema } from './schema.js';
import type { CompiledSchema, SchemaInput } from './schema.js';
import { UriTemplate } from './uri-template.js';
import { TASKS_EXTENSION, TASKS_LEGACY_VERSION, TaskStore } from './tasks.js';
import type { TaskStoreOptions } from './tasks.js';
import type { RequestContext } from './context.js';
import type { FailureListener, RequestObserver } from './observe.js';
import { Runners, isRunSpec } from './runners.js';
import type { RunSpec } from './runners.js';
import type { WorkerPool, WorkerPoolOptions } from '../pool/index.js';
import type { Sandbox, SandboxOptions } from '../sandbox/parent.js';
import type {
  CallToolResult,
  CompleteResult,
  ContentBlock,
  GetPromptResult,
  Icon,
  Implementation,
  JsonObject,
  ReadResourceResult,
  ResourceContents,
  ToolAnnotations,
} from './types.js';

export interface McpServerOptions {
  name: string;
  version: string;
  title?: string;
  description?: string;
  websiteUrl?: string;
  instructions?: string;
  icons?: Icon[];
  /**
   * HMAC key (at least 32 bytes) for `requestState` and list cursors. Every instance of one
   * deployment must share it so any instance can continue what another started. Without it a
   * random per-process key is used.
   */
  stateKey?: string | Uint8Array;
  /** Items per page of every list (default 100). */
  pageSize?: number;
  /** How long a `requestState` stays valid (default 10 minutes). */
  requestStateTtlMs?: number;
  /** How long a server->client request waits for its answer (default 60 s). */
  clientRequestTimeoutMs?: number;
  /** 2026-07-28 caching hints on list results: `ttlMs` and `cacheScope` (default 0 ms, 'public'). */
  listCache?: CacheHint;
  /**
   * Tasks for tools with `execution.taskSupport` 'optional' or 'required' (2025-11-25 experimental
   * tasks, 2026-07-28 extension io.modelcontextprotocol/tasks): limits of the in-memory store, or
   * false to run every call synchronously and declare no task support.
   */
  tasks?: TaskStoreOptions | false;
  /**
   * The Piscina pool of tools registered with `{ runIn: 'worker' }` (docs/worker-pool.md): its options,
   * or a pool of your own (then closing it is yours). Made at the first such tool.
   */
  workerPool?: WorkerPoolOptions | WorkerPool;
  /**
   * The sandbox of tools registered with `{ runIn: 'sandbox' }` (docs/sandbox.md): its options (default
   * limits, pool size, ...), or a sandbox of your own. Made at the first such tool.
   */
  sandbox?: SandboxOptions | Sandbox;
}

export interface CacheHint {
  ttlMs: number;
  scope: 'public' | 'private';
}

export type ToolResultLike = CallToolResult | string | ContentBlock[];
/** A tool handler; `prepared` is what the definition's `prepare` returned (undefined without one). */
export type ToolHandler<A = any, P = any> = (args: A, ctx: RequestContext, prepared: P) => ToolResultLike | Promise<ToolResultLike>;

export type TaskSupport = 'forbidden' | 'optional' | 'required';

export interface ToolDefinition<A = any, P = any> {
  title?: string;
  description?: string;
  inputSchema?: SchemaInput;
  outputSchema?: SchemaInput;
  annotations?: ToolAnnotations;
  icons?: Icon[];
  /**
   * Task support (2025-11-25 experimental tasks, 2026-07-28 tasks extension), shown in tools/list.
   * 'optional': a call runs as a task when the client asks for one (2025-11-25 `params.task`) or
   * declares the extension (2026-07-28), and synchronously otherwise. 'required': only as a task; a
   * call that cannot be one is an error (-32601 in 2025-11-25, -32021 in 2026-07-28). Absent or
   * 'forbidden': never a task. Revisions before 2025-11-25 know no tasks and always run synchronously.
   */
  execution?: { taskSupport?: TaskSupport };
  /**
   * Runs before the task exists, as part of the tools/call request, and its value becomes the
   * handler's third argument. In 2026-07-28 this is where a task tool asks the client for input
   * through multi-round-trip `input_required` results: the task is created only once `prepare`
   * returns (SEP-2663 MRTR composition). Requests to the client the handler makes later, inside the
   * task, park the task in `input_required` until tasks/update brings the answers, and the handler
   * then runs again from the top with them (`prepare` does not). In the legacy era `prepare` runs
   * inside the task, just before the handler. Without a task it simply runs before the handler.
   */
  prepare?: (args: A, ctx: RequestContext) => P | Promise<P>;
  /** OAuth scopes a caller needs (all of them) when the transport authenticates; see docs/auth.md. */
  scopes?: readonly string[];
  /** What one call costs against the rate limits and quotas that count it (an integer, default 1; docs/ratelimit.md). */
  cost?: number;
  _meta?: JsonObject;
}

export interface ToolEntry extends Entry {
  definition: ToolDefinition;
  input: CompiledSchema;
  output: CompiledSchema | undefined;
  handler: ToolHandler;
  /**
   * Decided at registration from the definition: no `prepare` step and never a task (taskSupport absent
   * or 'forbidden'). Such a tool's call skips the per-call task decision unless it asks for a task.
   */
  readonly plain: boolean;
  /** tools/list JSON of this tool, built once per change. */
  listed: JsonObject;
}

export interface ResourceDefinition {
  name: string;
  title?: string;
  description?: string;
  mimeType?: string;
  size?: number;
  annotations?: JsonObject;
  icons?: Icon[];
  /** 2026-07-28 caching hint for resources/read of this resource. */
  cache?: CacheHint;
  /** OAuth scopes a caller needs (all of them) when the transport authenticates; see docs/auth.md. */
  scopes?: readonly string[];
  _meta?: JsonObject;
}

export type ResourceResultLike = ReadResourceResult | ResourceContents[] | string;
export type ResourceHandler = (uri: string, ctx: RequestContext) => ResourceResultLike | Promise<ResourceResultLike>;
export type TemplateHandler = (
  uri: string,
  variables: Record<string, string | string[]>,
  ctx: RequestContext,
) => ResourceResultLike | Promise<ResourceResultLike>;
export type Completer = (value: string, context: { arguments: Record<string, string> }) => string[] | CompleteResult | Promise<string[] | CompleteResult>;

export interface ResourceEntry extends Entry {
  definition: ResourceDefinition;
  handler: ResourceHandler;
  listed: JsonObject;
}

export interface TemplateDefinition extends ResourceDefinition {
  /** Completions for template variables, by variable name. */
  complete?: Record<string, Completer>;
}

export interface TemplateEntry extends Entry {
  template: UriTemplate;
  definition: TemplateDefinition;
  handler: TemplateHandler;
  listed: JsonObject;
}

export interface PromptArgument {
  name: string;
  title?: string;
  description?: string;
  required?: boolean;
}

export interface PromptDefinition {
  title?: string;
  description?: string;
  arguments?: PromptArgument[];
  icons?: Icon[];
  /** Completions for arguments, by argument name. */
  complete?: Record<string, Completer>;
  /** OAuth scopes a caller needs (all of them) when the transport authenticates; see docs/auth.md. */
  scopes?: readonly string[];
  _meta?: JsonObject;
}

export type PromptHandler = (args: Record<string, string>, ctx: RequestContext) => GetPromptResult | Promise<GetPromptResult>;

export interface PromptEntry extends Entry {
  definition: PromptDefinition;
  handler: PromptHandler;
  listed: JsonObject;
}

/** What register calls return: run-time control over one registration. */
export interface Registered {
  enable(): void;
  disable(): void;
  remove(): void;
  readonly enabled: boolean;
}

/** Something connected that wants server-initiated notifications (a session, a listen stream). */
export interface Listener {
  /** list_changed kinds: 'tools' | 'prompts' | 'resources'. */
  listChanged(kind: 'tools' | 'prompts' | 'resources'): void;
  resourceUpdated(uri: string): void;
}

const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/** A definition's required scopes, checked once: an array of non-empty scope tokens (RFC 6749 section 3.3). */
function requiredScopes(scopes: unknown, what: string): readonly string[] {
  if (scopes === undefined) return NO_SCOPES;
  if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string' || !SCOPE_TOKEN.test(s))) {
    throw new TypeError(`The scopes of ${what} must be an array of scope tokens (printable ASCII without spaces, quotes or backslashes)`);
  }
  return Object.freeze([...new Set(scopes as string[])]);
}

const NO_SCOPES: readonly string[] = Object.freeze([]);
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

function strip<T extends JsonObject>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/** The resources/list and resources/templates/list fields both kinds share. */
function listedResource(definition: ResourceDefinition): JsonObject {
  return {
    name: definition.name,
    title: definition.title,
    description: definition.description,
    mimeType: definition.mimeType,
    annotations: definition.annotations,
    icons: definition.icons,
    _meta: definition._meta,
  };
}

export class McpServer {
  readonly info: Implementation;
  readonly instructions: string | undefined;
  private stateSigner: StateSigner;
  /** True when the options named a stateKey: a shared one (src/cluster) then does not replace it. */
  private readonly ownStateKey: boolean;
  readonly pageSize: number;
  readonly requestStateTtlMs: number;
  readonly clientRequestTimeoutMs: number;
  readonly listCache: CacheHint;
  readonly tools: Registry<ToolEntry>;
  readonly resources: Registry<ResourceEntry>;
  readonly templates: Registry<TemplateEntry>;
  readonly prompts: Registry<PromptEntry>;
  /** Tasks of this server; undefined when created with `tasks: false`. */
  readonly tasks: TaskStore | undefined;
  private readonly listeners = new Set<Listener>();
  /** Who watches requests (src/server/observe.ts); empty for most servers, and then free. */
  observers: readonly RequestObserver[] = [];
  /** Who is told of server failures (src/server/observe.ts FailureListener); looked at only on failure. */
  failureListeners: readonly FailureListener[] = [];
  private admissionState: Admission | undefined;
  private readonly runners: Runners;

  constructor(options: McpServerOptions) {
    if (typeof options?.name !== 'string' || options.name === '') throw new TypeError('McpServer needs a non-empty name');
    if (typeof options.version !== 'string' || options.version === '') throw new TypeError('McpServer needs a non-empty version');
    this.info = strip({
      name: options.name,
      version: options.version,
      title: options.title,
      description: options.description,
      websiteUrl: options.websiteUrl,
      icons: options.icons,
    }) as Implementation;
    this.instructions = options.instructions;
    this.stateSigner = new StateSigner(options.stateKey ?? randomStateKey());
    this.ownStateKey = options.stateKey !== undefined;
    this.pageSize = options.pageSize ?? 100;
    if (!Number.isInteger(this.pageSize) || this.pageSize < 1) throw new RangeError('pageSize must be a positive integer');
    this.requestStateTtlMs = options.requestStateTtlMs ?? 600_000;
    this.clientRequestTimeoutMs = options.clientRequestTimeoutMs ?? 60_000;
    this.listCache = options.listCache ?? { ttlMs: 0, scope: 'public' };
    this.tasks = options.tasks === false ? undefined : new TaskStore(options.tasks ?? {});
    this.runners = new Runners(options.workerPool, options.sandbox);
    this.tools = new Registry<ToolEntry>('tool', () => this.emitListChanged('tools'));
    this.prompts = new Registry<PromptEntry>('prompt', () => this.emitListChanged('prompts'));
    this.resources = new Registry<ResourceEntry>('resource', () => this.emitListChanged('resources'));
    this.templates = new Registry<TemplateEntry>('resource template', () => this.emitListChanged('resources'));
  }

  /**
   * Rate limits and quotas for every transport of this server (docs/ratelimit.md). Replaces the ones set
   * before (with fresh counts); `limits({})` removes them. Returns the admission step, whose usage() the
   * operator reads.
   */
  limits(options: LimitsOptions): Admission | undefined {
    this.admissionState?.close();
    const empty = (options.rules ?? []).length === 0 && (options.quotas ?? []).length === 0;
    this.admissionState = empty ? undefined : new Admission(this, options, METHOD_SLOTS);
    return this.admissionState;
  }

  /** Signs and verifies requestState tokens and list cursors. */
  get signer(): StateSigner {
    return this.stateSigner;
  }

  /**
   * Shared state (src/cluster) gives every process of a deployment one key. Ignored (false) when the
   * options named a stateKey: an explicit key wins.
   */
  useSharedStateKey(key: Uint8Array): boolean {
    if (this.ownStateKey) return false;
    this.stateSigner = new StateSigner(key);
    return true;
  }

  /** The admission step transports consult, when limits are set. */
  get admission(): Admission | undefined {
    return this.admissionState;
  }

  /** Every scope an enabled tool, resource, template or prompt requires (for scopes_supported). */
  scopesInUse(): Set<string> {
    const out = new Set<string>();
    for (const registry of [this.tools, this.resources, this.templates, this.prompts] as Registry<Entry>[]) {
      for (const entry of registry.enabled()) for (const scope of entry.scopes) out.add(scope);
    }
    return out;
  }

  /**
   * Capabilities this server declares (initialize and server/discover). With the protocol version,
   * they include task support when some enabled tool supports tasks: `tasks` for 2025-11-25,
   * `extensions["io.modelcontextprotocol/tasks"]` for 2026-07-28 (which has no `tasks` key).
   */
  capabilities(protocolVersion?: string): JsonObject {
    const capabilities: JsonObject = {
      tools: { listChanged: true },
      resources: { subscribe: true, listChanged: true },
      prompts: { listChanged: true },
      completions: {},
      logging: {},
    };
    if (protocolVersion === undefined || !this.hasTaskTools()) return capabilities;
    if (protocolVersion === STATELESS_VERSION) capabilities['extensions'] = { [TASKS_EXTENSION]: {} };
    else if (protocolVersion === TASKS_LEGACY_VERSION) capabilities['tasks'] = { list: {}, cancel: {}, requests: { tools: { call: {} } } };
    return capabilities;
  }

  /** True when tasks are on and some enabled tool can run as one. */
  hasTaskTools(): boolean {
    if (this.tasks === undefined) return false;
    for (const tool of this.tools.enabled()) {
      const support = tool.definition.execution?.taskSupport;
      if (support === 'optional' || support === 'required') return true;
    }
    return false;
  }

  /**
   * Registers a tool. `handler` receives the validated arguments, the request context and what the
   * definition's `prepare` returned. Instead of a function it may say where the tool runs:
   * `{ runIn: 'worker', module, export? }` on the worker pool (trusted, CPU-heavy; docs/worker-pool.md)
   * or `{ runIn: 'sandbox', module, limits?, allow?, pool?, mode? }` in a sandboxed process (untrusted;
   * docs/sandbox.md). Arguments are validated here, before they leave the process or thread.
   */
  tool<A = any, P = any>(name: string, definition: ToolDefinition<A, P>, handler: ToolHandler<A, P> | RunSpec): Registered {
    if (typeof name !== 'string' || !TOOL_NAME.test(name)) {
      throw new TypeError(`Tool name ${JSON.stringify(name)} must be 1-128 characters of A-Z a-z 0-9 _ . -`);
    }
    const runIn = isRunSpec(handler) ? handler : undefined;
    if (runIn === undefined && typeof handler !== 'function') throw new TypeError(`Tool ${JSON.stringify(name)} needs a handler function or a { runIn, module } spec`);
    if (runIn !== undefined && definition.prepare !== undefined) {
      throw new TypeError(`Tool ${JSON.stringify(name)}: prepare runs in the server and cannot be combined with runIn`);
    }
    const support = definition.execution?.taskSupport;
    if (support !== undefined && support !== 'forbidden' && support !== 'optional' && support !== 'required') {
      throw new TypeError(`Tool ${JSON.stringify(name)}: execution.taskSupport must be 'forbidden', 'optional' or 'required', got ${JSON.stringify(support)}`);
    }
    if (definition.prepare !== undefined && typeof definition.prepare !== 'function') {
      throw new TypeError(`Tool ${JSON.stringify(name)}: prepare must be a function`);
    }
    const input = compileToolSchema(definition.inputSchema, `inputSchema of tool ${JSON.stringify(name)}`);
    const output =
      definition.outputSchema === undefined
        ? undefined
        : compileToolSchema(definition.outputSchema, `outputSchema of tool ${JSON.stringify(name)}`, { io: 'output' });
    const listed = strip({
      name,
      title: definition.title,
      description: definition.description,
      inputSchema: input.json,
      outputSchema: output?.json,
      annotations: definition.annotations,
      icons: definition.icons,
      execution: definition.execution,
      _meta: definition._meta,
    } as JsonObject);
    const scopes = requiredScopes(definition.scopes, `tool ${JSON.stringify(name)}`);
    if (definition.cost !== undefined && (!Number.isInteger(definition.cost) || definition.cost < 1 || definition.cost > 1e9)) {
      throw new RangeError(`Tool ${JSON.stringify(name)}: cost must be an integer from 1 to 1e9, got ${JSON.stringify(definition.cost)}`);
    }
    // Last, once the definition is known to be good: a runIn spec may start a pool or a sandbox.
    const run = runIn === undefined ? (handler as ToolHandler) : this.runners.handler(name, runIn);
    const plain = definition.prepare === undefined && (support === undefined || support === 'forbidden');
    const entry: ToolEntry = { key: name, enabled: true, scopes, definition, input, output, handler: run, plain, listed };
    this.tools.add(entry);
    return this.control(this.tools, entry);
  }

  /** Registers a resource with a fixed URI. */
  resource(uri: string, definition: ResourceDefinition, handler: ResourceHandler): Registered {
    if (typeof uri !== 'string' || uri === '') throw new TypeError('A resource needs a non-empty uri');
    if (typeof definition?.name !== 'string') throw new TypeError(`Resource ${JSON.stringify(uri)} needs a name`);
    const listed = strip({ uri, ...listedResource(definition), size: definition.size });
    const entry: ResourceEntry = { key: uri, enabled: true, scopes: requiredScopes(definition.scopes, `resource ${JSON.stringify(uri)}`), definition, handler, listed };
    this.resources.add(entry);
    return this.control(this.resources, entry);
  }

  /** Registers an RFC 6570 resource template, e.g. `users://{id}/profile`. */
  resourceTemplate(uriTemplate: string, definition: TemplateDefinition, handler: TemplateHandler): Registered {
    const template = new UriTemplate(uriTemplate);
    if (typeof definition?.name !== 'string') throw new TypeError(`Resource template ${JSON.stringify(uriTemplate)} needs a name`);
    const listed = strip({ uriTemplate, ...listedResource(definition) });
    const scopes = requiredScopes(definition.scopes, `resource template ${JSON.stringify(uriTemplate)}`);
    const entry: TemplateEntry = { key: uriTemplate, enabled: true, scopes, template, definition, handler, listed };
    this.templates.add(entry);
    return this.control(this.templates, entry);
  }

  /** Registers a prompt. */
  prompt(name: string, definition: PromptDefinition, handler: PromptHandler): Registered {
    if (typeof name !== 'string' || name === '') throw new TypeError('A prompt needs a non-empty name');
    if (typeof handler !== 'function') throw new TypeError(`Prompt ${JSON.stringify(name)} needs a handler function`);
    const listed = strip({
      name,
      title: definition.title,
      description: definition.description,
      arguments: definition.arguments,
      icons: definition.icons,
      _meta: definition._meta,
    } as JsonObject);
    const entry: PromptEntry = { key: name, enabled: true, scopes: requiredScopes(definition.scopes, `prompt ${JSON.stringify(name)}`), definition, handler, listed };
    this.prompts.add(entry);
    return this.control(this.prompts, entry);
  }

  /**
   * Cancels every task still running (their handlers see ctx.signal abort). Transports drain their
   * own requests on close; tasks outlive requests, so whoever shuts the process down calls this.
   */
  close(reason = 'The server is shutting down'): Promise<void> {
    this.tasks?.cancelAll(reason);
    this.admissionState?.close(); // a cluster limiter's Redis connection
    // The worker pool's threads and the sandbox's processes (resolves once they are gone).
    return this.runners.close();
  }

  /** The worker pool and the sandbox of `runIn` tools, once a tool made them (stats, report, metrics). */
  get workerPool(): WorkerPool | undefined {
    return this.runners.workerPool;
  }
  get sandbox(): Sandbox | undefined {
    return this.runners.sandboxInUse;
  }

  /** Tells every client subscribed to `uri` that it changed (notifications/resources/updated). */
  notifyResourceUpdated(uri: string): void {
    for (const listener of this.listeners) listener.resourceUpdated(uri);
  }

  /**
   * Watches every request dispatch handles (metrics, tracing, logs, audit: src/ops/). Returns the
   * function that stops it. Observers run in the order they were added.
   */
  observe(observer: RequestObserver): () => void {
    this.observers = [...this.observers, observer];
    return () => {
      this.observers = this.observers.filter((o) => o !== observer);
    };
  }

  /**
   * Calls `listener` for every request the server failed (internal error, HTTP 5xx) with what was
   * thrown; free for the requests that succeed. Returns the function that stops it.
   */
  onFailure(listener: FailureListener): () => void {
    this.failureListeners = [...this.failureListeners, listener];
    return () => {
      this.failureListeners = this.failureListeners.filter((l) => l !== listener);
    };
  }

  /** Transports register what is connected; returns the unsubscribe function. */
  addListener(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The template matching `uri`, first registered first. */
  matchTemplate(uri: string): { entry: TemplateEntry; variables: Record<string, string | string[]> } | undefined {
    for (const entry of this.templates.enabled()) {
      const variables = entry.template.match(uri);
      if (variables !== null) return { entry, variables };
    }
    return undefined;
  }

  private emitListChanged(kind: 'tools' | 'prompts' | 'resources'): void {
    for (const listener of this.listeners) listener.listChanged(kind);
  }

  private control<T extends Entry>(registry: Registry<T>, entry: T): Registered {
    // A handle controls its own registration only: once removed, a later one of the same name is not its.
    return {
      enable: () => void (registry.owns(entry) && registry.setEnabled(entry.key, true)),
      disable: () => void (registry.owns(entry) && registry.setEnabled(entry.key, false)),
      remove: () => void (registry.owns(entry) && registry.remove(entry.key)),
      get enabled() {
        return entry.enabled && registry.owns(entry);
      },
    };
  }
}
