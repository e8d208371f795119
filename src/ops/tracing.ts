// OpenTelemetry tracing: one SERVER span per MCP request, named and attributed per the OpenTelemetry
// semantic conventions for MCP (docs/observability.md). Only @opentelemetry/api is used: without an
// SDK registered by the application it is a no-op, and this observer then declines every request
// (begin returns undefined) after two property reads.
//
// The remote parent comes from params._meta (traceparent / tracestate, SEP-414) and, failing that,
// from the HTTP request's traceparent header. When both are valid and differ, the _meta context is
// the parent and the HTTP one a link, as the conventions ask. traceparent is parsed here, strictly
// per W3C Trace Context level 1, rather than through the globally registered propagator: that one is
// a no-op unless the application also registers a propagator, and _meta is not an HTTP carrier.
import { context, createTraceState, ProxyTracerProvider, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, Context, Link, Span, SpanContext, Tracer, TracerProvider } from '@opentelemetry/api';
import type { RequestEnd, RequestInfo, RequestObserver, RequestWatch } from '../server/observe.js';
import { META } from '../server/protocol.js';
import type { McpServer } from '../server/server.js';
import type { JsonObject } from '../server/types.js';

export interface TracingOptions {
  /** Where spans go (default: the global tracer provider, checked on every request). */
  tracerProvider?: TracerProvider;
  /** Tracer name (default 'fastermcp'). */
  tracerName?: string;
}

/** The provider ProxyTracerProvider falls back to while no SDK is registered. */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

/**
 * A W3C Trace Context level 1 traceparent (version 00 only: the exact 55-character layout, lowercase
 * hex, trace and parent ids not all zero) as a remote SpanContext, or undefined when malformed.
 * tracestate is kept only with a valid traceparent, and dropped when it does not parse.
 */
export function parseTraceparent(traceparent: unknown, tracestate?: unknown): SpanContext | undefined {
  if (typeof traceparent !== 'string' || traceparent.length !== 55) return undefined;
  const m = TRACEPARENT.exec(traceparent);
  if (m === null || m[1] === ZERO_TRACE || m[2] === ZERO_SPAN) return undefined;
  const spanContext: SpanContext = { traceId: m[1]!, spanId: m[2]!, traceFlags: parseInt(m[3]!, 16) & 1, isRemote: true };
  if (typeof tracestate === 'string' && tracestate.length > 0 && tracestate.length <= 512) {
    try {
      spanContext.traceState = createTraceState(tracestate);
    } catch {
      // An unparsable tracestate is dropped; the traceparent still stands.
    }
  }
  return spanContext;
}

/** Client-chosen names are cut to this length in attributes (an unknown tool's name can be anything). */
const MAX_NAME = 256;

