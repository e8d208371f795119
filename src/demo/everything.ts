// The built-in demo set that `fastermcp serve` runs without a module: an `echo` tool, plus every
// tool, resource and prompt the official conformance suite asks a server to expose (their names
// and outputs are fixed by the suite's scenarios). It doubles as an example of the API.
import { McpError } from '../server/errors.js';
import type { McpServer } from '../server/server.js';
import type { JsonObject } from '../server/types.js';

/** A 1x1 red PNG. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

/** A 10 ms, 8 kHz, 8-bit mono WAV of silence. */
const WAV = ((): string => {
  const samples = 80;
  const b = Buffer.alloc(44 + samples, 0x80);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + samples, 4);
  b.write('WAVEfmt ', 8, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(8000, 24);
  b.writeUInt32LE(8000, 28);
  b.writeUInt16LE(1, 32);
  b.writeUInt16LE(8, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(samples, 40);
  return b.toString('base64');
})();

const NO_ARGS = { type: 'object', properties: {} };

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason instanceof Error ? signal.reason : new Error('Cancelled'));
    }, { once: true });
  });

const nameSchema = (message: string, field: string): JsonObject => ({
  message,
  requestedSchema: { type: 'object', properties: { [field]: { type: 'string' } }, required: [field] },
});

function textOf(answer: JsonObject): string {
  const content = answer['content'] as JsonObject | JsonObject[] | undefined;
  const first = Array.isArray(content) ? content[0] : content;
  return typeof first?.['text'] === 'string' ? first['text'] : JSON.stringify(answer);
}

