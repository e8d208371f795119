// A client on an in-process stdio pair (PassThrough streams into a StdioTransport): JSON lines in,
// every message out parsed into `messages`. For tests that drive a whole McpServer without a process.
import { PassThrough } from 'node:stream';
import type { McpServer } from '../../src/server/server.js';
import { StdioTransport } from '../../src/transport/stdio.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

export class MemoryClient {
  private readonly input = new PassThrough();
  private readonly output = new PassThrough();
  private readonly transport: StdioTransport;
  readonly messages: any[] = [];
  private carry = '';
  private waiters: (() => void)[] = [];
  private nextId = 1;

  /** `onReply` sees every reply (a message with an id) as it arrives. */
  constructor(
    server: McpServer,
    private readonly onReply: (m: any) => void = () => {},
  ) {
    this.transport = new StdioTransport(server, { input: this.input, output: this.output });
    void this.transport.start();
    this.output.setEncoding('utf8').on('data', (s: string) => {
      const lines = (this.carry + s).split('\n');
      this.carry = lines.pop()!;
      for (const line of lines) {
        if (line === '') continue;
        const m = JSON.parse(line);
        this.messages.push(m);
        if (m.id !== undefined) this.onReply(m);
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }

  send(message: object): void {
    this.input.write(JSON.stringify({ jsonrpc: '2.0', ...message }) + '\n');
  }

  /** Sends a request and returns its id. */
  request(method: string, params: object): number {
    const id = this.nextId++;
    this.send({ id, method, params });
    return id;
  }

  /** The reply to `id`, waiting for it (bounded). */
  async reply(id: number, timeoutMs = 15_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find((m) => m.id === id && m.method === undefined);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`no reply to request ${id} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async initialize(protocolVersion = '2025-06-18'): Promise<void> {
    const id = this.request('initialize', { protocolVersion, capabilities: {}, clientInfo: { name: 't', version: '1' } });
    await this.reply(id);
    this.send({ method: 'notifications/initialized' });
  }

  call(name: string, args: object, meta?: object): number {
    return this.request('tools/call', meta === undefined ? { name, arguments: args } : { name, arguments: args, _meta: meta });
  }

  /** Index in `messages` of the reply to `id`. */
  replyIndex(id: number): number {
    return this.messages.findIndex((m) => m.id === id && m.method === undefined);
  }

  /** The notifications of `method` received so far, with their index in `messages`. */
  notifications(method: string): { index: number; params: any }[] {
    return this.messages.flatMap((m, index) => (m.method === method ? [{ index, params: m.params }] : []));
  }

  close(): void {
    this.transport.close();
  }
}
