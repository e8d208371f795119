// `fastermcp serve` authentication flags -> the HTTP transport's resource server (docs/auth.md). With
// any credential flag set, every MCP request needs a credential; without one, nothing changes.
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readKeyFile } from '../key-file.js';
import { createJwtVerifier } from '../jwt/index.js';
import type { JwtAlgorithm, JwtVerifierOptions } from '../jwt/index.js';
import { apiKeyAuthenticator, chainAuthenticators, jwtAuthenticator, readApiKeysFile } from './authenticate.js';
import type { Authenticator } from './authenticate.js';
import type { ResourceServerOptions } from './resource-server.js';

export interface AuthFlags {
  jwtSecretFile?: string;
  jwtPublicKeyFile?: string;
  jwksUrl?: string;
  jwksFile?: string;
  /** Comma-separated lists. */
  jwtIssuer?: string;
  jwtAudience?: string;
  jwtAlgorithms?: string;
  apiKeysFile?: string;
  authorizationServer?: string;
  resourceUrl?: string;
  scopes?: string;
}

const list = (value: string | undefined): string[] | undefined =>
  value === undefined ? undefined : value.split(',').map((s) => s.trim()).filter((s) => s !== '');

/** The algorithm a public key file implies, when --jwt-algorithms is not given. */
function algorithmOf(key: Buffer): JwtAlgorithm {
  const k = createPublicKey(key.includes('-----BEGIN') ? key.toString('utf8') : { key, format: 'der', type: 'spki' });
  switch (k.asymmetricKeyType) {
    case 'rsa':
      return 'RS256';
    case 'rsa-pss':
      return 'PS256';
    case 'ed25519':
      return 'EdDSA';
    case 'ec':
      return k.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'ES384' : 'ES256';
    default:
      throw new Error(`--jwt-public-key-file: unsupported key type ${String(k.asymmetricKeyType)}`);
  }
}

/**
 * The resource server the flags ask for, or undefined when no credential flag is set. `resource` is
 * the server's own URL (the default audience of tokens, RFC 8707); undefined when it is not known yet
 * (port 0), which is an error only if a JWT flag needs it.
 */
export function resourceServerFromFlags(flags: AuthFlags, resource: string | undefined): ResourceServerOptions | undefined {
  const jwtKeySources = [flags.jwtSecretFile, flags.jwtPublicKeyFile, flags.jwksUrl, flags.jwksFile].filter((v) => v !== undefined);
  if (jwtKeySources.length === 0 && flags.apiKeysFile === undefined) {
    for (const [flag, value] of [['--jwt-issuer', flags.jwtIssuer], ['--jwt-audience', flags.jwtAudience], ['--jwt-algorithms', flags.jwtAlgorithms]] as const) {
      if (value !== undefined) throw new Error(`${flag} needs a key: --jwt-secret-file, --jwt-public-key-file, --jwks-url or --jwks-file`);
    }
    return undefined;
  }
  if (jwtKeySources.length > 1) throw new Error('choose one of --jwt-secret-file, --jwt-public-key-file, --jwks-url and --jwks-file');
  const resourceUrl = flags.resourceUrl ?? resource;
  const authenticators: Authenticator[] = [];
  const issuers = list(flags.jwtIssuer);
  if (jwtKeySources.length === 1) {
    const audience = list(flags.jwtAudience) ?? (resourceUrl === undefined ? undefined : [resourceUrl]);
    if (audience === undefined) throw new Error('--jwt-audience or --resource-url is needed when the port is chosen at run time (--http 0)');
    let algorithms = list(flags.jwtAlgorithms) as JwtAlgorithm[] | undefined;
    const options: Partial<JwtVerifierOptions> = { audience, ...(issuers === undefined ? {} : { issuer: issuers }) };
    if (flags.jwtSecretFile !== undefined) {
      options.secret = readKeyFile(flags.jwtSecretFile);
      algorithms ??= ['HS256'];
    } else if (flags.jwtPublicKeyFile !== undefined) {
      const key = readFileSync(flags.jwtPublicKeyFile);
      options.keys = [{ key: key.includes('-----BEGIN') ? key.toString('utf8') : key }];
      algorithms ??= [algorithmOf(key)];
    } else if (flags.jwksFile !== undefined) {
      options.jwks = JSON.parse(readFileSync(flags.jwksFile, 'utf8')) as { keys: object[] };
    } else {
      options.jwksUrl = flags.jwksUrl;
    }
    if (algorithms === undefined) throw new Error('--jwt-algorithms is needed with a JWK Set (e.g. RS256,ES256)');
    authenticators.push(jwtAuthenticator(createJwtVerifier({ ...options, algorithms } as JwtVerifierOptions)));
  }
  if (flags.apiKeysFile !== undefined) authenticators.push(apiKeyAuthenticator(readApiKeysFile(flags.apiKeysFile)));
  if (resourceUrl === undefined) throw new Error('--resource-url is needed when the port is chosen at run time (--http 0)');
  const authorizationServers = list(flags.authorizationServer) ?? issuers ?? [];
  if (jwtKeySources.length === 1 && authorizationServers.length === 0) {
    throw new Error('--authorization-server (or --jwt-issuer) is needed: the protected resource metadata names who issues tokens');
  }
  return {
    authenticator: chainAuthenticators(authenticators),
    resource: resourceUrl,
    authorizationServers,
    ...(flags.scopes === undefined ? {} : { scopesSupported: list(flags.scopes)! }),
  };
}
