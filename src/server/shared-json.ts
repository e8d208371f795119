// JSON values that many sessions or requests send alike, kept once: deeply frozen, and shared by JSON text.
// An idle legacy session held its own copy of what its client sent in initialize (capabilities and
// clientInfo, ~136 B): most of a session's bytes, and, since every new session survives V8's scavenges, what
// made V8 grow its young generation by MiBs while sessions were being opened (BENCHMARKS.md, Memory). A
// 2026-07-28 client sends the same `_meta` with every request: the reader looks its text up here instead of
// parsing it (src/transport/intake.ts).

/** Freezes `value` and everything in it (values already frozen are taken as frozen throughout); returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/**
 * Deeply frozen JSON values by their JSON text: share() gives the value first seen with the same text. Bounded:
 * at most `entries` texts of at most `maxText` characters each; a full table starts over.
 */
export class SharedJson {
  private readonly values = new Map<string, unknown>();

  constructor(
    private readonly entries: number,
    /** The longest text kept, in characters. */
    readonly maxText: number,
  ) {}

  /**
   * The shared value equal to `value` (JSON data: objects, arrays, primitives), frozen; `value` itself, frozen,
   * when it is the first of its text or its text is longer than maxText. Primitives are returned as they are.
   */
  share<T>(value: T): T {
    if (typeof value !== 'object' || value === null) return value;
    const text = JSON.stringify(value);
    const known = this.values.get(text);
    if (known !== undefined) return known as T;
    if (!this.keep(text, value)) deepFreeze(value);
    return value;
  }

  /** The shared value of the JSON text `text`, or undefined when none is kept. */
  lookup(text: string): unknown {
    return this.values.get(text);
  }

  /**
   * Keeps `value`, the parse of `text`, deeply frozen, as the shared value of that text; false (and `value` left
   * as it is) when the text is longer than maxText. The text is the Map's key: a substring of a larger string
   * (a read's chunk) would keep all of that alive.
   */
  keep(text: string, value: unknown): boolean {
    if (text.length > this.maxText) return false;
    if (this.values.size >= this.entries) this.values.clear();
    this.values.set(text, deepFreeze(value));
    return true;
  }
}

/** What clients declare in initialize (capabilities, clientInfo), shared by the process's sessions. */
export const clientDeclarations = new SharedJson(64, 4096);
