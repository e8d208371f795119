// The worker pool's waiting line: one FIFO per caller, served round-robin, so a caller who floods the
// pool waits behind its own calls and not in front of everyone else's. Pure data structure: no timers,
// no threads. push, shift and remove are O(1) (doubly linked lists: a cancelled call leaves at once,
// so cancelled calls never pile up inside the bound).
//
// Serving order: the callers with waiting items form a ring in order of arrival. shift() takes the
// oldest item of the caller at the head of the ring and moves that caller to the tail (or drops it
// when it has nothing left). A caller arriving while another has 200 items waiting is therefore
// served second.

/** What push() returns: the handle remove() takes. */
export interface QueueNode<T> {
  readonly value: T;
}

interface Node<T> extends QueueNode<T> {
  bucket: Bucket<T> | undefined; // undefined once shifted or removed
  prev: Node<T> | undefined;
  next: Node<T> | undefined;
}

interface Bucket<T> {
  readonly key: string;
  head: Node<T> | undefined;
  tail: Node<T> | undefined;
  size: number;
  prev: Bucket<T> | undefined;
  next: Bucket<T> | undefined;
}

export class FairQueue<T> {
  private readonly buckets = new Map<string, Bucket<T>>();
  private ringHead: Bucket<T> | undefined;
  private ringTail: Bucket<T> | undefined;
  private total = 0;

  /** Items waiting, over every caller. */
  get size(): number {
    return this.total;
  }

  /** Callers with items waiting. */
  get callers(): number {
    return this.buckets.size;
  }

  /** Items waiting for `key`. */
  sizeOf(key: string): number {
    return this.buckets.get(key)?.size ?? 0;
  }

  /** Appends `value` to the line of `key`; a caller new to the queue joins the ring at its tail. */
  push(key: string, value: T): QueueNode<T> {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { key, head: undefined, tail: undefined, size: 0, prev: undefined, next: undefined };
      this.buckets.set(key, bucket);
      this.ringAppend(bucket);
    }
    const node: Node<T> = { value, bucket, prev: bucket.tail, next: undefined };
    if (bucket.tail === undefined) bucket.head = node;
    else bucket.tail.next = node;
    bucket.tail = node;
    bucket.size++;
    this.total++;
    return node;
  }

  /** The next item in round-robin order, or undefined when nothing waits. */
  shift(): T | undefined {
    const bucket = this.ringHead;
    if (bucket === undefined) return undefined;
    const node = bucket.head!;
    this.unlink(bucket, node);
    // The caller just served goes to the back of the ring (unlink dropped it if it is now empty).
    if (bucket.size > 0 && bucket !== this.ringTail) {
      this.ringRemove(bucket);
      this.ringAppend(bucket);
    }
    return node.value;
  }

  /** Takes `handle` out of the queue; false when it was already shifted or removed. */
  remove(handle: QueueNode<T>): boolean {
    const node = handle as Node<T>;
    const bucket = node.bucket;
    if (bucket === undefined) return false;
    this.unlink(bucket, node);
    return true;
  }

  /** Empties the queue and returns what was waiting, in serving order. */
  drain(): T[] {
    const out: T[] = [];
    for (let v = this.shift(); v !== undefined; v = this.shift()) out.push(v);
    return out;
  }

  private unlink(bucket: Bucket<T>, node: Node<T>): void {
    if (node.prev === undefined) bucket.head = node.next;
    else node.prev.next = node.next;
    if (node.next === undefined) bucket.tail = node.prev;
    else node.next.prev = node.prev;
    node.bucket = node.prev = node.next = undefined;
    bucket.size--;
    this.total--;
    if (bucket.size === 0) {
      this.ringRemove(bucket);
      this.buckets.delete(bucket.key);
    }
  }

  private ringAppend(bucket: Bucket<T>): void {
    bucket.prev = this.ringTail;
    bucket.next = undefined;
    if (this.ringTail === undefined) this.ringHead = bucket;
    else this.ringTail.next = bucket;
    this.ringTail = bucket;
  }

  private ringRemove(bucket: Bucket<T>): void {
    if (bucket.prev === undefined) this.ringHead = bucket.next;
    else bucket.prev.next = bucket.next;
    if (bucket.next === undefined) this.ringTail = bucket.prev;
    else bucket.next.prev = bucket.prev;
    bucket.prev = bucket.next = undefined;
  }
}
