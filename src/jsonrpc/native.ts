// Thin wrapper over the addon's Router and Engine (docs/jsonrpc-engine.md section 10) with the same
// interface as js.ts. No logic: it only owns the records array and grows it when a call returns more
// records than fit (then copyRecords fills the grown one). The binding is given by the caller
// (index.ts gets it from src/native.ts, the only file that loads the .node).

import type { NativeBinding, NativeEngine as BindingEngine, NativeRouter as BindingRouter } from '../native.js';
import type { Engine, EngineLimits, NameTable, Router } from './js.js';
import { RECORD_STRIDE } from './records.js';
import { ArgumentKeys } from './arguments.js';
import type { ArgumentsRead } from './arguments.js';

export class NativeRouter implements Router {
  /** The addon's Router, handed to NativeEngine. */
  readonly handle: BindingRouter;

  constructor(binding: NativeBinding) {
    this.handle = new binding.Router();
  }

  setMethod(method: string, slot: number, table?: NameTable): void {
    this.handle.setMethod(method, slot, table ?? -1);
  }

  deleteMethod(method: string): boolean {
    return this.handle.deleteMethod(method);
  }

  setName(table: NameTable, name: string, slot: number): void {
    this.handle.setName(table, name, slot);
  }

  deleteName(table: NameTable, name: string): boolean {
    return this.handle.deleteName(table, name);
  }

  clear(): void {
    this.handle.clear();
  }
}

export class NativeEngine implements Engine {
  private readonly handle: BindingEngine;
  private out = new Int32Array(RECORD_STRIDE * 64);
  /** Member names by key id (the addon's ids), for readArguments. */
  private readonly keys = new ArgumentKeys();

  constructor(binding: NativeBinding, router: NativeRouter, limits: EngineLimits) {
    this.handle = new binding.Engine(router.handle, limits);
  }

  get records(): Int32Array {
    return this.out;
  }

  feed(chunk: Uint8Array): number {
    return this.fit(this.handle.feed(chunk, this.out));
  }

  end(): number {
    return this.fit(this.handle.end(this.out));
  }

  scan(message: Uint8Array): number {
    return this.fit(this.handle.scan(message, this.out));
  }

  carried(): Uint8Array {
    return this.handle.carried();
  }

  replies(): Uint8Array {
    return this.handle.replies();
  }

  reset(): void {
    this.handle.reset();
  }

  get readsArguments(): boolean {
    return true;
  }

  readArguments(source: Uint8Array): ArgumentsRead {
    const [values, table, keyCount] = this.handle.readArguments(source);
    // New names are fetched once each.
    const keys = this.keys;
    while (keys.names.length < keyCount) keys.add(this.handle.argumentKey(keys.names.length));
    return { values, table, keys: keys.names, assignable: keys.assignable };
  }

  idText(source: Uint8Array): string | null {
    return this.handle.idText(source);
  }

  get readsIds(): boolean {
    return true;
  }

  setAdmission(ruleSet: object | null, replies: readonly (readonly string[])[]): void {
    this.handle.setAdmission(ruleSet, replies);
  }

  setClient(client: string): void {
    this.handle.setClient(client);
  }

  /** Grows the records array when `count` records did not fit, and has the addon copy them again. */
  private fit(count: number): number {
    if (count * RECORD_STRIDE > this.out.length) {
      let length = this.out.length * 2;
      while (length < count * RECORD_STRIDE) length *= 2;
      this.out = new Int32Array(length);
      this.handle.copyRecords(this.out);
    }
    return count;
  }
}
