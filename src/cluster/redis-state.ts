// Shared state for several server processes behind one port or one load balancer (docs/scale-out.md):
// the Redis connections, this process's node id, the bus channels, the readiness check and the
// counters operators read. The HTTP transport binds to it (src/cluster/http-sessions.ts does the work).
//
//   const shared = await connectSharedState(server, { redis: 'redis://127.0.0.1:6379' });
//   const running = await serveHttp(server, { sharedState: shared });
//   ... await running.close(); await shared.close();
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Redis, RedisOptions } from 'ioredis';
import type { McpServer } from '../server/server.js';
import { Bus } from './bus.js';
import { sharedStateKey } from './state-key.js';

// ioredis takes ~55 ms to load: only a server that shares state pays for it.
const requireLazily = createRequire(import.meta.url);
const loadRedis = (): typeof Redis => (requireLazily('ioredis') as { Redis: typeof Redis }).Redis;

export interface SharedStateOptions {
  /** A redis:// or rediss:// URL; this object opens two connections to it (commands, pub/sub). */
  redis: string;
  /** Prefix of every key and channel (default 'fastermcp:'); processes of one deployment share it. */
  prefix?: string;
  /** A command that takes longer fails (default 1000 ms): a Redis that hangs must not hang requests. */
  commandTimeoutMs?: number;
  /** How long connectSharedState waits for Redis (default 5000 ms); it rejects after. */
  connectTimeoutMs?: number;
  /**
   * Identical list_changed / resources/updated events emitted anywhere in the deployment within this
   * window are delivered once (default 250 ms; 0 delivers every one). See docs/scale-out.md.
   */
  dedupeMs?: number;
  /** Extra ioredis options (TLS, credentials); the fail-fast settings win. */
  redisOptions?: RedisOptions;
}

/** What the bound transport handles; set by SharedSessions. */
export interface BusListener {
  broadcast(message: Record<string, unknown>): void;
  direct(message: Record<string, unknown>): void;
}

