// src/server/session.ts: one legacy-era session. Server->client requests (ids, matching responses,
// client errors, malformed answers, timeouts, cancellation in both directions), close(), and the log
// level.
import { describe, expect, it } from 'vitest';
import { McpError } from '../../src/server/errors.js';
import { ErrorCode } from '../../src/server/protocol.js';
import { Session } from '../../src/server/session.js';
import type { Channel } from '../../src/server/session.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/** A channel that keeps what is sent on it, parsed. */
class FakeChannel implements Channel {
  readonly sent: any[] = [];
  open = true;
  send(message: string): void {
    this.sent.push(JSON.parse(message));
  }
}

function session(requestTimeoutMs = 60_000): Session {
  return new Session({ requestTimeoutMs });
}

const never = new AbortController().signal;

describe('Session basics', () => {
  it('has an id of 128 random bits in visible ASCII, different for each session', () => {
    const a = session();
    const b = session();
    expect(a.id).toMatch(/^[\x21-\x7e]{22}$/);
    expect(a.id).not.toBe(b.id);
  });

  it('starts uninitialized, with every log level wanted and nothing in flight', () => {
    const s = session();
    expect(s.protocolVersion).toBeUndefined();
    expect(s.initialized).toBe(false);
    expect(s.clientCapabilities).toEqual({});
    expect(s.minLogRank).toBe(0);
    expect(s.inflight.size).toBe(0);
    expect(s.subscriptions.size).toBe(0);
    expect(s.closed).toBe(false);
  });

  it('makes no collection until one is used (an idle session is one object)', () => {
    const s = session();
    const made = (): unknown[] => ['subscribed', 'running', 'pending'].map((k) => (s as unknown as Record<string, unknown>)[k]);
    expect(made()).toEqual([undefined, undefined, undefined]);
    expect([...s.subscriptions]).toEqual([]);
    expect(s.inflight.has('1')).toBe(false);
    expect(s.resolveResponse('1', { id: 1, result: {} })).toBe(false);
    expect(made()).toEqual([undefined, undefined, undefined]);
    // Reads of one session's empty collections never see another's.
    const other = session();
    other.subscribe('file:///a');
    other.trackRequest('7', new AbortController());
    expect(s.subscriptions.size).toBe(0);
    expect(s.inflight.size).toBe(0);
    expect([...other.subscriptions]).toEqual(['file:///a']);
    expect([...other.inflight.keys()]).toEqual(['7']);
    other.unsubscribe('file:///a');
    other.untrackRequest('7');
    expect(other.subscriptions.size).toBe(0);
    expect(other.inflight.size).toBe(0);
  });

  it('sets the log level by name and refuses unknown names', () => {
    const s = session();
    expect(s.setLogLevel('warning')).toBe(true);
    expect(s.minLogRank).toBe(3);
    expect(s.setLogLevel('emergency')).toBe(true);
    expect(s.minLogRank).toBe(7);
    expect(s.setLogLevel('debug')).toBe(true);
    expect(s.minLogRank).toBe(0);
    for (const bad of ['WARNING', 'verbose', '', 'toString']) {
      expect(s.setLogLevel(bad)).toBe(false);
      expect(s.minLogRank).toBe(0);
    }
  });
});