/** Registers the demo set on `server`. */
export function registerDemo(server: McpServer): void {
  server.tool(
    'echo',
    {
      title: 'Echo',
      description: 'Returns its text argument.',
      inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    ({ text }: { text: string }) => ({ content: [{ type: 'text', text }] }),
  );

  // ---- tools of the conformance scenarios ----
  server.tool('test_simple_text', { description: 'Returns a fixed text', inputSchema: NO_ARGS }, () => 'This is a simple text response for testing.');
  server.tool('test_image_content', { description: 'Returns an image', inputSchema: NO_ARGS }, () => ({
    content: [{ type: 'image', data: PNG, mimeType: 'image/png' }],
  }));
  server.tool('test_audio_content', { description: 'Returns audio', inputSchema: NO_ARGS }, () => ({
    content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }],
  }));
  server.tool('test_embedded_resource', { description: 'Returns an embedded resource', inputSchema: NO_ARGS }, () => ({
    content: [{ type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } }],
  }));
  server.tool('test_multiple_content_types', { description: 'Returns text, image and resource', inputSchema: NO_ARGS }, () => ({
    content: [
      { type: 'text', text: 'Multiple content types test:' },
      { type: 'image', data: PNG, mimeType: 'image/png' },
      { type: 'resource', resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: '{"test":"data","value":123}' } },
    ],
  }));
  server.tool('test_tool_with_logging', { description: 'Logs three messages while it runs', inputSchema: NO_ARGS }, async (_args, ctx) => {
    ctx.log('info', 'Tool execution started');
    await sleep(50, ctx.signal);
    ctx.log('info', 'Tool processing data');
    await sleep(50, ctx.signal);
    ctx.log('info', 'Tool execution completed');
    return 'Tool with logging executed successfully';
  });
  server.tool('test_logging_tool', { description: 'Logs one message (only sent when the client asked for logs)', inputSchema: NO_ARGS }, (_args, ctx) => {
    ctx.log('info', 'test_logging_tool ran');
    return 'Logged';
  });
  server.tool('test_error_handling', { description: 'Always fails', inputSchema: NO_ARGS }, () => {
    throw new Error('This tool intentionally returns an error for testing');
  });
  server.tool('test_tool_with_progress', { description: 'Reports progress 0, 50, 100', inputSchema: NO_ARGS }, async (_args, ctx) => {
    ctx.progress(0, 100);
    await sleep(50, ctx.signal);
    ctx.progress(50, 100);
    await sleep(50, ctx.signal);
    ctx.progress(100, 100);
    return 'Progress tool completed';
  });
  server.tool(
    'test_sampling',
    { description: 'Asks the client model', inputSchema: { type: 'object', properties: { prompt: { type: 'string' } }, required: ['prompt'] } },
    async ({ prompt }: { prompt: string }, ctx) => {
      const answer = await ctx.sample({ messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 });
      return `LLM response: ${textOf(answer)}`;
    },
  );
  server.tool(
    'test_elicitation',
    { description: 'Asks the user', inputSchema: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] } },
    async ({ message }: { message: string }, ctx) => {
      const answer = await ctx.elicit({
        message,
        requestedSchema: {
          type: 'object',
          properties: {
            username: { type: 'string', description: "User's response" },
            email: { type: 'string', description: "User's email address" },
          },
          required: ['username', 'email'],
        },
      });
      return `User response: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`;
    },
  );
  server.tool('test_elicitation_sep1034_defaults', { description: 'Elicitation with defaults', inputSchema: NO_ARGS }, async (_args, ctx) => {
    const answer = await ctx.elicit({
      message: 'Please review and update the form fields with defaults',
      requestedSchema: {
        type: 'object',
        properties: {
          name: { type: 'string', description: 'User name', default: 'John Doe' },
          age: { type: 'integer', description: 'User age', default: 30 },
          score: { type: 'number', description: 'User score', default: 95.5 },
          status: { type: 'string', description: 'User status', enum: ['active', 'inactive', 'pending'], default: 'active' },
          verified: { type: 'boolean', description: 'Verification status', default: true },
        },
        required: [],
      },
    });
    return `Elicitation completed: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`;
  });
  server.tool('test_elicitation_sep1330_enums', { description: 'Elicitation with every enum form', inputSchema: NO_ARGS }, async (_args, ctx) => {
    const answer = await ctx.elicit({
      message: 'Please select options from the enum fields',
      requestedSchema: {
        type: 'object',
        properties: {
          untitledSingle: { type: 'string', description: 'Untitled single-select', enum: ['option1', 'option2', 'option3'] },
          titledSingle: {
            type: 'string',
            description: 'Titled single-select',
            oneOf: [
              { const: 'value1', title: 'First Option' },
              { const: 'value2', title: 'Second Option' },
              { const: 'value3', title: 'Third Option' },
            ],
          },
          legacyEnum: {
            type: 'string',
            description: 'Legacy titled enum',
            enum: ['opt1', 'opt2', 'opt3'],
            enumNames: ['Option One', 'Option Two', 'Option Three'],
          },
          untitledMulti: {
            type: 'array',
            description: 'Untitled multi-select',
            items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
          },
          titledMulti: {
            type: 'array',
            description: 'Titled multi-select',
            items: {
              anyOf: [
                { const: 'value1', title: 'First Choice' },
                { const: 'value2', title: 'Second Choice' },
                { const: 'value3', title: 'Third Choice' },
              ],
            },
          },
        },
        required: [],
      },
    });
    return `Elicitation completed: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`;
  });
  server.tool(
    'json_schema_2020_12_tool',
    {
      description: 'Tool with JSON Schema 2020-12 features',
      inputSchema: {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        $defs: { address: { $anchor: 'addressDef', type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } } },
        properties: {
          name: { type: 'string' },
          address: { $ref: '#/$defs/address' },
          contactMethod: { type: 'string', enum: ['phone', 'email'] },
          phone: { type: 'string' },
          email: { type: 'string' },
        },
        allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
        if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
        then: { required: ['phone'] },
        else: { required: ['email'] },
        additionalProperties: false,
      },
    },
    (args: JsonObject) => `Received: ${JSON.stringify(args)}`,
  );

  server.tool('test_reconnection', { description: 'Closes its SSE stream mid-call; the result arrives after the client resumes', inputSchema: NO_ARGS }, async (_args, ctx) => {
    await sleep(50, ctx.signal);
    ctx.closeSseStream();
    await sleep(100, ctx.signal);
    return 'Reconnection test completed';
  });
  server.tool(
    'test_header_param',
    {
      description: 'Takes a region that travels as the Mcp-Param-Region header too (2026-07-28)',
      inputSchema: { type: 'object', properties: { region: { type: 'string', 'x-mcp-header': 'Region' } }, required: ['region'] },
    },
    ({ region }: { region: string }) => `Region: ${region}`,
  );

  // 2026-07-28 diagnostics
  server.tool('test_missing_capability', { description: 'Needs the sampling capability', inputSchema: NO_ARGS }, async (_args, ctx) => {
    const answer = await ctx.sample({ messages: [{ role: 'user', content: { type: 'text', text: 'ping' } }], maxTokens: 10 });
    return textOf(answer);
  });
  server.tool('test_streaming_elicitation', { description: 'Asks for input mid-call', inputSchema: NO_ARGS }, async (_args, ctx) => {
    ctx.progress(0, 1, 'asking');
    const answer = await ctx.elicit(nameSchema('What is your name?', 'name'), 'user_name');
    return `Hello, ${String(answer.content?.['name'] ?? 'stranger')}!`;
  });
  let toggles = 0;
  server.tool('test_trigger_tool_change', { description: 'Changes the tool list', inputSchema: NO_ARGS }, () => {
    const name = `test_dynamic_tool_${toggles++}`;
    const tool = server.tool(name, { description: 'Appears and goes away', inputSchema: NO_ARGS }, () => 'dynamic');
    setTimeout(() => tool.remove(), 1000).unref();
    return `Added ${name}`;
  });
  server.tool('test_trigger_prompt_change', { description: 'Changes the prompt list', inputSchema: NO_ARGS }, () => {
    const name = `test_dynamic_prompt_${toggles++}`;
    const prompt = server.prompt(name, { description: 'Appears and goes away' }, () => ({ messages: [{ role: 'user', content: { type: 'text', text: 'dynamic' } }] }));
    setTimeout(() => prompt.remove(), 1000).unref();
    return `Added ${name}`;
  });

  // 2026-07-28 multi-round-trip input (SEP-2322)
  server.tool('test_input_required_result_elicitation', { description: 'One elicitation round', inputSchema: NO_ARGS }, async (_args, ctx) => {
    const answer = await ctx.elicit(nameSchema('What is your name?', 'name'), 'user_name');
    return `Hello, ${String(answer.content?.['name'] ?? 'stranger')}!`;
  });
  server.tool('test_input_required_result_sampling', { description: 'One sampling round', inputSchema: NO_ARGS }, async (_args, ctx) => {
    const answer = await ctx.sample(
      { messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }], maxTokens: 100 },
      'capital_question',
    );
    return `Sampling answer: ${textOf(answer)}`;
  });
  server.tool('test_input_required_result_list_roots', { description: 'One roots round', inputSchema: NO_ARGS }, async (_args, ctx) => {
    const { roots } = await ctx.listRoots('client_roots');
    return `Client roots: ${(roots ?? []).map((r) => r.uri).join(', ')}`;
  });
  server.tool('test_input_required_result_request_state', { description: 'Round trip of requestState', inputSchema: NO_ARGS }, async (_args, ctx) => {
    const answers = await ctx.input(
      { confirm: { method: 'elicitation/create', params: { message: 'Please confirm', requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } } } },
      { step: 'confirm' },
    );
    const state = ctx.state as { step?: string } | undefined;
    return `state-ok: step=${state?.step ?? 'none'}, answer=${JSON.stringify(answers['confirm'])}`;
  });
  server.tool('test_input_required_result_multiple_inputs', { description: 'Three inputs at once', inputSchema: NO_ARGS }, async (_args, ctx) => {
    const answers = await ctx.input(
      {
        user_name: { method: 'elicitation/create', params: nameSchema('What is your name?', 'name') },
        greeting: { method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }], maxTokens: 50 } },
        client_roots: { method: 'roots/list', params: {} },
      },
      { step: 'all' },
    );
    return `Received ${Object.keys(answers).sort().join(', ')}`;
  });
  server.tool('test_input_required_result_multi_round', { description: 'Two rounds', inputSchema: NO_ARGS }, async (_args, ctx) => {
    const first = await ctx.input({ step1: { method: 'elicitation/create', params: nameSchema('Step 1: What is your name?', 'name') } }, { round: 1 });
    const second = await ctx.input({ step2: { method: 'elicitation/create', params: nameSchema('Step 2: What is your favorite color?', 'color') } }, { round: 2 });
    const name = (first['step1']!['content'] as JsonObject | undefined)?.['name'];
    const color = (second['step2']!['content'] as JsonObject | undefined)?.['color'];
    return `Completed: name=${String(name)}, color=${String(color)}`;
  });
  server.tool('test_input_required_result_tampered_state', { description: 'Signed requestState', inputSchema: NO_ARGS }, async (_args, ctx) => {
    await ctx.input({ confirm: { method: 'elicitation/create', params: { message: 'Please confirm', requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } } } }, { step: 'confirm' });
    return 'state-ok';
  });
  server.tool('test_input_required_result_capabilities', { description: 'Asks only for what the client supports', inputSchema: NO_ARGS }, async (_args, ctx) => {
    const requests: Record<string, { method: 'sampling/createMessage' | 'elicitation/create' | 'roots/list'; params: JsonObject }> = {};
    if (ctx.hasCapability('sampling')) {
      requests['greeting'] = { method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }], maxTokens: 50 } };
    }
    if (ctx.hasCapability('elicitation')) requests['user_name'] = { method: 'elicitation/create', params: nameSchema('What is your name?', 'name') };
    if (ctx.hasCapability('roots')) requests['client_roots'] = { method: 'roots/list', params: {} };
    if (Object.keys(requests).length === 0) return 'The client supports no input requests';
    const answers = await ctx.input(requests);
    return `Received ${Object.keys(answers).sort().join(', ')}`;
  });

  // ---- resources ----
  server.resource('test://static-text', { name: 'static-text', description: 'A static text resource', mimeType: 'text/plain' }, () => ({
    contents: [{ uri: 'test://static-text', mimeType: 'text/plain', text: 'This is the content of the static text resource.' }],
  }));
  server.resource('test://static-binary', { name: 'static-binary', description: 'A static binary resource', mimeType: 'image/png' }, () => ({
    contents: [{ uri: 'test://static-binary', mimeType: 'image/png', blob: PNG }],
  }));
  server.resource('test://watched-resource', { name: 'watched-resource', description: 'A resource that can be subscribed to', mimeType: 'text/plain' }, () => ({
    contents: [{ uri: 'test://watched-resource', mimeType: 'text/plain', text: 'Watched resource content' }],
  }));
  server.resourceTemplate(
    'test://template/{id}/data',
    {
      name: 'template-data',
      description: 'Data for an id',
      mimeType: 'application/json',
      complete: { id: (value) => ['123', '456', '789'].filter((v) => v.startsWith(value)) },
    },
    (uri, { id }) => ({
      contents: [{ uri, mimeType: 'application/json', text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${String(id)}` }) }],
    }),
  );

  // ---- prompts ----
  server.prompt('test_simple_prompt', { description: 'A simple prompt without arguments' }, () => ({
    messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
  }));
  server.prompt(
    'test_prompt_with_arguments',
    {
      description: 'A prompt with two required arguments',
      arguments: [
        { name: 'arg1', description: 'First test argument', required: true },
        { name: 'arg2', description: 'Second test argument', required: true },
      ],
      complete: { arg1: (value) => ['paris', 'park', 'party'].filter((v) => v.startsWith(value)) },
    },
    ({ arg1, arg2 }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } }],
    }),
  );
  server.prompt(
    'test_prompt_with_embedded_resource',
    {
      description: 'A prompt that embeds a resource',
      arguments: [{ name: 'resourceUri', description: 'URI of the resource to embed', required: true }],
    },
    ({ resourceUri }) => ({
      messages: [
        { role: 'user', content: { type: 'resource', resource: { uri: resourceUri!, mimeType: 'text/plain', text: 'Embedded resource content for testing.' } } },
        { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
      ],
    }),
  );
  server.prompt('test_prompt_with_image', { description: 'A prompt with an image' }, () => ({
    messages: [
      { role: 'user', content: { type: 'image', data: PNG, mimeType: 'image/png' } },
      { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
    ],
  }));
  server.prompt('test_input_required_result_prompt', { description: 'A prompt that asks the user first' }, async (_args, ctx) => {
    const answer = await ctx.elicit(nameSchema('What context should the prompt use?', 'context'), 'user_context');
    return {
      messages: [{ role: 'user', content: { type: 'text', text: `Use this context: ${String(answer.content?.['context'] ?? '')}` } }],
    };
  });

  registerTaskFixtures(server);

  void McpError;
}

// ---- tasks (2025-11-25 experimental tasks, 2026-07-28 extension io.modelcontextprotocol/tasks) ----
// The fixtures of the conformance suite's tasks-* scenarios. A tool becomes a task only when the
// client takes part (2025-11-25: params.task; 2026-07-28: the extension in _meta); otherwise the
// 'optional' ones run as ordinary calls and the 'required' ones are refused.

const CONFIRM_SCHEMA: JsonObject = { type: 'object', properties: { confirm: { type: 'boolean' } }, required: ['confirm'] };

function registerTaskFixtures(server: McpServer): void {
  server.tool(
    'greet',
    { description: 'Greets someone (never a task)', inputSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } },
    ({ name }: { name: string }) => `Hello, ${name}!`,
  );
  server.tool(
    'slow_compute',
    {
      description: 'Sleeps for `seconds`, then reports; runs as a task when the client takes part, and stops when the task is cancelled',
      inputSchema: {
        type: 'object',
        properties: { seconds: { type: 'number', minimum: 0, maximum: 3600 }, label: { type: 'string' } },
        required: ['seconds'],
      },
      execution: { taskSupport: 'optional' },
    },
    async ({ seconds, label }: { seconds: number; label?: string }, ctx) => {
      await sleep(seconds * 1000, ctx.signal);
      return `Computed ${label ?? 'result'} after ${seconds} s`;
    },
  );
  server.tool(
    'failing_job',
    { description: 'A task whose tool fails after about a second (a tool error, not a protocol error)', inputSchema: NO_ARGS, execution: { taskSupport: 'required' } },
    async (_args, ctx) => {
      await sleep(1000, ctx.signal);
      throw new Error('failing_job failed on purpose');
    },
  );
  server.tool(
    'protocol_error_job',
    { description: 'A task that ends with a protocol error (-32603)', inputSchema: NO_ARGS, execution: { taskSupport: 'optional' } },
    async (_args, ctx) => {
      await sleep(100, ctx.signal);
      throw new McpError(-32603, 'protocol_error_job failed on purpose');
    },
  );
  server.tool(
    'confirm_delete',
    {
      description: 'Asks the user to confirm, then pretends to delete the file',
      inputSchema: { type: 'object', properties: { filename: { type: 'string' } }, required: ['filename'] },
      execution: { taskSupport: 'optional' },
    },
    async ({ filename }: { filename: string }, ctx) => {
      const answer = await ctx.elicit({ message: `Delete ${filename}?`, requestedSchema: CONFIRM_SCHEMA }, 'confirm');
      return answer.action === 'accept' && answer.content?.['confirm'] === true ? `Deleted ${filename}` : `Kept ${filename}`;
    },
  );
  server.tool(
    'multi_input',
    { description: 'Asks the user two things at once', inputSchema: NO_ARGS, execution: { taskSupport: 'optional' } },
    async (_args, ctx) => {
      const answers = await ctx.input({
        name: { method: 'elicitation/create', params: nameSchema('What is your name?', 'name') },
        confirm: { method: 'elicitation/create', params: { message: 'Go ahead?', requestedSchema: CONFIRM_SCHEMA } },
      });
      const content = (key: string): JsonObject => (answers[key]?.['content'] as JsonObject | undefined) ?? {};
      return `Got name=${String(content('name')['name'])}, confirm=${String(content('confirm')['confirm'])}`;
    },
  );
  server.tool<Record<string, never>, string>(
    'test_tool_with_task',
    {
      description: 'Asks for a name (multi-round-trip, before any task exists), then greets from a task',
      inputSchema: NO_ARGS,
      execution: { taskSupport: 'required' },
      prepare: async (_args, ctx) => {
        const answer = await ctx.elicit(nameSchema('What is your name?', 'name'), 'user_name');
        return String(answer.content?.['name'] ?? 'stranger');
      },
    },
    async (_args, ctx, name) => {
      await sleep(200, ctx.signal);
      return `Hello, ${name}! (from a task)`;
    },
  );
}
