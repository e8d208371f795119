// RFC 6570 URI templates (levels 1 to 4) for MCP resource templates. A template is parsed once into
// parts (literals and expressions); expand() turns variables into a URI, match() turns a URI back into
// variables.
//
// expand() follows RFC 6570 section 3 and its Appendix A exactly, with two limits: a value is a
// string, a list of strings, or undefined/null (no associative arrays), and a prefix modifier on a
// list is a TypeError (section 2.4.1 says it does not apply). Literals outside the URI character set
// are percent-encoded (section 3.1).
//
// match() is not defined by the RFC. It is one left-to-right scan over the URI with no backtracking
// and no RegExp, so it runs in time linear in uri.length (the template was compiled in the
// constructor). The rules it uses where the RFC leaves the inverse open:
//   1. Literals compare code unit for code unit with their expanded form: no case folding, no
//      percent-decoding, no reordering.
//   2. The literal after the last expression (the tail) is checked first, against the end of the URI.
//      The last expression then owns exactly the text between its start and the tail, and must
//      consume all of it. So `{+path}/edit` and `{/path*}/edit` can span separators.
//   3. Every other expression reads greedily and stops at the first character of what follows it (the
//      next literal's first character, or the next expression's operator: `?` for `{?q}`) or at a
//      character of its operator's stop set: simple `{x}` and `{.x}` and `{;x}` stop at / ? #;
//      `{/x}` at ? # and, after its last variable, /; `{?x}` and `{&x}` at #; `{+x}` and `{#x}` at
//      nothing else. While the expression can still take another item, its separator continues it
//      even when that separator is also what follows it: `{/path*}/edit{?q}` therefore never matches
//      (put such an expression last, or let a different character follow it).
//   4. Unnamed operators (simple, + # . /) split their text at their separator into at most one
//      item per variable, in order; the last variable keeps any further separators in its value
//      (except `/`, which always ends a path segment). An exploded variable takes as many items as
//      leave one for each variable after it and yields a list. Missing items leave variables
//      absent. `{#x}`, `{.x}` and `{/x}` without their leading character leave all their variables
//      absent; an empty string where an item may stand is one empty item (`{id}` matches "" as "").
//   5. Named operators (; ? &) read `name=value` pairs in any order; a pair without `=` has the value
//      "". Names compare raw. Unknown names are ignored, empty pairs skipped. A non-exploded variable
//      named twice is no match; an exploded one collects every pair into a list. `{&x}` right after
//      `{?a}` or `{&b}` joins that query, so `{?a}{&b}` reads `?b=2&a=1` too.
//   6. Non-exploded variables always match as strings: a list expanded without `*` comes back as its
//      comma-joined text. Exploded variables always match as lists.
//   7. Values are percent-decoded as UTF-8 (`+` stays `+`); invalid percent-encoding is no match. A
//      prefixed variable `{x:N}` matches at most N code points. A variable used more than once must
//      capture the same value each time, except that a prefixed use may capture a prefix of it.
//   8. A URI over 65536 UTF-16 code units, or that is not a string, is no match (null).
// The result is a null-prototype object, so a variable named `__proto__` is an ordinary key.

const MAX_URI_LENGTH = 65_536;
const DEFAULT_MAX_TEMPLATE_LENGTH = 1000;

/** Character visits made by match(), for tests and benchmarks that check the scan stays linear. */
export interface MatchStats {
  steps: number;
}

export interface UriTemplateOptions {
  /** Longest template accepted, in UTF-16 code units (default 1000). */
  maxLength?: number;
}

export type UriTemplateValue = string | readonly string[] | null | undefined;
export type UriTemplateVariables = Readonly<Record<string, UriTemplateValue>>;

/** One row of the operator table of RFC 6570 Appendix A, plus what ends the operator in match(). */
interface Operator {
  readonly first: string;
  readonly sep: string;
  readonly named: boolean;
  readonly ifemp: string;
  readonly allowReserved: boolean;
  readonly stops: string; ///< characters that end the expression in match() (rule 3)
}

