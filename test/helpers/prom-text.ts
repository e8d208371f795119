// A small strict parser of the Prometheus text exposition format (version 0.0.4), for tests that scrape
// /metrics: HELP and TYPE lines, samples with labels (escapes \\ \" \n), values (floats, NaN, +Inf,
// -Inf in any case, as Go's ParseFloat takes them; prom-client writes "Nan") and optional timestamps. It refuses what a Prometheus server would refuse or what the format
// forbids: a bad name, a TYPE after its samples or given twice, a family whose samples are not together,
// the same series twice, a histogram whose buckets are not cumulative or whose +Inf bucket is not its
// _count. Errors name the line.

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  /** The sample's own name (a histogram's are <family>_bucket, _sum and _count). */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestamp: number | undefined;
}

export interface Family {
  readonly name: string;
  help: string | undefined;
  type: MetricType;
  readonly samples: Sample[];
}

export type Families = ReadonlyMap<string, Family>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Readonly<Record<MetricType, readonly string[]>> = {
  counter: [''],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

export class PromTextError extends Error {
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
  }
}

function parseValue(text: string, line: number): number {
  // As Go's strconv.ParseFloat reads them (the format's definition): NaN and Inf in any case, Inf signed.
  if (/^nan$/i.test(text)) return NaN;
  const inf = /^([+-]?)inf(inity)?$/i.exec(text);
  if (inf !== null) return inf[1] === '-' ? -Infinity : Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new PromTextError(line, `expected a number, got ${JSON.stringify(text)}`);
  return Number(text);
}

function unescapeHelp(text: string): string {
  return text.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === '\\' ? '\\' : `\\${c}`));
}

/** Labels from position `i` (just after `{`) of `s`; returns them and the position after `}`. */
function parseLabels(s: string, i: number, line: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  for (;;) {
    while (s[i] === ' ') i++;
    if (s[i] === '}') return [labels, i + 1];
    const eq = s.indexOf('=', i);
    if (eq < 0) throw new PromTextError(line, 'a label without =');
    const name = s.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) throw new PromTextError(line, `bad label name ${JSON.stringify(name)}`);
    if (name in labels) throw new PromTextError(line, `label ${name} given twice`);
    i = eq + 1;
    while (s[i] === ' ') i++;
    if (s[i] !== '"') throw new PromTextError(line, `label ${name}: value must be quoted`);
    i++;
    let value = '';
    for (;;) {
      const c = s[i];
      if (c === undefined) throw new PromTextError(line, `label ${name}: unterminated value`);
      if (c === '"') break;
      if (c === '\\') {
        const e = s[i + 1];
        if (e === 'n') value += '\n';
        else if (e === '\\' || e === '"') value += e;
        else throw new PromTextError(line, `label ${name}: bad escape \\${e ?? ''}`);
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    labels[name] = value;
    i++;
    while (s[i] === ' ') i++;
    if (s[i] === ',') i++;
    else if (s[i] !== '}') throw new PromTextError(line, `expected , or } after label ${name}`);
  }
}

/** The family a sample name belongs to, given the families typed so far. */
function familyOf(name: string, families: Map<string, Family>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const f = families.get(base);
    if (f !== undefined && SUFFIXES[f.type].includes(suffix)) return base;
  }
  return name;
}

