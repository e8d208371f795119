// Tool schemas: how a tool's inputSchema / outputSchema, as the user gives it, becomes (a) the JSON
// Schema that tools/list shows and (b) a validator compiled once, at registration, and run on every
// call. Every kind of input gives the same CompiledSchema:
//
//   plain JSON Schema  json: a frozen JSON copy, verbatim      check: Ajv (2020-12, or 2019-09 by $schema)
//   zod 4 (>= 4.2)     json: the schema's ~standard.jsonSchema  check: schema.safeParse
//   zod 4 (older, mini, zod 3.25's "zod/v4")
//                      json: fromZod4() below                   check: schema.safeParse
//   zod 3              json: fromZod3() below                   check: schema.safeParse
//   raw shape          json: an object of its members           check: each member's safeParse, z.object rules
//
// zod is not a dependency of this package: users bring their own, any version. Nothing here imports
// it; schemas are recognised by duck typing (isZodSchema) and read through their own properties.

import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import { deepFreeze } from './shared-json.js';

/** A zod schema of any version, as far as this module needs one (see isZodSchema for the real test). */
export interface ZodLike {
  safeParse(value: unknown): { success: boolean; data?: unknown; error?: unknown };
}

/** A plain JSON Schema object, a zod schema (v3 or v4), or a v1-style raw shape `{ text: z.string() }`. */
export type SchemaInput = Record<string, unknown> | ZodLike;

export interface CompiledSchema {
  /**
   * What tools/list shows. A plain JSON Schema is kept verbatim (a JSON copy: same keys and values,
   * including $schema, $defs, $anchor, if/then/else, allOf/anyOf and unknown keywords); a zod schema
   * is converted to JSON Schema 2020-12 without a "$schema" key. Deeply frozen.
   */
  readonly json: Readonly<Record<string, unknown>>;
  /**
   * Validates a value. On success returns the value to hand to the handler: for zod, the parsed
   * output (defaults and transforms applied, unknown object keys stripped); for JSON Schema, the value
   * itself, unmodified. Throws only if a zod schema itself throws (e.g. an async refinement).
   */
  check(value: unknown): { ok: true; value: unknown } | { ok: false; message: string };
}

export interface CompileOptions {
  /**
   * Which side of a zod schema the JSON describes (JSON Schema input is unaffected). 'input' (the
   * default) is what a client must send: keys with defaults are optional, transforms show their input.
   * Use 'output' for an outputSchema when the server sends check()'s parsed value.
   */
  readonly io?: 'input' | 'output';
}

type Io = 'input' | 'output';
type Json = Record<string, unknown>;
type CheckResult = { ok: true; value: unknown } | { ok: false; message: string };

// Failure messages show at most this many problems, each cut to this many characters, so a huge or
// hostile input never comes back whole (zod's enum message, for one, quotes the value it received).
const MAX_PROBLEMS = 3;
const MAX_PROBLEM_CHARS = 160;
// Converters stop descending here and emit {} (accept anything); only pathological schemas get near it.
const MAX_DEPTH = 64;

// ---------------------------------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------------------------------

/**
 * Compiles a schema once. `what` names it in errors, e.g. 'inputSchema of tool "echo"'; check()
 * failure messages are derived from it: 'inputSchema of X' gives "Invalid arguments for X: ...",
 * 'outputSchema of X' gives "Invalid structured content for X: ...", anything else gives
 * "Invalid value for <what>: ...". Throws a TypeError naming `what` if the schema is unusable.
 */
export function compileSchema(schema: SchemaInput, what: string, options: CompileOptions = {}): CompiledSchema {
  const io: Io = options.io ?? 'input';
  const prefix = failurePrefix(what);
  if (isZodSchema(schema)) return compileZod(schema as unknown as ZodSchema, what, prefix, io);
  if (!isPlainObject(schema)) {
    throw new TypeError(`Expected a JSON Schema object or a zod schema for ${what} but received ${describeType(schema)}`);
  }
  if (isRawShape(schema)) return compileRawShape(schema, what, prefix, io);
  return compileJsonSchema(schema, what, prefix);
}

/**
 * compileSchema for a tool's inputSchema or outputSchema: MCP requires an object at the root, so the
 * JSON must say "type": "object" (a TypeError otherwise). `undefined` stands for { type: 'object' },
 * which accepts any object (callers pass `arguments ?? {}` when a request omits them).
 */
export function compileToolSchema(
  schema: SchemaInput | undefined,
  what: string,
  options: CompileOptions = {},
): CompiledSchema {
  if (schema === undefined) return anyObject(failurePrefix(what));
  const compiled = compileSchema(schema, what, options);
  if (compiled.json.type !== 'object') {
    const got = compiled.json.type === undefined ? 'no "type"' : `"type": ${JSON.stringify(compiled.json.type)}`;
    throw new TypeError(`Expected ${what} to have "type": "object" at the root but it has ${got}`);
  }
  return compiled;
}

/** True for a zod v3 schema (`_def` + `safeParse`) or a zod v4 one (`_zod` + `safeParse`; classic or mini). */
export function isZodSchema(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { safeParse?: unknown; _zod?: unknown; _def?: unknown };
  if (typeof candidate.safeParse !== 'function') return false;
  return isObject(candidate._zod) || isObject(candidate._def);
}

// ---------------------------------------------------------------------------------------------------
// Plain JSON Schema: Ajv, one shared instance per dialect, one compile per schema
// ---------------------------------------------------------------------------------------------------

type AnyAjv = Ajv2020 | Ajv2019;
interface SharedAjv {
  readonly ajv: AnyAjv;
  /** ajv.refs keys right after construction (the meta-schemas); anything else is pruned after a compile. */
  readonly baseline: ReadonlySet<string>;
}

