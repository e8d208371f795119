// The `npm start` demo (dist/demo.js, built by `npm run build:ts`; pretest does it) as a child process:
// valid and invalid NDJSON lines in, every reply checked byte for byte, with the engine the loader
// picks and again with FASTERMCP_FORCE_JS=1; both must answer identically.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const demo = fileURLToPath(new URL('../../dist/demo.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runDemo(input: string | string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
    const child = spawn(process.execPath, [demo], { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    // Several writes, so lines also arrive split across chunks.
    const chunks = Array.isArray(input) ? input : [input];
    (async () => {
      for (const c of chunks) {
        child.stdin.write(c);
        await new Promise((r) => setTimeout(r, 5));
      }
      child.stdin.end();
    })().catch(reject);
  });
}

const TOOLS = '{"tools":[{"name":"echo","description":"Returns its text argument.","inputSchema":{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}}]}';

// [line sent, reply expected or null for "no reply"]
const CASES: [string, string | null][] = [
  ['{"jsonrpc":"2.0","id":1,"method":"ping"}', '{"jsonrpc":"2.0","id":1,"result":{}}'],
  ['{"jsonrpc":"2.0","id":"list-1","method":"tools/list"}', `{"jsonrpc":"2.0","id":"list-1","result":${TOOLS}}`],
  [
    '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"héllo \\"x\\""}}}',
    '{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"héllo \\"x\\""}]}}',
  ],
  ['this is not json', '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: message is not valid JSON"}}'],
  ['{"jsonrpc":"2.0","id":4,', '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: message is not valid JSON"}}'],
  [
    '{"jsonrpc":"1.0","id":"a\\u0062","method":"ping"}',
    '{"jsonrpc":"2.0","id":"a\\u0062","error":{"code":-32600,"message":"Invalid Request: \\"jsonrpc\\" must be \\"2.0\\""}}',
  ],
  ['42', '{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: a JSON-RPC message must be an object"}}'],
  [
    '{"jsonrpc":"2.0","id":5,"method":"ping","id":6}',
    '{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: duplicate member name"}}',
  ],
  ['{"jsonrpc":"2.0","id":7,"method":"resources/list"}', '{"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"Method not found"}}'],
  [
    '{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"nope","arguments":{}}}',
    '{"jsonrpc":"2.0","id":8,"error":{"code":-32602,"message":"Unknown tool"}}',
  ],
  [
    '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo","arguments":{"text":1}}}',
    '{"jsonrpc":"2.0","id":9,"error":{"code":-32602,"message":"Invalid params: echo needs a string argument \\"text\\""}}',
  ],
  ['{"jsonrpc":"2.0","method":"notifications/initialized"}', null],
  ['   ', null],
  [
    '[{"jsonrpc":"2.0","id":10,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"},"x"]',
    '[{"jsonrpc":"2.0","id":10,"result":{}},{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: a JSON-RPC message must be an object"}}]',
  ],
  ['[]', '{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: empty batch"}}'],
  ['{"jsonrpc":"2.0","id":11,"result":{}}', null],
  // Still serving after all of the above, and a final line without LF is answered at end of input.
  ['{"jsonrpc":"2.0","id":12,"method":"ping"}', '{"jsonrpc":"2.0","id":12,"result":{}}'],
];

const expected = CASES.flatMap(([, reply]) => (reply === null ? [] : [reply]));
const allInput = CASES.map(([line]) => line).join('\n') + '\n{"jsonrpc":"2.0","id":"last","method":"ping"}';
const expectedAll = [...expected, '{"jsonrpc":"2.0","id":"last","result":{}}'];

function splitEvery(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

describe('npm start demo (dist/demo.js)', () => {
  it('is built', () => {
    expect(existsSync(demo), `${demo} is missing: run npm run build:ts`).toBe(true);
  });

  for (const mode of ['default', 'js'] as const) {
    const env = mode === 'js' ? { FASTERMCP_FORCE_JS: '1', FASTERMCP_REQUIRE_NATIVE: undefined } : {};

    it(`answers every line in order (${mode} engine)`, async () => {
      const run = await runDemo(allInput, env);
      expect(run.code).toBe(0);
      expect(run.stdout.split('\n')).toEqual([...expectedAll, '']);
      const active = /implementation=(native|js)/.exec(run.stderr)?.[1];
      if (mode === 'js') expect(active).toBe('js');
      else if (process.env.FASTERMCP_REQUIRE_NATIVE === '1') expect(active).toBe('native');
      else expect(['native', 'js']).toContain(active);
      if (mode === 'js' || active === 'native') expect(run.stderr).not.toContain('FASTERMCP_NATIVE_UNAVAILABLE');
    });

    it(`answers the same with lines split across chunks (${mode} engine)`, async () => {
      const run = await runDemo(splitEvery(allInput, 37), env);
      expect(run.code).toBe(0);
      expect(run.stdout.split('\n')).toEqual([...expectedAll, '']);
    });
  }

  it('exits quietly on empty input', async () => {
    const run = await runDemo('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
  });
});
