// An ordered registry of named entries (tools, prompts, resources, resource templates) that can be
// added, removed, enabled and disabled at run time, listed in pages with opaque cursors, and that
// tells its owner when the visible list changed (for list_changed notifications).
//
// Lists are in registration order, so the same set of entries always lists the same way (2026-07-28
// asks for a deterministic order). Every add takes the next number of a per-registry sequence, so the
// list is always sorted by that number; a cursor holds the number of the last entry it covered and
// the next page starts at the first entry with a larger number. A page boundary therefore survives
// any mix of inserts, removals (the boundary entry's included) and re-registrations: nothing is
// skipped and nothing repeats.
import { invalidParams } from './errors.js';
import type { StateSigner } from './request-state.js';

export interface Entry {
  readonly key: string;
  enabled: boolean;
  /** OAuth scopes an authenticated caller needs to see and use the entry (empty: none). */
  readonly scopes: readonly string[];
}

interface CursorPayload {
  /** Sequence number of the last entry the previous page covered; the next page starts after it. */
  n: number;
}

export class Registry<T extends Entry> {
  private readonly entries: T[] = [];
  /** Sequence number of each entry of `entries`, at the same index; strictly increasing. */
  private readonly seqs: number[] = [];
  private readonly byKey = new Map<string, T>();
  private nextSeq = 0;
  /** The last key get() found and its entry: most calls name the tool the call before did. */
  private lastKey: string | undefined;
  private lastEntry: T | undefined;
  /** Bumped on every visible change; lets callers cache list results. */
  version = 0;

  constructor(
    private readonly kind: string,
    private readonly onChange: () => void,
  ) {}

  get size(): number {
    return this.entries.length;
  }

  get(key: string): T | undefined {
    // Comparing a short name costs less than hashing the new string for the Map.
    const entry = key === this.lastKey ? this.lastEntry : this.byKey.get(key);
    if (entry !== undefined && entry !== this.lastEntry) {
      this.lastKey = key;
      this.lastEntry = entry;
    }
    return entry !== undefined && entry.enabled ? entry : undefined;
  }

  /** Whether `entry` itself (not just an entry of its key) is registered. */
  owns(entry: T): boolean {
    return this.byKey.get(entry.key) === entry;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  add(entry: T): void {
    if (this.byKey.has(entry.key)) throw new Error(`${this.kind} ${JSON.stringify(entry.key)} is already registered`);
    this.entries.push(entry);
    this.seqs.push(this.nextSeq++);
    this.byKey.set(entry.key, entry);
    if (entry.enabled) this.changed();
  }

  remove(key: string): boolean {
    const entry = this.byKey.get(key);
    if (entry === undefined) return false;
    this.byKey.delete(key);
    if (this.lastEntry === entry) this.lastKey = this.lastEntry = undefined;
    const index = this.entries.indexOf(entry);
    this.entries.splice(index, 1);
    this.seqs.splice(index, 1);
    if (entry.enabled) this.changed();
    return true;
  }

  setEnabled(key: string, enabled: boolean): void {
    const entry = this.byKey.get(key);
    if (entry === undefined || entry.enabled === enabled) return;
    entry.enabled = enabled;
    this.changed();
  }

  /** Tells listeners that an entry changed in place (title, description, schema). */
  changed(): void {
    this.version++;
    this.onChange();
  }

  /** Enabled entries, in registration order. */
  *enabled(): IterableIterator<T> {
    for (const entry of this.entries) if (entry.enabled) yield entry;
  }

  /**
   * One page of enabled entries for which `visible` holds, after `cursor` (undefined for the first
   * page). A cursor this server did not make is an invalid-params error.
   */
  page(
    cursor: unknown,
    pageSize: number,
    signer: StateSigner,
    visible: (entry: T) => boolean = () => true,
  ): { items: T[]; nextCursor?: string } {
    let start = 0;
    if (cursor !== undefined) {
      const checked = typeof cursor === 'string' ? signer.verify(cursor, { purpose: `cursor:${this.kind}` }) : null;
      if (checked === null || !checked.ok) throw invalidParams('Invalid cursor');
      start = this.resume(checked.payload);
      if (start < 0) throw invalidParams('Invalid cursor');
    }
    const items: T[] = [];
    let i = start;
    for (; i < this.entries.length && items.length < pageSize; i++) {
      const entry = this.entries[i]!;
      if (entry.enabled && visible(entry)) items.push(entry);
    }
    // Only hand out a cursor when something visible remains.
    let more = false;
    for (let j = i; j < this.entries.length; j++) {
      const entry = this.entries[j]!;
      if (entry.enabled && visible(entry)) {
        more = true;
        break;
      }
    }
    if (!more) return { items };
    const payload: CursorPayload = { n: this.seqs[i - 1]! };
    return { items, nextCursor: signer.sign(payload, { purpose: `cursor:${this.kind}` }) };
  }

  /** Index where the page after a cursor starts, or -1 for a payload that is not a cursor's. */
  private resume(payload: unknown): number {
    if (typeof payload !== 'object' || payload === null) return -1;
    const { n } = payload as Partial<CursorPayload>;
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) return -1;
    // The first entry added after the boundary entry, whether that one is still here, was removed or
    // was registered again since. `seqs` is sorted, so a binary search finds it. (Instances of one
    // deployment that register the same entries in the same order number them alike, so a cursor
    // made by one reads the same on another.)
    let lo = 0;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqs[mid]! <= n) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
