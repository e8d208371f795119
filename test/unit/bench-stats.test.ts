// bench/lib/stats.ts: medians, ratios and how a target fared round by round.
import { describe, expect, it } from 'vitest';
import { median, ratio, roundSpread } from '../../bench/lib/stats.js';

describe('roundSpread', () => {
  const x = (v: number): string => `${v.toFixed(2)}x`;

  it('gives the lowest and highest round and how many met the goal (the goal itself meets it)', () => {
    expect(roundSpread([3.5, 4.2, 3.9, 4, 3.6], 4, x)).toBe('per round 3.50x-4.20x, 2 of 5 met it');
    expect(roundSpread([5, 6], 4, x)).toBe('per round 5.00x-6.00x, 2 of 2 met it');
    expect(roundSpread([1.2e6], 1e6, (v) => `${Math.round(v / 1000)}k`)).toBe('per round 1200k-1200k, 1 of 1 met it');
  });

  it('leaves out rounds with no value, and says nothing without any', () => {
    expect(roundSpread([NaN, 3, Infinity, 4.5], 4, x)).toBe('per round 3.00x-4.50x, 1 of 2 met it');
    expect(roundSpread([], 4, x)).toBe('');
    expect(roundSpread([NaN], 4, x)).toBe('');
  });
});

describe('median and ratio', () => {
  it('takes the middle of the finite values, and formats a ratio or n/a', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, NaN, 2, 3])).toBe(2.5);
    expect(median([])).toBeNaN();
    expect(ratio(35.4, 2)).toBe('17.7x');
    expect(ratio(3.54, 1)).toBe('3.54x');
    expect(ratio(1, 0)).toBe('n/a');
  });
});
