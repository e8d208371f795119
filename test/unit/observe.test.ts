// src/server/observe.ts: the seam metrics, tracing, logs and the audit log watch dispatch through.
// Observers see every outcome (ok, error with its code, tool_error, cancelled), run() wraps the
// dispatch (synchronous handlers stay synchronous), a throwing observer changes no reply, and
// removing the last observer returns dispatch to its plain path; onFailure() listeners hear of server
// failures only.
import { describe, expect, it } from 'vitest';
import { handleNotification, handleRequest } from '../../src/server/dispatch.js';
import type { RequestEnv } from '../../src/server/dispatch.js';
import type { RequestEnd, RequestInfo } from '../../src/server/observe.js';
import { ErrorCode } from '../../src/server/protocol.js';
import { McpServer } from '../../src/server/server.js';
import { Session } from '../../src/server/session.js';
import { FakeChannel } from './helpers/fake-channel.js';

function legacyEnv(server: McpServer): RequestEnv {
  const session = new Session({ requestTimeoutMs: 1000 });
  const env: RequestEnv = { session, channel: new FakeChannel(), auth: { subject: 'alice', scopes: [] } as never, signal: undefined };
  handleRequest(server, env, '0', 'initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } });
  handleNotification(env, 'notifications/initialized', undefined);
  return env;
}

function watched(server: McpServer): { seen: { info: RequestInfo; end?: RequestEnd }[]; stop: () => void } {
  const seen: { info: RequestInfo; end?: RequestEnd }[] = [];
  const stop = server.observe({
    begin(info) {
      const entry: { info: RequestInfo; end?: RequestEnd } = { info };
      seen.push(entry);
      return { end: (end) => void (entry.end = end) };
    },
  });
  return { seen, stop };
}

describe('request observers', () => {
  it('see ok, error, tool_error and cancelled outcomes with method, params and principal', async () => {
    const server = new McpServer({ name: 's', version: '1' });
    server.tool('ok', {}, () => 'fine');
    server.tool('bad', {}, () => {
      throw new Error('boom');
    });
    let release!: () => void;
    server.tool('slow', {}, () => new Promise<string>((resolve) => (release = () => resolve('late'))));
    const env = legacyEnv(server);
    const { seen } = watched(server);

    const sync = handleRequest(server, env, '1', 'tools/call', { name: 'ok', arguments: {} });
    expect(sync).not.toBeInstanceOf(Promise); // an observer keeps a synchronous call synchronous
    handleRequest(server, env, '2', 'tools/call', { name: 'bad', arguments: {} });
    handleRequest(server, env, '3', 'no/such/method', {});
    handleRequest(server, env, '4', 'tools/list', 'not an object');
    const pending = handleRequest(server, env, '5', 'tools/call', { name: 'slow', arguments: {} });
    handleNotification(env, 'notifications/cancelled', { requestId: 5 });
    release();
    await pending;

    expect(seen.map((s) => [s.info.method, s.end?.outcome, s.end?.code])).toEqual([
      ['tools/call', 'ok', undefined],
      ['tools/call', 'tool_error', undefined],
      ['no/such/method', 'error', ErrorCode.MethodNotFound],
      ['tools/list', 'error', ErrorCode.InvalidParams],
      ['tools/call', 'cancelled', undefined],
    ]);
    expect(seen[0]!.info.params).toEqual({ name: 'ok', arguments: {} });
    expect(seen[3]!.info.params).toBeUndefined();
    expect(seen[0]!.info.env.auth?.subject).toBe('alice');
    expect(seen[0]!.info.idRaw).toBe('1');
  });

  it('run() wraps dispatch, the first observer outermost,, and a throwing observer changes nothing', async () => {
    const server = new McpServer({ name: 's', version: '1' });
    server.tool('ok', {}, () => 'fine');
    const env = legacyEnv(server);
    const order: string[] = [];
    for (const name of ['outer', 'inner']) {
      server.observe({
        begin: () => ({
          run: <T>(fn: () => T): T => {
            order.push(`${name}>`);
            try {
              return fn();
            } finally {
              order.push(`<${name}`);
            }
          },
          end: () => void order.push(`end ${name}`),
        }),
      });
    }
    server.observe({
      begin: () => {
        throw new Error('observer bug');
      },
    });
    server.observe({
      begin: () => ({
        end: () => {
          throw new Error('observer bug at the end');
        },
      }),
    });
    const reply = await handleRequest(server, env, '7', 'tools/call', { name: 'ok', arguments: {} });
    expect(JSON.parse(reply.json!).result.content[0].text).toBe('fine');
    expect(order).toEqual(['outer>', 'inner>', '<inner', '<outer', 'end outer', 'end inner']);
  });

  it('stop() removes the observer', () => {
    const server = new McpServer({ name: 's', version: '1' });
    server.tool('ok', {}, () => 'fine');
    const env = legacyEnv(server);
    const { seen, stop } = watched(server);
    handleRequest(server, env, '1', 'tools/call', { name: 'ok', arguments: {} });
    stop();
    handleRequest(server, env, '2', 'tools/call', { name: 'ok', arguments: {} });
    expect(seen).toHaveLength(1);
    expect(server.observers).toHaveLength(0);
  });

  it('onFailure hears of internal errors and 5xx replies only, with what was thrown, and needs no observer', async () => {
    const server = new McpServer({ name: 's', version: '1' });
    server.tool('ok', {}, () => 'fine');
    const boom = new TypeError('disk on fire');
    server.resource('test://broken', { name: 'broken' }, () => {
      throw boom;
    });
    server.resource('test://later', { name: 'later' }, async () => {
      throw new Error('later');
    });
    const env = legacyEnv(server);
    const heard: [string, string, number | undefined, unknown][] = [];
    const stop = server.onFailure((info, end, error) => heard.push([info.method, end.outcome, end.code, error]));
    server.onFailure(() => {
      throw new Error('a listener bug');
    });
    expect(server.observers).toHaveLength(0);
    handleRequest(server, env, '1', 'tools/call', { name: 'ok', arguments: {} });
    handleRequest(server, env, '2', 'no/such/method', {}); // the client's mistake
    const broken = await handleRequest(server, env, '3', 'resources/read', { uri: 'test://broken' });
    expect(JSON.parse(broken.json!).error.code).toBe(ErrorCode.InternalError);
    await handleRequest(server, env, '4', 'resources/read', { uri: 'test://later' });
    expect(heard.map(([m, o, c]) => [m, o, c])).toEqual([
      ['resources/read', 'error', ErrorCode.InternalError],
      ['resources/read', 'error', ErrorCode.InternalError],
    ]);
    expect(heard[0]![3]).toBe(boom);
    stop();
    await handleRequest(server, env, '5', 'resources/read', { uri: 'test://broken' });
    expect(heard).toHaveLength(2);
  });
});