function clip(s: string): string {
  return s.length > MAX_NAME ? s.slice(0, MAX_NAME) : s;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** jsonrpc.request.id: the id as a string (a string id unquoted); none for null. */
function requestId(idRaw: string): string | undefined {
  if (idRaw === 'null') return undefined;
  if (idRaw.charCodeAt(0) !== 34 /* " */) return clip(idRaw);
  try {
    return clip(String(JSON.parse(idRaw)));
  } catch {
    return idRaw;
  }
}

/** The JSON-RPC error message of an error reply, for the span status description. */
function errorMessage(json: string | null): string | undefined {
  if (json === null) return undefined;
  try {
    const message = (JSON.parse(json) as { error?: { message?: unknown } }).error?.message;
    return typeof message === 'string' ? message : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The tracing observer: `server.observe(tracingObserver(server))`. `server` is consulted to keep span
 * names low-cardinality: a tools/call or prompts/get names its target only when it is registered.
 */
export function tracingObserver(server: McpServer, options: TracingOptions = {}): RequestObserver {
  const name = options.tracerName ?? 'fastermcp';
  const fixed = options.tracerProvider;
  let provider: TracerProvider | undefined;
  let tracer: Tracer | undefined;

  const tracerFor = (p: TracerProvider): Tracer => {
    if (p !== provider) {
      provider = p;
      tracer = p.getTracer(name);
    }
    return tracer!;
  };

  return {
    begin(info: RequestInfo): RequestWatch | undefined {
      let p = fixed;
      if (p === undefined) {
        const global = trace.getTracerProvider();
        // No SDK: nothing to record, and nothing to pay for.
        p = global instanceof ProxyTracerProvider ? global.getDelegate() : global;
        if (p === NOOP_PROVIDER) return undefined;
      }
      return startRequestSpan(server, tracerFor(p), info);
    },
  };
}

function startRequestSpan(server: McpServer, tracer: Tracer, info: RequestInfo): RequestWatch {
  const { method, params, env } = info;
  const meta = params !== undefined && isObject(params['_meta']) ? params['_meta'] : undefined;
  const fromMeta = meta === undefined ? undefined : parseTraceparent(meta['traceparent'], meta['tracestate']);
  const http = env.header !== undefined;
  // env.header is a method (of the HTTP transport's env object): called on env.
  const fromHeader = http ? parseTraceparent(env.header!('traceparent'), env.header!('tracestate')) : undefined;
  const remote = fromMeta ?? fromHeader;
  let links: Link[] | undefined;
  if (fromMeta !== undefined && fromHeader !== undefined && (fromHeader.traceId !== fromMeta.traceId || fromHeader.spanId !== fromMeta.spanId)) {
    links = [{ context: fromHeader }];
  }
  const parent: Context = remote === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, remote);

  const attributes: Attributes = { 'mcp.method.name': method };
  let target: string | undefined;
  if (params !== undefined) {
    const nameParam = params['name'];
    if (method === 'tools/call' && typeof nameParam === 'string') {
      attributes['gen_ai.tool.name'] = clip(nameParam);
      attributes['gen_ai.operation.name'] = 'execute_tool';
      if (server.tools.get(nameParam) !== undefined) target = nameParam;
    } else if (method === 'prompts/get' && typeof nameParam === 'string') {
      attributes['gen_ai.prompt.name'] = clip(nameParam);
      if (server.prompts.get(nameParam) !== undefined) target = nameParam;
    } else if (typeof params['uri'] === 'string' && (method === 'resources/read' || method === 'resources/subscribe' || method === 'resources/unsubscribe')) {
      attributes['mcp.resource.uri'] = params['uri'];
    }
  }
  const id = requestId(info.idRaw);
  if (id !== undefined) attributes['jsonrpc.request.id'] = id;
  const session = env.session;
  // A legacy session (initialized, or this initialize); a 2026-07-28 request belongs to none, even on
  // a stdio connection (which has a session object for its own bookkeeping).
  if (session !== undefined && (session.protocolVersion !== undefined || method === 'initialize')) attributes['mcp.session.id'] = session.id;
  const version = meta !== undefined && typeof meta[META.protocolVersion] === 'string' ? meta[META.protocolVersion] : session?.protocolVersion;
  if (version !== undefined) attributes['mcp.protocol.version'] = version as string;
  if (http) {
    attributes['network.transport'] = 'tcp';
    attributes['network.protocol.name'] = 'http';
  } else {
    attributes['network.transport'] = 'pipe';
  }

  const span: Span = tracer.startSpan(target === undefined ? method : `${method} ${target}`, { kind: SpanKind.SERVER, attributes, links }, parent);
  const active = trace.setSpan(parent, span);
  return {
    run: <T>(fn: () => T): T => context.with(active, fn),
    end: (end: RequestEnd): void => endRequestSpan(span, info, end),
  };
}

function endRequestSpan(span: Span, info: RequestInfo, end: RequestEnd): void {
  if (span.isRecording()) {
    if (info.method === 'initialize') {
      // The version is negotiated by this very request.
      const negotiated = info.env.session?.protocolVersion;
      if (negotiated !== undefined) span.setAttribute('mcp.protocol.version', negotiated);
    }
    switch (end.outcome) {
      case 'error': {
        const code = String(end.code);
        span.setAttribute('error.type', code);
        span.setAttribute('rpc.response.status_code', code);
        span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(end.reply.json) });
        break;
      }
      case 'tool_error':
        span.setAttribute('error.type', 'tool_error');
        span.setStatus({ code: SpanStatusCode.ERROR });
        break;
      case 'cancelled':
        // No reply was sent: the client cancelled or went away (a custom error.type value).
        span.setAttribute('error.type', 'cancelled');
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'cancelled' });
        break;
      case 'ok':
        break;
    }
  }
  span.end();
}
