// McpError: a protocol error that reaches the client as a JSON-RPC error object.
//
// Handlers throw it for protocol-level problems (unknown resource, missing client capability).
// Anything else a tool handler throws becomes an `isError` tool result instead: the spec keeps tool
// failures inside the result so the model can see them, and protocol errors for the protocol.
import { ErrorCode } from './protocol.js';

export class McpError extends Error {
  readonly code: number;
  readonly data: unknown;
  /** HTTP status for the 2026-07-28 era over HTTP, where some errors have their own status. */
  readonly httpStatus: number | undefined;

  constructor(code: number, message: string, data?: unknown, httpStatus?: number) {
    super(message);
    this.name = 'McpError';
    this.code = code;
    this.data = data;
    this.httpStatus = httpStatus;
  }

  /** The JSON text of the `error` member. */
  toJSON(): { code: number; message: string; data?: unknown } {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data };
  }
}

export function invalidParams(message: string, data?: unknown): McpError {
  return new McpError(ErrorCode.InvalidParams, message, data, 400);
}

export function methodNotFound(method: string): McpError {
  return new McpError(ErrorCode.MethodNotFound, `Method not found: ${method}`, undefined, 404);
}

/** A client capability the request needs but the client did not declare. */
export function missingCapability(capability: string): McpError {
  return new McpError(
    ErrorCode.MissingRequiredClientCapability,
    `Missing required client capability: ${capability}`,
    { requiredCapabilities: { [capability]: {} } },
    400,
  );
}

/**
 * The request cannot go on until the user completes these URL-mode elicitations (2025-11-25,
 * -32042); each is `{ mode: 'url', elicitationId, url, message }`.
 */
export function urlElicitationRequired(elicitations: readonly Record<string, unknown>[]): McpError {
  return new McpError(
    ErrorCode.UrlElicitationRequired,
    'This request requires the user to complete an action in their browser first',
    { elicitations },
  );
}

/**
 * A caller lacks scopes an entry requires (docs/auth.md): HTTP 403 with an insufficient_scope
 * challenge. The challenge names the scopes granted so far and the ones required, so that a client
 * re-authorizing with them loses nothing (2025-11-25's recommended strategy; 2026-07-28 clients merge
 * scopes themselves, and a superset serves them as well).
 */
export class InsufficientScope extends McpError {
  readonly challengeScopes: readonly string[];

  constructor(what: string, required: readonly string[], granted: readonly string[]) {
    const missing = required.filter((s) => !granted.includes(s));
    super(ErrorCode.InsufficientScope, `Forbidden: ${what} needs scope ${missing.join(' ')}`, { requiredScopes: [...required] }, 403);
    this.challengeScopes = [...new Set([...granted, ...required])];
  }
}
