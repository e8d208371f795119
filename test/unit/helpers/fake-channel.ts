// A Channel (src/server/session.ts) for tests that call the dispatcher directly: it keeps what the
// server sends, parsed, and next() waits for the next message not yet taken.
import type { Channel } from '../../../src/server/session.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

export class FakeChannel implements Channel {
  readonly sent: any[] = [];
  open = true;
  private waiting: ((message: any) => void)[] = [];
  private read = 0;

  send(message: string): void {
    this.sent.push(JSON.parse(message));
    this.flush();
  }

  /** The next message not yet taken by next(), waiting for it if need be. */
  next(): Promise<any> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.flush();
    });
  }

  private flush(): void {
    while (this.waiting.length > 0 && this.read < this.sent.length) this.waiting.shift()!(this.sent[this.read++]);
  }
}
