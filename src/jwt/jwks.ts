// A JWK Set fetched from a URL (docs/jwt.md section 3): cached for `maxAge`, refreshed in the background
// after half of it, never fetched more often than once per `cooldown`; a failed fetch keeps the last good
// set until that set expires. `fetch` and the clock `now` (milliseconds) are injectable for tests.
import { importJwks, type ImportedKey } from './keys.js';

export interface JwksUrlOptions {
  /** The JWKS URL (https in production; any URL the fetch accepts). */
  url: string | URL;
  /** How long a fetched set is used (ms, default 10 minutes). A refresh starts after half of it. */
  maxAge?: number;
  /** Minimum interval between two fetches (ms, default 30 s): an unknown kid cannot make us hammer the issuer. */
  cooldown?: number;
  /** Fetch timeout (ms, default 5 s). */
  timeout?: number;
  /** Largest accepted response body (bytes, default 1 MiB). */
  maxBytes?: number;
  fetch?: (url: string, init: { signal: AbortSignal; headers: Record<string, string> }) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;
  now?: () => number;
}

export class JwksSource {
  private readonly url: string;
  private readonly maxAge: number;
  private readonly cooldown: number;
  private readonly timeout: number;
  private readonly maxBytes: number;
  private readonly fetchImpl: NonNullable<JwksUrlOptions['fetch']>;
  readonly now: () => number;
  private fetchedAt = -Infinity;
  private lastAttempt = -Infinity;
  private hasSet = false;
  private inflight: Promise<void> | null = null;
  /** The last fetch error (message only), for diagnostics. */
  lastError: string | null = null;

  constructor(options: JwksUrlOptions, private readonly install: (keys: ImportedKey[]) => void) {
    this.url = String(options.url);
    this.maxAge = options.maxAge ?? 600_000;
    this.cooldown = options.cooldown ?? 30_000;
    this.timeout = options.timeout ?? 5_000;
    this.maxBytes = options.maxBytes ?? 1 << 20;
    this.fetchImpl = options.fetch ?? (globalThis.fetch as unknown as NonNullable<JwksUrlOptions['fetch']>);
    this.now = options.now ?? Date.now;
  }

  /** Fetches now unless a fetch is under way or the cooldown has not passed (then waits for / skips it). */
  refresh(): Promise<void> {
    if (this.inflight !== null) return this.inflight;
    const t = this.now();
    if (t - this.lastAttempt < this.cooldown) return Promise.resolve();
    this.lastAttempt = t;
    this.inflight = this.fetchOnce().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async fetchOnce(): Promise<void> {
    try {
      const res = await this.fetchImpl(this.url, { signal: AbortSignal.timeout(this.timeout), headers: { accept: 'application/json' } });
      if (!res.ok) throw new Error(`JWKS fetch failed with HTTP ${res.status}`);
      const text = await res.text();
      if (text.length > this.maxBytes) throw new Error('JWKS response too large');
      const keys = importJwks(JSON.parse(text) as { keys: [] }, false);
      if (keys.length === 0) throw new Error('JWKS has no usable key');
      this.install(keys);
      this.fetchedAt = this.now();
      this.hasSet = true;
      this.lastError = null;
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
      throw err;
    }
  }

  /** Called before each verify: drops an expired set, starts a background refresh when due. */
  tick(): void {
    const t = this.now();
    const age = t - this.fetchedAt;
    if (this.hasSet && age >= this.maxAge) {
      this.hasSet = false;
      this.install([]);
    }
    if (age >= this.maxAge / 2 && this.inflight === null && t - this.lastAttempt >= this.cooldown) {
      this.refresh().catch(() => {
        // kept: the last good set stays until it expires
      });
    }
  }

  /** True when another fetch may run now (for verifyAsync on an unknown kid). */
  canFetch(): boolean {
    return this.inflight !== null || this.now() - this.lastAttempt >= this.cooldown;
  }

  get loaded(): boolean {
    return this.hasSet;
  }
}
