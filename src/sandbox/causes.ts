// Why a sandboxed call failed, and the tool result that says so. Every way a call can end maps to one
// cause; every cause has a local error code (STYLE.md section 5, family 3) and a one-sentence text.
import type { ExitInfo } from './launcher/types.js';
import type { CallToolResult, JsonObject } from '../server/types.js';

export type Cause =
  | 'timeout' ///< the wall-clock watchdog killed the process group
  | 'cpu_limit' ///< the call used more than cpuMs of CPU (per-call check or RLIMIT_CPU's SIGXCPU)
  | 'memory_limit' ///< V8 heap OOM, a failed ArrayBuffer allocation, RLIMIT_DATA or the cgroup OOM killer
  | 'output_limit' ///< stdout+stderr over outputBytes, or a result over resultBytes
  | 'crashed' ///< the process exited or was killed by a signal mid-call, or broke the protocol
  | 'cancelled' ///< the client cancelled the call; the process was killed
  | 'overloaded' ///< every process was busy and the queue was full
  | 'unavailable' ///< the tool's processes keep failing at startup; the sandbox stopped starting them
  | 'error' ///< the handler threw (an ordinary tool error; the process is kept)
  | `denied:${string}`; ///< a refused operation: fs, network, spawn, worker, addon, binding, kill

export const SANDBOX_ERROR_CODES: Record<string, string> = {
  timeout: 'MCP_SANDBOX_TIMEOUT', // The call ran past wallMs.
  cpu_limit: 'MCP_SANDBOX_CPU_LIMIT', // The call used more than cpuMs of CPU.
  memory_limit: 'MCP_SANDBOX_OOM', // The process ran out of its memory limit.
  output_limit: 'MCP_SANDBOX_OUTPUT_LIMIT', // Too much output or too big a result.
  crashed: 'MCP_SANDBOX_CRASHED', // The process died or broke the protocol mid-call.
  cancelled: 'MCP_SANDBOX_CANCELLED', // The caller cancelled the call.
  overloaded: 'MCP_SANDBOX_OVERLOADED', // The tool's queue is full.
  unavailable: 'MCP_SANDBOX_UNAVAILABLE', // The tool cannot be started.
  error: 'MCP_SANDBOX_TOOL_ERROR', // The tool's handler threw.
  denied: 'MCP_SANDBOX_DENIED', // The sandbox refused an operation.
};

export function errorCode(cause: Cause): string {
  return SANDBOX_ERROR_CODES[cause.startsWith('denied:') ? 'denied' : cause] ?? 'MCP_SANDBOX_CRASHED';
}

/** Causes a runner may claim in a reply; anything else it sends is read as `error`. */
export function isRunnerCause(cause: string): cause is Cause {
  return cause === 'memory_limit' || cause === 'output_limit' || cause === 'crashed' || /^denied:[a-z_]{1,40}$/.test(cause);
}

/** What a failed call's text says, e.g. "sandbox: timeout after 500 ms wall clock". */
export function causeText(cause: Cause, detail: string): string {
  return `sandbox: ${cause}${detail === '' ? '' : ` ${detail}`}`;
}

/** The isError tool result for a failed call: the text names the cause; structuredContent and _meta carry it. */
export function failureResult(tool: string, cause: Cause, detail: string, extra: JsonObject = {}): CallToolResult {
  const sandbox = { tool, cause, code: errorCode(cause), ...extra };
  return {
    content: [{ type: 'text', text: causeText(cause, detail) }],
    isError: true,
    structuredContent: { sandbox },
    _meta: { sandbox },
  };
}

/**
 * V8's fatal heap OOM lines and the allocator's failure messages node prints before aborting. The
 * native stack trace after them can run past any fixed tail, so stderr is scanned as it arrives.
 */
export const OOM_STDERR = /out of memory|Reached heap limit|Array buffer allocation failed|FatalProcessOutOfMemory|MemoryChunk allocation failed|Allocation failed|std::bad_alloc|Cannot allocate memory/;

export interface ExitFacts {
  info: ExitInfo;
  /** The last bytes the process wrote to stderr. */
  stderrTail: string;
  /** An OOM message went by on stderr (OOM_STDERR, matched while it streamed). */
  oomSeen?: boolean;
  /** The memory cgroup saw its limit hit or its OOM killer ran. */
  cgroupMemoryExceeded: boolean;
  /** The most memory the process used (cgroup peak, else wait4's max RSS), or null when unknown. */
  peakBytes: number | null;
  /** Its memory limit (RLIMIT_DATA) in bytes. */
  memoryLimitBytes: number;
}

/** Signals a process gets when an allocation fails somewhere V8 does not check (a failed mmap, a NULL from malloc). */
const ALLOCATION_CRASH = new Set(['SIGSEGV', 'SIGBUS', 'SIGABRT', 'SIGTRAP', 'SIGILL']);
/** A crash with this share of the memory limit in use is taken for an allocation failure. */
const NEAR_LIMIT = 0.85;

/** The cause of an exit nobody asked for (no watchdog, cancel or output kill came first), and its detail. */
export function classifyExit(facts: ExitFacts): { cause: Cause; detail: string } {
  const { info } = facts;
  const how = info.signal !== null ? `was killed by ${info.signal}` : `exited with status ${String(info.exitCode)}`;
  if (info.signal === 'SIGXCPU') return { cause: 'cpu_limit', detail: `the process reached its RLIMIT_CPU (it ${how})` };
  if (facts.oomSeen === true || OOM_STDERR.test(facts.stderrTail)) return { cause: 'memory_limit', detail: `the process ran out of memory (it ${how})` };
  if (facts.cgroupMemoryExceeded) return { cause: 'memory_limit', detail: `the process hit its cgroup memory limit (it ${how})` };
  if (info.signal !== null && ALLOCATION_CRASH.has(info.signal) && facts.peakBytes !== null && facts.peakBytes >= NEAR_LIMIT * facts.memoryLimitBytes) {
    const mib = (n: number): string => `${Math.round(n / 1048576)} MiB`;
    return { cause: 'memory_limit', detail: `the process crashed at its memory limit (it ${how} with ${mib(facts.peakBytes)} in use of ${mib(facts.memoryLimitBytes)})` };
  }
  if (info.signal === 'SIGXFSZ') return { cause: 'crashed', detail: `the process wrote past its file size limit (it ${how})` };
  return { cause: 'crashed', detail: `the process ${how} mid-call` };
}
