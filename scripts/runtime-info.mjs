// Print what this Node process resolved: its version, the engine implementation, the .node file,
// simdjson's kernel and the OpenSSL the addon found in the running node. Uses the built dist/.
// Exits 1 when FASTERMCP_REQUIRE_NATIVE=1 and the addon did not load.
import { runtimeInfo } from '../dist/index.js';

const info = runtimeInfo();
console.log(
  `runtime-info: node ${process.version} (${process.execPath}) implementation=${info.implementation}` +
    ` openssl="${info.opensslVersion ?? '-'}" simdjson=${info.simdjsonImplementation ?? '-'}` +
    ` binary=${info.binaryPath ?? '-'}`,
);
if (info.loadErrors.length > 0) console.log(`runtime-info: load errors:\n  ${info.loadErrors.join('\n  ')}`);
if (process.env.FASTERMCP_REQUIRE_NATIVE === '1' && info.implementation !== 'native') process.exit(1);
