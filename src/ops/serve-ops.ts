// What `fastermcp serve` turns on for operators: tracing (when the process registered an
// OpenTelemetry SDK before serving), request logs, and the audit log. Each observer is registered only
// when it has something to do, so a server with none of them keeps dispatch's plain path.
import { ProxyTracerProvider, trace } from '@opentelemetry/api';
import type { McpServer } from '../server/server.js';
import { readAuditKey } from './audit-chain.js';
import { auditObserver } from './audit-observer.js';
import { AuditWriter } from './audit.js';
import { failureLogger, loggingObserver } from './log.js';
import type { Logger } from './log.js';
import { tracingObserver } from './tracing.js';
import { primaryAuditSink } from '../multicore/audit.js';

export interface OpsFlags {
  auditLog?: string;
  auditKeyFile?: string;
  /** A --workers worker: audit entries go to the primary's one writer (src/multicore/audit.ts). */
  auditToPrimary?: boolean;
}

export interface Ops {
  /** Flushes and closes the audit log. */
  close(): Promise<void>;
}

/** Whether an OpenTelemetry tracer provider (an SDK) is registered globally. */
export function tracerProviderRegistered(): boolean {
  const global = trace.getTracerProvider();
  const delegate = global instanceof ProxyTracerProvider ? global.getDelegate() : global;
  return delegate !== new ProxyTracerProvider().getDelegate();
}

/** Throws (a usage error) when the audit flags are incomplete or the key or the file is refused. */
export async function startObservability(server: McpServer, flags: OpsFlags, logger: Logger): Promise<Ops> {
  if ((flags.auditLog === undefined) !== (flags.auditKeyFile === undefined)) {
    throw new Error('--audit-log and --audit-key-file go together');
  }
  if (tracerProviderRegistered()) {
    server.observe(tracingObserver(server));
    logger.info('tracing: one span per request to the registered OpenTelemetry tracer provider');
  }
  // A line per request only at debug; above it, failures only, which need no observer.
  if (logger.isLevelEnabled('debug')) server.observe(loggingObserver(logger));
  else if (logger.isLevelEnabled('error')) server.onFailure(failureLogger(logger));
  if (flags.auditToPrimary === true) server.observe(auditObserver(server, primaryAuditSink));
  let writer: AuditWriter | undefined;
  if (flags.auditLog !== undefined) {
    const key = readAuditKey(flags.auditKeyFile!);
    writer = await AuditWriter.open(flags.auditLog, key, { onError: (e) => logger.error(e.message) });
    server.observe(auditObserver(server, writer));
    logger.info({ file: flags.auditLog, seq: writer.last.seq }, `audit log ${flags.auditLog}: appending after seq ${writer.last.seq}`);
  }
  return {
    async close(): Promise<void> {
      if (writer === undefined) return;
      await writer.close();
      const { seq, mac } = writer.last;
      // The anchor an operator keeps to detect a cut tail later (docs/observability.md).
      logger.info({ file: writer.path, seq, mac, dropped: writer.dropped }, `audit log closed at seq ${seq}`);
    },
  };
}
