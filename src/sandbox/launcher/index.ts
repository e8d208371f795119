// The sandbox process launcher (docs/sandbox-launcher.md): the contract in types.ts, implemented by the
// addon (native.ts) and by child_process.spawn plus util-linux wrappers (js.ts). getLauncher() picks native
// when the addon loads and has the sandbox functions, else js; FASTERMCP_FORCE_JS=1 keeps the addon from
// loading, so it gives js.
import { loadNative } from '../../native.js';
import { JsLauncher } from './js.js';
import { NativeLauncher } from './native.js';
import type { HostFeatures, Launcher } from './types.js';

export type { ExitInfo, HostFeatures, LaunchSpec, Launched, Launcher, ProcessLimits } from './types.js';
export { JsLauncher } from './js.js';
export { NativeLauncher } from './native.js';
export { cgroupV1Dirs, cpuMicrosFromStat } from './proc.js';

let chosen: Launcher | undefined;
let host: HostFeatures | undefined;

/** The native launcher when the addon has the sandbox binding, else the js one. One per process. */
export function getLauncher(): Launcher {
  if (chosen === undefined) {
    const binding = loadNative();
    chosen = binding !== null && typeof binding.sandboxLaunch === 'function' ? new NativeLauncher(binding) : new JsLauncher();
  }
  return chosen;
}

/** getLauncher().probe(), found once (it forks throwaway children and makes a probe cgroup). */
export function probeHost(): HostFeatures {
  host ??= getLauncher().probe();
  return host;
}
