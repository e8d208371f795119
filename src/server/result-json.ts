// The response text of a result. Most tools/call results are `{ content: [{ type: 'text', text }] }`,
// and writing that shape from a template costs a fraction of JSON.stringify (which walks and checks
// every object generically: about 370 ns for that result on Node 20, 200 ns on Node 24, against
// under 100 ns here). Anything else, or anything unusual about that shape, goes to JSON.stringify,
// and the template is used only when its output is exactly what JSON.stringify would write.

import { writeResult } from '../jsonrpc/response.js';
import type { JsonObject } from './types.js';
import type { Reply } from './dispatch.js';

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
 * Whether `result` is `{ content: [ ... ] }` as JSON.stringify writes it by the template's rules: a plain
 * object whose only key is content, holding a plain array (see textContentReply). The content array, or
 * undefined.
 */
function contentOf(result: JsonObject): unknown[] | undefined {
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
  // Read, like the objects, before its prototype is checked; callers need the length anyway.
  content.length;
  if (Object.getPrototypeOf(content) !== Array.prototype) return undefined;
  return content;
}

/** A block's `text` when it is a plain `{ type, text }` with string members in that order, else undefined. */
function blockText(block: unknown): string | undefined {
  if (typeof block !== 'object' || block === null) return undefined;
  const type = (block as Record<string, unknown>)['type'];
  if (!isPlain(block)) return undefined;
  let seen = 0;
  for (const key in block) {
    if (key !== (seen === 0 ? 'type' : 'text') || ++seen > 2) return undefined;
  }
  const text = (block as Record<string, unknown>)['text'];
  if (seen !== 2 || typeof type !== 'string' || typeof text !== 'string') return undefined;
  return text;
}

/**
 * The text of the usual tools/call result, `{ content: [{ type: 'text', text }] }` (plain objects, keys
 * in that order, nothing else), whatever characters it holds; else undefined. Such a result's response
 * is textResultReply(idRaw, text, members).
 */
export function singleText(result: JsonObject): string | undefined {
  const content = contentOf(result);
  if (content === undefined || content.length !== 1) return undefined;
  const block = content[0];
  const text = blockText(block);
  return text !== undefined && (block as { type: string }).type === 'text' ? text : undefined;
}

/** The response to a result `{ content: [{ type: 'text', text }] }` (singleText), followed by `members`. */
export function textResultReply(idRaw: string, text: string, members: string): string {
  const quoted = plainString(text) ? '"' + text + '"' : JSON.stringify(text);
  return '{"jsonrpc":"2.0","id":' + idRaw + ',"result":{"content":[{"type":"text","text":' + quoted + (members === '' ? '}]}}' : '}]' + members + '}}');
}

/**
 * The response with `idRaw` around `{ content: [ { type, text }, ... ] }` with string `type` and `text`
 * and no other keys (plain objects, keys in that order), else undefined. for...in lists exactly the
 * keys JSON.stringify writes for an object whose prototype is Object.prototype (nothing enumerable is
 * inherited unless someone made Object.prototype enumerable-polluted, which the loop would see as an
 * extra key).
 */
function textContentReply(idRaw: string, result: JsonObject, members: string): string | undefined {
  const content = contentOf(result);
  if (content === undefined) return undefined;
  const length = content.length;
  let json = '{"content":[';
  for (let i = 0; i < length; i++) {
    const block = content[i];
    const text = blockText(block);
    if (text === undefined) return undefined;
    const type = (block as { type: string }).type;
    // The usual result, one text block: every piece is a string the transport's write must later join.
    if (type === 'text' && length === 1) return textResultReply(idRaw, text, members);
    json += (i === 0 ? '{"type":' : ',{"type":') + (type === 'text' ? '"text"' : jsonString(type)) + ',"text":' + jsonString(text) + '}';
  }
  return writeResult(idRaw, json + ']' + members + '}');
}

/**
 * The reply to the usual tools/call result, `{ content: [{ type: 'text', text }] }`, kept as its parts:
 * stdio's reply buffer writes them as bytes (natively: src/transport/reply-buffer.ts) and no JS string
 * of the response is ever built; other readers get `json`, made on first read.
 */
export class TextReply implements Reply {
  declare readonly idRaw: string;
  declare readonly text: string;
  /** 2026-07-28's result members (`,"key":value...`), or ''. */
  declare readonly members: string;
  declare readonly status: number;
  private declare written: string | undefined;

  constructor(idRaw: string, text: string, members: string) {
    this.idRaw = idRaw;
    this.text = text;
    this.members = members;
    this.status = 200;
    this.written = undefined;
  }

  get json(): string {
    return (this.written ??= textResultReply(this.idRaw, this.text, this.members));
  }
}