// A server-wide event within dedupeMs of the same one from another process is a duplicate; the same
// process emitting it again is a new change (delivered, and the window starts over).
const CLAIM_EVENT = `
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

/** Reconnect backoff: 50 ms doubling to 2 s. */
const reconnectDelay = (times: number): number => Math.min(50 * 2 ** Math.min(Math.max(times - 1, 0), 6), 2000);

export class SharedState {
  /** Random per process: where messages for this process's pending requests are routed. */
  readonly nodeId = randomBytes(9).toString('base64url');
  readonly prefix: string;
  readonly dedupeMs: number;
  readonly client: Redis;
  readonly bus: Bus;
  /** Sessions another process opened (or this one forgot) read from the store. */
  sessionsLoaded = 0;
  /** Events sent to a client from the store on a resume (not counting the live ones relayed after). */
  eventsReplayed = 0;
  /** Live events relayed from another process to a resumed stream held here. */
  eventsRelayed = 0;
  /** Client responses and cancellations forwarded to the process that needs them. */
  messagesRouted = 0;
  /** Store commands that failed (Redis unreachable or slow). */
  storeErrors = 0;
  private readonly sub: Redis;
  private listener: BusListener | undefined;
  private stateKey: Buffer | undefined;
  private lastError: string | undefined;
  private closed = false;

  constructor(options: SharedStateOptions) {
    if (typeof options?.redis !== 'string' || !/^rediss?:\/\//.test(options.redis)) {
      throw new TypeError(`Expected a redis:// or rediss:// URL for the shared state, received ${JSON.stringify(options?.redis)}`);
    }
    this.prefix = options.prefix ?? 'fastermcp:';
    this.dedupeMs = options.dedupeMs ?? 250;
    if (!(this.dedupeMs >= 0)) throw new RangeError(`Expected dedupeMs >= 0, received ${this.dedupeMs}`);
    const timeout = options.commandTimeoutMs ?? 1000;
    const RedisClient = loadRedis();
    // Fail fast: no offline queue (a command while disconnected rejects at once), no retry of a command
    // whose connection dropped, a per-command timeout; reconnecting goes on in the background.
    const common: RedisOptions = {
      ...options.redisOptions,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: Math.max(1000, timeout),
      retryStrategy: reconnectDelay,
      lazyConnect: false,
    };
    this.client = new RedisClient(options.redis, { ...common, commandTimeout: timeout });
    this.client.defineCommand('fmcpClaimEvent', { numberOfKeys: 1, lua: CLAIM_EVENT });
    this.sub = new RedisClient(options.redis, common);
    const down = (e: unknown): void => void (this.lastError = e instanceof Error ? e.message : String(e));
    this.client.on('error', down);
    this.sub.on('error', down);
    this.bus = new Bus(this.sub);
    // After an outage Redis may have lost its data (a restart without persistence): put the
    // deployment's key back, the same one every running process holds, so later processes agree.
    let connected = false;
    this.client.on('ready', () => {
      if (connected && this.stateKey !== undefined) void this.client.set(this.stateKeyName, this.stateKey.toString('base64'), 'NX').catch(() => {});
      connected = true;
    });
  }

  get stateKeyName(): string {
    return `${this.prefix}state-key`;
  }
  get busChannel(): string {
    return `${this.prefix}bus`;
  }
  get nodeChannel(): string {
    return `${this.prefix}node:${this.nodeId}`;
  }

  /** Connects, subscribes to the bus and this node's channel, and loads (or creates) the state key. */
  async start(timeoutMs: number): Promise<Buffer> {
    await Promise.all([ready(this.client, timeoutMs), ready(this.sub, timeoutMs)]);
    const onBus = (m: string): void => this.deliver(m, false);
    const onNode = (m: string): void => this.deliver(m, true);
    await Promise.all([this.bus.on(this.busChannel, onBus), this.bus.on(this.nodeChannel, onNode)]);
    this.stateKey = await sharedStateKey(this.client, this.stateKeyName);
    return this.stateKey;
  }

  /** The transport that handles bus messages (one per shared state). */
  bind(listener: BusListener): () => void {
    if (this.listener !== undefined) throw new Error('This shared state already serves a transport; make one per transport');
    this.listener = listener;
    return () => {
      if (this.listener === listener) this.listener = undefined;
    };
  }

  /** Publishes to every process (this one included). Rejects when Redis is unreachable. */
  publish(message: Record<string, unknown>, node?: string): Promise<unknown> {
    return this.client.publish(node === undefined ? this.busChannel : `${this.prefix}node:${node}`, JSON.stringify(message));
  }

  /**
   * True when this process is to publish server-wide event `key` (list kind, URI): no other process
   * published the same one within dedupeMs. Rejects when Redis is unreachable.
   */
  async claimEvent(key: string): Promise<boolean> {
    const claim = (this.client as unknown as { fmcpClaimEvent(k: string, node: string, ms: number): Promise<number> }).fmcpClaimEvent;
    return (await claim.call(this.client, `${this.prefix}once:${key}`, this.nodeId, this.dedupeMs)) === 1;
  }

  /** Readiness: Redis answers PING on the command connection and the subscriber is connected. */
  async health(): Promise<{ ok: boolean; detail: string }> {
    if (this.closed) return { ok: false, detail: 'shared state closed' };
    try {
      await this.client.ping();
    } catch (e) {
      return { ok: false, detail: `Redis is unreachable: ${(e as Error).message}` };
    }
    if (this.sub.status !== 'ready') return { ok: false, detail: `Redis pub/sub connection is ${this.sub.status}${this.lastError === undefined ? '' : ` (${this.lastError})`}` };
    if (!this.bus.synced) return { ok: false, detail: 'Redis pub/sub connection is subscribing again after an outage' };
    return { ok: true, detail: `Redis up (node ${this.nodeId})` };
  }

  /** Closes both connections (the transport must be closed first); resolves once they have ended. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([ended(this.client), ended(this.sub)]);
  }

  private deliver(text: string, direct: boolean): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    if (direct) this.listener?.direct(message);
    else this.listener?.broadcast(message);
  }
}

/**
 * Connects to Redis and gives `server` the deployment's state key (unless its options named one), so
 * a requestState or cursor signed by one process verifies on every other. Rejects when Redis does not
 * answer within connectTimeoutMs.
 */
export async function connectSharedState(server: McpServer, options: SharedStateOptions): Promise<SharedState> {
  const shared = new SharedState(options);
  try {
    const key = await shared.start(options.connectTimeoutMs ?? 5000);
    server.useSharedStateKey(key);
  } catch (e) {
    await shared.close();
    throw new Error(`The shared session store at ${redactUrl(options.redis)} is not reachable: ${(e as Error).message}`, { cause: e });
  }
  return shared;
}

/** Disconnects; resolves on 'end', or soon after when there was no connection to end (ioredis then emits none). */
function ended(client: Redis): Promise<void> {
  if (client.status === 'end') return Promise.resolve();
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 1000);
    client.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  client.disconnect();
  return done;
}

function ready(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`no connection within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}

/** The URL without its password, for messages. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'the given URL';
  }
}