const SIMPLE: Operator = { first: '', sep: ',', named: false, ifemp: '', allowReserved: false, stops: '/?#' };
const OPERATORS: ReadonlyMap<string, Operator> = new Map([
  ['+', { first: '', sep: ',', named: false, ifemp: '', allowReserved: true, stops: '' }],
  ['#', { first: '#', sep: ',', named: false, ifemp: '', allowReserved: true, stops: '' }],
  ['.', { first: '.', sep: '.', named: false, ifemp: '', allowReserved: false, stops: '/?#' }],
  ['/', { first: '/', sep: '/', named: false, ifemp: '', allowReserved: false, stops: '/?#' }],
  [';', { first: ';', sep: ';', named: true, ifemp: '', allowReserved: false, stops: '/?#' }],
  ['?', { first: '?', sep: '&', named: true, ifemp: '=', allowReserved: false, stops: '#' }],
  ['&', { first: '&', sep: '&', named: true, ifemp: '=', allowReserved: false, stops: '#' }],
]);
const QUERY = OPERATORS.get('?')!;
const CONTINUATION = OPERATORS.get('&')!;
// Section 2.2 keeps these for future extensions; a template using one is not valid today.
const RESERVED_OPERATORS = '=,!@|';

interface VarSpec {
  readonly name: string;
  readonly prefix: number; ///< max-length of `:N`, 0 when absent
  readonly explode: boolean;
}

interface Expression {
  readonly op: Operator;
  readonly vars: readonly VarSpec[];
}

/** A literal in its expanded (percent-encoded) form, or an expression. */
type Part = string | Expression;

/** An expression as match() reads it (rule 3): what ends it and how many items it may take. */
interface MatchExpression {
  readonly op: Operator;
  readonly vars: readonly VarSpec[];
  readonly byName: ReadonlyMap<string, VarSpec>; ///< named operators only
  readonly firstCode: number; ///< -1 when the operator has no leading character
  readonly sepCode: number;
  readonly limit: number; ///< items it may take: one per variable, unbounded when named or exploded
  readonly stop: Uint8Array; ///< 128 entries, 1 where an ASCII character ends the expression
}

interface MatchPlan {
  readonly steps: readonly (string | MatchExpression)[];
  readonly tail: string; ///< the literal after the last expression (rule 2)
}

// Character classes (RFC 3986 section 2): 1 = copied as is when expanding.
const UNRESERVED_TABLE = charTable('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~');
const RESERVED_TABLE = charTable(
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=",
);
const HEX_DIGITS = '0123456789ABCDEF';

function charTable(chars: string): Uint8Array {
  const table = new Uint8Array(128);
  for (let i = 0; i < chars.length; i++) table[chars.charCodeAt(i)] = 1;
  return table;
}

export class UriTemplate {
  readonly template: string;
  readonly variableNames: readonly string[];
  readonly #parts: readonly Part[];
  readonly #plan: MatchPlan;

  constructor(template: string, options: UriTemplateOptions = {}) {
    if (typeof template !== 'string') {
      throw new TypeError(`Expected the URI template to be a string but received ${describeType(template)}.`);
    }
    const maxLength = options.maxLength ?? DEFAULT_MAX_TEMPLATE_LENGTH;
    if (!Number.isSafeInteger(maxLength) || maxLength < 1) {
      throw new RangeError(`Expected options.maxLength to be a positive integer but received ${String(maxLength)}.`);
    }
    if (template.length > maxLength) {
      throw new RangeError(
        `The URI template is ${template.length} characters long, over the limit of ${maxLength} (options.maxLength).`,
      );
    }
    this.template = template;
    this.#parts = parseTemplate(template);
    const names = new Set<string>();
    for (const part of this.#parts) {
      if (typeof part !== 'string') for (const spec of part.vars) names.add(spec.name);
    }
    this.variableNames = Object.freeze([...names]);
    this.#plan = compileMatchPlan(this.#parts);
  }

