// Thin wrapper over the addon's HeadParser (native/binding/http1_binding.cc): the binding writes the
// fields (src/http1/types.ts) into the array handed to it once, at construction.
import type { NativeBinding } from '../native.js';
import { HEAD_FIELDS_LENGTH } from './types.js';
import type { HeadParser } from './types.js';

export class NativeHeadParser implements HeadParser {
  readonly implementation = 'native' as const;
  readonly fields = new Int32Array(HEAD_FIELDS_LENGTH);
  private readonly handle: { parse(buf: Uint8Array, start: number, end: number): number };

  constructor(binding: NativeBinding, maxHeadBytes: number) {
    this.handle = new binding.HeadParser(this.fields, maxHeadBytes);
  }

  parse(buf: Uint8Array, start: number, end: number): number {
    return this.handle.parse(buf, start, end);
  }
}
