// The response text of a result. Most tools/call results are `{ content: [{ type: 'text', text }] }`,
// and writing that shape from a template costs a fraction of JSON.stringify (which walks and checks
// every object generically: about 370 ns for that result on Node 20, 200 ns on Node 24, against
// under 100 ns here). Anything else, or anything unusual about that shape, goes to JSON.stringify,
// and the template is used only when its output is exactly what JSON.stringify would write.

import { writeResult } from '../jsonrpc/response.js';
import type { JsonObject } from './types.js';

// ES2024, in every Node this package supports (>= 20); the TypeScript lib here predates it.
declare global {
  interface String {
    isWellFormed(): boolean;
  }
}

const objectPrototype = Object.prototype as { toJSON?: unknown };
const arrayPrototype = Array.prototype as { toJSON?: unknown };

/**
 * The response `{"jsonrpc":"2.0","id":<idRaw>,"result":<JSON.stringify(result)>}`, faster for text
 * content. `members` (`,"key":value...`, or '') is JSON text appended inside the result: written by the
 * template directly, not sliced into the finished text (a slice would make V8 flatten and copy it).
 * For the usual text result the response is one expression: every `+` of a string is a node the
 * transport's write must walk to flatten the text it joined, and writing the envelope around a
 * finished result cost three more per reply.
 */
export function resultReply(idRaw: string, result: JsonObject, members = ''): string {
  return textContentReply(idRaw, result, members) ?? writeResult(idRaw, stringifyWith(result, members));
}

function stringifyWith(result: JsonObject, members: string): string {
  const json = JSON.stringify(result);
  if (members === '') return json;
  return json === '{}' ? '{' + members.slice(1) + '}' : json.slice(0, -1) + members + '}';
}

/** Strings up to this length are checked by hand; JSON.stringify's fixed cost dominates below it. */
const SHORT_STRING = 64;

/** Control characters: JSON.stringify escapes them. */
const CONTROL = /[\u0000-\u001f]/;

/**
 * Whether JSON.stringify(text) is just text in quotes: a short string with no quote, backslash,
 * control character or lone surrogate (JSON.stringify writes a surrogate pair as it is). Built-ins
 * that each scan the string natively: a loop over the characters in JS cost about 2 ns per character
 * on Node 20 (110 ns for a 50-character text), these together about 60 ns.
 */
function plainString(text: string): boolean {
  return text.length <= SHORT_STRING && text.indexOf('"') === -1 && text.indexOf('\\') === -1 && !CONTROL.test(text) && text.isWellFormed();
}

/** JSON.stringify(text) for a string. */
function jsonString(text: string): string {
  return plainString(text) ? '"' + text + '"' : JSON.stringify(text);
}

/**
 * Whether an object (already read once, see textContentReply) is one JSON.stringify writes as its own
 * enumerable keys, with no toJSON: its prototype is Object.prototype.
 */
function isPlain(value: object): boolean {
  return Object.getPrototypeOf(value) === Object.prototype;
}

/**
 * The response with `idRaw` around `{ content: [ { type, text }, ... ] }` with string `type` and `text`
 * and no other keys (plain objects, keys in that order), else undefined. for...in lists exactly the
 * keys JSON.stringify writes for an object whose prototype is Object.prototype (nothing enumerable is
 * inherited unless someone made Object.prototype enumerable-polluted, which the loop would see as an
 * extra key).
 */
function textContentReply(idRaw: string, result: JsonObject, members: string): string | undefined {
  if (typeof result !== 'object' || result === null || objectPrototype.toJSON !== undefined || arrayPrototype.toJSON !== undefined) return undefined;
  // Each object is read before its prototype is checked: the read's map check lets the optimizing
  // compiler fold Object.getPrototypeOf to a constant, which is otherwise a runtime call (about 2% of a
  // call's CPU for the three of them). The value read is used only when the object is plain; a
  // fallback's text is JSON.stringify's own.
  const content = result['content'];
  if (!isPlain(result)) return undefined;
  let keys = 0;
  for (const key in result) {
    if (key !== 'content' || ++keys > 1) return undefined;
  }
  if (!Array.isArray(content)) return undefined;
  const length = content.length;
  if (Object.getPrototypeOf(content) !== Array.prototype) return undefined;
  let json = '{"content":[';
  for (let i = 0; i < length; i++) {
    const block: unknown = content[i];
    if (typeof block !== 'object' || block === null) return undefined;
    const type = (block as Record<string, unknown>)['type'];
    if (!isPlain(block)) return undefined;
    let seen = 0;
    for (const key in block) {
      if (key !== (seen === 0 ? 'type' : 'text') || ++seen > 2) return undefined;
    }
    const text = (block as Record<string, unknown>)['text'];
    if (seen !== 2 || typeof type !== 'string' || typeof text !== 'string') return undefined;
    const plain = plainString(text);
    // The usual result, one plain text block, in as few pieces as possible: every piece is a string
    // the transport's write must later join.
    if (plain && type === 'text' && length === 1) {
      return '{"jsonrpc":"2.0","id":' + idRaw + ',"result":{"content":[{"type":"text","text":"' + text + (members === '' ? '"}]}}' : '"}]' + members + '}}');
    }
    json += (i === 0 ? '{"type":' : ',{"type":') + (type === 'text' ? '"text"' : jsonString(type)) + ',"text":' + (plain ? '"' + text + '"' : JSON.stringify(text)) + '}';
  }
  return writeResult(idRaw, json + ']' + members + '}');
}