// MCP 2025-11-25 makes 2020-12 the default dialect, so a schema without $schema, with draft-07's or
// with an unknown one is compiled as 2020-12. Only 2019-09 gets its own class.
const DRAFT_2019_09 = /^https?:\/\/json-schema\.org\/draft\/2019-09\/schema#?$/;

let ajv2020: SharedAjv | undefined;
let ajv2019: SharedAjv | undefined;

function sharedAjv(dialect: string | undefined): SharedAjv {
  if (dialect !== undefined && DRAFT_2019_09.test(dialect)) return (ajv2019 ??= createAjv(Ajv2019));
  return (ajv2020 ??= createAjv(Ajv2020));
}

// Building an Ajv instance compiles its meta-schemas and costs milliseconds, so there is one per class.
// strict: false accepts unknown keywords (MCP schemas carry e.g. "x-mcp-header"); allErrors: false
// stops at the first problem; logger: false keeps unknown formats (an annotation in 2020-12) quiet.
// Ajv never loads a remote $ref by itself (only compileAsync with a loadSchema option would), so a
// $ref to a URL it does not hold fails the compile instead of fetching.
function createAjv(AjvClass: typeof Ajv2020 | typeof Ajv2019): SharedAjv {
  const ajv = new AjvClass({ strict: false, allErrors: false, logger: false });
  // ajv-formats is CommonJS; under NodeNext its default import is module.exports, whose `default` is the plugin.
  ajvFormats.default(ajv);
  return { ajv, baseline: new Set(Object.keys(ajv.refs)) };
}

function compileJsonSchema(schema: Json, what: string, prefix: string): CompiledSchema {
  const json = frozenJsonCopy(schema, what);
  const dialect = json.$schema;
  if (dialect !== undefined && typeof dialect !== 'string') {
    throw new TypeError(`Expected a string for $schema in ${what} but received ${describeType(dialect)}`);
  }
  const { ajv, baseline } = sharedAjv(dialect);
  // Compile a shallow copy without $schema: the class already is the dialect, and Ajv would otherwise
  // look for a meta-schema by that URI (draft-07's is not in a 2020-12 instance).
  const body: Json = { ...json };
  delete body.$schema;
  let validate: ReturnType<AnyAjv['compile']>;
  try {
    validate = ajv.compile(body);
  } catch (err) {
    throw new TypeError(`Expected ${what} to be a valid JSON Schema but ${truncate(errorMessage(err), 300)}`);
  } finally {
    forget(ajv, baseline, body);
  }
  // Ajv's validators take their options as `{ ..., dynamicAnchors = {} } = {}`: called with one argument,
  // every call allocates two objects for nothing. A validator whose code never mentions dynamicAnchors
  // again (no $dynamicRef, no call to a sub-validator that might write one) gets one shared, frozen set.
  const options = mentions(validate.toString(), 'dynamicAnchors') === 1 ? NO_DYNAMIC_ANCHORS : undefined;
  return {
    json,
    check(value: unknown): CheckResult {
      if (validate(value, options)) return { ok: true, value };
      return { ok: false, message: failure(prefix, (validate.errors ?? []).map(ajvProblem), validate.errors?.length ?? 0) };
    },
  };
}

/** Options for a validator that reads no dynamic anchors: its defaults otherwise, without allocating them. */
const NO_DYNAMIC_ANCHORS = Object.freeze({ dynamicAnchors: Object.freeze({}) }) as unknown as Parameters<ValidateFunction>[1];

/** How many times `word` occurs in `text`. */
function mentions(text: string, word: string): number {
  let count = 0;
  for (let at = text.indexOf(word); at !== -1; at = text.indexOf(word, at + word.length)) count++;
  return count;
}

// The compiled function keeps everything it needs; the shared instance must not keep the schema. Drop
// it from Ajv's cache, and drop the ids and anchors it registered, so that two tools may use the same
// $id and so that a tool's schema never resolves a $ref through another tool's.
function forget(ajv: AnyAjv, baseline: ReadonlySet<string>, schema: Json): void {
  ajv.removeSchema(schema);
  const refs = ajv.refs as Record<string, unknown>;
  for (const key of Object.keys(refs)) if (!baseline.has(key)) delete refs[key];
}

function ajvProblem(error: ErrorObject): string {
  let text = error.instancePath === '' ? `${error.message ?? 'is invalid'}` : `${error.instancePath} ${error.message ?? 'is invalid'}`;
  // The property name comes from the input; keep it, but short.
  const extra = (error.params as { additionalProperty?: unknown }).additionalProperty;
  if (error.keyword === 'additionalProperties' && typeof extra === 'string') text += ` '${truncate(extra, 40)}'`;
  return text;
}

// ---------------------------------------------------------------------------------------------------
// zod: validation through the schema's own safeParse, JSON through the converters below
// ---------------------------------------------------------------------------------------------------

interface ZodIssue {
  readonly path?: ReadonlyArray<PropertyKey | { key: PropertyKey }>;
  readonly message?: string;
}
interface ZodSafeParse {
  readonly success: boolean;
  readonly data?: unknown;
  readonly error?: { readonly issues?: readonly ZodIssue[] };
}
interface ZodSchema {
  safeParse(value: unknown): ZodSafeParse;
  readonly _def?: Json; // v3 (v4 classic has it too, as an alias of _zod.def)
  readonly _zod?: Zod4Internals; // v4
  readonly '~standard'?: { readonly jsonSchema?: StandardJsonSchemaConverter };
}
interface StandardJsonSchemaConverter {
  readonly input?: (options: { target: string; libraryOptions?: Json }) => Json;
  readonly output?: (options: { target: string; libraryOptions?: Json }) => Json;
}

