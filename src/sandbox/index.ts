// The sandbox for untrusted tools (docs/sandbox.md): createSandbox() and its types.
export { Sandbox, createSandbox } from './parent.js';
export type { SandboxOptions, SandboxedTool, ToolMetrics } from './parent.js';
export { DEFAULT_SANDBOX_LIMITS } from './limits.js';
export type { SandboxAllow, SandboxLimits, SandboxToolOptions } from './limits.js';
export { SANDBOX_ERROR_CODES } from './causes.js';
export type { Cause } from './causes.js';
export type { CallRecord, PoolStats, ProcessEvent } from './pool.js';
export type { SandboxReport } from './report.js';
