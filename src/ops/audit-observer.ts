// The audit observer: one AuditEntry per tools/call that reaches dispatch, handed to a sink. The
// sink is an AuditWriter in a single process, or (in a cluster) anything that forwards the plain
// JSON entry to the one writer. Calls refused before dispatch (bad credentials, rate limits,
// malformed JSON) are answered natively and are not audited here.
import type { RequestEnd, RequestInfo, RequestObserver, RequestWatch } from '../server/observe.js';
import type { McpServer } from '../server/server.js';
import { argumentsDigest } from './audit-chain.js';
import type { AuditEntry } from './audit-chain.js';

export interface AuditSink {
  append(entry: AuditEntry): unknown;
}

/** Tool names are client input: a record keeps at most this many characters of one. */
const MAX_TOOL_NAME = 256;

export function auditObserver(server: McpServer, sink: AuditSink): RequestObserver {
  return {
    begin(info: RequestInfo): RequestWatch | undefined {
      if (info.method !== 'tools/call') return undefined;
      const time = Date.now();
      const start = performance.now();
      return {
        end(end: RequestEnd): void {
          const { params, env } = info;
          const name = params !== undefined && typeof params['name'] === 'string' ? params['name'] : '';
          const entry: AuditEntry = {
            time: new Date(time).toISOString(),
            subject: env.auth?.subject ?? null,
            tool: name.length > MAX_TOOL_NAME ? name.slice(0, MAX_TOOL_NAME) : name,
            args: argumentsDigest(params?.['arguments']),
            outcome: end.outcome,
            ms: Math.round((performance.now() - start) * 1000) / 1000,
            cost: server.tools.get(name)?.definition.cost ?? 1,
          };
          // Optional fields are added, never deleted: delete would turn the object into a slow dictionary.
          const session = env.session?.id;
          if (session !== undefined) entry.session = session;
          if (end.code !== undefined) entry.code = end.code;
          sink.append(entry);
        },
      };
    },
  };
}
