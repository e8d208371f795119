// src/server/schema.ts: tool schemas as tools/list shows them (verbatim JSON Schema, zod converted to
// 2020-12) and as validators compiled once at registration (Ajv for JSON Schema, safeParse for zod).
// zod comes in three builds here: zod 3.25 (the devDependency: v3 at 'zod', v4 at 'zod/v4' and
// 'zod/v4-mini'), and zod 4.6 (nested under @modelcontextprotocol/client, the build that implements
// Standard JSON Schema); the zod 4.6 tests skip if that copy is not installed.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { z as z4 } from 'zod/v4';
import * as z4core from 'zod/v4/core';
import * as z4mini from 'zod/v4-mini';
import { compileSchema, compileToolSchema, isZodSchema } from '../../src/server/schema.js';

const ECHO = 'inputSchema of tool "echo"';

// zod 4.6 (with ~standard.jsonSchema), if the nested copy is there.
const ZOD46_DIR = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/client/node_modules/zod/', import.meta.url));
const HAS_ZOD46 = existsSync(`${ZOD46_DIR}index.js`);
/* eslint-disable @typescript-eslint/no-explicit-any */
const zod46: any = HAS_ZOD46 ? await import(pathToFileURL(`${ZOD46_DIR}index.js`).href) : undefined;
const zod46mini: any = HAS_ZOD46 ? await import(pathToFileURL(`${ZOD46_DIR}mini/index.js`).href) : undefined;

// The MCP conformance scenario "json-schema-2020-12" (@modelcontextprotocol/conformance 0.2.0-alpha.12)
// lists this tool and checks that $schema, $defs, additionalProperties, allOf/anyOf, if/then/else and
// the $anchor inside $defs survive in tools/list. An unknown keyword is added here as well.
function conformanceSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    $defs: {
      address: {
        $anchor: 'addressDef',
        type: 'object',
        properties: { street: { type: 'string' }, city: { type: 'string' } },
      },
    },
    properties: {
      name: { type: 'string', 'x-mcp-header': 'Name' },
      address: { $ref: '#/$defs/address' },
      contactMethod: { type: 'string', enum: ['phone', 'email'] },
      phone: { type: 'string' },
      email: { type: 'string' },
    },
    allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
    if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
    then: { required: ['phone'] },
    else: { required: ['email'] },
    additionalProperties: false,
  };
}

function failMessage(result: ReturnType<ReturnType<typeof compileSchema>['check']>): string {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  return result.message;
}

function okValue(result: ReturnType<ReturnType<typeof compileSchema>['check']>): unknown {
  if (!result.ok) throw new Error(`expected success, got: ${result.message}`);
  return result.value;
}

function withoutSchemaKey(json: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _drop, ...rest } = json;
  return rest;
}

// The same schemas in the zod/mini API, for zod 3.25's "zod/v4-mini" and zod 4.6's "zod/mini", each
// with sample values for comparing what two JSON Schemas accept.
interface MiniCase {
  readonly schema: unknown;
  readonly samples: readonly unknown[];
}
function miniCases(m: any): MiniCase[] {
  const uuid = '123e4567-e89b-12d3-a456-426614174000';
  return [
    {
      schema: m.object({ a: m.string().check(m.minLength(2), m.maxLength(5)), b: m.email(), c: m.string().check(m.regex(/^x/)), d: m.uuid() }),
      samples: [{ a: 'abc', b: 'a@b.co', c: 'xy', d: uuid }, { a: 'a', b: 'a@b.co', c: 'xy', d: uuid }, { a: 'abcdef', b: 'a@b.co', c: 'x', d: uuid }, { a: 'abc', b: 'no', c: 'x', d: uuid }, { a: 'abc', b: 'a@b.co', c: 'y', d: uuid }, { a: 'abc', b: 'a@b.co', c: 'x', d: 'u' }, {}],
    },
    {
      schema: m.object({ n: m.number().check(m.gt(0), m.lte(5)), i: m.int().check(m.gte(-3)), k: m.number().check(m.multipleOf(3)) }),
      samples: [{ n: 5, i: -3, k: 9 }, { n: 0, i: 0, k: 0 }, { n: 5.5, i: 0, k: 0 }, { n: 1, i: -4, k: 0 }, { n: 1, i: 1.5, k: 0 }, { n: 1, i: 1, k: 4 }, { n: 1, i: 2 ** 60, k: 3 }],
    },
    {
      schema: m.object({ e: m.enum(['a', 'b']), l: m.literal('x'), nul: m.null(), bool: m.boolean(), any: m.any() }),
      samples: [{ e: 'a', l: 'x', nul: null, bool: true }, { e: 'c', l: 'x', nul: null, bool: true }, { e: 'a', l: 'y', nul: null, bool: true }, { e: 'a', l: 'x', nul: 0, bool: true }, { e: 'a', l: 'x', nul: null, bool: 1 }, { e: 'a', l: 'x', nul: null, bool: false, any: [1] }],
    },
    {
      schema: m.object({ arr: m.array(m.object({ x: m.optional(m.string()) })).check(m.minLength(1), m.maxLength(3)), t: m.tuple([m.string(), m.optional(m.number())]) }),
      samples: [{ arr: [{}], t: ['a'] }, { arr: [], t: ['a', 1] }, { arr: [{}, {}, {}, {}], t: ['a'] }, { arr: [{ x: 1 }], t: ['a'] }, { arr: [{}], t: ['a', 1, 2] }, { arr: [{}], t: [] }, { arr: [{}], t: ['a', 'b'] }],
    },
    {
      schema: m.object({ opt: m.optional(m.string()), nul: m.nullable(m.string()), def: m._default(m.number(), 4), ro: m.readonly(m.string()) }),
      samples: [{ nul: null, ro: 'r' }, { nul: 'n', ro: 'r', opt: 'o', def: 1 }, { ro: 'r' }, { nul: 1, ro: 'r' }, { nul: null, ro: 'r', def: 'x' }, { nul: null }],
    },
    {
      schema: m.object({ u: m.union([m.string(), m.number()]), r: m.record(m.string(), m.number()), s: m.strictObject({ a: m.string() }), lo: m.looseObject({ z: m.number() }) }),
      samples: [{ u: 1, r: { a: 1 }, s: { a: 'a' }, lo: { z: 1, extra: true } }, { u: true, r: {}, s: { a: 'a' }, lo: { z: 1 } }, { u: 's', r: { a: 'x' }, s: { a: 'a' }, lo: { z: 1 } }, { u: 's', r: {}, s: { a: 'a', b: 1 }, lo: { z: 1 } }, { u: 's', r: {}, s: { a: 'a' }, lo: {} }],
    },
    {
      schema: m.object({ p: m.pipe(m.string(), m.string().check(m.minLength(1))), c: m.catch(m.string(), 'fallback') }),
      samples: [{ p: 'x', c: 'c' }, { p: '', c: 'c' }, { p: 'x' }, { p: 1, c: 'c' }, { p: 'x', c: 1 }],
    },
  ];
}