function compileZod(schema: ZodSchema, what: string, prefix: string, io: Io): CompiledSchema {
  const json = deepFreeze(zodToJsonRoot(schema, what, io));
  return {
    json,
    check(value: unknown): CheckResult {
      const result = schema.safeParse(value);
      if (result.success) return { ok: true, value: result.data };
      const issues = result.error?.issues ?? [];
      return { ok: false, message: failure(prefix, issues.slice(0, MAX_PROBLEMS).map((i) => zodProblem(i, [])), issues.length) };
    },
  };
}

function zodProblem(issue: ZodIssue, outer: readonly PropertyKey[]): string {
  const path = [...outer, ...(issue.path ?? []).map((p) => (typeof p === 'object' ? p.key : p))];
  const message = issue.message ?? 'is invalid';
  return path.length === 0 ? message : `${jsonPointer(path)} ${message}`;
}

// One zod schema to root JSON: conversion errors become a TypeError naming `what`; "$schema" goes.
function zodToJsonRoot(schema: ZodSchema, what: string, io: Io): Json {
  let json: Json;
  try {
    json = zodToJson(schema, io);
  } catch (err) {
    throw new TypeError(`Expected ${what} to be convertible to JSON Schema but ${truncate(errorMessage(err), 300)}`);
  }
  if (!userMeta(schema)?.$schema) delete json.$schema;
  return json;
}

function zodToJson(schema: ZodSchema, io: Io): Json {
  // zod >= 4.2 (classic) implements Standard JSON Schema: its own toJSONSchema, reached through the
  // schema, no import needed. Unrepresentable parts (dates, transforms' outputs...) become {}.
  const converter = readStandardJsonSchema(schema);
  const convert = io === 'input' ? converter?.input : converter?.output;
  if (typeof convert === 'function') {
    const json = convert({ target: 'draft-2020-12', libraryOptions: { unrepresentable: 'any' } });
    if (!isPlainObject(json)) throw new Error(`its ~standard.jsonSchema.${io}() returned ${describeType(json)}`);
    return json;
  }
  if (isObject(schema._zod)) return fromZod4(schema, io, 0);
  return fromZod3(schema, io, 0);
}

function readStandardJsonSchema(schema: ZodSchema): StandardJsonSchemaConverter | undefined {
  const standard = schema['~standard'];
  return isObject(standard) && isObject(standard.jsonSchema) ? standard.jsonSchema : undefined;
}

// zod 4 keeps .describe()/.meta() data in a registry: classic schemas read it with meta() (parents
// included); for mini, zod >= 4.1 shares its global registry as globalThis.__zod_globalRegistry.
function userMeta(schema: ZodSchema): Json | undefined {
  if (!isObject(schema._zod)) return undefined;
  const meta = (schema as { meta?: unknown }).meta;
  let data: unknown;
  if (typeof meta === 'function') data = meta.call(schema);
  else {
    const registry = (globalThis as { __zod_globalRegistry?: { get?: unknown } }).__zod_globalRegistry;
    if (typeof registry?.get === 'function') data = registry.get(schema);
  }
  return isPlainObject(data) ? data : undefined;
}

// ---------------------------------------------------------------------------------------------------
// zod v3 -> JSON Schema 2020-12
//
// Covers: object (strip/strict/passthrough/catchall), string (min, max, length, regex, email, url,
// uuid, datetime), number (int, min/max incl. exclusive, multipleOf), boolean, null, any, unknown,
// enum, nativeEnum, literal, array (min, max, length), tuple (closed unless .rest()), optional,
// nullable, default, union, discriminatedUnion, intersection, record, effects (refine: inner;
// transform: inner for input, {} for output), pipeline, branded, readonly, catch (its value as the
// default), and .describe() everywhere. Output follows zod 4's own toJSONSchema conventions, so v3 and
// v4 schemas look alike in tools/list. Anything else (date, bigint, lazy, map, set, promise,
// function...) becomes {} (accept anything) with its description kept: the JSON is then looser than
// the validator, never stricter.
// ---------------------------------------------------------------------------------------------------

interface Zod3Check {
  readonly kind: string;
  readonly value?: unknown;
  readonly inclusive?: boolean;
  readonly regex?: RegExp;
}

function fromZod3(schema: ZodSchema, io: Io, depth: number): Json {
  const def = (schema._def ?? {}) as Json;
  const json = depth > MAX_DEPTH ? {} : zod3Body(def, io, depth + 1);
  if (typeof def.description === 'string') json.description = def.description;
  return json;
}

