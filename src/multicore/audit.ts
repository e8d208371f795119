// The audit log of a multi-process server: one hash chain, one file. Each chain link depends on the
// one before, so only one process may append; the primary owns the AuditWriter and every worker's
// audit observer hands its entries over the cluster IPC channel (in the order each worker sends them;
// entries of different workers interleave in arrival order, and the chain signs that order).
import { readAuditKey } from '../ops/audit-chain.js';
import type { AuditEntry } from '../ops/audit-chain.js';
import type { AuditSink } from '../ops/audit-observer.js';
import { AuditWriter } from '../ops/audit.js';
import type { Logger } from '../ops/log.js';
import type { WorkerMessage } from './messages.js';
import { tellPrimary } from './worker.js';

const SERVICE = 'fastermcp:audit';

/** Worker side: entries go to the primary, no answer awaited. */
export const primaryAuditSink: AuditSink = {
  append(entry: AuditEntry): void {
    tellPrimary(SERVICE, { entry });
  },
};

/** Primary side: the writer (when --audit-log is given), opened before any worker starts. */
export async function primaryAudit(flags: { auditLog?: string | undefined; auditKeyFile?: string | undefined }, logger: Logger): Promise<AuditWriter | undefined> {
  if ((flags.auditLog === undefined) !== (flags.auditKeyFile === undefined)) throw new Error('--audit-log and --audit-key-file go together');
  if (flags.auditLog === undefined) return undefined;
  const writer = await AuditWriter.open(flags.auditLog, readAuditKey(flags.auditKeyFile!), { onError: (e) => logger.error(e.message) });
  logger.info({ file: flags.auditLog, seq: writer.last.seq }, `audit log ${flags.auditLog}: appending after seq ${writer.last.seq} (written by the primary for every worker)`);
  return writer;
}

/** Primary side: the service that appends what workers send. */
export function auditService(writer: AuditWriter): Record<string, (worker: unknown, message: WorkerMessage) => void> {
  return {
    [SERVICE]: (_worker, message) => {
      writer.append((message as unknown as { entry: AuditEntry }).entry);
    },
  };
}
