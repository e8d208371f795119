// Pin the public surface: src/index.ts re-exports every runtime name of src/jsonrpc/index.ts by name
// (never `export *`), plus runtimeInfo and the JWT verifier's public names; the built dist/index.js has the
// same names.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import * as jsonrpc from '../../src/jsonrpc/index.js';
import * as jwt from '../../src/jwt/index.js';
import * as authenticate from '../../src/auth/authenticate.js';
import * as resourceServer from '../../src/auth/resource-server.js';

describe('public exports (src/index.ts)', () => {
  it('re-exports every name of src/jsonrpc/index.ts', () => {
    const missing = Object.keys(jsonrpc).filter((k) => !(k in api));
    expect(missing).toEqual([]);
  });

  it('exports the JWT verifier API by name (not its internals)', () => {
    const names = ['JWT_ALGORITHMS', 'JWT_ERROR_CODES', 'JWT_REASONS', 'JWT_REASON_MESSAGES', 'createJwtVerifier'];
    for (const n of names) expect((api as Record<string, unknown>)[n]).toBe((jwt as Record<string, unknown>)[n]);
    expect('jwtPolicy' in api || 'createJwtCore' in api).toBe(false);
  });

  it('exports the resource server and the authenticators by name', () => {
    const names: [string, unknown][] = [
      ['ResourceServer', resourceServer.ResourceServer],
      ['canonicalResource', resourceServer.canonicalResource],
      ['PROTECTED_RESOURCE_METADATA_PATH', resourceServer.WELL_KNOWN],
      ['apiKeyAuthenticator', authenticate.apiKeyAuthenticator],
      ['bearerToken', authenticate.bearerToken],
      ['chainAuthenticators', authenticate.chainAuthenticators],
      ['jwtAuthenticator', authenticate.jwtAuthenticator],
      ['readApiKeysFile', authenticate.readApiKeysFile],
    ];
    for (const [n, value] of names) expect((api as Record<string, unknown>)[n], n).toBe(value);
  });

  it('exports the rate-limit API by name', async () => {
    const rl = await import('../../src/ratelimit/index.js');
    const cluster = await import('../../src/ratelimit/cluster.js');
    const quota = await import('../../src/ratelimit/cluster-quota.js');
    const names: [string, unknown][] = [
      ['createRateLimiter', rl.createRateLimiter],
      ['createRuleSet', rl.createRuleSet],
      ['ALGORITHMS', rl.ALGORITHMS],
      ['SCOPES', rl.SCOPES],
      ['ClusterLimiter', cluster.ClusterLimiter],
      ['ClusterQuota', quota.ClusterQuota],
    ];
    for (const [n, value] of names) expect((api as Record<string, unknown>)[n], n).toBe(value);
    expect('JsRuleSet' in api || 'NativeRuleSet' in api).toBe(false);
  });

  it('uses explicit named exports only', () => {
    const text = readFileSync(fileURLToPath(new URL('../../src/index.ts', import.meta.url)), 'utf8');
    expect(text).not.toMatch(/^\s*export\s+\*/m);
  });

  it('dist/index.js exports the same names', async () => {
    const built = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
    expect(existsSync(built), 'dist/ is missing: run npm run build:ts').toBe(true);
    const distApi = (await import(built)) as Record<string, unknown>;
    expect(Object.keys(distApi).sort()).toEqual(Object.keys(api).sort());
  });

  it('runtimeInfo() describes the engine in use', () => {
    const info = api.runtimeInfo();
    expect(info.implementation).toBe(api.implementation);
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    if (info.implementation === 'native') {
      expect(info.opensslVersion).toMatch(/^OpenSSL /);
      expect(typeof info.simdjsonImplementation).toBe('string');
    }
  });
});
