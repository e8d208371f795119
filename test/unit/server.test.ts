// src/server/server.ts: McpServer options, registration (names, handlers, schemas: plain JSON Schema
// kept verbatim, zod 3 and zod 4 converted), the listed JSON of each kind, the run-time controls
// registration returns (enable, disable, remove) and the listeners they notify, and template matching.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as z4 from 'zod/v4';
import { McpServer } from '../../src/server/server.js';
import type { Listener } from '../../src/server/server.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

function server(extra: Record<string, unknown> = {}): McpServer {
  return new McpServer({ name: 'test', version: '1.0.0', ...extra });
}

const noop = (): string => 'ok';

/** A listener that records what it hears. */
function recorder(): Listener & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    listChanged: (kind) => events.push(`list:${kind}`),
    resourceUpdated: (uri) => events.push(`updated:${uri}`),
  };
}

function listedTools(s: McpServer): any[] {
  return [...s.tools.enabled()].map((e) => e.listed);
}

describe('McpServer options', () => {
  it('needs a non-empty name and version', () => {
    expect(() => new McpServer({ name: '', version: '1' })).toThrow(TypeError);
    expect(() => new McpServer({ version: '1' } as any)).toThrow('non-empty name');
    expect(() => new McpServer({ name: 'x', version: '' })).toThrow('non-empty version');
    expect(() => new McpServer(undefined as any)).toThrow(TypeError);
  });

  it('keeps the identity fields that are set, and only those', () => {
    const s = server({ title: 'T', websiteUrl: 'https://example.com', instructions: 'Be nice' });
    expect(s.info).toEqual({ name: 'test', version: '1.0.0', title: 'T', websiteUrl: 'https://example.com' });
    expect(Object.keys(s.info)).not.toContain('description');
    expect(s.instructions).toBe('Be nice');
  });

  it('has documented defaults', () => {
    const s = server();
    expect(s.pageSize).toBe(100);
    expect(s.requestStateTtlMs).toBe(600_000);
    expect(s.clientRequestTimeoutMs).toBe(60_000);
    expect(s.listCache).toEqual({ ttlMs: 0, scope: 'public' });
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses pageSize %s', (pageSize) => {
    expect(() => server({ pageSize })).toThrow(RangeError);
  });

  it('refuses a state key shorter than 32 bytes', () => {
    expect(() => server({ stateKey: 'short' })).toThrow();
  });

  it('declares its capabilities', () => {
    expect(server().capabilities()).toEqual({
      tools: { listChanged: true },
      resources: { subscribe: true, listChanged: true },
      prompts: { listChanged: true },
      completions: {},
      logging: {},
    });
  });
});

