// The replies a stdio transport has ready for its next write, one per line. The usual tools/call
// response (`{ content: [{ type: 'text', text }] }`, dispatch's TextReply) is written from its parts:
// natively (mcp_native's ReplyBuffer, native/core/reply_buffer.h) as UTF-8 bytes straight from the
// text's UTF-16, so no JS string of the response is built, checked or flattened; by the pure-JS twin as
// the string it always was. Both write exactly the same bytes (test/vectors/reply-buffer.json,
// docs/jsonrpc-engine.md section 8).
import { loadNative } from '../native.js';
import { textResultReply } from '../server/result-json.js';

export interface ReplyBuffer {
  /** Appends one reply's JSON text and a newline; returns the amount waiting (bytes or characters). */
  line(json: string): number;
  /**
   * Sets the members the following text results write after their content ('' at first). A transport's
   * results mostly carry the same ones: the native buffer then reads and encodes them once, not per reply.
   */
  setMembers(members: string): void;
  /** Appends textResultReply(idRaw, text, members) with setMembers' members, and a newline; returns the amount waiting. */
  textResult(idRaw: string, text: string): number;
  /** Everything waiting, to be written as it is (a Buffer or a string); the buffer is then empty. */
  take(): Uint8Array | string;
  /**
   * Native only: one write(2) of what is waiting to the non-blocking pipe `fd`, forgetting what went;
   * the bytes still waiting (all of them when the pipe is full), or -errno (-EAGAIN: `fd` blocks, so
   * nothing was tried). The twin has no such call and writes through the stream, as pipes.ts leaves the
   * pipes alone without the addon.
   */
  writeTo?(fd: number): number;
}

/** The pure-JS twin: a string, joined by `+` (V8 flattens it once, at the write). */
export class JsReplyBuffer implements ReplyBuffer {
  private pending = '';
  private members = '';

  line(json: string): number {
    this.pending += json + '\n';
    return this.pending.length;
  }

  setMembers(members: string): void {
    this.members = members;
  }

  textResult(idRaw: string, text: string): number {
    this.pending += textResultReply(idRaw, text, this.members) + '\n';
    return this.pending.length;
  }

  take(): string {
    const out = this.pending;
    this.pending = '';
    return out;
  }
}

/** A reply buffer: native when the addon is loaded, else the twin. */
export function createReplyBuffer(): ReplyBuffer {
  const binding = loadNative();
  return binding === null ? new JsReplyBuffer() : new binding.ReplyBuffer();
}
