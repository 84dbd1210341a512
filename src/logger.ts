// Structured logs in mongosync's shape: one JSON object per line with level, time (RFC 3339),
// message, componentName (set by componentLogger) and mongosyncID; stdout or <logPath>/mongosync.log,
// written synchronously so nothing is lost at exit; credentials scrubbed.
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
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

/** The log file behind each logger that writes one, for rotation. */
const logFiles = new WeakMap<Logger, { file: string; dir: string; destination: { reopen(): void } }>();

export function createLogger(options: LoggerOptions): Logger {
  const file = options.logPath ? join(options.logPath, 'mongosync.log') : null;
  const fileDestination =
    file && !options.destination ? pino.destination({ dest: file, mkdir: true, sync: true }) : null;
  const destination = options.destination ?? fileDestination ?? pino.destination({ dest: 1, sync: true });
  const logger = pino(
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
  if (file && fileDestination)
    logFiles.set(logger, { file, dir: options.logPath!, destination: fileDestination });
  return logger;
}

/**
 * Rotates the logger's file as mongosync does on SIGUSR1: mongosync.log is renamed with the time,
 * a new one is opened, and the old one is gzipped. Returns the compressed file, or null when the
 * logger writes to stdout.
 */
export async function rotateLog(logger: Logger): Promise<string | null> {
  const entry = logFiles.get(logger);
  if (!entry) return null;
  const rotated = rotatedPath(entry.file);
  await rename(entry.file, rotated);
  // Synchronous writes: every line is in the renamed file or in the new one.
  entry.destination.reopen();
  return gzipReplacing(rotated);
}

/** Where a rotated file goes: `<dir>/<stem>-<time><ext>`, the time safe in a file name. */
export function rotatedPath(file: string): string {
  const extension = extname(file);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return join(dirname(file), `${basename(file, extension)}-${stamp}${extension}`);
}

/** Compresses a rotated file to `<file>.gz` and removes it; returns the compressed file. */
export async function gzipReplacing(file: string): Promise<string> {
  await pipeline(createReadStream(file), createGzip(), createWriteStream(`${file}.gz`));
  await unlink(file);
  return `${file}.gz`;
}

/** SIGUSR1 rotates the log file (the process entry points install it). */
export function rotateLogOnSignal(logger: Logger): void {
  process.on('SIGUSR1', () => {
    rotateLog(logger).then(
      (rotated) => rotated && logger.info({ rotated }, 'log file rotated'),
      (err: unknown) => logger.error({ err }, `could not rotate the log file: ${(err as Error).message}`),
    );
  });
}

/** A logger for one component of the service. */
export function componentLogger(logger: Logger, componentName: string): Logger {
  return logger.child({ componentName });
}