// Whether two JSON Schemas accept the same values, sample by sample.
function sameVerdicts(ours: Record<string, unknown>, theirs: Record<string, unknown>, samples: readonly unknown[], label: string): void {
  const a = compileSchema(ours, `ours ${label}`);
  const b = compileSchema(theirs, `zod's ${label}`);
  for (const sample of samples) {
    expect(a.check(sample).ok, `${label}: ${JSON.stringify(sample)}`).toBe(b.check(sample).ok);
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('plain JSON Schema', () => {
  it('is shown verbatim: same keys, values and key order, $schema/$defs/$anchor/if-then-else/allOf/anyOf included', () => {
    const given = conformanceSchema();
    const compiled = compileToolSchema(given, ECHO);
    expect(compiled.json).toEqual(conformanceSchema());
    expect(JSON.stringify(compiled.json)).toBe(JSON.stringify(conformanceSchema()));
    const json = compiled.json as any;
    expect(json.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(json.$defs.address.$anchor).toBe('addressDef');
    expect(json.additionalProperties).toBe(false);
    expect(json.allOf[0].anyOf).toHaveLength(2);
    expect(Object.keys(json)).toEqual(expect.arrayContaining(['if', 'then', 'else']));
    expect(json.properties.name['x-mcp-header']).toBe('Name');
  });

  it('is a frozen copy: later changes to the caller\'s object change neither json nor validation', () => {
    const given = conformanceSchema() as any;
    const compiled = compileToolSchema(given, ECHO);
    expect(compiled.json).not.toBe(given);
    expect(Object.isFrozen(compiled.json)).toBe(true);
    expect(Object.isFrozen((compiled.json as any).$defs.address)).toBe(true);
    given.properties.name.type = 'number';
    given.additionalProperties = true;
    expect((compiled.json as any).properties.name.type).toBe('string');
    expect(compiled.check({ name: 'Ada', email: 'a@b.c' }).ok).toBe(true);
    expect(compiled.check({ email: 'a@b.c', surprise: 1 }).ok).toBe(false);
  });

  it('validates with every keyword of the conformance schema and returns the value itself', () => {
    const compiled = compileToolSchema(conformanceSchema(), ECHO);
    const good = { name: 'Ada', contactMethod: 'phone', phone: '123', address: { city: 'London' } };
    expect(okValue(compiled.check(good))).toBe(good);
    expect(good).toEqual({ name: 'Ada', contactMethod: 'phone', phone: '123', address: { city: 'London' } });
    // if/then: contactMethod phone requires phone.
    expect(failMessage(compiled.check({ contactMethod: 'phone', email: 'a@b.c' }))).toContain("must have required property 'phone'");
    // allOf/anyOf: phone or email.
    expect(compiled.check({ name: 'Ada' }).ok).toBe(false);
    // $ref into $defs.
    expect(failMessage(compiled.check({ email: 'a@b.c', address: { city: 5 } }))).toBe(
      'Invalid arguments for tool "echo": /address/city must be string',
    );
    // additionalProperties: false, with the (short) name of the extra key.
    expect(failMessage(compiled.check({ email: 'a@b.c', extra: 1 }))).toBe(
      "Invalid arguments for tool \"echo\": must NOT have additional properties 'extra'",
    );
    // enum.
    expect(compiled.check({ email: 'a@b.c', contactMethod: 'fax' }).ok).toBe(false);
  });

  it('resolves $ref by $anchor, and two schemas may use the same anchor', () => {
    const byAnchor = (type: string) => ({
      type: 'object',
      $defs: { v: { $anchor: 'v', type } },
      properties: { x: { $ref: '#v' } },
    });
    const a = compileSchema(byAnchor('string'), 'a');
    const b = compileSchema(byAnchor('number'), 'b');
    expect(a.check({ x: 's' }).ok).toBe(true);
    expect(a.check({ x: 1 }).ok).toBe(false);
    expect(b.check({ x: 1 }).ok).toBe(true);
    expect(b.check({ x: 's' }).ok).toBe(false);
  });

  it('keeps schemas apart in the shared Ajv: the same $id twice works, and no schema resolves another\'s $id', () => {
    const withId = (type: string) => ({ $id: 'https://example.com/shared', type: 'object', properties: { x: { type } } });
    const a = compileSchema(withId('string'), 'a');
    const b = compileSchema(withId('number'), 'b');
    expect(a.check({ x: 's' }).ok).toBe(true);
    expect(b.check({ x: 1 }).ok).toBe(true);
    expect(b.check({ x: 's' }).ok).toBe(false);
    expect(() => compileSchema({ type: 'object', properties: { x: { $ref: 'https://example.com/shared' } } }, 'c')).toThrow(TypeError);
    // A nested $id is not left behind either.
    compileSchema({ type: 'object', properties: { n: { $id: 'https://example.com/nested', type: 'string' } } }, 'd');
    expect(() => compileSchema({ type: 'object', properties: { y: { $ref: 'https://example.com/nested' } } }, 'e')).toThrow(TypeError);
    // A schema that failed to compile leaves nothing behind.
    expect(() => compileSchema({ $id: 'https://example.com/bad', type: 'strin' }, 'f')).toThrow(TypeError);
    expect(compileSchema({ $id: 'https://example.com/bad', type: 'object' }, 'g').check({}).ok).toBe(true);
  });

  it('supports recursion through "#" and through the schema\'s own $id', () => {
    const tree = compileSchema(
      {
        $id: 'https://example.com/tree',
        type: 'object',
        properties: { n: { type: 'number' }, kids: { type: 'array', items: { $ref: 'https://example.com/tree' } } },
      },
      'tree',
    );
    expect(tree.check({ n: 1, kids: [{ n: 2, kids: [] }] }).ok).toBe(true);
    expect(failMessage(tree.check({ n: 1, kids: [{ n: 2, kids: [{ n: 'x' }] }] }))).toBe(
      'Invalid value for tree: /kids/0/kids/0/n must be number',
    );
  });

  it('compiles draft-07 and absent $schema as 2020-12, keeping $schema in json', () => {
    const draft07 = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { a: { type: 'integer' } } };
    const compiled = compileToolSchema(draft07, ECHO);
    expect(compiled.json.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(compiled.check({ a: 1 }).ok).toBe(true);
    expect(compiled.check({ a: 1.5 }).ok).toBe(false);
    // 2020-12 keywords work without $schema.
    const tuple = compileSchema({ type: 'array', prefixItems: [{ type: 'string' }], items: false }, 'tuple');
    expect(tuple.check(['a']).ok).toBe(true);
    expect(tuple.check(['a', 'b']).ok).toBe(false);
  });

  it('uses Ajv2019 for draft 2019-09 ($recursiveRef works) and Ajv2020 otherwise', () => {
    const compile2019 = vi.spyOn(Ajv2019.prototype, 'compile');
    const compile2020 = vi.spyOn(Ajv2020.prototype, 'compile');
    const compiled = compileSchema(
      {
        $schema: 'https://json-schema.org/draft/2019-09/schema',
        $recursiveAnchor: true,
        type: 'object',
        properties: { n: { type: 'number' }, kids: { type: 'array', items: { $recursiveRef: '#' } } },
      },
      'tree',
    );
    expect(compile2019).toHaveBeenCalledTimes(1);
    expect(compile2020).not.toHaveBeenCalled();
    expect(compiled.check({ n: 1, kids: [{ n: 2 }] }).ok).toBe(true);
    expect(compiled.check({ n: 1, kids: [{ n: 'x' }] }).ok).toBe(false);
    compileSchema({ type: 'object' }, 'plain');
    expect(compile2020).toHaveBeenCalledTimes(1);
  });

  it('resolves $dynamicRef on every call, and gives validators that read no dynamic anchors one shared, frozen set of options', () => {
    // Record what each compiled validator is called with (its source is what schema.ts reads).
    const original = Ajv2020.prototype.compile;
    const options: unknown[][] = [];
    vi.spyOn(Ajv2020.prototype, 'compile').mockImplementation(function (this: Ajv2020, ...args: Parameters<Ajv2020['compile']>) {
      const validate = original.apply(this, args);
      const seen: unknown[] = [];
      options.push(seen);
      const wrapped = ((data: unknown, cxt?: unknown) => {
        seen.push(cxt);
        const ok = (validate as (d: unknown, c?: unknown) => boolean)(data, cxt);
        wrapped.errors = validate.errors;
        return ok;
      }) as unknown as typeof validate;
      wrapped.toString = () => validate.toString();
      return wrapped;
    });
    const tree = {
      $id: 'https://example.com/tree',
      $dynamicAnchor: 'node',
      type: 'object',
      properties: { data: true, children: { type: 'array', items: { $dynamicRef: '#node' } } },
    };
    // The strict tree extends the tree: its $dynamicAnchor makes the children strict too.
    const strict = compileSchema({ $id: 'https://example.com/strict-tree', $dynamicAnchor: 'node', $ref: 'tree', unevaluatedProperties: false, $defs: { tree } }, 'strict');
    const loose = compileSchema(tree, 'loose');
    const echo = compileSchema({ type: 'object', properties: { text: { type: 'string' } }, required: ['text'] }, 'echo');
    for (let i = 0; i < 3; i++) {
      expect(strict.check({ data: i, children: [{ data: 2 }] }).ok).toBe(true);
      expect(strict.check({ data: i, children: [{ data: 2, extra: 1 }] }).ok).toBe(false);
      expect(loose.check({ data: i, children: [{ data: 2, extra: 1 }] }).ok).toBe(true);
      expect(echo.check({ text: `t${i}` }).ok).toBe(true);
      expect(failMessage(echo.check({ text: i }))).toBe('Invalid value for echo: /text must be string');
    }
    const [strictOptions, looseOptions, echoOptions] = options;
    // Validators that use dynamic anchors get Ajv's defaults: a fresh set per call.
    expect(strictOptions).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
    expect(looseOptions).toEqual([undefined, undefined, undefined]);
    // The echo's validator gets the same frozen options every time, with an empty frozen set of anchors.
    expect(new Set(echoOptions).size).toBe(1);
    const shared = echoOptions![0] as { dynamicAnchors: object };
    expect(Object.isFrozen(shared) && Object.isFrozen(shared.dynamicAnchors)).toBe(true);
    expect(Object.keys(shared.dynamicAnchors)).toEqual([]);
  });

  it('knows the ajv-formats formats', () => {
    const compiled = compileSchema(
      { type: 'object', properties: { e: { type: 'string', format: 'email' }, d: { type: 'string', format: 'date-time' } } },
      'formats',
    );
    expect(compiled.check({ e: 'a@example.com', d: '2025-11-25T00:00:00Z' }).ok).toBe(true);
    expect(failMessage(compiled.check({ e: 'nope' }))).toBe('Invalid value for formats: /e must match format "email"');
    expect(compiled.check({ d: 'yesterday' }).ok).toBe(false);
    // Unknown formats are annotations.
    expect(compileSchema({ type: 'string', format: 'x-custom' }, 'x').check('anything').ok).toBe(true);
  });

  it('compiles once: 1000 checks, one Ajv compile', () => {
    const compile = vi.spyOn(Ajv2020.prototype, 'compile');
    const compiled = compileToolSchema(conformanceSchema(), ECHO);
    for (let i = 0; i < 1000; i++) {
      expect(compiled.check(i % 2 === 0 ? { email: `${i}@x.y` } : { phone: i }).ok).toBe(i % 2 === 0);
    }
    expect(compile).toHaveBeenCalledTimes(1);
  });

  it('shares one Ajv instance per class rather than building one per schema', () => {
    const compile = vi.spyOn(Ajv2020.prototype, 'compile');
    for (let i = 0; i < 20; i++) compileSchema({ type: 'object', properties: { [`k${i}`]: { type: 'string' } } }, `s${i}`);
    expect(compile).toHaveBeenCalledTimes(20);
    expect(new Set(compile.mock.contexts).size).toBe(1);
  });

  it('rejects a schema Ajv cannot compile with a TypeError naming it and Ajv\'s reason', () => {
    expect(() => compileSchema({ type: 'object', properties: { a: { type: 'strin' } } }, ECHO)).toThrow(
      /^Expected inputSchema of tool "echo" to be a valid JSON Schema but schema is invalid: data\/properties\/a\/type/,
    );
    expect(() => compileSchema({ type: 'object', minProperties: -1 }, ECHO)).toThrow(TypeError);
  });

  it('never fetches a remote $ref: compiling one is a TypeError at registration', () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    let error: unknown;
    try {
      compileToolSchema({ type: 'object', properties: { a: { $ref: 'http://example.invalid/x' } } }, ECHO);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toContain('inputSchema of tool "echo"');
    expect((error as Error).message).toContain('http://example.invalid/x');
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('rejects what is not a JSON Schema object', () => {
    expect(() => compileSchema(42 as any, ECHO)).toThrow(/^Expected a JSON Schema object or a zod schema for inputSchema of tool "echo" but received a value of type number$/);
    expect(() => compileSchema(null as any, ECHO)).toThrow(TypeError);
    expect(() => compileSchema([] as any, ECHO)).toThrow(/an array/);
    expect(() => compileSchema({ $schema: 7, type: 'object' }, ECHO)).toThrow(/\$schema/);
    const cyclic: Record<string, unknown> = { type: 'object' };
    cyclic.properties = { self: cyclic };
    expect(() => compileSchema(cyclic, ECHO)).toThrow(/JSON-serialisable/);
    expect(() => compileSchema({ type: 'object', default: 1n }, ECHO)).toThrow(TypeError);
  });
});

describe('failure messages', () => {
  it('are short and name the tool', () => {
    const compiled = compileToolSchema({ type: 'object', properties: { text: { type: 'string' } }, required: ['text'] }, ECHO);
    expect(failMessage(compiled.check({ text: 5 }))).toBe('Invalid arguments for tool "echo": /text must be string');
    expect(failMessage(compiled.check({}))).toBe("Invalid arguments for tool \"echo\": must have required property 'text'");
    expect(failMessage(compiled.check('text'))).toBe('Invalid arguments for tool "echo": must be object');
  });

  it('take their opening from `what`', () => {
    const schema = { type: 'object', properties: { n: { type: 'number' } } };
    expect(failMessage(compileToolSchema(schema, 'outputSchema of tool "sum"').check({ n: 'x' }))).toBe(
      'Invalid structured content for tool "sum": /n must be number',
    );
    expect(failMessage(compileSchema(schema, 'the settings').check({ n: 'x' }))).toBe('Invalid value for the settings: /n must be number');
  });

  it('show at most 3 problems and count the rest', () => {
    const compiled = compileToolSchema(z.object({ a: z.string(), b: z.string(), c: z.string(), d: z.string(), e: z.string() }), ECHO);
    expect(failMessage(compiled.check({}))).toBe(
      'Invalid arguments for tool "echo": /a Required; /b Required; /c Required (+2 more)',
    );
  });

  it('never echo a large input', () => {
    const huge = 'x'.repeat(100_000);
    const zodEnum = compileToolSchema(z.object({ mode: z.enum(['fast', 'slow']) }), ECHO);
    const message = failMessage(zodEnum.check({ mode: huge }));
    expect(message.length).toBeLessThan(300);
    expect(message).not.toContain('x'.repeat(200));
    const strict = compileToolSchema({ type: 'object', additionalProperties: false }, ECHO);
    const keyMessage = failMessage(strict.check({ [huge]: 1 }));
    expect(keyMessage.length).toBeLessThan(300);
    const deep = compileToolSchema({ type: 'object', additionalProperties: { type: 'number' } }, ECHO);
    expect(failMessage(deep.check({ [huge]: 'x' })).length).toBeLessThan(300);
  });

  it('escape JSON-pointer characters in zod paths', () => {
    const compiled = compileToolSchema(z.object({ 'a/b': z.object({ 'c~d': z.number() }) }), ECHO);
    expect(failMessage(compiled.check({ 'a/b': { 'c~d': 'x' } }))).toBe(
      'Invalid arguments for tool "echo": /a~1b/c~0d Expected number, received string',
    );
  });
});

describe('zod v3', () => {
  const rich = () =>
    z.object({
      query: z.string().min(1).max(200).describe('What to look for'),
      limit: z.number().int().min(1).max(100).default(10),
      mode: z.enum(['fast', 'thorough']).optional(),
      tags: z.array(z.string()).max(5).default([]),
      filter: z.object({ since: z.string().datetime().optional(), score: z.number().gt(0) }).optional(),
    });

  it('converts an object with defaults, optional keys, enums, arrays and nesting to JSON Schema 2020-12', () => {
    const compiled = compileToolSchema(rich(), ECHO);
    expect(compiled.json).toEqual({
      type: 'object',
      properties: {
        query: { type: 'string', minLength: 1, maxLength: 200, description: 'What to look for' },
        limit: { type: 'integer', minimum: 1, maximum: 100, default: 10 },
        mode: { type: 'string', enum: ['fast', 'thorough'] },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 5, default: [] },
        filter: {
          type: 'object',
          properties: { since: { type: 'string', format: 'date-time' }, score: { type: 'number', exclusiveMinimum: 0 } },
          required: ['score'],
        },
      },
      required: ['query'],
    });
    expect('$schema' in compiled.json).toBe(false);
    expect(Object.isFrozen((compiled.json as any).properties.filter)).toBe(true);
  });

  it('validates with safeParse and hands over the parsed value (defaults applied, unknown keys stripped)', () => {
    const compiled = compileToolSchema(rich(), ECHO);
    expect(okValue(compiled.check({ query: 'cats', extra: true }))).toEqual({ query: 'cats', limit: 10, tags: [] });
    expect(failMessage(compiled.check({ query: '', limit: 1.5 }))).toBe(
      'Invalid arguments for tool "echo": /query String must contain at least 1 character(s); /limit Expected integer, received float',
    );
    expect(failMessage(compiled.check({ query: 'x', filter: { score: 0 } }))).toBe(
      'Invalid arguments for tool "echo": /filter/score Number must be greater than 0',
    );
  });

  it('shows transforms by their input and applies them', () => {
    const compiled = compileToolSchema(z.object({ word: z.string().transform((s) => s.length) }), ECHO);
    expect(compiled.json).toEqual({ type: 'object', properties: { word: { type: 'string' } }, required: ['word'] });
    expect(okValue(compiled.check({ word: 'four' }))).toEqual({ word: 4 });
    const output = compileToolSchema(z.object({ word: z.string().transform((s) => s.length) }), ECHO, { io: 'output' });
    expect(output.json).toEqual({ type: 'object', properties: { word: {} }, required: ['word'], additionalProperties: false });
  });

  it('covers the common types', () => {
    enum Color {
      Red = 'red',
      Blue = 'blue',
    }
    enum Level {
      Low,
      High,
    }
    const cases: Array<[z.ZodTypeAny, Record<string, unknown>]> = [
      [z.string().length(3), { type: 'string', minLength: 3, maxLength: 3 }],
      [z.string().regex(/^a+$/), { type: 'string', pattern: '^a+$' }],
      [z.string().regex(/^a/).regex(/b$/), { type: 'string', allOf: [{ pattern: '^a' }, { pattern: 'b$' }] }],
      [z.string().email(), { type: 'string', format: 'email' }],
      [z.string().url(), { type: 'string', format: 'uri' }],
      [z.string().uuid(), { type: 'string', format: 'uuid' }],
      [z.number(), { type: 'number' }],
      [z.number().positive().lte(5).multipleOf(0.5), { type: 'number', exclusiveMinimum: 0, maximum: 5, multipleOf: 0.5 }],
      [z.number().int().nonnegative().lt(10), { type: 'integer', minimum: 0, exclusiveMaximum: 10 }],
      [z.boolean(), { type: 'boolean' }],
      [z.null(), { type: 'null' }],
      [z.any(), {}],
      [z.unknown(), {}],
      [z.enum(['a', 'b']), { type: 'string', enum: ['a', 'b'] }],
      [z.nativeEnum(Color), { type: 'string', enum: ['red', 'blue'] }],
      [z.nativeEnum(Level), { type: 'number', enum: [0, 1] }],
      [z.literal('on'), { type: 'string', const: 'on' }],
      [z.literal(3), { type: 'number', const: 3 }],
      [z.literal(true), { type: 'boolean', const: true }],
      [z.literal(null), { type: 'null', const: null }],
      [z.array(z.number()).min(1).max(3), { type: 'array', items: { type: 'number' }, minItems: 1, maxItems: 3 }],
      [z.array(z.number()).length(2), { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 }],
      [z.tuple([z.string(), z.number()]), { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], items: false, minItems: 2, maxItems: 2 }],
      [z.tuple([z.string(), z.number().optional()]).rest(z.boolean()), { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], items: { type: 'boolean' }, minItems: 1 }],
      [z.string().nullable(), { anyOf: [{ type: 'string' }, { type: 'null' }] }],
      [z.string().optional(), { type: 'string' }],
      [z.union([z.string(), z.number()]), { anyOf: [{ type: 'string' }, { type: 'number' }] }],
      [
        z.discriminatedUnion('k', [z.object({ k: z.literal('a') }), z.object({ k: z.literal('b') })]),
        {
          anyOf: [
            { type: 'object', properties: { k: { type: 'string', const: 'a' } }, required: ['k'] },
            { type: 'object', properties: { k: { type: 'string', const: 'b' } }, required: ['k'] },
          ],
        },
      ],
      [z.intersection(z.object({ a: z.string() }), z.object({ b: z.number() })), {
        allOf: [
          { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
          { type: 'object', properties: { b: { type: 'number' } }, required: ['b'] },
        ],
      }],
      [z.record(z.number()), { type: 'object', propertyNames: { type: 'string' }, additionalProperties: { type: 'number' } }],
      [z.object({ a: z.string() }).strict(), { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false }],
      [z.object({ a: z.string() }).passthrough(), { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }],
      [z.object({}).catchall(z.number()), { type: 'object', properties: {}, additionalProperties: { type: 'number' } }],
      [z.string().refine((s) => s !== 'no'), { type: 'string' }],
      [z.string().brand('Id'), { type: 'string' }],
      [z.string().readonly(), { type: 'string', readOnly: true }],
      [z.string().catch('x'), { type: 'string', default: 'x' }],
      [z.string().pipe(z.string().min(2)), { type: 'string' }],
      [z.string().describe('outer').nullable().describe('wrapped'), { anyOf: [{ type: 'string', description: 'outer' }, { type: 'null' }], description: 'wrapped' }],
      // No JSON form: accept anything, description kept.
      [z.date().describe('when'), { description: 'when' }],
      [z.bigint(), {}],
      [z.lazy(() => z.string()).describe('lazy'), { description: 'lazy' }],
      [z.map(z.string(), z.number()), {}],
    ];
    for (const [schema, expected] of cases) {
      expect(compileSchema(schema, 'case').json, JSON.stringify(expected)).toEqual(expected);
    }
  });

  it('marks keys required by side: defaults are optional for input and required for output', () => {
    const schema = z.object({ a: z.string().default('x'), b: z.string().optional(), c: z.string(), d: z.any(), e: z.string().catch('y') });
    expect(compileSchema(schema, 'in').json.required).toEqual(['c', 'e']);
    const output = compileSchema(schema, 'out', { io: 'output' }).json;
    expect(output.required).toEqual(['a', 'c', 'e']);
    expect(output.additionalProperties).toBe(false);
  });

  it('accepts refined objects as tool schemas', () => {
    const compiled = compileToolSchema(
      z.object({ lo: z.number(), hi: z.number() }).refine((v) => v.lo <= v.hi, { message: 'lo must not exceed hi' }),
      ECHO,
    );
    expect(compiled.json.type).toBe('object');
    expect(failMessage(compiled.check({ lo: 2, hi: 1 }))).toBe('Invalid arguments for tool "echo": lo must not exceed hi');
  });
});

// The same checks for the zod 4 API: zod 3.25's 'zod/v4' has no ~standard.jsonSchema, so it goes
// through the module's own converter, compared here with zod's toJSONSchema.
describe('zod v4 (zod 3.25 "zod/v4", own converter)', () => {
  const rich = () =>
    z4.object({
      query: z4.string().min(1).max(200).describe('What to look for'),
      limit: z4.number().int().min(1).max(100).default(10),
      mode: z4.enum(['fast', 'thorough']).optional(),
      tags: z4.array(z4.string()).max(5).default([]),
      filter: z4.object({ since: z4.iso.datetime().optional(), score: z4.number().gt(0) }).optional(),
    });

  it('converts an object with defaults, optional keys, enums, arrays and nesting', () => {
    const compiled = compileToolSchema(rich(), ECHO);
    expect(compiled.json).toEqual({
      type: 'object',
      properties: {
        query: { type: 'string', minLength: 1, maxLength: 200, description: 'What to look for' },
        limit: { type: 'integer', minimum: 1, maximum: 100, default: 10 },
        mode: { type: 'string', enum: ['fast', 'thorough'] },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 5, default: [] },
        filter: {
          type: 'object',
          properties: {
            since: { type: 'string', format: 'date-time', pattern: expect.any(String) },
            score: { type: 'number', exclusiveMinimum: 0 },
          },
          required: ['score'],
        },
      },
      required: ['query'],
    });
    expect('$schema' in compiled.json).toBe(false);
  });

  it('validates with safeParse and hands over the parsed value', () => {
    const compiled = compileToolSchema(rich(), ECHO);
    expect(okValue(compiled.check({ query: 'cats', extra: true }))).toEqual({ query: 'cats', limit: 10, tags: [] });
    expect(failMessage(compiled.check({ query: 5 }))).toBe(
      'Invalid arguments for tool "echo": /query Invalid input: expected string, received number',
    );
  });

  const differential = (k: typeof z4) => [
    k.object({ a: k.string().min(2).max(5), b: k.email(), c: k.string().regex(/^x/), d: k.url(), e: k.uuid() }),
    k.object({ n: k.number().positive().lte(5), i: k.int().min(-3), m: k.number().multipleOf(3), f: k.number().gte(1).lt(2) }),
    k.object({ e: k.enum(['a', 'b']), l: k.literal('x'), l2: k.literal([1, 2]), nul: k.null(), bool: k.boolean() }),
    k.object({ arr: k.array(k.object({ x: k.string().optional() })).min(1).max(3) }),
    k.object({ opt: k.string().optional(), nul: k.string().nullable(), def: k.number().default(4), ro: k.string().readonly() }),
    k.object({ u: k.union([k.string(), k.number()]), r: k.record(k.string(), k.number()), i: k.intersection(k.object({ a: k.string() }), k.object({ b: k.string() })) }),
    k.object({ s: k.strictObject({ a: k.string() }), c: k.object({}).catchall(k.number()), lo: k.looseObject({ z: k.number() }) }),
    k.object({ d: k.string().describe('described'), m: k.number().meta({ title: 'Count', examples: [1, 2] }) }),
    k.object({ p: k.string().pipe(k.string().min(1)), any: k.any(), unk: k.unknown(), never: k.never().optional() }),
    k.object({ pre: k.string().prefault('p'), no: k.string().optional().nonoptional() }),
  ];

  it('matches zod\'s own toJSONSchema for the common types (input and output)', () => {
    for (const [index, schema] of differential(z4).entries()) {
      for (const io of ['input', 'output'] as const) {
        const ours = compileSchema(schema, `case ${index}`, { io }).json;
        const zods = withoutSchemaKey(z4core.toJSONSchema(schema as any, { io, unrepresentable: 'any' }) as any);
        expect(ours, `case ${index} (${io})`).toEqual(zods);
      }
    }
  });

  it('turns types without a JSON form into {} with their metadata kept', () => {
    expect(compileSchema(z4.date().describe('when'), 'x').json).toEqual({ description: 'when' });
    expect(compileSchema(z4.bigint(), 'x').json).toEqual({});
    expect(compileSchema(z4.string().transform((s) => s.length), 'x').json).toEqual({ type: 'string' });
    expect(compileSchema(z4.string().transform((s) => s.length), 'x', { io: 'output' }).json).toEqual({});
  });

  it('handles zod/v4-mini schemas', () => {
    const mini = z4mini.object({ a: z4mini.string().check(z4mini.minLength(2)), b: z4mini.optional(z4mini.number()) });
    expect(isZodSchema(mini)).toBe(true);
    const compiled = compileToolSchema(mini, ECHO);
    expect(compiled.json).toEqual(withoutSchemaKey(z4core.toJSONSchema(mini as any, { io: 'input' }) as any));
    expect(compiled.check({ a: 'xy' }).ok).toBe(true);
    expect(failMessage(compiled.check({ a: 'x' }))).toMatch(/^Invalid arguments for tool "echo": \/a /);
    for (const [index, { schema, samples }] of miniCases(z4mini).entries()) {
      const ours = compileSchema(schema as any, `mini ${index}`).json;
      const zods = withoutSchemaKey(z4core.toJSONSchema(schema as any, { io: 'input', unrepresentable: 'any' }) as any);
      // Cases 3 and 6 hold a tuple and a catch, where this converter follows zod 4.6 (see below).
      if (index !== 3 && index !== 6) expect(ours, `mini case ${index}`).toEqual(zods);
      else sameVerdicts(ours, zods, samples.filter((s: any) => !(Array.isArray(s?.t) && s.t.length > 2) && s?.c !== undefined), `mini case ${index}`);
    }
  });

  it('follows zod 4.6 where zod 3.25 differs: tuples are closed, and a catch does not make a key optional', () => {
    const tuple = compileSchema(z4.tuple([z4.string(), z4.number().optional()]), 'tuple').json;
    expect(tuple).toEqual({ type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], items: false, minItems: 1, maxItems: 2 });
    expect(compileSchema(z4.tuple([z4.string()], z4.boolean()), 'rest').json).toEqual({
      type: 'array',
      prefixItems: [{ type: 'string' }],
      items: { type: 'boolean' },
      minItems: 1,
    });
    const caught = compileSchema(z4.object({ c: z4.string().catch('fallback') }), 'catch').json;
    expect(caught).toEqual({ type: 'object', properties: { c: { type: 'string', default: 'fallback' } }, required: ['c'] });
    expect(compileSchema(z.object({ c: z.string().catch('fallback') }), 'v3 catch').json.required).toEqual(['c']);
  });
});

describe.skipIf(!HAS_ZOD46)('zod 4.6 (Standard JSON Schema)', () => {
  it('is converted through the schema\'s own ~standard.jsonSchema, without $schema', () => {
    const k = zod46.z;
    const schema = k.object({
      query: k.string().min(1).describe('What to look for'),
      limit: k.int().min(1).max(100).default(10),
      mode: k.enum(['fast', 'thorough']).optional(),
      tags: k.array(k.string()).default([]),
      filter: k.object({ when: k.date(), score: k.number().gt(0) }).optional(),
    });
    for (const io of ['input', 'output'] as const) {
      const compiled = compileToolSchema(schema, ECHO, { io });
      expect('$schema' in compiled.json).toBe(false);
      expect(compiled.json).toEqual(withoutSchemaKey(schema.toJSONSchema({ io, unrepresentable: 'any' })));
    }
    const compiled = compileToolSchema(schema, ECHO);
    expect(compiled.json.required).toEqual(['query']);
    expect((compiled.json as any).properties.filter.properties.when).toEqual({});
    expect(okValue(compiled.check({ query: 'q' }))).toEqual({ query: 'q', limit: 10, tags: [] });
    expect(failMessage(compiled.check({ query: 'q', limit: 0 }))).toMatch(/^Invalid arguments for tool "echo": \/limit Too small/);
  });

  it('takes recursive schemas ($defs and $ref from zod)', () => {
    const k = zod46.z;
    const Node: any = k.object({
      name: k.string(),
      get children() {
        return k.array(Node);
      },
    });
    const compiled = compileToolSchema(Node, ECHO);
    expect(JSON.stringify(compiled.json)).toContain('"$ref":"#"');
    // The JSON is itself a working schema.
    const asJson = compileToolSchema(compiled.json as Record<string, unknown>, ECHO);
    expect(asJson.check({ name: 'a', children: [{ name: 'b', children: [] }] }).ok).toBe(true);
    expect(failMessage(asJson.check({ name: 'a', children: [{ name: 1, children: [] }] }))).toBe(
      'Invalid arguments for tool "echo": /children/0/name must be string',
    );
  });

  it('zod/mini 4.6 has no ~standard.jsonSchema and goes through the own converter, matching zod', () => {
    const m = zod46mini;
    const schema = m.object({
      a: m.string().check(m.minLength(2), m.maxLength(4)),
      b: m.optional(m.int()),
      c: m._default(m.array(m.string()), []),
      d: m.nullable(m.enum(['x', 'y'])).check(m.describe('described through the shared registry')),
    });
    expect(schema['~standard'].jsonSchema).toBeUndefined();
    const samples = [{ a: 'ab', c: [], d: null }, { a: 'a', d: 'x' }, { a: 'abcde', d: 'x' }, { a: 'ab', b: 1.5, d: 'x' }, { a: 'ab', d: 'z' }, { a: 'ab' }, { a: 'ab', b: 2 ** 60, d: 'y' }];
    for (const io of ['input', 'output'] as const) {
      const zods = withoutSchemaKey(zod46.z.toJSONSchema(schema, { io, unrepresentable: 'any' }));
      sameVerdicts(compileSchema(schema, 'mini', { io }).json as Record<string, unknown>, zods, samples, `small mini (${io})`);
    }
    expect((compileSchema(schema, 'mini').json as any).properties.d.description).toBe('described through the shared registry');
    // zod 4.6 also rewrites its output (type arrays for nullable, folded intersections...), so the
    // comparison is by what the two JSON Schemas accept.
    for (const [index, { schema: mini, samples }] of miniCases(m).entries()) {
      for (const io of ['input', 'output'] as const) {
        const zods = withoutSchemaKey(zod46.z.toJSONSchema(mini, { io, unrepresentable: 'any' }));
        sameVerdicts(compileSchema(mini as any, `mini ${index}`, { io }).json as Record<string, unknown>, zods, samples, `mini case ${index} (${io})`);
      }
    }
  });
});

describe('any Standard JSON Schema converter on a zod schema', () => {
  const fake = (jsonSchema: unknown) => ({
    _zod: { def: { type: 'object', shape: {} } },
    safeParse: (v: unknown) => ({ success: true, data: v }),
    '~standard': { vendor: 'zod', version: 1, validate: () => ({}), jsonSchema },
  });

  it('is called with target draft-2020-12 and the side asked for', () => {
    const input = vi.fn(() => ({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', title: 'in' }));
    const output = vi.fn(() => ({ type: 'object', title: 'out' }));
    expect(compileToolSchema(fake({ input, output }), ECHO).json).toEqual({ type: 'object', title: 'in' });
    expect(input).toHaveBeenCalledWith({ target: 'draft-2020-12', libraryOptions: { unrepresentable: 'any' } });
    expect(compileToolSchema(fake({ input, output }), ECHO, { io: 'output' }).json).toEqual({ type: 'object', title: 'out' });
  });

  it('turns a throwing converter into a TypeError naming the schema', () => {
    const input = () => {
      throw new Error('Dynamic catch values are not supported');
    };
    expect(() => compileToolSchema(fake({ input, output: input }), ECHO)).toThrow(
      'Expected inputSchema of tool "echo" to be convertible to JSON Schema but Dynamic catch values are not supported',
    );
  });
});

describe('raw shapes', () => {
  it('are object schemas built from their members (zod 3 and zod 4 members alike)', () => {
    const compiled = compileToolSchema(
      { text: z.string().describe('The text'), times: z4.number().int().min(1).default(1), loud: z.boolean().optional() },
      ECHO,
    );
    expect(compiled.json).toEqual({
      type: 'object',
      properties: {
        text: { type: 'string', description: 'The text' },
        times: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, default: 1 },
        loud: { type: 'boolean' },
      },
      required: ['text'],
    });
    const output = compileSchema({ text: z.string(), times: z4.number().default(1) }, 'out', { io: 'output' }).json;
    expect(output.required).toEqual(['text', 'times']);
    expect(output.additionalProperties).toBe(false);
  });

  it('validate like z.object(shape): defaults applied, unknown keys stripped, member paths in messages', () => {
    const compiled = compileToolSchema({ text: z.string(), times: z.number().default(1), note: z.string().optional() }, ECHO);
    expect(okValue(compiled.check({ text: 'hi', extra: 1 }))).toEqual({ text: 'hi', times: 1 });
    expect(okValue(compiled.check({ text: 'hi', note: undefined }))).toEqual({ text: 'hi', times: 1, note: undefined });
    expect(failMessage(compiled.check({ times: 'x' }))).toBe(
      'Invalid arguments for tool "echo": /text Required; /times Expected number, received string',
    );
    expect(failMessage(compiled.check(['hi']))).toBe('Invalid arguments for tool "echo": must be object');
    expect(failMessage(compiled.check(null))).toBe('Invalid arguments for tool "echo": must be object');
    const nested = compileToolSchema({ a: z.object({ b: z.array(z.number()) }) }, ECHO);
    expect(failMessage(nested.check({ a: { b: [1, 'x'] } }))).toBe('Invalid arguments for tool "echo": /a/b/1 Expected number, received string');
  });

  it('read own keys only', () => {
    const compiled = compileToolSchema({ constructor: z.string(), toString: z.string().optional() }, ECHO);
    expect(failMessage(compiled.check({}))).toBe('Invalid arguments for tool "echo": /constructor Required');
    const parsed = okValue(compiled.check(JSON.parse('{"constructor":"c","__proto__":{"polluted":true}}'))) as Record<string, unknown>;
    expect(parsed).toEqual({ constructor: 'c' });
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
  });

  it.skipIf(!HAS_ZOD46)('move a recursive member\'s $defs to the root and rewrite its refs', () => {
    const k = zod46.z;
    const Node: any = k.object({
      name: k.string(),
      get children() {
        return k.array(Node);
      },
    });
    const Shared = k.string().meta({ id: 'Shared' });
    const compiled = compileToolSchema({ tree: Node, pair: k.object({ a: Shared, b: Shared }) }, ECHO);
    const text = JSON.stringify(compiled.json);
    expect(text).toContain('"$ref":"#/properties/tree"');
    expect(text).not.toContain('"$ref":"#"');
    expect((compiled.json as any).$defs).toEqual({ pair__Shared: { type: 'string' } });
    const asJson = compileToolSchema(compiled.json as Record<string, unknown>, ECHO);
    expect(asJson.check({ tree: { name: 'a', children: [{ name: 'b', children: [] }] }, pair: { a: 'x', b: 'y' } }).ok).toBe(true);
    expect(failMessage(asJson.check({ tree: { name: 'a', children: [{ name: 2, children: [] }] }, pair: { a: 'x', b: 'y' } }))).toBe(
      'Invalid arguments for tool "echo": /tree/children/0/name must be string',
    );
    expect(asJson.check({ tree: { name: 'a', children: [] }, pair: { a: 'x', b: 1 } }).ok).toBe(false);
  });
});

describe('compileToolSchema', () => {
  it('stands in { type: "object" } for a missing schema, accepting any object as is', () => {
    const compiled = compileToolSchema(undefined, ECHO);
    expect(compiled.json).toEqual({ type: 'object' });
    const args = { anything: [1, 2] };
    expect(okValue(compiled.check(args))).toBe(args);
    expect(compiled.check({}).ok).toBe(true);
    expect(failMessage(compiled.check([]))).toBe('Invalid arguments for tool "echo": must be object');
    expect(compiled.check(null).ok).toBe(false);
    expect(compiled.check('x').ok).toBe(false);
  });

  it('rejects a root that is not "type": "object", where compileSchema accepts it', () => {
    const notObjects: unknown[] = [
      { type: 'string' },
      { type: ['object', 'null'] },
      {},
      { anyOf: [{ type: 'object' }] },
      z.string(),
      z.union([z.object({ a: z.string() }), z.object({ b: z.string() })]),
      z4.array(z4.string()),
    ];
    for (const schema of notObjects) {
      expect(() => compileToolSchema(schema as any, ECHO), JSON.stringify(schema)).toThrow(TypeError);
      expect(() => compileSchema(schema as any, ECHO)).not.toThrow();
    }
    expect(() => compileToolSchema({ type: 'string' }, ECHO)).toThrow(
      'Expected inputSchema of tool "echo" to have "type": "object" at the root but it has "type": "string"',
    );
    expect(() => compileToolSchema({}, ECHO)).toThrow('but it has no "type"');
    expect(compileSchema(z.string(), 'plain').check('s').ok).toBe(true);
  });
});

describe('isZodSchema', () => {
  it('recognises zod 3, zod 4 classic and mini by duck typing, and nothing else', () => {
    expect(isZodSchema(z.string())).toBe(true);
    expect(isZodSchema(z4.string())).toBe(true);
    expect(isZodSchema(z4mini.string())).toBe(true);
    if (HAS_ZOD46) {
      expect(isZodSchema(zod46.z.string())).toBe(true);
      expect(isZodSchema(zod46mini.string())).toBe(true);
    }
    expect(isZodSchema({ type: 'object' })).toBe(false);
    expect(isZodSchema({ text: z.string() })).toBe(false);
    expect(isZodSchema({ safeParse() {} })).toBe(false);
    expect(isZodSchema({ _def: {}, safeParse: 1 })).toBe(false);
    expect(isZodSchema(null)).toBe(false);
    expect(isZodSchema('z.string()')).toBe(false);
  });
});