describe('Session server->client requests', () => {
  it('sends a request with a fresh numeric id and resolves with the matching result', async () => {
    const s = session();
    const channel = new FakeChannel();
    const first = s.request(channel, 'roots/list', {}, never);
    const second = s.request(channel, 'sampling/createMessage', { maxTokens: 5 }, never);
    expect(channel.sent).toEqual([
      { jsonrpc: '2.0', id: 1, method: 'roots/list', params: {} },
      { jsonrpc: '2.0', id: 2, method: 'sampling/createMessage', params: { maxTokens: 5 } },
    ]);
    // Answers may come in any order.
    expect(s.resolveResponse('2', { jsonrpc: '2.0', id: 2, result: { model: 'm' } })).toBe(true);
    expect(s.resolveResponse('1', { jsonrpc: '2.0', id: 1, result: { roots: [] } })).toBe(true);
    await expect(first).resolves.toEqual({ roots: [] });
    await expect(second).resolves.toEqual({ model: 'm' });
  });

  it('matches a response once; later ones with the same id, and unknown ids, are not ours', async () => {
    const s = session();
    const channel = new FakeChannel();
    const pending = s.request(channel, 'roots/list', {}, never);
    expect(s.resolveResponse('7', { id: 7, result: {} })).toBe(false);
    expect(s.resolveResponse('"1"', { id: '1', result: {} })).toBe(false); // a string id is another id
    expect(s.resolveResponse('1', { id: 1, result: { roots: [] } })).toBe(true);
    expect(s.resolveResponse('1', { id: 1, result: { roots: [] } })).toBe(false);
    await expect(pending).resolves.toEqual({ roots: [] });
  });

  it('rejects with the client error code, message and data', async () => {
    const s = session();
    const pending = s.request(new FakeChannel(), 'elicitation/create', {}, never);
    s.resolveResponse('1', { id: 1, error: { code: -1, message: 'User rejected', data: { why: 'no' } } });
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect(error).toMatchObject({ code: -1, message: 'User rejected', data: { why: 'no' } });
  });

  it('fills in a code and message missing from a client error', async () => {
    const s = session();
    const pending = s.request(new FakeChannel(), 'roots/list', {}, never);
    s.resolveResponse('1', { id: 1, error: {} });
    await expect(pending).rejects.toMatchObject({ code: ErrorCode.InternalError, message: 'Client error' });
  });

  it.each<[string, Record<string, unknown>]>([
    ['error: null', { error: null }],
    ['error: a string', { error: 'bad' }],
    ['neither result nor error', {}],
    ['result: null', { result: null }],
    ['result: a string', { result: 'x' }],
    ['result: an array', { result: [] }],
  ])('fails the request, without throwing, on a response with %s', async (_name, body) => {
    const s = session();
    const pending = s.request(new FakeChannel(), 'roots/list', {}, never);
    expect(s.resolveResponse('1', { jsonrpc: '2.0', id: 1, ...body })).toBe(true);
    await expect(pending).rejects.toMatchObject({ code: ErrorCode.InternalError });
  });

  it('rejects at once when the channel is closed, sending nothing', async () => {
    const s = session();
    const channel = new FakeChannel();
    channel.open = false;
    await expect(s.request(channel, 'roots/list', {}, never)).rejects.toMatchObject({
      code: ErrorCode.InternalError,
      message: 'No open stream to the client',
    });
    expect(channel.sent).toEqual([]);
  });

  it('times out, tells the client it gave up, and ignores a late answer', async () => {
    const s = session(5);
    const channel = new FakeChannel();
    const error = await s.request(channel, 'sampling/createMessage', {}, never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect(error).toMatchObject({ code: ErrorCode.InternalError });
    expect((error as Error).message).toBe('The client did not answer sampling/createMessage within 5 ms');
    expect(channel.sent).toEqual([
      { jsonrpc: '2.0', id: 1, method: 'sampling/createMessage', params: {} },
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, reason: 'No answer within 5 ms' } },
    ]);
    expect(s.resolveResponse('1', { id: 1, result: {} })).toBe(false);
  });

  it('stops waiting when its signal aborts, with the abort reason, and cancels on the client', async () => {
    const s = session();
    const channel = new FakeChannel();
    const controller = new AbortController();
    const pending = s.request(channel, 'elicitation/create', { message: 'hi' }, controller.signal);
    const reason = new Error('handler cancelled');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(channel.sent[1]).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 1, reason: 'The request that needed it was cancelled' },
    });
    expect(s.resolveResponse('1', { id: 1, result: {} })).toBe(false);
  });

  it('uses a generic error when the abort reason is not an Error', async () => {
    const s = session();
    const controller = new AbortController();
    const pending = s.request(new FakeChannel(), 'roots/list', {}, controller.signal);
    controller.abort('just a string');
    await expect(pending).rejects.toThrow('Cancelled');
  });

  it('sends nothing at all, not even a cancellation, when its signal is already aborted', async () => {
    const s = session();
    const channel = new FakeChannel();
    const controller = new AbortController();
    const reason = new Error('too late');
    controller.abort(reason);
    await expect(s.request(channel, 'roots/list', {}, controller.signal)).rejects.toBe(reason);
    expect(channel.sent).toEqual([]);
    // The next request still gets id 0: none was used.
    void s.request(channel, 'roots/list', {}, never).catch(() => {});
    expect(channel.sent[0]).toMatchObject({ id: 1 });
    s.close();
  });

  it('does not send a cancellation on a channel that has closed meanwhile', async () => {
    const s = session();
    const channel = new FakeChannel();
    const controller = new AbortController();
    const pending = s.request(channel, 'roots/list', {}, controller.signal);
    channel.open = false;
    controller.abort();
    await expect(pending).rejects.toThrow();
    expect(channel.sent).toHaveLength(1);
  });
});

describe('Session.close', () => {
  it('aborts every handler in flight with the reason and fails every waiting request', async () => {
    const s = session();
    const channel = new FakeChannel();
    const handler = new AbortController();
    s.trackRequest('1', handler);
    const waiting = [s.request(channel, 'roots/list', {}, never), s.request(channel, 'sampling/createMessage', {}, never)];
    s.close('Connection closed');
    expect(handler.signal.aborted).toBe(true);
    expect((handler.signal.reason as Error).message).toBe('Connection closed');
    expect(s.inflight.size).toBe(0);
    for (const p of waiting) await expect(p).rejects.toMatchObject({ code: ErrorCode.InternalError, message: 'Connection closed' });
    expect(s.closed).toBe(true);
    expect(s.resolveResponse('1', { id: 1, result: {} })).toBe(false);
  });

  it('refuses new requests afterwards and is idempotent', async () => {
    const s = session();
    s.standalone = new FakeChannel();
    s.close();
    expect(s.standalone).toBeNull();
    s.close('again');
    await expect(s.request(new FakeChannel(), 'roots/list', {}, never)).rejects.toMatchObject({ message: 'Session closed' });
  });

  it('fails a request whose handler it aborts exactly once', async () => {
    const s = session();
    const channel = new FakeChannel();
    const handler = new AbortController();
    s.trackRequest('1', handler);
    const settled: string[] = [];
    const pending = s.request(channel, 'roots/list', {}, handler.signal).then(
      () => settled.push('resolved'),
      (e: Error) => settled.push(e.message),
    );
    s.close('bye');
    await pending;
    expect(settled).toEqual(['bye']);
  });
});
