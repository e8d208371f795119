// 2026-07-28 request headers over HTTP: Mcp-Method, Mcp-Name and Mcp-Param-* must repeat what the
// body says, so that proxies and gateways can route and filter on headers alone without a server
// that disagrees with them. A mismatch is HeaderMismatch (-32020) with HTTP 400.
//
// Values may be sent literally or as `=?base64?<base64>?=` (for characters headers cannot carry);
// a malformed base64 form is a mismatch. Surrounding whitespace is not part of a value (RFC 9110).
import { McpError } from '../server/errors.js';
import { ErrorCode } from '../server/protocol.js';
import type { McpServer } from '../server/server.js';
import type { JsonObject } from '../server/types.js';
import { FIRST_WINS } from './http-message.js';
import type { RequestHead } from './http-message.js';
import { LaneRequest } from './lane-message.js';

/** Which body field each method's Mcp-Name header repeats. */
const NAME_FIELD: Record<string, string> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
};

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function mismatch(message: string, data?: JsonObject): McpError {
  return new McpError(ErrorCode.HeaderMismatch, `Bad Request: ${message}`, data, 400);
}

/**
 * A request header by its lower-case name, read from req.rawHeaders: node builds req.headers (every
 * header, lower-cased and merged) on first use, which costs more than the few lookups this transport
 * makes. Merging follows node's: the first of repeated Host/Content-Type/Content-Length/Authorization
 * wins, other repeats are joined with ", ".
 */
export function header(req: RequestHead, name: string): string | undefined {
  if (req instanceof LaneRequest) return req.header(name);
  const raw = req.rawHeaders;
  let value: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i]!;
    if (key.length !== name.length || (key !== name && key.toLowerCase() !== name)) continue;
    if (value === undefined) {
      value = raw[i + 1]!;
      if (FIRST_WINS.has(name)) break;
    } else {
      value += ', ' + raw[i + 1]!;
    }
  }
  return value;
}


function headerValue(req: RequestHead, name: string): string | undefined {
  return header(req, name)?.trim();
}

/** The value a header carries: literal, or decoded from `=?base64?...?=`; null when malformed. */
export function decodeHeaderValue(raw: string): string | null {
  if (!(raw.startsWith('=?base64?') && raw.endsWith('?=') && raw.length >= 11)) return raw;
  const b64 = raw.slice(9, -2);
  if (b64.length % 4 !== 0 || !BASE64.test(b64)) return null;
  return Buffer.from(b64, 'base64').toString('utf8');
}

function expectEqual(req: RequestHead, header: string, expected: string, what: string): void {
  const raw = headerValue(req, header);
  if (raw === undefined) throw mismatch(`missing ${what} header`, { header, expected });
  const value = decodeHeaderValue(raw);
  if (value === null) throw mismatch(`${what} header is not valid base64`, { header });
  if (value !== expected) throw mismatch(`${what} header does not match the request body`, { header, header_value: value, body_value: expected });
}

function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** Throws HeaderMismatch unless the headers agree with `method` and `params`. */
export function checkStatelessHeaders(req: RequestHead, server: McpServer, method: string, params: JsonObject): void {
  expectEqual(req, 'mcp-method', method, 'Mcp-Method');
  const field = NAME_FIELD[method];
  if (field !== undefined) {
    const value = scalarText(params[field]);
    if (value !== undefined) expectEqual(req, 'mcp-name', value, 'Mcp-Name');
  }
  if (method !== 'tools/call' || typeof params['name'] !== 'string') return;
  // Tool parameters marked x-mcp-header travel as Mcp-Param-<Name> headers too.
  const tool = server.tools.get(params['name']);
  const properties = tool?.input.json['properties'];
  if (typeof properties !== 'object' || properties === null) return;
  const args = (typeof params['arguments'] === 'object' && params['arguments'] !== null ? params['arguments'] : {}) as JsonObject;
  for (const [prop, schema] of Object.entries(properties as Record<string, JsonObject>)) {
    const suffix = schema?.['x-mcp-header'];
    if (typeof suffix !== 'string') continue;
    const header = `mcp-param-${suffix.toLowerCase()}`;
    const value = scalarText(args[prop]);
    if (value === undefined) {
      if (headerValue(req, header) !== undefined) throw mismatch(`Mcp-Param-${suffix} header sent for an absent argument`, { header });
      continue;
    }
    expectEqual(req, header, value, `Mcp-Param-${suffix}`);
  }
}
