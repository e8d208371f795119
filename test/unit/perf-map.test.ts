// bench/perf-map-newest.mjs: a V8 perf map keeps, where its lines overlap, only the newest (the code now there).
import { describe, expect, it } from 'vitest';
// @ts-expect-error a plain .mjs tool without type declarations
import { newestEntries } from '../../bench/perf-map-newest.mjs';

const newest = newestEntries as (lines: string[]) => string[];

describe('newestEntries', () => {
  it('drops an older line that a later one overlaps, wherever the overlap is', () => {
    const lines = [
      '7f0000001000 40 Eval:~ :1:1', // overlapped at its end by the optimized function below
      '7f0000001300 20 JS:~ early', // apart from it: kept
      '7f0000001080 100 JS:~ covered', // inside it
      '7f0000001200 80 JS:~ tail', // overlapped at its start
      '7f0000001020 200 JS:*hot file.js:1:1',
    ];
    expect(newest(lines)).toEqual(['7f0000001300 20 JS:~ early', '7f0000001020 200 JS:*hot file.js:1:1']);
  });

  it('keeps lines that only touch, lines in any order, and lines that are not entries', () => {
    const lines = ['', '10 10 a', '30 10 c', '20 10 b', 'not a map line', '0 10 z', '40 0 empty'];
    expect(newest(lines)).toEqual(lines);
  });

  it('keeps the newest of three at one address and every later neighbour', () => {
    const lines = ['100 10 first', '100 10 second', '90 10 before', '100 10 third', '110 8 after'];
    expect(newest(lines)).toEqual(['90 10 before', '100 10 third', '110 8 after']);
  });
});
