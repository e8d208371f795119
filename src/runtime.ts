// What this thread is running: the engine implementation createEngine() picks (native or js), the
// package version, and, for the addon, simdjson's kernel, the OpenSSL it resolved from the running
// node and the .node file that loaded. Load errors are listed either way (empty when native loaded
// at the first try).
import { implementation } from './jsonrpc/index.js';
import { loadNative, nativeBinaryPath, nativeLoadErrors, packageVersion } from './native.js';

export interface RuntimeInfo {
  /** The engine createEngine() builds in this thread. */
  implementation: 'native' | 'js';
  /** fastermcp's package version. */
  version: string;
  /** simdjson's active kernel (native only), e.g. "haswell". */
  simdjsonImplementation?: string;
  /** OpenSSL_version() as the addon resolved it from the running node (native only). */
  opensslVersion?: string;
  /** The .node file that loaded (native only). */
  binaryPath?: string;
  /** Every error met while loading the addon. */
  loadErrors: string[];
}

export function runtimeInfo(): RuntimeInfo {
  const info: RuntimeInfo = { implementation, version: packageVersion, loadErrors: nativeLoadErrors() };
  const binding = implementation === 'native' ? loadNative() : null;
  if (binding !== null) {
    info.simdjsonImplementation = binding.simdjsonImplementation;
    info.opensslVersion = binding.opensslVersion;
    const path = nativeBinaryPath();
    if (path !== null) info.binaryPath = path;
  }
  return info;
}