  /** True when `s` is a valid template (under the default length limit) with at least one expression. */
  static isTemplate(s: string): boolean {
    if (typeof s !== 'string' || s.length > DEFAULT_MAX_TEMPLATE_LENGTH || !s.includes('{')) return false;
    try {
      return new UriTemplate(s).variableNames.length > 0;
    } catch {
      return false;
    }
  }

  /** The URI reference for these variables (RFC 6570 section 3). Undefined and null are skipped. */
  expand(variables: UriTemplateVariables): string {
    if (typeof variables !== 'object' || variables === null) {
      throw new TypeError(`Expected the variables to be an object but received ${describeType(variables)}.`);
    }
    let out = '';
    for (const part of this.#parts) {
      out += typeof part === 'string' ? part : expandExpression(part, variables);
    }
    return out;
  }

  /** The variables that expand to `uri` under the rules in the file header, or null. */
  match(uri: string, stats?: MatchStats): Record<string, string | string[]> | null {
    if (typeof uri !== 'string' || uri.length > MAX_URI_LENGTH) return null;
    const plan = this.#plan;
    const cursor: Cursor = { uri, pos: 0, end: uri.length - plan.tail.length, steps: 0 };
    let result: Record<string, string | string[]> | null = null;
    if (cursor.end >= 0 && uri.endsWith(plan.tail)) {
      cursor.steps += plan.tail.length;
      result = runPlan(plan, cursor);
    }
    if (stats !== undefined) stats.steps += cursor.steps;
    return result;
  }
}

// ---------------------------------------------------------------------------------------------------
// Parsing (RFC 6570 section 2)

function parseTemplate(template: string): Part[] {
  const parts: Part[] = [];
  let literalStart = 0;
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c === '}') throw syntaxError(template, i, `"}" has no matching "{"`);
    if (c !== '{') continue;
    let close = i + 1;
    while (close < template.length && template[close] !== '}') {
      if (template[close] === '{') {
        throw syntaxError(template, close, `nested "{" inside the expression opened at position ${i}`);
      }
      close++;
    }
    if (close === template.length) throw syntaxError(template, i, `unclosed "{" (no "}" follows)`);
    if (literalStart < i) parts.push(encodeLiteral(template, literalStart, i));
    parts.push(parseExpression(template, i, close));
    i = close;
    literalStart = close + 1;
  }
  if (literalStart < template.length) parts.push(encodeLiteral(template, literalStart, template.length));
  return parts;
}

function encodeLiteral(template: string, start: number, end: number): string {
  const encoded = encode(template.slice(start, end), true);
  if (typeof encoded === 'number') {
    throw syntaxError(template, start + encoded, 'a lone UTF-16 surrogate, which has no UTF-8 encoding');
  }
  return encoded;
}

/** Parses `{...}` whose braces are at `open` and `close`. */
function parseExpression(template: string, open: number, close: number): Expression {
  let i = open + 1;
  if (i === close) throw syntaxError(template, open, 'empty expression "{}"');
  const c = template[i];
  let op = SIMPLE;
  const named = OPERATORS.get(c);
  if (named !== undefined) {
    op = named;
    i++;
  } else if (RESERVED_OPERATORS.includes(c)) {
    throw syntaxError(template, i, `operator "${c}" is reserved by RFC 6570 section 2.2 and not supported`);
  } else if (!isVarchar(template, i)) {
    throw syntaxError(template, i, `"${c}" is neither an operator (+ # . / ; ? &) nor the start of a variable name`);
  }
  if (i === close) throw syntaxError(template, open, `expression "{${c}}" has an operator but no variable`);
  const vars: VarSpec[] = [];
  for (;;) {
    const spec = parseVarSpec(template, i, close);
    vars.push(spec.spec);
    i = spec.next;
    if (i === close) return { op, vars };
    i++; // the ',' parseVarSpec stopped at
  }
}

