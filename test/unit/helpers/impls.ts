// The two engine implementations, side by side, for tests that run every case once per implementation
// (`for (const impl of IMPLS)`). Native is skipped with a visible message when the addon does not load,
// unless FASTERMCP_REQUIRE_NATIVE=1, in which case the suites fail.
import { loadNative, nativeLoadErrors } from '../../../src/native.js';
import type { NativeBinding } from '../../../src/native.js';
import { JsEngine, JsRouter } from '../../../src/jsonrpc/js.js';
import type { Engine, EngineLimits, NameTable, Router } from '../../../src/jsonrpc/js.js';
import { NativeEngine, NativeRouter } from '../../../src/jsonrpc/native.js';

export const DEFAULTS: EngineLimits = { maxMessageBytes: 4194304, maxDepth: 128, maxBatch: 1000, allowBatch: true };

const flag = (name: string): boolean => {
  const v = process.env[name];
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
};

/** FASTERMCP_REQUIRE_NATIVE=1: a missing addon fails the run instead of skipping. */
export const REQUIRE_NATIVE = flag('FASTERMCP_REQUIRE_NATIVE');

let binding: NativeBinding | null = null;
let loadProblem = '';
try {
  binding = loadNative();
  if (binding === null) loadProblem = nativeLoadErrors().join('; ');
} catch (err) {
  loadProblem = err instanceof Error ? err.message : String(err);
}

export const NATIVE_BINDING: NativeBinding | null = binding;
export const NATIVE_PROBLEM = loadProblem;

export interface Impl {
  name: 'native' | 'js';
  available: boolean;
  /** Why the implementation is unavailable (empty when available). */
  problem: string;
  router(): Router;
  engine(router: Router, limits?: Partial<EngineLimits>): Engine;
}

export const JS: Impl = {
  name: 'js',
  available: true,
  problem: '',
  router: () => new JsRouter(),
  engine: (router, limits) => new JsEngine(router as JsRouter, { ...DEFAULTS, ...limits }),
};

export const NATIVE: Impl = {
  name: 'native',
  available: binding !== null,
  problem: loadProblem,
  router: () => new NativeRouter(need()),
  engine: (router, limits) => new NativeEngine(need(), router as NativeRouter, { ...DEFAULTS, ...limits }),
};

function need(): NativeBinding {
  if (binding === null) throw new Error(`native addon unavailable: ${loadProblem}`);
  return binding;
}

export const IMPLS: readonly Impl[] = [NATIVE, JS];

if (binding === null && !REQUIRE_NATIVE) {
  console.warn(`[fastermcp tests] NATIVE ENGINE SKIPPED: the addon did not load (${loadProblem})`);
}

/** Routes in the shape of test/vectors/routes.json. */
export interface Routes {
  methods: Record<string, { slot: number; table?: number }>;
  names: Record<string, Record<string, number>>;
}

export function applyRoutes(router: Router, routes: Routes): void {
  for (const [method, { slot, table }] of Object.entries(routes.methods)) {
    router.setMethod(method, slot, table as NameTable | undefined);
  }
  for (const [table, names] of Object.entries(routes.names)) {
    for (const [name, slot] of Object.entries(names)) router.setName(Number(table) as NameTable, name, slot);
  }
}
