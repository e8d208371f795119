// An ordered registry of named entries (tools, prompts, resources, resource templates) that can be
// added, removed, enabled and disabled at run time, listed in pages with opaque cursors, and that
// tells its owner when the visible list changed (for list_changed notifications).
//
// Lists are in registration order, so the same set of entries always lists the same way (2026-07-28
// asks for a deterministic order). A cursor names the last entry of its page and that entry's
// position: a page boundary survives inserts and removals elsewhere in the list.
import { invalidParams } from './errors.js';
import type { StateSigner } from './request-state.js';

export interface Entry {
  readonly key: string;
  enabled: boolean;
}

interface CursorPayload {
  /** Position after which the next page starts. */
  i: number;
  /** Key of the last entry of the previous page. */
  k: string;
}

export class Registry<T extends Entry> {
  private readonly entries: T[] = [];
  private readonly byKey = new Map<string, T>();
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
    const entry = this.byKey.get(key);
    return entry !== undefined && entry.enabled ? entry : undefined;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  add(entry: T): void {
    if (this.byKey.has(entry.key)) throw new Error(`${this.kind} ${JSON.stringify(entry.key)} is already registered`);
    this.entries.push(entry);
    this.byKey.set(entry.key, entry);
    if (entry.enabled) this.changed();
  }

  remove(key: string): boolean {
    const entry = this.byKey.get(key);
    if (entry === undefined) return false;
    this.byKey.delete(key);
    this.entries.splice(this.entries.indexOf(entry), 1);
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
      const { i, k } = checked.payload as CursorPayload;
      start = this.entries[i - 1]?.key === k ? i : this.resume(k, i);
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
    const last = this.entries[i - 1]!;
    return { items, nextCursor: signer.sign({ i, k: last.key } satisfies CursorPayload, { purpose: `cursor:${this.kind}` }) };
  }

  /** Where a page starts when the entries moved since its cursor was made. */
  private resume(key: string, position: number): number {
    const entry = this.byKey.get(key);
    if (entry !== undefined) return this.entries.indexOf(entry) + 1;
    // The boundary entry was removed: continue from where it stood.
    return Math.min(Math.max(position - 1, 0), this.entries.length);
  }
}
