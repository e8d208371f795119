// Tasks end to end against `fastermcp serve --http 0` (the demo set, built dist/cli.js):
//   - every tasks-* scenario of the official conformance suite, one at a time and without
//     --spec-version (the extension scenarios then run at 2026-07-28): exit 0, no FAILURE, and every
//     check SUCCESS (tasks-status-notifications is a single SKIPPED check: the suite has not written it);
//   - 2025-11-25 experimental tasks with the official v1 SDK client's experimental.tasks API:
//     CreateTaskResult, polling, tasks/result, elicitation from a task, cancel, list.
//
// Needs `npm run build:ts` (dist/) and the node@24 devDependency (the suite needs Node >= 22).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, ElicitRequestSchema, TaskStatusNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist', 'cli.js');
const suite = join(root, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
const node24 = join(root, 'node_modules', 'node24', 'bin', 'node');

/** The extension scenarios scripts/conformance.mjs runs too (one list for both). */
const SCENARIOS = (JSON.parse(readFileSync(join(root, 'conformance', 'extension-scenarios.json'), 'utf8')) as { server: string[] }).server;

/** Check ids each scenario must report, all SUCCESS (alpha.12 of the suite). */
const EXPECTED_CHECKS: Record<string, string[]> = {
  'tasks-lifecycle': [
    'tasks-sync-tool-call',
    'sep-2663-result-type-task-on-create',
    'sep-2663-tasks-get-status-working',
    'sep-2663-tasks-get-status-completed',
    'sep-2663-tool-error-uses-completed-status',
    'sep-2663-tasks-get-status-failed',
    'sep-2663-cancel-ack-empty-result',
    'tasks-cancel-terminal-idempotent-ack',
    'wire-schema-valid',
  ],
  'tasks-capability-negotiation': [
    'tasks-extension-advertised',
    'sep-2663-tasks-methods-non-declaring',
    'sep-2663-server-rejects-undeclared-client',
    'tasks-per-request-meta-opt-in',
    'wire-schema-valid',
  ],
  'tasks-wire-fields': ['tasks-wire-field-renames', 'tasks-no-early-ttl-expiry', 'tasks-no-related-task-meta-on-inlined-result', 'wire-schema-valid'],
  'tasks-request-state-removal': ['tasks-create-result-no-request-state', 'tasks-get-detailed-no-request-state', 'wire-schema-valid'],
  'tasks-mrtr-input': ['sep-2663-tasks-get-status-input-required', 'tasks-mrtr-tasks-update-resumes', 'tasks-mrtr-partial-fulfillment', 'wire-schema-valid'],
  'tasks-request-headers': [
    'tasks-headers-tolerate-mcp-method-on-tools-call',
    'sep-2663-routing-headers-accepted-on-tasks-get',
    'tasks-headers-reject-mismatched-method',
    'sep-2663-server-rejects-mismatched-mcp-name-on-tasks-get',
    'wire-schema-valid',
  ],
  'tasks-dispatch-and-envelope': [
    'sep-2663-tasks-result-removed-method-not-found',
    'tasks-removed-tasks-list',
    'tasks-server-directed-creation-no-hint',
    'sep-2663-legacy-task-param-ignored',
    'tasks-immediate-result-shortcut',
    'tasks-result-type-complete-on-non-task-responses',
    'sep-2663-durable-create-strong-consistency',
    'sep-2663-tasks-get-invalid-task-id-32602',
    'wire-schema-valid',
  ],
  'tasks-status-notifications': [],
  'tasks-required-task-error': ['sep-2663-server-returns-missing-capability-when-required', 'sep-2663-server-returns-missing-capability-data-shape', 'wire-schema-valid'],
  'tasks-mrtr-composition': ['sep-2663-mrtr-synchronous-before-task-creation', 'wire-schema-valid'],
};

interface Check {
  id: string;
  status: string;
  errorMessage?: string;
}

let server: ChildProcess;
let url: string;
let out: string;

/** Starts the demo server; resolves with its URL. */
function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [cli, 'serve', '--http', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const m = /serving MCP on (http:\/\/\S+)/.exec(stdout);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before serving: ${stderr}`)));
  });
}

/** Runs one conformance scenario; resolves with its exit code, output and checks.json. */
function runScenario(scenario: string): Promise<{ code: number | null; output: string; checks: Check[] }> {
  const dir = join(out, scenario);
  const child = spawn(node24, [suite, 'server', '--url', url, '--scenario', scenario, '-o', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${scenario} did not finish within 90 s:\n${output}`));
    }, 90_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      // The suite writes DIR/server-<scenario>-<timestamp>/checks.json.
      const runs = existsSync(dir) ? readdirSync(dir).filter((d) => d.startsWith(`server-${scenario}-`)) : [];
      const checks = runs.length === 1 ? (JSON.parse(readFileSync(join(dir, runs[0]!, 'checks.json'), 'utf8')) as Check[]) : [];
      resolve({ code, output, checks });
    });
  });
}

