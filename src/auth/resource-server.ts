// The MCP server as an OAuth 2.1 resource server (MCP authorization, 2025-11-25 and 2026-07-28):
// the RFC 9728 protected resource metadata, and the challenges of 401 and 403 responses. Which
// authenticators run is the caller's choice (authenticate.ts); this file only speaks the HTTP side.
//
//   no credential        401  WWW-Authenticate: Bearer resource_metadata="...", scope="..."
//   refused credential   401  ... error="invalid_token", error_description="..."  (400 for invalid_request)
//   missing scopes       403  ... error="insufficient_scope", scope="<granted and required>"
//
// Bodies are JSON-RPC errors (codes in protocol.ts; the protocol defines none for these): -32011
// without an id for 401 and 400, like the other HTTP-level refusals of this transport, and -32013
// with the request's id for 403.
import type { RequestHead } from '../transport/http-message.js';
import { header } from '../transport/headers.js';
import type { AuthDecision, Authenticator, Credentials } from './authenticate.js';
import { bearerToken } from './authenticate.js';

export interface ResourceServerOptions {
  /** Who may call (authenticate.ts: JWT, API keys, or a chain of them). */
  authenticator: Authenticator;
  /**
   * The server's own resource URL, e.g. `https://mcp.example.com/mcp` (RFC 9728 `resource`, and the
   * audience tokens must carry, RFC 8707). Scheme and host are lower-cased, a trailing slash dropped.
   */
  resource: string;
  /**
   * Issuer URLs of the authorization servers that issue tokens for this resource. MCP requires at least
   * one with OAuth; empty only for a server that takes API keys alone (no OAuth, so none to name).
   */
  authorizationServers: readonly string[];
  /** Scopes advertised in the metadata and in 401 challenges (the tools' own scopes are added). */
  scopesSupported?: readonly string[];
  /** Human-readable name and documentation URL of the resource (RFC 9728 `resource_name`, `resource_documentation`). */
  resourceName?: string;
  resourceDocumentation?: string;
}

/** RFC 9728 section 3: where the metadata of a resource at `path` is served. */
export const WELL_KNOWN = '/.well-known/oauth-protected-resource';

/** Scopes never challenged or advertised: a resource has no say in refresh tokens (2026-07-28). */
const UNADVERTISED = new Set(['offline_access']);

export class ResourceServer {
  readonly resource: string;
  /** The path-suffixed well-known path (clients try it first) and the root one. */
  readonly metadataPaths: readonly string[];
  /** Absolute URL of the metadata document, as 401 and 403 challenges name it. */
  readonly metadataUrl: string;
  private readonly authenticator: Authenticator;
  private readonly options: ResourceServerOptions;

  constructor(options: ResourceServerOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('The resource server needs an options object');
    if (typeof options.authenticator?.authenticate !== 'function') throw new TypeError('auth.authenticator must be an Authenticator');
    const servers = options.authorizationServers;
    if (!Array.isArray(servers) || servers.some((s) => typeof s !== 'string' || !isHttpUrl(s))) {
      throw new TypeError('auth.authorizationServers must be an array of authorization server issuer URLs (RFC 9728)');
    }
    this.resource = canonicalResource(options.resource);
    const url = new URL(this.resource);
    const suffix = url.pathname === '/' ? '' : url.pathname;
    this.metadataPaths = suffix === '' ? [WELL_KNOWN] : [WELL_KNOWN + suffix, WELL_KNOWN];
    this.metadataUrl = url.origin + this.metadataPaths[0];
    this.authenticator = options.authenticator;
    this.options = options;
  }

  /** Runs the authenticators on the request's credentials; null when it carries none. */
  authenticate(req: RequestHead): AuthDecision | null | Promise<AuthDecision | null> {
    return this.authenticator.authenticate(credentials(req));
  }

  /** The RFC 9728 metadata document; `scopes` are the scopes the server's entries require. */
  document(scopes: Iterable<string>): Record<string, unknown> {
    const doc: Record<string, unknown> = { resource: this.resource };
    if (this.options.authorizationServers.length > 0) doc['authorization_servers'] = [...this.options.authorizationServers];
    doc['bearer_methods_supported'] = ['header'];
    const supported = this.scopesSupported(scopes);
    if (supported.length > 0) doc['scopes_supported'] = supported;
    if (this.options.resourceName !== undefined) doc['resource_name'] = this.options.resourceName;
    if (this.options.resourceDocumentation !== undefined) doc['resource_documentation'] = this.options.resourceDocumentation;
    return doc;
  }

  scopesSupported(scopes: Iterable<string>): string[] {
    const out = new Set<string>();
    for (const s of this.options.scopesSupported ?? []) if (!UNADVERTISED.has(s)) out.add(s);
    for (const s of scopes) if (!UNADVERTISED.has(s)) out.add(s);
    return [...out];
  }

  /**
   * The WWW-Authenticate value of a refusal. `scopes` is the scope parameter (omitted when empty);
   * `error` is absent for a request that sent no credential (RFC 6750 section 3).
   */
  challenge(scopes: readonly string[], error?: 'invalid_token' | 'invalid_request' | 'insufficient_scope', description?: string): string {
    let value = 'Bearer resource_metadata=' + quoted(this.metadataUrl);
    const scope = scopes.filter((s) => !UNADVERTISED.has(s)).join(' ');
    if (scope !== '') value += ', scope=' + quoted(scope);
    if (error !== undefined) value += ', error=' + quoted(error);
    if (description !== undefined) value += ', error_description=' + quoted(description);
    return value;
  }
}

/** The credentials of a request: a Bearer token from Authorization, an X-API-Key header. Never the query string. */
export function credentials(req: RequestHead): Credentials {
  return { bearer: bearerToken(header(req, 'authorization')), apiKey: header(req, 'x-api-key') };
}

/** RFC 6750 quoted-string: no quote or backslash may appear unescaped; control characters are dropped. */
function quoted(value: string): string {
  return '"' + value.replace(/[\u0000-\u001f\u007f]/g, '').replace(/["\\]/g, '\\$&') + '"';
}

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

/** RFC 8707 / 9728: an absolute http(s) URL without fragment; scheme and host lower case, no trailing slash. */
export function canonicalResource(resource: string): string {
  if (typeof resource !== 'string' || !isHttpUrl(resource)) throw new TypeError(`auth.resource must be an absolute http(s) URL, got ${JSON.stringify(resource)}`);
  const u = new URL(resource);
  if (u.hash !== '') throw new TypeError('auth.resource must not have a fragment (RFC 8707)');
  let text = u.href; // URL lower-cases the scheme and host
  if (text.endsWith('/') && u.search === '') text = text.slice(0, -1);
  return text;
}
