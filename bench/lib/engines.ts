// The engines the micro-benchmarks read stdio's requests with: native or the JS twin, each with a router that
// knows every MCP method (what a stdio transport makes) and the default limits.
import { DEFAULT_LIMITS } from '../../src/jsonrpc/index.js';
import type { Engine } from '../../src/jsonrpc/index.js';
import { JsEngine, JsRouter } from '../../src/jsonrpc/js.js';
import { NativeEngine, NativeRouter } from '../../src/jsonrpc/native.js';
import { loadNative } from '../../src/native.js';
import { methodRouter } from '../../src/transport/intake.js';

/** A native engine (the addon must have loaded) or the JS twin's. */
export function methodEngine(native: boolean): Engine {
  if (native) {
    const binding = loadNative()!;
    return new NativeEngine(binding, methodRouter(new NativeRouter(binding)) as NativeRouter, DEFAULT_LIMITS);
  }
  return new JsEngine(methodRouter(new JsRouter()) as JsRouter, DEFAULT_LIMITS);
}