describe('McpServer.tool registration', () => {
  it.each(['', 'has space', 'slash/name', 'ünïcode', 'a'.repeat(129), 'tab\t', 'comma,', 'x@y'])(
    'refuses the tool name %j',
    (name) => {
      expect(() => server().tool(name, {}, noop)).toThrow(TypeError);
    },
  );

  it.each(['a', 'get_weather', 'ns.tool-v2', 'UPPER_case.0-9', 'a'.repeat(128)])('accepts the tool name %j', (name) => {
    const s = server();
    s.tool(name, {}, noop);
    expect(s.tools.get(name)?.key).toBe(name);
  });

  it('refuses a name that is not a string and a missing handler', () => {
    expect(() => server().tool(42 as any, {}, noop)).toThrow(TypeError);
    expect(() => server().tool('t', {}, undefined as any)).toThrow('needs a handler function');
  });

  it('refuses a duplicate tool name and keeps the first registration', () => {
    const s = server();
    s.tool('echo', { description: 'first' }, noop);
    expect(() => s.tool('echo', { description: 'second' }, noop)).toThrow('tool "echo" is already registered');
    expect(s.tools.get('echo')?.definition.description).toBe('first');
  });

  it.each<[string, unknown]>([
    ['a string type', { type: 'string' }],
    ['an array type', { type: 'array', items: {} }],
    ['no type', { properties: { a: { type: 'string' } } }],
    ['a type list', { type: ['object', 'null'] }],
    ['zod v3 string', z.string()],
    ['zod v4 array', z4.array(z4.string())],
  ])('refuses an inputSchema with %s at the root', (_name, schema) => {
    expect(() => server().tool('t', { inputSchema: schema as any }, noop)).toThrow(/inputSchema of tool "t".*"type": "object"/);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['a string', 'object'],
    ['an array', [{ type: 'object' }]],
    ['a number', 1],
  ])('refuses %s as inputSchema', (_name, schema) => {
    expect(() => server().tool('t', { inputSchema: schema as any }, noop)).toThrow(TypeError);
  });

  it('refuses an outputSchema that is not an object schema, naming the outputSchema', () => {
    expect(() => server().tool('t', { outputSchema: { type: 'string' } }, noop)).toThrow(/outputSchema of tool "t"/);
  });

  it('refuses a JSON Schema Ajv cannot compile', () => {
    expect(() => server().tool('t', { inputSchema: { type: 'object', properties: { a: { type: 'nope' } } } }, noop)).toThrow();
  });

  it('does not register anything when a schema is refused', () => {
    const s = server();
    const listener = recorder();
    s.addListener(listener);
    expect(() => s.tool('t', { inputSchema: { type: 'string' } }, noop)).toThrow();
    expect(s.tools.size).toBe(0);
    expect(listener.events).toEqual([]);
  });
});

describe('McpServer.tool listed JSON', () => {
  it('shows name, title, description, schemas, annotations, icons, execution and _meta; nothing undefined', () => {
    const s = server();
    s.tool(
      'weather',
      {
        title: 'Weather',
        description: 'Gets the weather',
        inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        outputSchema: { type: 'object', properties: { temp: { type: 'number' } } },
        annotations: { readOnlyHint: true, title: 'W' },
        icons: [{ src: 'https://example.com/i.png', mimeType: 'image/png' }],
        execution: { taskSupport: 'optional' },
        _meta: { 'x/y': 1 },
      },
      noop,
    );
    s.tool('bare', {}, noop);
    expect(listedTools(s)).toEqual([
      {
        name: 'weather',
        title: 'Weather',
        description: 'Gets the weather',
        inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        outputSchema: { type: 'object', properties: { temp: { type: 'number' } } },
        annotations: { readOnlyHint: true, title: 'W' },
        icons: [{ src: 'https://example.com/i.png', mimeType: 'image/png' }],
        execution: { taskSupport: 'optional' },
        _meta: { 'x/y': 1 },
      },
      { name: 'bare', inputSchema: { type: 'object' } },
    ]);
    expect(Object.keys(listedTools(s)[1])).toEqual(['name', 'inputSchema']);
  });

  it('keeps a plain JSON Schema verbatim: $schema, $defs, $ref, unknown keywords, key order', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      $defs: { pt: { $anchor: 'point', type: 'object', properties: { x: { type: 'number' } } } },
      properties: { at: { $ref: '#/$defs/pt' }, name: { type: 'string', 'x-mcp-header': 'Name' } },
      if: { required: ['at'] },
      then: { required: ['name'] },
      additionalProperties: false,
      'x-custom': [1, { deep: true }],
    };
    const s = server();
    s.tool('t', { inputSchema: schema }, noop);
    const listed = listedTools(s)[0].inputSchema;
    expect(listed).toEqual(schema);
    expect(JSON.stringify(listed)).toBe(JSON.stringify(schema));
    // A copy: later changes to the caller's object do not leak into tools/list.
    (schema.properties as any).extra = { type: 'string' };
    expect(listedTools(s)[0].inputSchema.properties.extra).toBeUndefined();
  });

  it('converts a zod v3 object schema to JSON Schema', () => {
    const s = server();
    s.tool('t', { inputSchema: z.object({ q: z.string().describe('query'), n: z.number().int().optional() }) }, noop);
    expect(listedTools(s)[0].inputSchema).toMatchObject({
      type: 'object',
      properties: { q: { type: 'string', description: 'query' }, n: { type: 'integer' } },
      required: ['q'],
    });
  });

  it('converts a zod v4 object schema to JSON Schema', () => {
    const s = server();
    s.tool('t', { inputSchema: z4.object({ q: z4.string().min(2) }), outputSchema: z4.object({ hits: z4.number() }) }, noop);
    const [listed] = listedTools(s);
    expect(listed.inputSchema).toMatchObject({ type: 'object', properties: { q: { type: 'string', minLength: 2 } }, required: ['q'] });
    expect(listed.outputSchema).toMatchObject({ type: 'object', properties: { hits: { type: 'number' } }, required: ['hits'] });
    expect(listed.inputSchema.$schema).toBeUndefined();
  });

  it('accepts a raw zod shape ({ field: z.string() })', () => {
    const s = server();
    s.tool('t', { inputSchema: { text: z.string() } as any }, noop);
    expect(listedTools(s)[0].inputSchema).toMatchObject({ type: 'object', properties: { text: { type: 'string' } }, required: ['text'] });
  });
});