/** Parses one varspec starting at `start`; stops at ',' or at `close`. */
function parseVarSpec(template: string, start: number, close: number): { spec: VarSpec; next: number } {
  let i = start;
  // varname = varchar *( ["."] varchar ), varchar = ALPHA / DIGIT / "_" / pct-encoded
  for (;;) {
    if (!isVarchar(template, i)) {
      const found = i === close ? 'the end of the expression' : `"${template[i]}"`;
      const expected =
        i === start
          ? 'expected a variable name (letters, digits, "_" and %XX)'
          : 'expected a letter, digit, "_" or %XX after "."';
      throw syntaxError(template, i, `${expected}, found ${found}`);
    }
    i += template[i] === '%' ? 3 : 1;
    while (i < close && isVarchar(template, i)) i += template[i] === '%' ? 3 : 1;
    if (template[i] !== '.') break;
    i++;
  }
  const name = template.slice(start, i);
  let prefix = 0;
  let explode = false;
  if (template[i] === '*') {
    explode = true;
    i++;
  } else if (template[i] === ':') {
    const digitsStart = ++i;
    while (i < close && i - digitsStart < 5 && isDigit(template.charCodeAt(i))) i++;
    const digits = template.slice(digitsStart, i);
    if (digits === '' || digits[0] === '0' || digits.length > 4) {
      throw syntaxError(template, digitsStart, `the prefix of "${name}" must be an integer from 1 to 9999`);
    }
    prefix = Number(digits);
  }
  if (i !== close && template[i] !== ',') {
    throw syntaxError(template, i, `unexpected "${template[i]}" after the variable "${name}"`);
  }
  return { spec: { name, prefix, explode }, next: i };
}

function isVarchar(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  if (c === 0x25) return isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2));
  return isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function syntaxError(template: string, position: number, problem: string): TypeError {
  const shown = template.length > 80 ? `${template.slice(0, 77)}...` : template;
  return new TypeError(`Invalid URI template at position ${position}: ${problem} (in ${JSON.stringify(shown)}).`);
}

// ---------------------------------------------------------------------------------------------------
// Expansion (RFC 6570 section 3.2 and Appendix A)

function expandExpression(expr: Expression, variables: UriTemplateVariables): string {
  const op = expr.op;
  let out = '';
  let first = true;
  for (const spec of expr.vars) {
    const value = lookup(variables, spec.name);
    // Undefined, and the empty list, contribute nothing, not even a separator (section 2.3).
    if (value === undefined || (typeof value !== 'string' && value.length === 0)) continue;
    out += first ? op.first : op.sep;
    first = false;
    if (typeof value === 'string') {
      const text = spec.prefix > 0 ? codePointPrefix(value, spec.prefix) : value;
      if (op.named) out += spec.name + (text === '' ? op.ifemp : '=');
      out += encodeValue(text, op.allowReserved, spec.name);
      continue;
    }
    if (spec.prefix > 0) {
      throw new TypeError(
        `Variable "${spec.name}" has the prefix modifier :${spec.prefix}, which applies to strings only, ` +
          'but its value is a list.',
      );
    }
    const itemSep = spec.explode ? op.sep : ',';
    if (op.named && !spec.explode) out += spec.name + '=';
    for (let k = 0; k < value.length; k++) {
      if (k > 0) out += itemSep;
      if (op.named && spec.explode) out += spec.name + (value[k] === '' ? op.ifemp : '=');
      out += encodeValue(value[k], op.allowReserved, spec.name);
    }
  }
  return out;
}

/** The variable's value, checked; own properties only, so `{constructor}` is not Object's. */
function lookup(variables: UriTemplateVariables, name: string): string | readonly string[] | undefined {
  if (!Object.hasOwn(variables, name)) return undefined;
  const value: unknown = variables[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    for (let k = 0; k < value.length; k++) {
      if (typeof value[k] !== 'string') {
        throw new TypeError(
          `Expected variable "${name}" to be a string, a list of strings or undefined, ` +
            `but item ${k} is ${describeType(value[k])}.`,
        );
      }
    }
    return value as readonly string[];
  }
  throw new TypeError(
    `Expected variable "${name}" to be a string, a list of strings or undefined, but received ${describeType(value)}.`,
  );
}

