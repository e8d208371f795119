// Thin wrapper over the addon's JwtVerifier (native/binding/jwt_binding.cc). verify() is one crossing: the
// addon answers a failure with -reason (one frozen result per reason), and a success with the payload JSON
// (and [slot, from, until] in `out`). The core's own cache stays off: src/jwt/index.ts caches in front of
// either implementation, because a crossing costs more than a Map lookup. The claims are parsed when first
// read (result.ts): the checks that decide the verdict have all run natively by then.
import type { NativeBinding, NativeJwtVerifier } from '../native.js';
import type { JwtCore, JwtPolicy } from './js.js';
import type { ImportedKey } from './keys.js';
import { FAILURES, successFromPayload, type JwtResult } from './result.js';

export class NativeJwtCore implements JwtCore {
  readonly implementation = 'native' as const;
  private readonly v: NativeJwtVerifier;
  private readonly out = new Float64Array(3);

  constructor(binding: NativeBinding, policy: JwtPolicy) {
    this.v = new binding.JwtVerifier({ ...policy, cacheSize: 0 }, this.out);
  }

  get from(): number {
    return this.out[1]!;
  }

  get until(): number {
    return this.out[2]!;
  }

  setKeys(keys: readonly ImportedKey[]): void {
    this.v.setKeys(keys.map((k) => ({ kid: k.kid, hmac: k.hmac, data: k.data, algorithms: k.algorithms })));
  }

  verify(token: string, now: number): JwtResult {
    const r = this.v.verify(token, now);
    return typeof r === 'number' ? FAILURES[-r]! : successFromPayload(r);
  }

  /** The signature check alone (key 0), for the benchmark's "native bare EVP verify" row. */
  bareVerify(alg: number, data: Uint8Array, signature: Uint8Array): boolean {
    return this.v.bareVerify(alg, data, signature);
  }
}
