// Quotas' calendar windows and the rate-limit flags of `fastermcp serve` (src/ratelimit/quota.ts,
// src/ratelimit/config.ts): periods follow UTC days and months, counts reset at the boundary, the
// client table stays bounded, and every malformed flag or file is refused with the reason.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QuotaCounter, periodOf } from '../../src/ratelimit/quota.js';
import { limitsFromFlags, perClientRule } from '../../src/ratelimit/config.js';

describe('quota periods', () => {
  it('are UTC days and UTC months, including leap February and the year boundary', () => {
    expect(periodOf('day', Date.UTC(2026, 10, 22, 23, 59, 59, 999))).toEqual([Date.UTC(2026, 10, 22), Date.UTC(2026, 10, 23)]);
    expect(periodOf('day', Date.UTC(2026, 10, 23))).toEqual([Date.UTC(2026, 10, 23), Date.UTC(2026, 10, 24)]);
    expect(periodOf('month', Date.UTC(2028, 1, 29, 12))).toEqual([Date.UTC(2028, 1, 1), Date.UTC(2028, 2, 1)]);
    expect(periodOf('month', Date.UTC(2026, 11, 31, 23))).toEqual([Date.UTC(2026, 11, 1), Date.UTC(2027, 0, 1)]);
  });

  it('count per client and reset at the period boundary', () => {
    const q = new QuotaCounter({ name: 'monthly', period: 'month', limit: 5 });
    const t = Date.UTC(2026, 10, 30, 23, 0);
    q.add('a', 3, t);
    expect(q.fits('a', 2, t)).toBe(true);
    expect(q.fits('a', 3, t)).toBe(false);
    expect(q.fits('b', 5, t)).toBe(true);
    expect(q.retryAfterMs(t)).toBe(3_600_000);
    const next = Date.UTC(2026, 11, 1);
    expect(q.used('a', next)).toBe(0);
    q.add('a', 1, next);
    expect(q.usage('a', next)).toEqual({ quota: 'monthly', period: 'month', limit: 5, used: 1, periodStart: next, periodEnd: Date.UTC(2027, 0, 1) });
    expect(q.clients(next)).toEqual(['a']);
  });

  it('keep at most maxKeys clients, forgetting the least recently charged', () => {
    const q = new QuotaCounter({ name: 'd', period: 'day', limit: 10, maxKeys: 100 });
    const t = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 10_000; i++) q.add(`c${i}`, 1, t);
    expect(q.size).toBe(100);
    expect(q.used('c9999', t)).toBe(1);
    expect(q.used('c0', t)).toBe(0);
  });

  it('refuse bad specs', () => {
    expect(() => new QuotaCounter({ name: '', period: 'day', limit: 1 })).toThrow(/non-empty name/);
    expect(() => new QuotaCounter({ name: 'q', period: 'week' as 'day', limit: 1 })).toThrow(/period/);
    expect(() => new QuotaCounter({ name: 'q', period: 'day', limit: 0 })).toThrow(/limit/);
    expect(() => new QuotaCounter({ name: 'q', period: 'day', limit: 1.5 })).toThrow(/limit/);
  });
});

describe('rate-limit flags', () => {
  it('--rate-limit-per-client N/SECONDS is a per-client token bucket on tools/call', () => {
    expect(perClientRule('10/1')).toEqual({ name: 'per-client', scope: 'client', algorithm: 'token-bucket', limit: 10, windowMs: 1000, methods: ['tools/call'] });
    expect(perClientRule(' 5/0.5 ')).toMatchObject({ limit: 5, windowMs: 500 });
    for (const bad of ['10', '0/1', '10/0', '-1/1', 'a/b', '10/1/2', '1e3/1']) expect(() => perClientRule(bad), bad).toThrow(/N\/SECONDS/);
  });

  it('--limits FILE reads rules, quotas and costs, and names what is wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fastermcp-limits-'));
    const file = (name: string, value: unknown): string => {
      const p = join(dir, name);
      writeFileSync(p, typeof value === 'string' ? value : JSON.stringify(value));
      return p;
    };
    const good = file('good.json', {
      rules: [{ name: 'g', scope: 'global', algorithm: 'fixed-window', limit: 100, windowMs: 1000, methods: ['*'] }],
      quotas: [{ name: 'daily', period: 'day', limit: 1000 }],
      costs: { 'tools/list': 1 },
    });
    const opts = limitsFromFlags({ limitsFile: good, rateLimitPerClient: '3/1' })!;
    expect(opts.rules!.map((r) => r.name)).toEqual(['g', 'per-client']);
    expect(opts.quotas).toEqual([{ name: 'daily', period: 'day', limit: 1000 }]);
    expect(opts.costs).toEqual({ 'tools/list': 1 });
    expect(limitsFromFlags({})).toBeUndefined();

    const cases: [unknown, RegExp][] = [
      ['{not json', /--limits .*bad0\.json: /],
      [[], /expected a JSON object/],
      [{ rule: [] }, /unknown field "rule"/],
      [{ rules: {} }, /rules must be an array/],
      [{ rules: [{ name: 'x', scope: 'client', algorithm: 'leaky', limit: 1, windowMs: 1 }] }, /rules\[0\]: algorithm must be one of/],
      [{ rules: [{ name: 'x', scope: 'planet', algorithm: 'fixed-window', limit: 1, windowMs: 1 }] }, /rules\[0\]: scope must be one of/],
      [{ rules: [{ name: 'x', scope: 'client', algorithm: 'fixed-window', limit: 1, windowMs: 1, burst: 2 }] }, /unknown field "burst"/],
      [{ rules: [{ name: 'x', scope: 'client', algorithm: 'fixed-window', limit: 1, windowMs: 1, methods: 'tools/call' }] }, /methods must be an array of strings/],
      [{ quotas: [{ name: 'q', period: 'day', limit: 1, every: 2 }] }, /quotas\[0\]: unknown field "every"/],
      [{ costs: [1] }, /costs must be an object/],
    ];
    cases.forEach(([content, error], i) => {
      expect(() => limitsFromFlags({ limitsFile: file(`bad${i}.json`, content) }), String(i)).toThrow(error);
    });
  });
});