beforeAll(async () => {
  expect(existsSync(cli), 'dist/cli.js is missing: run npm run build:ts').toBe(true);
  expect(existsSync(suite), 'the conformance suite is missing: run npm ci').toBe(true);
  expect(existsSync(node24), 'the node@24 binary is missing: run npm rebuild node24').toBe(true);
  out = mkdtempSync(join(tmpdir(), 'fastermcp-tasks-'));
  ({ child: server, url } = await startServer());
});

afterAll(() => {
  server?.kill();
  if (out !== undefined) rmSync(out, { recursive: true, force: true });
});

describe('conformance tasks-* scenarios (2026-07-28 extension io.modelcontextprotocol/tasks)', () => {
  it('expects checks for exactly the scenarios conformance/extension-scenarios.json lists', () => {
    expect(Object.keys(EXPECTED_CHECKS).sort()).toEqual([...SCENARIOS].sort());
  });

  it.each(SCENARIOS)('%s passes', async (scenario) => {
    const { code, output, checks } = await runScenario(scenario);
    expect(output, output).not.toMatch(/FAILURE/);
    expect(code, output).toBe(0);
    if (scenario === 'tasks-status-notifications') {
      expect(checks.map((c) => [c.id, c.status])).toEqual([['tasks-status-notifications', 'SKIPPED']]);
      return;
    }
    const failing = checks.filter((c) => c.status !== 'SUCCESS');
    expect(failing, JSON.stringify(failing, null, 2)).toEqual([]);
    expect(checks.map((c) => c.id).sort()).toEqual([...EXPECTED_CHECKS[scenario]].sort());
  }, 120_000);
});

describe('2025-11-25 experimental tasks with the v1 SDK client', () => {
  async function connect(elicitAnswer?: Record<string, unknown>): Promise<{ client: Client; statuses: string[] }> {
    const client = new Client({ name: 'tasks-test', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    const statuses: string[] = [];
    client.setNotificationHandler(TaskStatusNotificationSchema, (n) => void statuses.push(n.params.status));
    client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: elicitAnswer ?? {} }));
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    return { client, statuses };
  }

  /** Every message of a task-augmented call, by type. */
  async function callAsTask(client: Client, name: string, args: Record<string, unknown>): Promise<Record<string, any>[]> {
    const messages: Record<string, any>[] = [];
    for await (const message of client.experimental.tasks.callToolStream({ name, arguments: args }, CallToolResultSchema, { task: { ttl: 60_000 } })) {
      messages.push(message as Record<string, any>);
    }
    return messages;
  }

  it('declares tasks and runs a tool as a task to its result', async () => {
    const { client, statuses } = await connect();
    try {
      expect(client.getServerCapabilities()?.tasks).toEqual({ list: {}, cancel: {}, requests: { tools: { call: {} } } });
      const messages = await callAsTask(client, 'slow_compute', { seconds: 0.2, label: 'sdk' });
      expect(messages[0]).toMatchObject({ type: 'taskCreated', task: { status: 'working', ttl: 60_000 } });
      const taskId = messages[0]!['task'].taskId as string;
      const last = messages[messages.length - 1]!;
      expect(last).toMatchObject({ type: 'result', result: { content: [{ type: 'text', text: 'Computed sdk after 0.2 s' }] } });
      expect(last['result']._meta['io.modelcontextprotocol/related-task']).toEqual({ taskId });
      expect(statuses).toContain('completed');
      const listed = await client.experimental.tasks.listTasks();
      expect(listed.tasks.map((t) => t.taskId)).toContain(taskId);
    } finally {
      await client.close();
    }
  });

  it('asks the user from inside a task (elicitation on the tasks/result stream)', async () => {
    const { client } = await connect({ confirm: true });
    try {
      const messages = await callAsTask(client, 'confirm_delete', { filename: 'notes.txt' });
      expect(messages[messages.length - 1]).toMatchObject({ type: 'result', result: { content: [{ type: 'text', text: 'Deleted notes.txt' }] } });
    } finally {
      await client.close();
    }
  });

  it('refuses a required task tool called without a task, and cancels a running task', async () => {
    const { client } = await connect();
    try {
      await expect(client.callTool({ name: 'failing_job', arguments: {} })).rejects.toMatchObject({ code: -32601 });
      const stream = client.experimental.tasks.callToolStream({ name: 'slow_compute', arguments: { seconds: 60 } }, CallToolResultSchema, { task: { ttl: 60_000 } });
      const created = (await stream.next()).value as Record<string, any>;
      const taskId = created['task'].taskId as string;
      const cancelled = await client.experimental.tasks.cancelTask(taskId);
      expect(cancelled).toMatchObject({ taskId, status: 'cancelled' });
      await expect(client.experimental.tasks.cancelTask(taskId)).rejects.toMatchObject({ code: -32602 });
      await stream.return(undefined);
    } finally {
      await client.close();
    }
  });
});