describe('McpServer resources, templates and prompts', () => {
  it('lists a resource with its fields and refuses a missing uri or name, or a duplicate uri', () => {
    const s = server();
    s.resource('file:///a', { name: 'a', mimeType: 'text/plain', size: 3, description: 'A' }, () => 'abc');
    expect([...s.resources.enabled()].map((e) => e.listed)).toEqual([
      { uri: 'file:///a', name: 'a', description: 'A', mimeType: 'text/plain', size: 3 },
    ]);
    expect(() => s.resource('', { name: 'x' }, () => '')).toThrow(TypeError);
    expect(() => s.resource('file:///b', {} as any, () => '')).toThrow('needs a name');
    expect(() => s.resource('file:///a', { name: 'again' }, () => '')).toThrow('already registered');
  });

  it('lists a template with uriTemplate and refuses a bad template or a missing name', () => {
    const s = server();
    s.resourceTemplate('users://{id}/profile', { name: 'profile', mimeType: 'application/json' }, () => '{}');
    expect([...s.templates.enabled()].map((e) => e.listed)).toEqual([
      { uriTemplate: 'users://{id}/profile', name: 'profile', mimeType: 'application/json' },
    ]);
    expect(() => s.resourceTemplate('users://{id', { name: 'x' }, () => '')).toThrow();
    expect(() => s.resourceTemplate('users://{id}/x', {} as any, () => '')).toThrow('needs a name');
  });

  it('lists a prompt with its arguments and refuses an empty name, a missing handler or a duplicate', () => {
    const s = server();
    s.prompt('greet', { description: 'Greets', arguments: [{ name: 'who', required: true }] }, () => ({ messages: [] }));
    expect([...s.prompts.enabled()].map((e) => e.listed)).toEqual([
      { name: 'greet', description: 'Greets', arguments: [{ name: 'who', required: true }] },
    ]);
    expect(() => s.prompt('', {}, () => ({ messages: [] }))).toThrow(TypeError);
    expect(() => s.prompt('p', {}, undefined as any)).toThrow('needs a handler function');
    expect(() => s.prompt('greet', {}, () => ({ messages: [] }))).toThrow('already registered');
  });

  it('does not list the completers of a prompt or template', () => {
    const s = server();
    s.prompt('p', { complete: { a: () => [] } }, () => ({ messages: [] }));
    s.resourceTemplate('x://{a}', { name: 'x', complete: { a: () => [] } }, () => '');
    expect([...s.prompts.enabled()][0]!.listed).toEqual({ name: 'p' });
    expect([...s.templates.enabled()][0]!.listed).toEqual({ uriTemplate: 'x://{a}', name: 'x' });
  });

  it('matches a URI against enabled templates, first registered first', () => {
    const s = server();
    const first = s.resourceTemplate('users://{id}', { name: 'one' }, () => '');
    s.resourceTemplate('users://{name}', { name: 'two' }, () => '');
    expect(s.matchTemplate('users://42')).toMatchObject({ entry: { definition: { name: 'one' } }, variables: { id: '42' } });
    first.disable();
    expect(s.matchTemplate('users://42')).toMatchObject({ entry: { definition: { name: 'two' } }, variables: { name: '42' } });
    expect(s.matchTemplate('other://42')).toBeUndefined();
  });
});

