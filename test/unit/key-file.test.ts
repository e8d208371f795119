// Key files (src/key-file.ts): a text key's one trailing newline is dropped, every other byte is the
// key's, so `head -c 32 /dev/urandom > F` always gives a 32-byte key (it ends in 0x0a one time in 256).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keyBytes, readKeyFile } from '../../src/key-file.js';
import { readAuditKey } from '../../src/ops/audit-chain.js';

const dir = mkdtempSync(join(tmpdir(), 'fastermcp-key-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = (s: string): Buffer => Buffer.from(s, 'utf8');

// xorshift32: the same "random" keys on every run.
function bytesFrom(seed: number, n: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

describe('keyBytes', () => {
  it('drops the newline (LF or CRLF) that follows a text key', () => {
    expect(keyBytes(text('correct horse battery staple\n'))).toEqual(text('correct horse battery staple'));
    expect(keyBytes(text('correct horse battery staple\r\n'))).toEqual(text('correct horse battery staple'));
    expect(keyBytes(text('clé secrète\tavec tab\n'))).toEqual(text('clé secrète\tavec tab'));
    expect(keyBytes(text('no newline'))).toEqual(text('no newline'));
    expect(keyBytes(text('\n'))).toEqual(Buffer.alloc(0));
    expect(keyBytes(Buffer.alloc(0))).toEqual(Buffer.alloc(0));
  });

  it('drops one newline only: text followed by two is not a text key plus a newline', () => {
    expect(keyBytes(text('key\n\n'))).toEqual(text('key\n\n'));
  });

  it('keeps the final 0x0a of binary content: control bytes or bytes that are not UTF-8 before it', () => {
    const control = Buffer.concat([Buffer.from([0x00, 0x01, 0x1f, 0x7f]), text('abc'), Buffer.from([0x0a])]);
    expect(keyBytes(control)).toEqual(control);
    const notUtf8 = Buffer.from([0xff, 0xfe, 0x41, 0xc3, 0x28, 0x0a]);
    expect(keyBytes(notUtf8)).toEqual(notUtf8);
    const truncated = Buffer.from([0x41, 0xe2, 0x82, 0x0a]); // a three-byte sequence cut short
    expect(keyBytes(truncated)).toEqual(truncated);
  });

  it('returns every byte of 10,000 random 32-byte keys that end in 0x0a', () => {
    for (let seed = 1; seed <= 10_000; seed++) {
      const key = bytesFrom(seed * 2654435761, 32);
      key[31] = 0x0a;
      const got = keyBytes(key);
      if (got.length !== 32) expect.fail(`seed ${seed}: ${key.toString('hex')} read as ${got.length} bytes`);
    }
  });
});

describe('readKeyFile and readAuditKey', () => {
  it('read the file through keyBytes', () => {
    const binary = join(dir, 'binary.key');
    const key = Buffer.concat([bytesFrom(7, 31), Buffer.from([0x0a])]);
    key[0] = 0x00; // binary for certain
    writeFileSync(binary, key);
    expect(readKeyFile(binary)).toEqual(key);
    expect(readAuditKey(binary)).toEqual(key);
    const typed = join(dir, 'typed.key');
    writeFileSync(typed, 'k'.repeat(32) + '\r\n');
    expect(readKeyFile(typed)).toEqual(text('k'.repeat(32)));
    expect(readAuditKey(typed)).toEqual(text('k'.repeat(32)));
  });
});