function encodeValue(value: string, allowReserved: boolean, name: string): string {
  const encoded = encode(value, allowReserved);
  if (typeof encoded === 'number') {
    throw new TypeError(
      `Variable "${name}" holds a lone UTF-16 surrogate at index ${encoded}, which has no UTF-8 encoding.`,
    );
  }
  return encoded;
}

/**
 * Percent-encodes every character outside unreserved (U), or outside unreserved and reserved (U+R);
 * U+R also keeps existing %XX triplets. Returns the index of a lone surrogate instead of throwing.
 */
function encode(value: string, allowReserved: boolean): string | number {
  const table = allowReserved ? RESERVED_TABLE : UNRESERVED_TABLE;
  let out = '';
  let copied = 0; // value[copied, i) is still to be copied as is
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80 && table[c] === 1) continue;
    if (allowReserved && c === 0x25 && isHex(value.charCodeAt(i + 1)) && isHex(value.charCodeAt(i + 2))) {
      i += 2;
      continue;
    }
    out += value.slice(copied, i);
    let codePoint = c;
    if (c >= 0xd800 && c <= 0xdfff) {
      const low = value.charCodeAt(i + 1);
      if (c >= 0xdc00 || !(low >= 0xdc00 && low <= 0xdfff)) return i;
      codePoint = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
      i++;
    }
    out += percentEncodeUtf8(codePoint);
    copied = i + 1;
  }
  return copied === 0 ? value : out + value.slice(copied);
}

function percentEncodeUtf8(codePoint: number): string {
  if (codePoint < 0x80) return pct(codePoint);
  if (codePoint < 0x800) return pct(0xc0 | (codePoint >> 6)) + pct(0x80 | (codePoint & 0x3f));
  if (codePoint < 0x10000) {
    return pct(0xe0 | (codePoint >> 12)) + pct(0x80 | ((codePoint >> 6) & 0x3f)) + pct(0x80 | (codePoint & 0x3f));
  }
  return (
    pct(0xf0 | (codePoint >> 18)) +
    pct(0x80 | ((codePoint >> 12) & 0x3f)) +
    pct(0x80 | ((codePoint >> 6) & 0x3f)) +
    pct(0x80 | (codePoint & 0x3f))
  );
}

function pct(byte: number): string {
  return '%' + HEX_DIGITS[byte >> 4] + HEX_DIGITS[byte & 15];
}

/** The first `n` code points of `value` (section 2.4.1 counts characters, not code units). */
function codePointPrefix(value: string, n: number): string {
  return value.slice(0, codePointPrefixEnd(value, n));
}

/** The code-unit index where the first `n` code points of `value` end. */
function codePointPrefixEnd(value: string, n: number): number {
  let i = 0;
  for (let count = 0; count < n && i < value.length; count++) {
    const c = value.charCodeAt(i);
    const low = value.charCodeAt(i + 1);
    i += c >= 0xd800 && c <= 0xdbff && low >= 0xdc00 && low <= 0xdfff ? 2 : 1;
  }
  return i;
}

// ---------------------------------------------------------------------------------------------------
// Matching (rules 1 to 8 in the file header)

function compileMatchPlan(parts: readonly Part[]): MatchPlan {
  // Rule 5: `{&x}` directly after a query expression joins it.
  const merged: Part[] = [];
  for (const part of parts) {
    const previous = merged[merged.length - 1];
    if (
      typeof part !== 'string' &&
      part.op === CONTINUATION &&
      typeof previous === 'object' &&
      (previous.op === QUERY || previous.op === CONTINUATION)
    ) {
      merged[merged.length - 1] = { op: previous.op, vars: [...previous.vars, ...part.vars] };
    } else {
      merged.push(part);
    }
  }
  let lastExpression = -1;
  for (let k = 0; k < merged.length; k++) if (typeof merged[k] !== 'string') lastExpression = k;
  // Rule 2: the tail is matched against the end of the URI up front. Without expressions there is no
  // tail, and the whole template is one literal step.
  const tail = lastExpression >= 0 && lastExpression < merged.length - 1 ? (merged[merged.length - 1] as string) : '';
  const stepParts = tail === '' ? merged : merged.slice(0, -1);
  const steps = stepParts.map((part, k) => {
    if (typeof part === 'string') return part;
    const next = k === lastExpression ? undefined : stepParts[k + 1];
    return compileMatchExpression(part, next);
  });
  return { steps, tail };
}

