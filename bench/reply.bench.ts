// stdio reply writing micro-benchmark (docs/jsonrpc-engine.md section 8): ns per reply, in one run, for a
// turn of 512 tools/call text results made ready for the pipe (UTF-8 bytes), by
//   native           the addon's ReplyBuffer: textResult(idRaw, text) per reply, take() per turn (a Buffer)
//   js twin          src/transport/reply-buffer.ts JsReplyBuffer, then the string's UTF-8 (what a stream
//                    write of the joined string does)
//   JSON.stringify   the usual way: JSON.stringify of each response object, joined, then its UTF-8
// Texts: 55 ASCII characters (the load test's echo), the same with quotes and a newline (escapes), and 200
// characters of mostly non-ASCII text. Before timing, every contender writes each turn once and the bytes are
// compared; a mismatch stops the run. Each (text, contender) pair runs in a process of its own, rounds
// interleaved, as in bench/http1.bench.ts.
//
//   npm run bench -- reply                 writes bench/results/reply.md
//   npm run bench -- reply --node node24   the same on Node 24; bench/results/reply-node24.md
import { Bench } from 'tinybench';
import { median, resultsNameOrRerun, roundsOption, runIsolated } from './lib/isolated.js';
import { machineLines, table, writeResults } from './lib/report.js';
import { loadNative } from '../src/native.js';
import { JsReplyBuffer } from '../src/transport/reply-buffer.js';

const args = process.argv.slice(2);
const resultName = resultsNameOrRerun('reply', args);
const TURN = 512;

const TEXTS = {
  'ASCII, 55 chars': 'The quick brown fox jumps over the lazy dog 0123456789.',
  'escapes, 55 chars': 'He said "stop" \\ then\nleft; the dog\tslept on, 0123456.',
  'non-ASCII, 200 chars': 'Größe überprüfen: 中文字符和日本語のテキスト 😀 '.repeat(5).slice(0, 200),
} as const;
type TextName = keyof typeof TEXTS;
const TEXT_NAMES = Object.keys(TEXTS) as TextName[];
const CONTENDERS = ['native', 'js twin', 'JSON.stringify'] as const;
type Contender = (typeof CONTENDERS)[number];

const IDS = Array.from({ length: TURN }, (_, i) => String(1000 + i));

/** Writes one turn's bytes; each contender keeps its buffer from turn to turn, as the transport does. */
function writer(who: Contender): (text: string) => Uint8Array {
  if (who === 'native') {
    const buffer = new (loadNative()!.ReplyBuffer)();
    return (text) => {
      for (let i = 0; i < TURN; i++) buffer.textResult(IDS[i]!, text);
      return buffer.take();
    };
  }
  if (who === 'js twin') {
    const buffer = new JsReplyBuffer();
    return (text) => {
      for (let i = 0; i < TURN; i++) buffer.textResult(IDS[i]!, text);
      return Buffer.from(buffer.take(), 'utf8');
    };
  }
  return (text) => {
    let out = '';
    for (let i = 0; i < TURN; i++) out += JSON.stringify({ jsonrpc: '2.0', id: Number(IDS[i]), result: { content: [{ type: 'text', text }] } }) + '\n';
    return Buffer.from(out, 'utf8');
  };
}

async function measure(textName: TextName, who: Contender): Promise<number | null> {
  if (who === 'native' && loadNative() === null) return null;
  const text = TEXTS[textName];
  const bench = new Bench({ time: 600, warmupTime: 200 });
  const turn = writer(who);
  let bytes = 0;
  bench.add(who, () => {
    bytes += turn(text).length;
  });
  await bench.run();
  if (bytes === 0) throw new Error(`${who}: nothing written`);
  const p50 = (bench.tasks[0]!.result as unknown as { latency: { p50: number } }).latency.p50 * 1e6;
  return p50 / TURN;
}

const pair = process.env.FASTERMCP_REPLY_PAIR;
if (pair !== undefined) {
  const [textName, who] = pair.split('\t') as [TextName, Contender];
  process.stdout.write(`${JSON.stringify({ ns: await measure(textName, who) })}\n`);
  process.exit(0);
}

// ---- check outputs before timing ------------------------------------------------------------------------------
const haveNative = loadNative() !== null;
for (const textName of TEXT_NAMES) {
  const reference = Buffer.from(writer('JSON.stringify')(TEXTS[textName]));
  for (const who of CONTENDERS) {
    if (who === 'native' && !haveNative) continue;
    const turn = writer(who);
    // Twice: the second turn reuses the buffer the first one emptied.
    for (let k = 0; k < 2; k++) {
      if (!reference.equals(Buffer.from(turn(TEXTS[textName])))) throw new Error(`bench: ${who} writes "${textName}" differently`);
    }
  }
}

// ---- run and report ---------------------------------------------------------------------------------------------
const ROUNDS = roundsOption(args, 3);
const samples = runIsolated('FASTERMCP_REPLY_PAIR', TEXT_NAMES.flatMap((t) => CONTENDERS.map((who) => [t, who] as const)), ROUNDS);
const result = (t: TextName, who: Contender): number => median(samples.get(`${t}\t${who}`)!);
const fmt = (ns: number) => (Number.isNaN(ns) ? '—' : `${ns.toFixed(0)} ns`);
const ratio = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? '—' : `${(a / b).toFixed(2)}x`);
const rows = CONTENDERS.map((who) => [
  who,
  ...TEXT_NAMES.map((t) => fmt(result(t, who))),
  ...TEXT_NAMES.map((t) => ratio(result(t, who), result(t, 'native'))),
]);
const md = [
  `# stdio reply writing: median ns per reply (p50 of turns of ${TURN} replies made into UTF-8 bytes; median of ${ROUNDS} rounds, each contender in its own process)`,
  '',
  ...machineLines(),
  `- texts: ${TEXT_NAMES.map((t) => `${t} (${Buffer.byteLength(TEXTS[t])} B of UTF-8)`).join(', ')}; every contender's bytes compared before timing`,
  '- native: one textResult crossing per reply and one take() per turn; js twin and JSON.stringify: the joined string and its UTF-8, as a stream write makes it',
  `- reproduce: \`npm run bench -- reply${resultName === 'reply' ? '' : ` --node ${resultName.slice(6)}`}\``,
  '',
  table(['contender', ...TEXT_NAMES, ...TEXT_NAMES.map((t) => `${t} / native`)], rows),
  '',
];
console.log(md.join('\n'));
console.log(`wrote ${writeResults(resultName, md.join('\n'), { node: process.version, results: Object.fromEntries([...samples].map(([k, v]) => [k, median(v)])) })}`);
