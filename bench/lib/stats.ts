// Small statistics for the benchmarks: medians across rounds, percentiles of latency samples.

export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The p-th percentile (0..100) of an ascending array, nearest rank. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** `a / b` formatted as a ratio for tables ("12.3x"), or "n/a". */
export function ratio(a: number, b: number): string {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return 'n/a';
  const r = a / b;
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}x`;
}

/**
 * How a target fared round by round: "per round LOW-HIGH, K of N met it", where a value meets it at `goal` or
 * above; `show` formats a value. Empty for no values. A median can pass while most rounds miss (or the other
 * way round): the spread says how close the call is.
 */
export function roundSpread(values: readonly number[], goal: number, show: (v: number) => string): string {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return '';
  const met = finite.filter((v) => v >= goal).length;
  return `per round ${show(Math.min(...finite))}-${show(Math.max(...finite))}, ${met} of ${finite.length} met it`;
}
