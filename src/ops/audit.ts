// AuditWriter: owns one audit log file and its hash chain (format: src/ops/audit-chain.ts).
//
// * Appends only. Records are chained (seq, prev, mac) synchronously in append() order, queued, and
//   written in batches by one write loop, each batch as whole lines in one append.
// * Resumes the chain of an existing file: open() reads its last line, checks that it is a complete
//   record whose mac matches this key, and continues from its seq and mac. A file whose last line
//   is torn, edited or written under another key is refused with an error naming the problem.
// * fsync: 'batch' (default) datasyncs after every batch before the next one starts, so under load
//   one sync covers many records; 'none' leaves it to the OS. A crash can lose the batch in flight
//   and the records still queued, never reorder or alter written ones.
// * Bounded memory: at most maxPendingBytes of records wait for the disk. Past that, append() drops
//   the entry, counts it, and once the queue has room writes a chained `dropped` record saying how
//   many were lost, so a slow disk shows as an honest gap instead of a broken chain.
// * One writer per file: two processes appending to one file break the chain (in a cluster, workers
//   send entries to one writer in the primary).
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { chainEntry, recordMac } from './audit-chain.js';
import type { AuditEntry, AuditRecord } from './audit-chain.js';

export interface AuditWriterOptions {
  /** 'batch' (default): datasync after every batch write; 'none': leave flushing to the OS. */
  fsync?: 'batch' | 'none';
  /** Most bytes of records waiting for the disk (default 8 MiB); beyond it entries are dropped and counted. */
  maxPendingBytes?: number;
  /** A write failed: the writer stops, and later entries are counted as dropped. */
  onError?: (error: Error) => void;
}

/** The longest last line open() reads back to resume a chain. */
const MAX_RECORD_BYTES = 1 << 20;

export class AuditWriter {
  private queue: string[] = [];
  private pendingBytes = 0;
  private writing: Promise<void> | undefined;
  private droppedSinceGap = 0;
  private failure: Error | undefined;
  private closed = false;
  /** Entries dropped because the queue was full or the writer had failed. */
  dropped = 0;

  private constructor(
    readonly path: string,
    private readonly file: FileHandle,
    private readonly key: Buffer,
    private seq: number,
    private mac: string | null,
    private readonly fsync: 'batch' | 'none',
    private readonly maxPendingBytes: number,
    private readonly onError: (error: Error) => void,
  ) {}

  /** Opens (or creates) `path` and resumes its chain; rejects when the file's last record does not check out. */
  static async open(path: string, key: Buffer, options: AuditWriterOptions = {}): Promise<AuditWriter> {
    const fsync = options.fsync ?? 'batch';
    if (fsync !== 'batch' && fsync !== 'none') throw new TypeError(`fsync must be 'batch' or 'none', got ${JSON.stringify(fsync)}`);
    const maxPendingBytes = options.maxPendingBytes ?? 8 << 20;
    if (!Number.isSafeInteger(maxPendingBytes) || maxPendingBytes < 1) throw new RangeError(`maxPendingBytes must be a positive integer, got ${maxPendingBytes}`);
    const file = await open(path, 'a+', 0o600);
    try {
      const last = await lastRecord(file, path, key);
      return new AuditWriter(path, file, key, last?.seq ?? 0, last?.mac ?? null, fsync, maxPendingBytes, options.onError ?? (() => {}));
    } catch (e) {
      await file.close();
      throw e;
    }
  }

  /** The last chained record (seq 0 and mac null before the first): an operator's anchor against truncation. */
  get last(): { seq: number; mac: string | null } {
    return { seq: this.seq, mac: this.mac };
  }

  /** Chains and queues one entry; false when it was dropped (queue full, writer failed or closed). */
  append(entry: AuditEntry): boolean {
    if (this.closed || this.failure !== undefined || this.pendingBytes >= this.maxPendingBytes) {
      this.dropped++;
      this.droppedSinceGap++;
      return false;
    }
    if (this.droppedSinceGap > 0) {
      this.chain({ time: new Date().toISOString(), event: 'dropped', count: this.droppedSinceGap });
      this.droppedSinceGap = 0;
    }
    this.chain(entry);
    if (this.writing === undefined) this.writing = this.drain();
    return true;
  }

  private chain(entry: Readonly<Record<string, unknown>>): void {
    const { line, mac } = chainEntry(this.key, entry, this.seq + 1, this.mac);
    this.seq++;
    this.mac = mac;
    this.queue.push(line + '\n');
    this.pendingBytes += line.length + 1;
  }

  private async drain(): Promise<void> {
    let inFlight = 0;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.join('');
        inFlight = this.queue.length;
        this.queue = [];
        await this.file.appendFile(batch);
        if (this.fsync === 'batch') await this.file.datasync();
        this.pendingBytes -= batch.length;
        inFlight = 0;
      }
    } catch (e) {
      this.failure = e instanceof Error ? e : new Error(String(e));
      // The failed batch counts as lost, though part of it may have reached the file.
      this.dropped += inFlight + this.queue.length;
      this.queue = [];
      this.onError(new Error(`audit log ${this.path}: write failed, auditing stopped: ${this.failure.message}`));
    } finally {
      this.writing = undefined;
    }
  }

  /** Resolves once every queued record is written (and synced, with fsync 'batch'). */
  async flush(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
    if (this.failure !== undefined) throw this.failure;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      while (this.writing !== undefined) await this.writing;
    } finally {
      await this.file.close();
    }
  }
}

/** The file's last record, checked against `key`; undefined for an empty file. */
async function lastRecord(file: FileHandle, path: string, key: Buffer): Promise<AuditRecord | undefined> {
  const { size } = await file.stat();
  if (size === 0) return undefined;
  const length = Math.min(size, MAX_RECORD_BYTES + 1);
  const buffer = Buffer.alloc(length);
  await file.read(buffer, 0, length, size - length);
  if (buffer[length - 1] !== 0x0a) {
    throw new Error(`audit log ${path}: the last line is incomplete (a write was cut short); run \`fastermcp audit verify\` and repair the file before appending`);
  }
  const start = buffer.lastIndexOf(0x0a, length - 2) + 1;
  if (start === 0 && length < size) throw new Error(`audit log ${path}: the last line is longer than ${MAX_RECORD_BYTES} bytes; not an audit record`);
  const line = buffer.toString('utf8', start, length - 1);
  let record: AuditRecord;
  try {
    record = JSON.parse(line) as AuditRecord;
  } catch {
    throw new Error(`audit log ${path}: the last line is not valid JSON; refusing to continue a broken chain`);
  }
  if (typeof record !== 'object' || record === null || typeof record.seq !== 'number' || typeof record.mac !== 'string') {
    throw new Error(`audit log ${path}: the last line is not an audit record (no seq or mac); refusing to continue a broken chain`);
  }
  if (recordMac(key, record) !== record.mac) {
    throw new Error(`audit log ${path}: the last record (seq ${record.seq}) does not match its mac under this key (edited, or written with another key); refusing to continue a broken chain`);
  }
  return record;
}
