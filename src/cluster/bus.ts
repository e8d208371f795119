// Pub/sub between the processes sharing a Redis, on a dedicated subscriber connection (a subscribed
// ioredis connection can run no other command). Channels are counted: the first handler of a channel
// subscribes, the last one gone unsubscribes. ioredis subscribes again by itself after a reconnect;
// messages published while the connection was down are lost, so `onResync` runs then and the owner
// re-reads what it caches. ioredis says 'ready' before its re-subscription is confirmed, so the bus
// subscribes again itself and runs the resync (and reports itself synced) only once Redis confirmed:
// a copy re-read before that could miss a change published in between.
import type { Redis } from 'ioredis';

export type BusHandler = (message: string) => void;

export class Bus {
  private readonly handlers = new Map<string, Set<BusHandler>>();
  private readonly resync = new Set<() => void>();
  private wasReady: boolean;
  /** False from a lost connection until the channels are confirmed subscribed again. */
  private isSynced = true;

  constructor(private readonly sub: Redis) {
    this.wasReady = sub.status === 'ready';
    sub.on('message', (channel: string, message: string) => {
      const set = this.handlers.get(channel);
      if (set !== undefined) for (const h of set) h(message);
    });
    sub.on('close', () => {
      if (this.wasReady) this.isSynced = false;
    });
    sub.on('ready', () => {
      // The first ready is the connection itself; later ones follow an outage.
      if (!this.wasReady) {
        this.wasReady = true;
        return;
      }
      const channels = [...this.handlers.keys()];
      const confirmed = channels.length === 0 ? Promise.resolve() : this.sub.subscribe(...channels);
      confirmed.then(
        () => {
          this.isSynced = true;
          for (const f of this.resync) f();
        },
        () => {
          // The connection went again: the next 'ready' tries anew.
        },
      );
    });
  }

  /** Whether every channel is subscribed on a live connection (false while resubscribing after an outage). */
  get synced(): boolean {
    return this.isSynced && this.sub.status === 'ready';
  }

  /** Calls `handler` with every message of `channel` from now on; resolves once Redis confirmed it. */
  async on(channel: string, handler: BusHandler): Promise<void> {
    let set = this.handlers.get(channel);
    const first = set === undefined;
    if (set === undefined) this.handlers.set(channel, (set = new Set()));
    set.add(handler);
    if (!first) return;
    try {
      await this.sub.subscribe(channel);
    } catch (e) {
      this.off(channel, handler);
      throw e;
    }
  }

  off(channel: string, handler: BusHandler): void {
    const set = this.handlers.get(channel);
    if (set === undefined || !set.delete(handler) || set.size !== 0) return;
    this.handlers.delete(channel);
    // Unreachable Redis: ioredis resubscribes only to what is still subscribed; nothing else to undo.
    void this.sub.unsubscribe(channel).catch(() => {});
  }

  /** `f` runs after the subscriber connection came back from an outage. */
  onResync(f: () => void): () => void {
    this.resync.add(f);
    return () => this.resync.delete(f);
  }

  /** Channels subscribed now (for tests and close checks). */
  get channels(): number {
    return this.handlers.size;
  }
}
