// Structured logs: pino JSON lines on stderr (fd 2; stdout carries the stdio protocol), and a
// RequestObserver that logs one line per request at debug and server-side failures at error.
//
// Secrets stay out in two ways: nothing here ever puts a header, token, key, argument or result in a
// log object (a request line has method, tool, id, session, subject, outcome, code and duration), and
// pino's redact censors the usual secret-bearing paths should a caller log one anyway.
import { pino } from 'pino';
import type { DestinationStream, Level, Logger } from 'pino';
import type { RequestEnd, RequestInfo, RequestObserver, RequestWatch } from '../server/observe.js';
import { ErrorCode } from '../server/protocol.js';

export type { Logger } from 'pino';

export type LoggerLevel = Level | 'silent';

export const LOG_LEVEL_NAMES: readonly LoggerLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface LoggerOptions {
  /** Lowest level written (default 'info'); 'silent' writes nothing. */
  level?: LoggerLevel;
  /** Where lines go (default: fd 2, written synchronously so nothing is lost on exit). */
  destination?: DestinationStream;
}

/** Keys that carry credentials, censored wherever they appear at the top level or one level down. */
const SECRET_KEYS = [
  'authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'apiKey',
  'api_key',
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'jwt',
  'secret',
  'password',
  'stateKey',
  'auditKey',
  'key',
];

export const REDACT_PATHS: readonly string[] = [
  ...SECRET_KEYS.map((k) => `["${k}"]`),
  ...SECRET_KEYS.map((k) => `*["${k}"]`),
  ...SECRET_KEYS.map((k) => `*.headers["${k}"]`),
];

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  if (!LOG_LEVEL_NAMES.includes(level)) {
    throw new TypeError(`Unknown log level ${JSON.stringify(level)}: use one of ${LOG_LEVEL_NAMES.join(', ')}`);
  }
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    },
    options.destination ?? pino.destination({ fd: 2, sync: true }),
  );
}

/** Replies that mean the server failed, not the client: logged at error. */
function isServerFailure(end: RequestEnd): boolean {
  return end.code === ErrorCode.InternalError || end.reply.status >= 500;
}

function requestId(idRaw: string): unknown {
  try {
    return JSON.parse(idRaw);
  } catch {
    return idRaw;
  }
}

/**
 * Logs requests: every one at debug; server failures (internal errors, 5xx replies) at error whatever
 * the level. Client mistakes (bad params, unknown methods) and tool errors stay at debug: they are the
 * client's business, and logging them louder would let any client flood the log.
 */
export function loggingObserver(logger: Logger): RequestObserver {
  return {
    begin(info: RequestInfo): RequestWatch | undefined {
      const debug = logger.isLevelEnabled('debug');
      if (!debug && !logger.isLevelEnabled('error')) return undefined;
      const start = performance.now();
      return {
        end(end: RequestEnd): void {
          const failed = end.outcome === 'error' && isServerFailure(end);
          if (!failed && !debug) return;
          const { method, params, env } = info;
          const tool = method === 'tools/call' && params !== undefined && typeof params['name'] === 'string' ? params['name'] : undefined;
          const line = {
            method,
            tool,
            id: requestId(info.idRaw),
            session: env.session?.id,
            subject: env.auth?.subject,
            outcome: end.outcome,
            code: end.code,
            ms: Math.round((performance.now() - start) * 1000) / 1000,
          };
          if (failed) logger.error(line, 'request failed');
          else logger.debug(line, 'request');
        },
      };
    },
  };
}
