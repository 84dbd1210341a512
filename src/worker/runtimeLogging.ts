// Routes the Temporal SDK's own logs (worker and core) into the service's JSON log.
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { Verbosity } from '../config';

const PINO_METHOD: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * The SDK's log level for the service's `--verbosity`: its DEBUG and TRACE lines (activities
 * started and completed, core's workflow activations) only when asked for, since at INFO the SDK
 * reports every worker state change.
 */
export function temporalLogLevel(verbosity: Verbosity): LogLevel {
  return TEMPORAL_LOG_LEVELS[verbosity];
}

const TEMPORAL_LOG_LEVELS: Record<Verbosity, LogLevel> = {
  TRACE: 'TRACE',
  DEBUG: 'DEBUG',
  INFO: 'WARN',
  WARN: 'WARN',
  ERROR: 'ERROR',
  FATAL: 'ERROR',
  PANIC: 'ERROR',
};

/**
 * Installs the process-wide Temporal runtime with logging to `logger`. Call once, before any worker
 * or native connection is created. Signals are left to the caller's own shutdown handling.
 */
export function installTemporalRuntime(logger: Logger, level: LogLevel = 'WARN'): void {
  const temporalLogger = logger.child({ componentName: 'temporal' });
  Runtime.install({
    logger: new DefaultLogger(level, (entry) =>
      temporalLogger[PINO_METHOD[entry.level]](entry.meta ?? {}, entry.message),
    ),
    shutdownSignals: [],
  });
}