function zod3Body(def: Json, io: Io, depth: number): Json {
  const inner = (key: string): Json => (isZodSchema(def[key]) ? fromZod3(def[key] as ZodSchema, io, depth) : {});
  switch (def.typeName) {
    case 'ZodString':
      return zod3String(checksOf(def));
    case 'ZodNumber':
      return zod3Number(checksOf(def));
    case 'ZodBoolean':
      return { type: 'boolean' };
    case 'ZodNull':
      return { type: 'null' };
    case 'ZodEnum':
      return enumJson(Array.isArray(def.values) ? def.values : []);
    case 'ZodNativeEnum':
      return enumJson(isObject(def.values) ? nativeEnumValues(def.values as Json) : []);
    case 'ZodLiteral':
      return literalJson([def.value]);
    case 'ZodArray': {
      const json: Json = { type: 'array', items: inner('type') };
      const exact = boundValue(def.exactLength);
      const min = exact ?? boundValue(def.minLength);
      const max = exact ?? boundValue(def.maxLength);
      if (min !== undefined) json.minItems = min;
      if (max !== undefined) json.maxItems = max;
      return json;
    }
    case 'ZodTuple': {
      const items = (Array.isArray(def.items) ? def.items : []).filter(isZodSchema) as ZodSchema[];
      let minItems = items.length;
      while (minItems > 0 && zod3MayOmit(items[minItems - 1]!, io, depth)) minItems--;
      const rest = isZodSchema(def.rest) ? inner('rest') : undefined;
      return tupleJson(items.map((item) => fromZod3(item, io, depth)), rest, minItems);
    }
    case 'ZodObject':
      return zod3Object(def, io, depth);
    case 'ZodRecord':
      return { type: 'object', propertyNames: inner('keyType'), additionalProperties: inner('valueType') };
    case 'ZodUnion':
    case 'ZodDiscriminatedUnion': {
      const options = Array.isArray(def.options) ? def.options : [];
      return { anyOf: options.map((option) => (isZodSchema(option) ? fromZod3(option as ZodSchema, io, depth) : {})) };
    }
    case 'ZodIntersection':
      return { allOf: [inner('left'), inner('right')] };
    case 'ZodOptional':
      return inner('innerType');
    case 'ZodNullable':
      return { anyOf: [inner('innerType'), { type: 'null' }] };
    case 'ZodDefault': {
      const json = inner('innerType');
      const value = typeof def.defaultValue === 'function' ? jsonValue(() => (def.defaultValue as () => unknown)()) : undefined;
      if (value !== undefined) json.default = value;
      return json;
    }
    case 'ZodEffects': {
      const effect = isObject(def.effect) ? (def.effect as Json).type : undefined;
      return effect === 'transform' && io === 'output' ? {} : inner('schema');
    }
    case 'ZodPipeline':
      return inner(io === 'input' ? 'in' : 'out');
    case 'ZodBranded':
      return inner('type');
    case 'ZodCatch': {
      const json = inner('innerType');
      const value = typeof def.catchValue === 'function' ? jsonValue(() => (def.catchValue as (ctx: unknown) => unknown)({ error: undefined, input: undefined })) : undefined;
      if (value !== undefined) json.default = value;
      return json;
    }
    case 'ZodReadonly':
      return { ...inner('innerType'), readOnly: true };
    default:
      return {}; // ZodAny, ZodUnknown, and every type without a JSON form: accept anything
  }
}

function zod3String(checks: readonly Zod3Check[]): Json {
  const json: Json = { type: 'string' };
  const patterns: string[] = [];
  for (const check of checks) {
    const value = typeof check.value === 'number' ? check.value : undefined;
    switch (check.kind) {
      case 'min':
        if (value !== undefined) json.minLength = Math.max(value, (json.minLength as number | undefined) ?? 0);
        break;
      case 'max':
        if (value !== undefined) json.maxLength = Math.min(value, (json.maxLength as number | undefined) ?? Infinity);
        break;
      case 'length':
        if (value !== undefined) json.minLength = json.maxLength = value;
        break;
      case 'regex':
        if (check.regex instanceof RegExp) patterns.push(check.regex.source);
        break;
      case 'email':
        json.format = 'email';
        break;
      case 'url':
        json.format = 'uri';
        break;
      case 'uuid':
        json.format = 'uuid';
        break;
      case 'datetime':
        json.format = 'date-time';
        break;
    }
  }
  addPatterns(json, patterns);
  return json;
}

function zod3Number(checks: readonly Zod3Check[]): Json {
  let integer = false;
  let min: { value: number; exclusive: boolean } | undefined;
  let max: { value: number; exclusive: boolean } | undefined;
  let multipleOf: number | undefined;
  for (const check of checks) {
    const value = typeof check.value === 'number' ? check.value : undefined;
    if (check.kind === 'int') integer = true;
    else if (check.kind === 'multipleOf' && value !== undefined) multipleOf = value;
    else if (check.kind === 'min' && value !== undefined) {
      const exclusive = check.inclusive === false;
      if (!min || value > min.value || (value === min.value && exclusive)) min = { value, exclusive };
    } else if (check.kind === 'max' && value !== undefined) {
      const exclusive = check.inclusive === false;
      if (!max || value < max.value || (value === max.value && exclusive)) max = { value, exclusive };
    }
  }
  const json: Json = { type: integer ? 'integer' : 'number' };
  if (min) json[min.exclusive ? 'exclusiveMinimum' : 'minimum'] = min.value;
  if (max) json[max.exclusive ? 'exclusiveMaximum' : 'maximum'] = max.value;
  if (multipleOf !== undefined) json.multipleOf = multipleOf;
  return json;
}

function zod3Object(def: Json, io: Io, depth: number): Json {
  const shape = typeof def.shape === 'function' ? (def.shape as () => unknown)() : def.shape;
  const members = isObject(shape) ? (shape as Json) : {};
  const properties: Json = {};
  const required: string[] = [];
  for (const [key, member] of Object.entries(members)) {
    if (!isZodSchema(member)) continue;
    defineKey(properties, key, fromZod3(member as ZodSchema, io, depth));
    if (!zod3MayOmit(member as ZodSchema, io, depth)) required.push(key);
  }
  const json: Json = { type: 'object', properties };
  if (required.length > 0) json.required = required;
  // Unknown keys: strict rejects them; strip (the default) drops them, so the input may have them but
  // the output does not; passthrough keeps them; a catchall validates them (ZodNever means none).
  const catchall = def.catchall as ZodSchema | undefined;
  if (isZodSchema(catchall) && (catchall!._def as Json).typeName !== 'ZodNever') {
    json.additionalProperties = fromZod3(catchall!, io, depth);
  } else if (def.unknownKeys === 'strict' || (def.unknownKeys === 'strip' && io === 'output')) {
    json.additionalProperties = false;
  }
  return json;
}

