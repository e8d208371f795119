// HTTP/1.1 request-head parsing for the Streamable HTTP fast lane (src/transport/http-lane.ts): the
// native parser (native/core/http1.cc) when the addon loads, else the pure-JS twin (src/http1/js.ts).
// Both fill the same fields (src/http1/types.ts) and follow the same rules (test/vectors/http1-head.json).
import { loadNative } from '../native.js';
import { JsHeadParser } from './js.js';
import { NativeHeadParser } from './native.js';
import { DEFAULT_MAX_HEAD_BYTES } from './types.js';
import type { HeadParser, HeadParserOptions } from './types.js';

export * from './types.js';
export { JsHeadParser } from './js.js';
export { NativeHeadParser } from './native.js';

export function createHeadParser(options: HeadParserOptions = {}): HeadParser {
  const maxHeadBytes = options.maxHeadBytes ?? DEFAULT_MAX_HEAD_BYTES;
  if (!Number.isInteger(maxHeadBytes) || maxHeadBytes < 16 || maxHeadBytes > 1 << 24) {
    throw new RangeError(`maxHeadBytes must be an integer from 16 to ${1 << 24}, got ${String(options.maxHeadBytes)}`);
  }
  const implementation = options.implementation ?? 'auto';
  if (implementation === 'js') return new JsHeadParser(maxHeadBytes);
  const binding = loadNative();
  if (binding === null) {
    if (implementation === 'native') throw new Error('The native addon is not available (see nativeLoadErrors())');
    return new JsHeadParser(maxHeadBytes);
  }
  return new NativeHeadParser(binding, maxHeadBytes);
}
