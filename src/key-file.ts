// Reading a secret from a file (--jwt-secret-file, --state-key-file, --audit-key-file).
//
// A key typed or echoed into a file ends with a newline that is not part of the key; a key of random
// bytes (`head -c 32 /dev/urandom > F`) ends with 0x0a one time in 256, and that byte is part of it.
// So the newline is dropped only when the rest is text: valid UTF-8 with no control character but tab.
// A random 32-byte key both ends in 0x0a and passes that test about once in 10^13, so binary keys are
// read byte for byte and text keys as typed, and every process reading the same file gets the same key.
import { readFileSync } from 'node:fs';

/** A key file's content less the newline an editor or `echo` adds to a text key; binary content as it is. */
export function keyBytes(content: Buffer): Buffer {
  const n = content.length;
  if (n === 0 || content[n - 1] !== 0x0a) return content;
  const end = n >= 2 && content[n - 2] === 0x0d ? n - 2 : n - 1;
  const rest = content.subarray(0, end);
  return isText(rest) ? rest : content;
}

/** Reads a key file: its bytes, less the trailing newline of a text key (see keyBytes). */
export function readKeyFile(path: string): Buffer {
  return keyBytes(readFileSync(path));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

// Valid UTF-8 holding no control character but tab (C0 or DEL).
function isText(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if ((b < 0x20 && b !== 0x09) || b === 0x7f) return false;
  }
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}