// May an object key be absent (on the given side) for this v3 schema? Structural, no parsing.
function zod3MayOmit(schema: ZodSchema, io: Io, depth: number): boolean {
  const def = (schema._def ?? {}) as Json;
  const inner = (key: string): boolean => depth <= MAX_DEPTH && isZodSchema(def[key]) && zod3MayOmit(def[key] as ZodSchema, io, depth + 1);
  switch (def.typeName) {
    case 'ZodOptional':
    case 'ZodAny':
    case 'ZodUnknown':
    case 'ZodUndefined':
    case 'ZodVoid':
      return true;
    case 'ZodDefault':
      return io === 'input' || inner('innerType');
    case 'ZodCatch': // the JSON describes valid input; the catch is a fallback (zod 4 decides the same)
    case 'ZodNullable':
    case 'ZodReadonly':
      return inner('innerType');
    case 'ZodBranded':
      return inner('type');
    case 'ZodEffects':
      return inner('schema');
    case 'ZodPipeline':
      return inner(io === 'input' ? 'in' : 'out');
    case 'ZodUnion':
      return Array.isArray(def.options) && def.options.some((o) => isZodSchema(o) && zod3MayOmit(o as ZodSchema, io, depth + 1));
    default:
      return false;
  }
}

function checksOf(def: Json): readonly Zod3Check[] {
  return Array.isArray(def.checks) ? (def.checks as Zod3Check[]) : [];
}

function boundValue(bound: unknown): number | undefined {
  const value = isObject(bound) ? (bound as Json).value : undefined;
  return typeof value === 'number' ? value : undefined;
}

// TypeScript numeric enums map values back to names; those reverse entries are not values (zod's rule).
function nativeEnumValues(values: Json): unknown[] {
  return Object.keys(values)
    .filter((key) => typeof values[values[key] as string] !== 'number')
    .map((key) => values[key]);
}

// ---------------------------------------------------------------------------------------------------
// zod v4 -> JSON Schema 2020-12, for the zod 4 builds that lack ~standard.jsonSchema: zod 3.25's
// "zod/v4", zod 4.0/4.1, and zod/mini. It follows zod's own toJSONSchema for the common types: the
// constraints come from folding the schema's checks (zod's aggregateChecks; older builds also leave
// them in `_zod.bag`, which is merged in), and the unit tests compare the two outputs. Types without a
// JSON form, and lazy (recursive) schemas, become {} (accept anything). .describe()/.meta() data is
// included (see userMeta).
// ---------------------------------------------------------------------------------------------------

interface Zod4Internals {
  readonly def: Json;
  readonly bag?: Json;
  readonly optin?: unknown;
  readonly optout?: unknown;
  readonly pattern?: unknown;
  readonly toJSONSchema?: () => unknown;
}

const ZOD4_FORMATS: Readonly<Record<string, string>> = {
  guid: 'uuid',
  url: 'uri',
  datetime: 'date-time',
  json_string: 'json-string',
  regex: '',
};

// zod's NUMBER_FORMAT_RANGES: z.int(), z.int32()... imply bounds.
const ZOD4_NUMBER_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  safeint: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  float32: [-3.4028234663852886e38, 3.4028234663852886e38],
  float64: [-Number.MAX_VALUE, Number.MAX_VALUE],
};

interface Zod4Constraints {
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf: number[];
  format?: string;
  isInt: boolean;
  laxFormat: boolean;
  contentEncoding?: string;
  patterns: RegExp[];
}

function zod4Constraints(internals: Zod4Internals): Zod4Constraints {
  const agg: Zod4Constraints = { multipleOf: [], isInt: false, laxFormat: false, patterns: [] };
  const narrowMin = (key: 'minimum' | 'exclusiveMinimum', value: unknown): void => {
    if (typeof value === 'number' && (agg[key] === undefined || value > agg[key]!)) agg[key] = value;
  };
  const narrowMax = (key: 'maximum' | 'exclusiveMaximum', value: unknown): void => {
    if (typeof value === 'number' && (agg[key] === undefined || value < agg[key]!)) agg[key] = value;
  };
  const setFormat = (format: unknown): void => {
    if (typeof format !== 'string') return;
    agg.format = format;
    if (format.includes('int')) agg.isInt = true;
  };
  const addPattern = (pattern: unknown): void => {
    if (pattern instanceof RegExp && !agg.patterns.includes(pattern)) agg.patterns.push(pattern);
  };
  const def = internals.def;
  // A format schema (z.email(), z.int()) is its own first check.
  const checks = [...(typeof def.check === 'string' ? [def] : []), ...(Array.isArray(def.checks) ? def.checks : []).map(checkDef)];
  for (const check of checks) {
    switch (check.check) {
      case 'greater_than':
        narrowMin(check.inclusive ? 'minimum' : 'exclusiveMinimum', check.value);
        break;
      case 'less_than':
        narrowMax(check.inclusive ? 'maximum' : 'exclusiveMaximum', check.value);
        break;
      case 'multiple_of':
        if (typeof check.value === 'number' && !agg.multipleOf.includes(check.value)) agg.multipleOf.push(check.value);
        break;
      case 'number_format': {
        setFormat(check.format);
        const range = typeof check.format === 'string' ? ZOD4_NUMBER_RANGES[check.format] : undefined;
        if (range) {
          narrowMin('minimum', range[0]);
          narrowMax('maximum', range[1]);
        }
        break;
      }
      case 'min_length':
        narrowMin('minimum', check.minimum);
        break;
      case 'max_length':
        narrowMax('maximum', check.maximum);
        break;
      case 'length_equals':
        narrowMin('minimum', check.length);
        narrowMax('maximum', check.length);
        break;
      case 'string_format':
        setFormat(check.format);
        addPattern(check.pattern);
        if (check.format === 'base64' || check.format === 'base64url') agg.contentEncoding = check.format;
        if (check.local || check.precision === -1) agg.laxFormat = true;
        break;
    }
  }
  // Older builds record the same facts (and third-party checks record theirs) in the bag.
  const bag = internals.bag ?? {};
  narrowMin('minimum', bag.minimum);
  narrowMin('exclusiveMinimum', bag.exclusiveMinimum);
  narrowMax('maximum', bag.maximum);
  narrowMax('exclusiveMaximum', bag.exclusiveMaximum);
  if (typeof bag.multipleOf === 'number' && !agg.multipleOf.includes(bag.multipleOf)) agg.multipleOf.push(bag.multipleOf);
  if (typeof bag.format === 'string') {
    agg.format ??= bag.format;
    if (bag.format.includes('int')) agg.isInt = true;
  }
  if (typeof bag.contentEncoding === 'string') agg.contentEncoding ??= bag.contentEncoding;
  if (bag.patterns instanceof Set) for (const pattern of bag.patterns as Set<unknown>) addPattern(pattern);
  return agg;
}

