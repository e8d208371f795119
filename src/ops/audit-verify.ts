// `fastermcp audit verify FILE --audit-key-file F`: walks an audit log's hash chain and names the
// first line that does not follow (edited: mac mismatch; removed or reordered: seq gap or prev
// mismatch; damaged: bad JSON). Removing records from the end leaves a valid shorter chain: only an
// anchor kept elsewhere (the last seq and mac this prints) shows that.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { chainFault, readAuditKey } from './audit-chain.js';

export type AuditVerdict =
  | { ok: true; records: number; last: { seq: number; mac: string } | undefined }
  | { ok: false; records: number; line: number; reason: string };

export async function verifyAuditLog(path: string, key: Buffer): Promise<AuditVerdict> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let previous: { seq: number; mac: string } | undefined;
  let n = 0;
  for await (const line of lines) {
    n++;
    const fault = line === '' ? 'an empty line' : chainFault(key, line, previous);
    if (fault !== undefined) {
      lines.close();
      return { ok: false, records: n - 1, line: n, reason: fault };
    }
    const record = JSON.parse(line) as { seq: number; mac: string };
    previous = { seq: record.seq, mac: record.mac };
  }
  return { ok: true, records: n, last: previous };
}

/** Runs `audit verify`; returns the exit code (0 intact, 1 broken, 2 usage) and writes its verdict. */
export async function auditCommand(args: readonly string[], keyFile: string | undefined, out: (line: string) => void): Promise<number> {
  const [sub, file, ...extra] = args;
  if (sub !== 'verify' || file === undefined || extra.length > 0) {
    out('usage: fastermcp audit verify FILE --audit-key-file F');
    return 2;
  }
  if (keyFile === undefined) {
    out('audit verify needs --audit-key-file (the key the log was written with)');
    return 2;
  }
  let key: Buffer;
  try {
    key = readAuditKey(keyFile);
  } catch (e) {
    out((e as Error).message);
    return 2;
  }
  let verdict: AuditVerdict;
  try {
    verdict = await verifyAuditLog(file, key);
  } catch (e) {
    out(`audit log ${file}: ${(e as Error).message}`);
    return 2;
  }
  if (!verdict.ok) {
    out(`audit log ${file}: line ${verdict.line}: ${verdict.reason} (${verdict.records} records before it are intact)`);
    return 1;
  }
  const last = verdict.last === undefined ? 'no records' : `last seq ${verdict.last.seq} mac ${verdict.last.mac}`;
  out(`audit log ${file}: intact, ${verdict.records} records, ${last} (compare with an anchor kept elsewhere to detect a cut tail)`);
  return 0;
}
