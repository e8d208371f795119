// The control channel between the server and a sandbox runner (the child's fd 3): frames of a 4-byte
// little-endian length followed by that many bytes of UTF-8 JSON. The runner (child.ts) carries its
// own copy of this code because it is copied alone into the sandbox; test/unit/sandbox-protocol.test.ts
// checks the two agree.
//
// Messages:
//   child -> parent, once at start  {t:'ready', definition, cpu}      or {t:'load_error', error}
//   parent -> child, one at a time  {id, args}
//   child -> parent, the reply      {id, ok:true, result, cpu}        or {id, ok:false, error, code?, cause?, cpu}
// cpu is the runner's process.cpuUsage() total so far, {user, system} in microseconds, and its peak
// RSS {maxRss} in KiB.
// The parent treats every frame as untrusted: bounded length, parsed in a try, shape checked.

export const FRAME_HEADER_BYTES = 4;

/** Encodes one message as a frame. */
export function encodeFrame(message: unknown): Buffer {
  const json = JSON.stringify(message);
  const length = Buffer.byteLength(json);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
  frame.writeUInt32LE(length, 0);
  frame.write(json, FRAME_HEADER_BYTES, 'utf8');
  return frame;
}

export type FrameEvent = { kind: 'message'; value: unknown } | { kind: 'too_big'; length: number } | { kind: 'bad_json'; error: string };

/**
 * Splits a byte stream into frames. Holds at most one frame's bytes: a frame that declares more than
 * maxFrameBytes is reported (too_big) before any of it is buffered, and the decoder stops.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need = -1; // body length of the frame being read, -1 while reading a header
  private stopped = false;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly onFrame: (event: FrameEvent) => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.stopped) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < FRAME_HEADER_BYTES) return;
        const header = this.take(FRAME_HEADER_BYTES);
        this.need = header.readUInt32LE(0);
        if (this.need > this.maxFrameBytes) {
          this.stop();
          this.onFrame({ kind: 'too_big', length: this.need });
          return;
        }
      }
      if (this.buffered < this.need) return;
      const body = this.take(this.need);
      this.need = -1;
      let value: unknown;
      try {
        value = JSON.parse(body.toString('utf8'));
      } catch (e) {
        this.stop();
        this.onFrame({ kind: 'bad_json', error: (e as Error).message });
        return;
      }
      this.onFrame({ kind: 'message', value });
      if (this.stopped) return;
    }
  }

  stop(): void {
    this.stopped = true;
    this.chunks = [];
    this.buffered = 0;
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length === n) {
      this.chunks.shift();
      this.buffered -= n;
      return first;
    }
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return first.subarray(0, n);
    }
    const all = Buffer.concat(this.chunks, this.buffered);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.buffered -= n;
    return all.subarray(0, n);
  }
}

export interface CpuTotals {
  user: number;
  system: number;
  /** Peak RSS in KiB (getrusage ru_maxrss). */
  maxRss?: number;
}

export interface ReadyMessage {
  t: 'ready';
  definition: { name: string; title?: string; description?: string; inputSchema?: Record<string, unknown>; annotations?: Record<string, unknown> };
  cpu: CpuTotals;
}

export interface ReplyMessage {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
  code?: string;
  cause?: string;
  cpu: CpuTotals;
}

function isCpu(v: unknown): v is CpuTotals {
  const c = v as CpuTotals;
  return typeof c === 'object' && c !== null && Number.isFinite(c.user) && Number.isFinite(c.system) && c.user >= 0 && c.system >= 0;
}

/** A reply frame's shape, or a sentence saying what is wrong with it. */
export function checkReply(v: unknown): ReplyMessage | string {
  const m = v as ReplyMessage;
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return 'a reply must be a JSON object';
  if (!Number.isSafeInteger(m.id)) return 'a reply needs an integer id';
  if (typeof m.ok !== 'boolean') return 'a reply needs a boolean ok';
  if (!isCpu(m.cpu)) return 'a reply needs cpu {user, system}';
  if (!m.ok && typeof m.error !== 'string') return 'a failed reply needs an error string';
  if (m.cause !== undefined && typeof m.cause !== 'string') return 'cause must be a string';
  if (m.code !== undefined && typeof m.code !== 'string') return 'code must be a string';
  return m;
}

const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/** The first frame: a ready message with a usable definition, or a sentence saying why not. */
export function checkReady(v: unknown): ReadyMessage | string {
  const m = v as { t?: unknown; error?: unknown };
  if (typeof m !== 'object' || m === null) return 'the first frame must be a JSON object';
  if (m.t === 'load_error') return `the tool module failed to load: ${typeof m.error === 'string' ? m.error : 'unknown error'}`;
  if (m.t !== 'ready') return 'the first frame must be ready or load_error';
  const r = v as ReadyMessage;
  if (!isCpu(r.cpu)) return 'ready needs cpu {user, system}';
  const d = r.definition;
  if (typeof d !== 'object' || d === null) return 'the tool module must export a definition object';
  if (typeof d.name !== 'string' || !TOOL_NAME.test(d.name)) return `definition.name must be 1-128 characters of A-Z a-z 0-9 _ . -, got ${JSON.stringify(d.name)}`;
  if (d.description !== undefined && typeof d.description !== 'string') return 'definition.description must be a string';
  if (d.title !== undefined && typeof d.title !== 'string') return 'definition.title must be a string';
  if (d.inputSchema !== undefined && (typeof d.inputSchema !== 'object' || d.inputSchema === null || Array.isArray(d.inputSchema))) {
    return 'definition.inputSchema must be a JSON Schema object';
  }
  if (d.annotations !== undefined && (typeof d.annotations !== 'object' || d.annotations === null)) return 'definition.annotations must be an object';
  return r;
}