function checkDef(check: unknown): Json {
  const internals = isObject(check) ? (check as { _zod?: { def?: unknown } })._zod : undefined;
  return isPlainObject(internals?.def) ? internals.def : {};
}

function fromZod4(schema: ZodSchema, io: Io, depth: number): Json {
  const internals = schema._zod!;
  const override = typeof internals.toJSONSchema === 'function' ? internals.toJSONSchema() : undefined;
  const json = isPlainObject(override) ? { ...override } : depth > MAX_DEPTH ? {} : zod4Body(schema, io, depth + 1);
  const meta = userMeta(schema);
  if (meta) {
    const { id: _id, ...rest } = meta;
    Object.assign(json, rest);
  }
  return json;
}

function zod4Body(schema: ZodSchema, io: Io, depth: number): Json {
  const internals = schema._zod!;
  const def = internals.def;
  const sub = (value: unknown): Json => (isZod4Core(value) ? fromZod4(value as ZodSchema, io, depth) : {});
  switch (def.type) {
    case 'string': {
      const c = zod4Constraints(internals);
      const json: Json = { type: 'string' };
      if (c.minimum !== undefined) json.minLength = c.minimum;
      if (c.maximum !== undefined) json.maxLength = c.maximum;
      // "time" and the lax datetime shapes accept more than the format keyword allows: no format then.
      if (c.format !== undefined && c.format !== 'time' && !c.laxFormat) {
        const format = ZOD4_FORMATS[c.format] ?? c.format;
        if (format !== '') json.format = format;
      }
      if (c.contentEncoding !== undefined) json.contentEncoding = c.contentEncoding;
      addPatterns(json, c.patterns.map((p) => p.source));
      return json;
    }
    case 'number': {
      const c = zod4Constraints(internals);
      const json: Json = { type: c.isInt ? 'integer' : 'number' };
      // Of minimum and exclusiveMinimum, keep the stricter (likewise for the maximum).
      if (c.exclusiveMinimum !== undefined && c.exclusiveMinimum >= (c.minimum ?? -Infinity)) json.exclusiveMinimum = c.exclusiveMinimum;
      else if (c.minimum !== undefined) json.minimum = c.minimum;
      if (c.exclusiveMaximum !== undefined && c.exclusiveMaximum <= (c.maximum ?? Infinity)) json.exclusiveMaximum = c.exclusiveMaximum;
      else if (c.maximum !== undefined) json.maximum = c.maximum;
      const divisors = [...new Set(c.multipleOf.filter((d) => Number.isFinite(d) && d !== 0).map(Math.abs))];
      if (divisors.length > 0) json.multipleOf = divisors[0];
      if (divisors.length > 1) json.allOf = divisors.slice(1).map((multipleOf) => ({ multipleOf }));
      return json;
    }
    case 'boolean':
    case 'success':
      return { type: 'boolean' };
    case 'null':
      return { type: 'null' };
    case 'never':
      return { not: {} };
    case 'template_literal':
      return internals.pattern instanceof RegExp ? { type: 'string', pattern: internals.pattern.source } : { type: 'string' };
    case 'array': {
      const c = zod4Constraints(internals);
      const json: Json = { type: 'array', items: sub(def.element) };
      if (c.minimum !== undefined) json.minItems = c.minimum;
      if (c.maximum !== undefined) json.maxItems = c.maximum;
      return json;
    }
    case 'tuple': {
      const items = Array.isArray(def.items) ? def.items.filter(isZod4Core) : [];
      // Trailing items that may be absent lower minItems; without a rest the tuple is closed.
      let minItems = items.length;
      while (minItems > 0 && !zod4Required(items[minItems - 1] as ZodSchema, io)) minItems--;
      return tupleJson(items.map(sub), isZod4Core(def.rest) ? sub(def.rest) : undefined, minItems);
    }
    case 'object':
      return zod4Object(def, io, depth);
    case 'record':
      return { type: 'object', propertyNames: sub(def.keyType), additionalProperties: sub(def.valueType) };
    case 'union': {
      // Exclusive unions (z.xor, and discriminated unions in recent zod) match exactly one option.
      const options = (Array.isArray(def.options) ? def.options : []).map(sub);
      return def.inclusive === false ? { oneOf: options } : { anyOf: options };
    }
    case 'intersection': {
      const parts = [sub(def.left), sub(def.right)];
      const flat = (part: Json): Json[] => (Array.isArray(part.allOf) && Object.keys(part).length === 1 ? (part.allOf as Json[]) : [part]);
      return { allOf: parts.flatMap(flat) };
    }
    case 'enum':
      return enumJson(isObject(def.entries) ? zod4EnumValues(def.entries as Json) : []);
    case 'literal':
      return literalJson(Array.isArray(def.values) ? def.values : []);
    case 'nullable':
      return { anyOf: [sub(def.innerType), { type: 'null' }] };
    case 'default': {
      const json = sub(def.innerType);
      const value = jsonValue(() => def.defaultValue);
      if (value !== undefined) json.default = value;
      return json;
    }
    case 'prefault': {
      const json = sub(def.innerType);
      const value = io === 'input' ? jsonValue(() => def.defaultValue) : undefined;
      if (value !== undefined && json.default === undefined) json.default = value;
      return json;
    }
    case 'catch': {
      const json = sub(def.innerType);
      const value = typeof def.catchValue === 'function' ? jsonValue(() => (def.catchValue as (x: unknown) => unknown)(undefined)) : undefined;
      if (value !== undefined) json.default = value;
      return json;
    }
    case 'readonly':
      return { ...sub(def.innerType), readOnly: true };
    case 'optional':
    case 'nonoptional':
    case 'promise':
      return sub(def.innerType);
    case 'pipe': {
      const input = isZod4Core(def.in) && (def.in as ZodSchema)._zod!.def.type === 'transform' ? def.out : def.in;
      return sub(io === 'input' ? input : def.out);
    }
    default:
      return {}; // any, unknown, lazy, transform, date, bigint, custom...: accept anything
  }
}