function compileMatchExpression(expr: Expression, next: Part | undefined): MatchExpression {
  const { op, vars } = expr;
  const stop = charTable(op.stops);
  // Rule 3: what follows ends the expression (always ASCII: literals are stored percent-encoded).
  const follower = typeof next === 'string' ? next : next?.op.first;
  if (follower !== undefined && follower !== '') stop[follower.charCodeAt(0)] = 1;
  const byName = new Map<string, VarSpec>();
  if (op.named) for (const spec of vars) if (!byName.has(spec.name)) byName.set(spec.name, spec);
  const unbounded = op.named || vars.some((spec) => spec.explode);
  return {
    op,
    vars,
    byName,
    firstCode: op.first === '' ? -1 : op.first.charCodeAt(0),
    sepCode: op.sep.charCodeAt(0),
    limit: unbounded ? Number.POSITIVE_INFINITY : vars.length,
    stop,
  };
}

/** Where the scan is: `pos` only moves forward, and nothing reads at or past `end` (the tail). */
interface Cursor {
  readonly uri: string;
  pos: number;
  readonly end: number;
  steps: number;
}

function runPlan(plan: MatchPlan, cursor: Cursor): Record<string, string | string[]> | null {
  const bindings = new Bindings();
  for (const step of plan.steps) {
    if (typeof step === 'string') {
      if (cursor.end - cursor.pos < step.length || !cursor.uri.startsWith(step, cursor.pos)) return null;
      cursor.steps += step.length;
      cursor.pos += step.length;
    } else {
      const ok = step.op.named ? matchNamed(step, cursor, bindings) : matchUnnamed(step, cursor, bindings);
      if (!ok) return null;
    }
  }
  return cursor.pos === cursor.end ? bindings.values : null;
}

/** Simple, + # . and / expressions (rule 4). */
function matchUnnamed(expr: MatchExpression, cursor: Cursor, bindings: Bindings): boolean {
  const { uri, end } = cursor;
  let pos = cursor.pos;
  if (expr.firstCode >= 0) {
    if (pos >= end || uri.charCodeAt(pos) !== expr.firstCode) return true; // expanded to nothing
    pos++;
  }
  // starts[k] is where item k begins; item k ends one before starts[k + 1], the last at `pos`.
  const starts = [pos];
  while (pos < end) {
    const c = uri.charCodeAt(pos);
    if (c === expr.sepCode && starts.length < expr.limit) starts.push(pos + 1);
    else if (c < 0x80 && expr.stop[c] === 1) break;
    pos++;
  }
  cursor.steps += pos - cursor.pos;
  cursor.pos = pos;
  const items = starts.length;
  const itemEnd = (k: number): number => (k + 1 < items ? starts[k + 1] - 1 : pos);
  const vars = expr.vars;
  let k = 0;
  for (let v = 0; v < vars.length && k < items; v++) {
    const spec = vars[v];
    if (!spec.explode) {
      const value = decode(uri, starts[k], itemEnd(k), cursor);
      if (value === null || !bindings.bind(spec, value, cursor)) return false;
      k++;
      continue;
    }
    const take = Math.max(1, items - k - (vars.length - v - 1));
    const list: string[] = [];
    for (const last = k + take; k < last; k++) {
      const value = decode(uri, starts[k], itemEnd(k), cursor);
      if (value === null) return false;
      list.push(value);
    }
    if (!bindings.bind(spec, list, cursor)) return false;
  }
  return true;
}

