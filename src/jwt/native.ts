// Thin wrapper over the addon's JwtVerifier (native/binding/jwt_binding.cc). verify() is one crossing: the
// addon answers a cache hit with the slot whose result this wrapper kept, a failure with -reason (one
// frozen result per reason), and a fresh verification with the payload JSON (slot in out[0]).
import type { NativeBinding, NativeJwtVerifier } from '../native.js';
import type { JwtCore, JwtPolicy } from './js.js';
import type { ImportedKey } from './keys.js';
import { FAILURES, successFromClaims, type JwtResult } from './result.js';

export class NativeJwtCore implements JwtCore {
  readonly implementation = 'native' as const;
  private readonly v: NativeJwtVerifier;
  private readonly out = new Int32Array(1);
  private readonly slots: (JwtResult | undefined)[] = [];

  constructor(binding: NativeBinding, policy: JwtPolicy) {
    this.v = new binding.JwtVerifier(policy, this.out);
  }

  setKeys(keys: readonly ImportedKey[]): void {
    this.v.setKeys(keys.map((k) => ({ kid: k.kid, hmac: k.hmac, data: k.data, algorithms: k.algorithms })));
    this.slots.length = 0;
  }

  verify(token: string, now: number): JwtResult {
    const r = this.v.verify(token, now);
    if (typeof r === 'number') return r < 0 ? FAILURES[-r]! : this.slots[r]!;
    const result = successFromClaims(JSON.parse(r) as Record<string, unknown>);
    const slot = this.out[0]!;
    if (slot >= 0) this.slots[slot] = result;
    return result;
  }

  clearCache(): void {
    this.v.clearCache();
    this.slots.length = 0;
  }

  cacheEntries(): number {
    return this.v.cacheEntries();
  }

  /** The signature check alone (key 0), for the benchmark's "native bare EVP verify" row. */
  bareVerify(alg: number, data: Uint8Array, signature: Uint8Array): boolean {
    return this.v.bareVerify(alg, data, signature);
  }
}