function zod4Object(def: Json, io: Io, depth: number): Json {
  const shape = isObject(def.shape) ? (def.shape as Json) : {};
  const properties: Json = {};
  const required: string[] = [];
  for (const key of Object.keys(shape)) {
    const member = shape[key];
    if (!isZod4Core(member)) continue;
    defineKey(properties, key, fromZod4(member as ZodSchema, io, depth));
    if (zod4Required(member as ZodSchema, io)) required.push(key);
  }
  const json: Json = { type: 'object', properties };
  if (required.length > 0) json.required = required;
  const catchall = def.catchall;
  if (isZod4Core(catchall) && (catchall as ZodSchema)._zod!.def.type === 'never') json.additionalProperties = false;
  else if (isZod4Core(catchall)) json.additionalProperties = fromZod4(catchall as ZodSchema, io, depth);
  else if (io === 'output') json.additionalProperties = false;
  return json;
}

// zod records whether a key may be absent as optin (input side) and optout (output side). For the
// input side, a transform's output and a catch's inner schema decide (zod's inputOptin).
function zod4Required(member: ZodSchema, io: Io): boolean {
  if (io === 'output') return member._zod!.optout === undefined;
  let schema = member;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const def = schema._zod!.def;
    const next = def.type === 'catch' ? def.innerType : def.type === 'pipe' && isZod4Core(def.in) && (def.in as ZodSchema)._zod!.def.type === 'transform' ? def.out : undefined;
    if (!isZod4Core(next)) break;
    schema = next as ZodSchema;
  }
  return schema._zod!.optin === undefined;
}

// A zod 4 core schema (no safeParse needed: zod/v4/core types nested inside mini or classic ones).
function isZod4Core(value: unknown): boolean {
  return isObject(value) && isObject((value as { _zod?: unknown })._zod) && isObject((value as ZodSchema)._zod!.def);
}

// zod 4's getEnumValues: drop the name entries a TypeScript numeric enum maps its values back to.
function zod4EnumValues(entries: Json): unknown[] {
  const numeric = Object.values(entries).filter((v) => typeof v === 'number');
  return Object.entries(entries)
    .filter(([key]) => numeric.indexOf(+key) === -1)
    .map(([, value]) => value);
}

// ---------------------------------------------------------------------------------------------------
// Shared zod helpers
// ---------------------------------------------------------------------------------------------------

function enumJson(values: readonly unknown[]): Json {
  const json: Json = {};
  if (values.length > 0 && values.every((v) => typeof v === 'number')) json.type = 'number';
  if (values.length > 0 && values.every((v) => typeof v === 'string')) json.type = 'string';
  json.enum = [...values];
  return json;
}

function literalJson(values: readonly unknown[]): Json {
  const kept = values
    .filter((v) => v !== undefined && typeof v !== 'symbol')
    .map((v) => (typeof v === 'bigint' ? Number(v) : v));
  if (kept.length === 0) return {};
  if (kept.length === 1) {
    const value = kept[0];
    return { type: value === null ? 'null' : typeof value, const: value };
  }
  return enumJson(kept);
}

// A tuple: prefixItems, then the rest schema, or, with no rest, no further items.
function tupleJson(prefixItems: Json[], rest: Json | undefined, minItems: number): Json {
  const json: Json = { type: 'array', prefixItems, items: rest ?? false };
  if (minItems > 0) json.minItems = minItems;
  if (!rest) json.maxItems = prefixItems.length;
  return json;
}

// One pattern goes in "pattern"; several cannot share the keyword, so each gets an allOf entry.
function addPatterns(json: Json, patterns: readonly string[]): void {
  if (patterns.length === 1) json.pattern = patterns[0];
  else if (patterns.length > 1) json.allOf = patterns.map((pattern) => ({ pattern }));
}

