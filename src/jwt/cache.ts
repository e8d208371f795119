// The verified-token cache, in front of either implementation: a Map keyed by the token text (V8 hashes
// the whole string once per lookup), in least-recently-used order, bounded. An entry holds the result
// and the window [from, until) of `now` in which it holds; until is never past the token's exp (plus
// the clock tolerance), so an expired token is never answered from the cache. Failures are not kept.
// It lives in JS for the native verifier too: crossing into the addon costs more than this lookup
// (docs/jwt.md section 7).
import type { JwtCore } from './js.js';
import type { ImportedKey } from './keys.js';
import type { JwtResult } from './result.js';

interface Entry {
  readonly result: JwtResult;
  readonly from: number;
  readonly until: number;
}

/** A core with the cache in front of it. */
export class CachingCore implements JwtCore {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly core: JwtCore,
    private readonly capacity: number,
  ) {}

  get implementation(): 'native' | 'js' {
    return this.core.implementation;
  }
  get from(): number {
    return this.core.from;
  }
  get until(): number {
    return this.core.until;
  }

  /** A key that went away must not keep its tokens valid: a new key set empties the cache. */
  setKeys(keys: readonly ImportedKey[]): void {
    this.core.setKeys(keys);
    this.entries.clear();
  }

  verify(token: string, now: number): JwtResult {
    if (this.entries.size !== 0 && typeof token === 'string') {
      const entry = this.entries.get(token);
      if (entry !== undefined) {
        this.entries.delete(token);
        if (now >= entry.from && now < entry.until) {
          this.entries.set(token, entry); // most recently used last
          return entry.result;
        }
      }
    }
    const result = this.core.verify(token, now);
    if (result.ok && this.capacity > 0 && this.core.from < this.core.until) {
      if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(token, { result, from: this.core.from, until: this.core.until });
    }
    return result;
  }

  clearCache(): void {
    this.entries.clear();
  }

  cacheEntries(): number {
    return this.entries.size;
  }
}
