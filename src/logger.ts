// Structured logs in mongosync's shape: one JSON object per line with level, time (RFC 3339),
// message, componentName (set by componentLogger) and mongosyncID; stdout or <logPath>/mongosync.log,
// written synchronously so nothing is lost at exit; credentials scrubbed.
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import type { Verbosity } from './config';

export type { Logger } from 'pino';

const PINO_LEVELS: Record<Verbosity, pino.Level> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
  FATAL: 'fatal',
  PANIC: 'fatal',
};

const CREDENTIALS_IN_URI = /([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^@/\s]+@/g;

/** Replaces `user:password@` in any connection string inside the text. */
export function scrubCredentials(text: string): string {
  return text.replace(CREDENTIALS_IN_URI, '$1<redacted>@');
}

function scrubValue(value: unknown): unknown {
  if (typeof value === 'string') return scrubCredentials(value);
  if (value instanceof Error) return { name: value.name, message: scrubCredentials(value.message) };
  return value;
}

export interface LoggerOptions {
  mongosyncID: string;
  verbosity: Verbosity;
  logPath: string | null;
  /** A writable stream instead of stdout/file (tests). */
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const destination =
    options.destination ??
    (options.logPath
      ? pino.destination({ dest: join(options.logPath, 'mongosync.log'), mkdir: true, sync: true })
      : pino.destination({ dest: 1, sync: true }));
  return pino(
    {
      level: PINO_LEVELS[options.verbosity],
      messageKey: 'message',
      errorKey: 'error',
      base: { mongosyncID: options.mongosyncID },
      timestamp: () => `,"time":"${new Date().toISOString()}"`,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => Object.fromEntries(Object.entries(object).map(([k, v]) => [k, scrubValue(v)])),
      },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map(scrubValue) as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}

/** A logger for one component of the service. */
export function componentLogger(logger: Logger, componentName: string): Logger {
  return logger.child({ componentName });
}