// A default value as JSON, or undefined if it cannot be computed or serialised.
function jsonValue(get: () => unknown): unknown {
  try {
    const text = JSON.stringify(get());
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------
// Raw shapes: { text: z.string() }, the MCP SDK v1 style, treated as z.object(shape) with zod's
// default (strip) rules. zod is not imported, so z.object cannot be built: the members are checked
// one by one with their own safeParse.
// ---------------------------------------------------------------------------------------------------

function isRawShape(value: Json): boolean {
  const values = Object.values(value);
  return values.length > 0 && values.every(isZodSchema);
}

function compileRawShape(shape: Json, what: string, prefix: string, io: Io): CompiledSchema {
  const members = Object.entries(shape) as Array<[string, ZodSchema]>;
  const properties: Json = {};
  const required: string[] = [];
  const defs: Json = {};
  for (const [key, member] of members) {
    defineKey(properties, key, hoistDefs(zodToJsonRoot(member, `member "${key}" of ${what}`, io), key, defs));
    if (!memberMayOmit(member, io)) required.push(key);
  }
  const root: Json = { type: 'object', properties };
  if (required.length > 0) root.required = required;
  if (io === 'output') root.additionalProperties = false;
  if (Object.keys(defs).length > 0) root.$defs = defs;
  const json = deepFreeze(root);

  return {
    json,
    check(value: unknown): CheckResult {
      if (!isPlainObject(value)) return { ok: false, message: failure(prefix, ['must be object'], 1) };
      const output: Json = {};
      const problems: string[] = [];
      let count = 0;
      for (const [key, member] of members) {
        // Own keys only: a missing "constructor" must read as undefined, not as Object.prototype's.
        const present = Object.prototype.hasOwnProperty.call(value, key);
        const result = member.safeParse(present ? value[key] : undefined);
        if (result.success) {
          if (result.data !== undefined || present) defineKey(output, key, result.data);
          continue;
        }
        const issues = result.error?.issues;
        for (const issue of issues && issues.length > 0 ? issues : [{}]) {
          if (problems.length < MAX_PROBLEMS) problems.push(zodProblem(issue, [key]));
          count++;
        }
      }
      return count === 0 ? { ok: true, value: output } : { ok: false, message: failure(prefix, problems, count) };
    },
  };
}

// May a raw-shape member be absent? zod 4 records it (optin/optout); zod 3 is read structurally.
function memberMayOmit(member: ZodSchema, io: Io): boolean {
  if (isObject(member._zod)) return !zod4Required(member, io);
  return zod3MayOmit(member, io, 0);
}

// A member converted on its own may carry "$defs" and "$ref"s to "#" (zod >= 4.2 emits them for
// recursive schemas). Under the raw shape's root they would point at the wrong place: move the defs
// to the root under "<key>__<name>", and rewrite the refs.
function hoistDefs(member: Json, key: string, rootDefs: Json): Json {
  const defs = isPlainObject(member.$defs) ? member.$defs : undefined;
  if (!defs && !JSON.stringify(member).includes('"$ref":"#')) return member;
  delete member.$defs;
  const keyToken = encodeURIComponent(pointerToken(key));
  const rename = (ref: string): string => {
    if (ref === '#') return `#/properties/${keyToken}`;
    if (ref.startsWith('#/$defs/')) return `#/$defs/${encodeURIComponent(pointerToken(`${key}__`))}${ref.slice(8)}`;
    return ref;
  };
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (isObject(node)) {
      const obj = node as Json;
      if (typeof obj.$ref === 'string') obj.$ref = rename(obj.$ref);
      Object.values(obj).forEach(walk);
    }
  };
  walk(member);
  if (defs) {
    walk(defs);
    for (const [name, sub] of Object.entries(defs)) rootDefs[`${key}__${name}`] = sub;
  }
  return member;
}

function defineKey(target: Json, key: string, value: unknown): void {
  // "__proto__" as a plain assignment would set the prototype; define it as an own property instead.
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

// ---------------------------------------------------------------------------------------------------
// No schema: any object
// ---------------------------------------------------------------------------------------------------

function anyObject(prefix: string): CompiledSchema {
  return {
    json: deepFreeze({ type: 'object' }),
    check(value: unknown): CheckResult {
      if (isPlainObject(value)) return { ok: true, value };
      return { ok: false, message: failure(prefix, ['must be object'], 1) };
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------------

function failurePrefix(what: string): string {
  const match = /^(input|output)Schema of (.+)$/s.exec(what);
  if (!match) return `Invalid value for ${what}`;
  return match[1] === 'input' ? `Invalid arguments for ${match[2]}` : `Invalid structured content for ${match[2]}`;
}

// "<prefix>: p1; p2; p3 (+N more)": the first MAX_PROBLEMS problems, each cut short.
function failure(prefix: string, problems: readonly string[], total: number): string {
  const shown = problems.slice(0, MAX_PROBLEMS).map((p) => truncate(p, MAX_PROBLEM_CHARS));
  if (shown.length === 0) shown.push('is invalid');
  const more = total > shown.length ? ` (+${total - shown.length} more)` : '';
  return `${prefix}: ${shown.join('; ')}${more}`;
}

function jsonPointer(path: readonly PropertyKey[]): string {
  return path.map((segment) => `/${pointerToken(String(segment))}`).join('');
}

function pointerToken(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// A JSON copy: what tools/list shows is exactly what was compiled, whatever the caller later does to
// its object. Cycles and BigInts cannot be sent, so they fail here, at registration.
function frozenJsonCopy(schema: Json, what: string): Json {
  let text: string;
  try {
    text = JSON.stringify(schema);
  } catch (err) {
    throw new TypeError(`Expected ${what} to be JSON-serialisable but ${truncate(errorMessage(err), 200)}`);
  }
  return deepFreeze(JSON.parse(text) as Json);
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function isPlainObject(value: unknown): value is Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `an object of type ${(value as object).constructor?.name ?? 'Object'}`;
  return `a value of type ${typeof value}`;
}