function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  return name + JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = seriesKey('', rest);
    const g = groups.get(key) ?? { buckets: [] };
    groups.set(key, g);
    if (s.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${f.name}: a _bucket sample without le`);
      g.buckets.push([parseValue(le, 0), s.value]);
    } else if (s.name.endsWith('_count')) g.count = s.value;
    else g.sum = s.value;
  }
  for (const [key, g] of groups) {
    if (g.count === undefined || g.sum === undefined) throw new Error(`${f.name}${key}: a histogram needs _sum and _count`);
    const sorted = [...g.buckets].sort((a, b) => a[0] - b[0]);
    if (sorted.length === 0 || sorted[sorted.length - 1]![0] !== Infinity) throw new Error(`${f.name}${key}: no le="+Inf" bucket`);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]![1] < sorted[i - 1]![1]) throw new Error(`${f.name}${key}: buckets are not cumulative at le=${sorted[i]![0]}`);
    }
    if (sorted[sorted.length - 1]![1] !== g.count) throw new Error(`${f.name}${key}: the +Inf bucket (${sorted[sorted.length - 1]![1]}) is not _count (${g.count})`);
  }
}

/** Parses a whole exposition; throws PromTextError (or Error for a histogram's shape) on anything invalid. */
export function parsePromText(text: string): Families {
  const families = new Map<string, Family>();
  const series = new Set<string>();
  const typed = new Set<string>();
  /** Families whose samples have ended (another family's sample came after them). */
  const closed = new Set<string>();
  let current: string | undefined;
  const lines = text.split('\n');
  if (text.length > 0 && !text.endsWith('\n')) throw new PromTextError(lines.length, 'the exposition must end with a newline');
  const family = (name: string, line: number): Family => {
    if (!METRIC_NAME.test(name)) throw new PromTextError(line, `bad metric name ${JSON.stringify(name)}`);
    let f = families.get(name);
    if (f === undefined) {
      f = { name, help: undefined, type: 'untyped', samples: [] };
      families.set(name, f);
    }
    return f;
  };
  const enter = (name: string, line: number): void => {
    if (current === name) return;
    if (closed.has(name)) throw new PromTextError(line, `the samples of ${name} are not together`);
    if (current !== undefined) closed.add(current);
    current = name;
  };
  lines.forEach((raw, index) => {
    const line = index + 1;
    const s = raw.trim();
    if (s === '') return;
    if (s.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(s);
      if (m === null) return; // a comment
      const [, keyword, name, rest = ''] = m as unknown as [string, string, string, string | undefined];
      const f = family(name, line);
      if (keyword === 'HELP') {
        if (f.help !== undefined) throw new PromTextError(line, `HELP for ${name} given twice`);
        f.help = unescapeHelp(rest);
      } else {
        const type = rest.trim() as MetricType;
        if (!TYPES.has(type)) throw new PromTextError(line, `unknown type ${JSON.stringify(rest)} for ${name}`);
        if (typed.has(name)) throw new PromTextError(line, `TYPE for ${name} given twice`);
        if (f.samples.length > 0) throw new PromTextError(line, `TYPE for ${name} after its samples`);
        typed.add(name);
        f.type = type;
      }
      enter(name, line);
      return;
    }
    const brace = s.indexOf('{');
    const space = s.search(/\s/);
    const nameEnd = brace >= 0 && (space < 0 || brace < space) ? brace : space;
    if (nameEnd <= 0) throw new PromTextError(line, `a sample without a value: ${JSON.stringify(s)}`);
    const name = s.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new PromTextError(line, `bad metric name ${JSON.stringify(name)}`);
    let labels: Record<string, string> = {};
    let i = nameEnd;
    if (s[i] === '{') [labels, i] = parseLabels(s, i + 1, line);
    const fields = s.slice(i).trim().split(/\s+/);
    if (fields.length < 1 || fields.length > 2 || fields[0] === '') throw new PromTextError(line, `expected a value and an optional timestamp, got ${JSON.stringify(s.slice(i))}`);
    const value = parseValue(fields[0]!, line);
    const timestamp = fields[1] === undefined ? undefined : parseValue(fields[1], line);
    const f = family(familyOf(name, families), line);
    if (!SUFFIXES[f.type].some((suffix) => name === f.name + suffix)) throw new PromTextError(line, `${name} is not a sample name of ${f.type} ${f.name}`);
    if (f.type === 'histogram' && name.endsWith('_bucket') && labels['le'] === undefined) throw new PromTextError(line, `${name} needs an le label`);
    const key = seriesKey(name, labels);
    if (series.has(key)) throw new PromTextError(line, `series ${name}${JSON.stringify(labels)} given twice`);
    series.add(key);
    enter(f.name, line);
    f.samples.push({ name, labels, value, timestamp });
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

/** The value of the sample `name` whose labels are exactly `labels`, or undefined. */
export function sampleValue(families: Families, name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  const key = seriesKey(name, labels);
  for (const f of families.values()) for (const s of f.samples) if (s.name === name && seriesKey(s.name, s.labels) === key) return s.value;
  return undefined;
}

/** Every sample named `name` (any labels). */
export function samples(families: Families, name: string): Sample[] {
  const out: Sample[] = [];
  for (const f of families.values()) for (const s of f.samples) if (s.name === name) out.push(s);
  return out;
}
