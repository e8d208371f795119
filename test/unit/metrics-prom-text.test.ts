// test/helpers/prom-text.ts, the parser the metrics tests read /metrics with: it must take what the
// format allows (escapes, histograms, NaN/Inf, timestamps) and refuse what it forbids, or the
// integration test's assertions would rest on a parser that accepts anything.
import { describe, expect, it } from 'vitest';
import { parsePromText, sampleValue, samples } from '../helpers/prom-text.js';

const HISTOGRAM = `# HELP lat_seconds Latency.
# TYPE lat_seconds histogram
lat_seconds_bucket{m="a",le="0.1"} 1
lat_seconds_bucket{m="a",le="1"} 3
lat_seconds_bucket{m="a",le="+Inf"} 4
lat_seconds_sum{m="a"} 2.5
lat_seconds_count{m="a"} 4
`;

describe('parsePromText', () => {
  it('reads HELP, TYPE, labels with escapes, special values and timestamps', () => {
    const text = [
      '# HELP reqs_total Requests with a \\\\ and a \\n in help.',
      '# TYPE reqs_total counter',
      'reqs_total{path="/a\\"b\\\\c\\nd",code="200"} 12 1700000000000',
      'reqs_total{path="/x",code="500",} 3',
      '# a comment',
      '# TYPE temp gauge',
      'temp NaN',
      'temp_other +Inf',
      'neg -Inf',
      'nan_as_prom_client_writes_it Nan',
      'sci 1.5e-3',
      '',
    ].join('\n');
    const f = parsePromText(text);
    const reqs = f.get('reqs_total')!;
    expect(reqs.type).toBe('counter');
    expect(reqs.help).toBe('Requests with a \\ and a \n in help.');
    expect(reqs.samples[0]).toEqual({ name: 'reqs_total', labels: { path: '/a"b\\c\nd', code: '200' }, value: 12, timestamp: 1700000000000 });
    expect(sampleValue(f, 'reqs_total', { code: '500', path: '/x' })).toBe(3);
    expect(sampleValue(f, 'temp')).toBeNaN();
    expect(sampleValue(f, 'temp_other')).toBe(Infinity);
    expect(f.get('temp_other')!.type).toBe('untyped');
    expect(sampleValue(f, 'neg')).toBe(-Infinity);
    expect(sampleValue(f, 'nan_as_prom_client_writes_it')).toBeNaN();
    expect(sampleValue(f, 'sci')).toBe(0.0015);
    expect(sampleValue(f, 'reqs_total', { code: '500' })).toBeUndefined(); // labels must match exactly
  });

  it('groups a histogram\'s _bucket, _sum and _count under its family', () => {
    const f = parsePromText(HISTOGRAM);
    expect([...f.keys()]).toEqual(['lat_seconds']);
    expect(samples(f, 'lat_seconds_bucket').map((s) => s.labels['le'])).toEqual(['0.1', '1', '+Inf']);
    expect(sampleValue(f, 'lat_seconds_count', { m: 'a' })).toBe(4);
  });

  it.each([
    ['a bad metric name', 'bad-name 1\n', /bad metric name/],
    ['a bad label name', 'x{1a="v"} 1\n', /bad label name/],
    ['an unquoted label value', 'x{a=v} 1\n', /must be quoted/],
    ['a bad escape', 'x{a="\\t"} 1\n', /bad escape/],
    ['an unterminated value', 'x{a="v} 1\n', /unterminated|expected/],
    ['a label twice', 'x{a="1",a="2"} 1\n', /given twice/],
    ['a missing value', 'x{a="1"}\n', /expected a value/],
    ['a non-number', 'x 1,5\n', /expected a number/],
    ['a signed NaN', 'x -NaN\n', /expected a number/],
    ['trailing garbage', 'x 1 2 3\n', /expected a value/],
    ['no final newline', 'x 1', /end with a newline/],
    ['TYPE after samples', 'x 1\n# TYPE x counter\n', /after its samples/],
    ['TYPE twice', '# TYPE x counter\n# TYPE x counter\n', /given twice/],
    ['an unknown type', '# TYPE x thing\n', /unknown type/],
    ['the same series twice', 'x{a="1"} 1\nx{a="1"} 2\n', /given twice/],
    ['a family split in two', 'x 1\ny 1\nx{a="1"} 1\n', /not together/],
    ['a bucket without le', '# TYPE h histogram\nh_bucket 1\nh_sum 1\nh_count 1\n', /needs an le/],
  ])('refuses %s', (_, text, message) => {
    expect(() => parsePromText(text)).toThrow(message);
  });

  it('refuses histograms that are not cumulative, lack +Inf, or whose +Inf is not _count', () => {
    expect(() => parsePromText(HISTOGRAM.replace('le="1"} 3', 'le="1"} 0'))).toThrow(/not cumulative/);
    expect(() => parsePromText(HISTOGRAM.replace('lat_seconds_bucket{m="a",le="+Inf"} 4\n', ''))).toThrow(/\+Inf/);
    expect(() => parsePromText(HISTOGRAM.replace('lat_seconds_count{m="a"} 4', 'lat_seconds_count{m="a"} 5'))).toThrow(/is not _count/);
    expect(() => parsePromText(HISTOGRAM.replace('lat_seconds_sum{m="a"} 2.5\n', ''))).toThrow(/_sum and _count/);
  });
});