/** ; ? and & expressions (rule 5). */
function matchNamed(expr: MatchExpression, cursor: Cursor, bindings: Bindings): boolean {
  const { uri, end } = cursor;
  let pos = cursor.pos;
  if (pos >= end || uri.charCodeAt(pos) !== expr.firstCode) return true; // expanded to nothing
  pos++;
  const strings = new Map<VarSpec, string>();
  const lists = new Map<VarSpec, string[]>();
  // Reads the pair in [from, to) whose first '=' is at `equals` (-1 when it has none).
  const readPair = (from: number, equals: number, to: number): boolean => {
    if (from === to) return true;
    const name = uri.slice(from, equals < 0 ? to : equals);
    cursor.steps += name.length;
    const spec = expr.byName.get(name);
    if (spec === undefined) return true;
    const value = equals < 0 ? '' : decode(uri, equals + 1, to, cursor);
    if (value === null) return false;
    if (!spec.explode) {
      if (strings.has(spec)) return false;
      strings.set(spec, value);
      return true;
    }
    const list = lists.get(spec);
    if (list === undefined) lists.set(spec, [value]);
    else list.push(value);
    return true;
  };
  let from = pos;
  let equals = -1;
  while (pos < end) {
    const c = uri.charCodeAt(pos);
    if (c === expr.sepCode) {
      if (!readPair(from, equals, pos)) return false;
      from = pos + 1;
      equals = -1;
    } else if (c < 0x80 && expr.stop[c] === 1) {
      break;
    } else if (c === 0x3d && equals < 0) {
      equals = pos;
    }
    pos++;
  }
  cursor.steps += pos - cursor.pos;
  cursor.pos = pos;
  if (!readPair(from, equals, pos)) return false;
  for (const spec of expr.vars) {
    const value = spec.explode ? lists.get(spec) : strings.get(spec);
    if (value !== undefined && !bindings.bind(spec, value, cursor)) return false;
  }
  return true;
}

/** uri[from, to) percent-decoded as UTF-8, or null when its percent-encoding is invalid. */
function decode(uri: string, from: number, to: number, cursor: Cursor): string | null {
  const raw = uri.slice(from, to);
  cursor.steps += raw.length;
  if (!raw.includes('%')) return raw;
  cursor.steps += raw.length;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/** The variables matched so far, and the rule-7 checks for a variable used more than once. */
class Bindings {
  readonly values: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  /** The prefix length each string value was captured under, for values captured by `{x:N}`. */
  readonly #prefixes = new Map<string, number>();

  bind(spec: VarSpec, value: string | string[], cursor: Cursor): boolean {
    if (typeof value === 'string' && spec.prefix > 0) {
      cursor.steps += Math.min(value.length, spec.prefix * 2);
      if (codePointPrefixEnd(value, spec.prefix) < value.length) return false;
    }
    const name = spec.name;
    if (!(name in this.values)) {
      this.values[name] = value;
      if (spec.prefix > 0) this.#prefixes.set(name, spec.prefix);
      return true;
    }
    const existing = this.values[name];
    if (typeof existing !== 'string' || typeof value !== 'string') {
      if (typeof existing === 'string' || typeof value === 'string' || existing.length !== value.length) return false;
      cursor.steps += existing.length;
      return existing.every((item, k) => item === value[k]);
    }
    cursor.steps += Math.min(existing.length, value.length);
    if (existing === value) {
      if (spec.prefix === 0) this.#prefixes.delete(name);
      return true;
    }
    // One of the two may be a prefix capture of the other (`{/var:1,var}` matching "/v/value").
    const earlierPrefix = this.#prefixes.get(name) ?? 0;
    if (earlierPrefix > 0 && codePointPrefix(value, earlierPrefix) === existing) {
      this.values[name] = value;
      if (spec.prefix > 0) this.#prefixes.set(name, spec.prefix);
      else this.#prefixes.delete(name);
      return true;
    }
    return spec.prefix > 0 && codePointPrefix(existing, spec.prefix) === value;
  }
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