describe('McpServer run-time controls and listeners', () => {
  it('disable hides a tool, enable shows it again, remove drops it; one list_changed per change', () => {
    const s = server();
    const listener = recorder();
    s.addListener(listener);
    const handle = s.tool('t', {}, noop);
    s.tool('u', {}, noop);
    expect(listener.events).toEqual(['list:tools', 'list:tools']);
    listener.events.length = 0;

    expect(handle.enabled).toBe(true);
    handle.disable();
    expect(handle.enabled).toBe(false);
    expect(s.tools.get('t')).toBeUndefined();
    expect(listedTools(s).map((t) => t.name)).toEqual(['u']);
    handle.disable(); // no change, no notification
    expect(listener.events).toEqual(['list:tools']);

    handle.enable();
    expect(handle.enabled).toBe(true);
    expect(listedTools(s).map((t) => t.name)).toEqual(['t', 'u']);
    handle.enable();
    expect(listener.events).toEqual(['list:tools', 'list:tools']);

    handle.remove();
    expect(handle.enabled).toBe(false);
    expect(s.tools.has('t')).toBe(false);
    expect(listedTools(s).map((t) => t.name)).toEqual(['u']);
    handle.remove();
    handle.enable(); // a removed registration stays removed
    expect(s.tools.has('t')).toBe(false);
    expect(listener.events).toEqual(['list:tools', 'list:tools', 'list:tools']);
  });

  it('removing a disabled tool changes nothing clients see, so no notification', () => {
    const s = server();
    const handle = s.tool('t', {}, noop);
    handle.disable();
    const listener = recorder();
    s.addListener(listener);
    handle.remove();
    expect(listener.events).toEqual([]);
  });

  it('reports prompts as prompts, and resources and templates both as resources', () => {
    const s = server();
    const listener = recorder();
    s.addListener(listener);
    const p = s.prompt('p', {}, () => ({ messages: [] }));
    const r = s.resource('file:///r', { name: 'r' }, () => '');
    const t = s.resourceTemplate('x://{a}', { name: 'x' }, () => '');
    p.disable();
    r.disable();
    t.remove();
    expect(listener.events).toEqual(['list:prompts', 'list:resources', 'list:resources', 'list:prompts', 'list:resources', 'list:resources']);
  });

  it('fans resource updates out to every listener until it unsubscribes', () => {
    const s = server();
    const a = recorder();
    const b = recorder();
    const unsubscribeA = s.addListener(a);
    s.addListener(b);
    s.notifyResourceUpdated('file:///x');
    unsubscribeA();
    s.notifyResourceUpdated('file:///y');
    s.tool('t', {}, noop);
    expect(a.events).toEqual(['updated:file:///x']);
    expect(b.events).toEqual(['updated:file:///x', 'updated:file:///y', 'list:tools']);
  });

  // Known bug (server.ts `control`): the handle works by key, not by entry. After remove(), a tool
  // registered again under the same name is controlled (and reported) by the old handle. Flip to
  // `it` once control() checks that the registry still holds its own entry.
  it('a stale handle does not control a tool registered again under the same name', () => {
    const s = server();
    const old = s.tool('t', { description: 'old' }, noop);
    old.remove();
    s.tool('t', { description: 'new' }, noop);
    expect(old.enabled).toBe(false);
    old.disable();
    expect(s.tools.get('t')?.definition.description).toBe('new');
  });
});
