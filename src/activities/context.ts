import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';

/** What an activity needs from Temporal; a no-op stand-in when called directly (tests, scripts). */
export interface ActivityContext {
  heartbeat(details?: unknown): void;
  /** Details of the last heartbeat of a previous attempt, if any. */
  readonly heartbeatDetails: unknown;
  readonly cancellationSignal: AbortSignal | undefined;
  /** Throws the cancellation reason once the activity has been cancelled. */
  throwIfCancelled(): void;
  /** A warning in the worker's log (with the activity's identity); nothing outside an activity. */
  warn(message: string, attributes?: Record<string, unknown>): void;
}

export function activityContext(): ActivityContext {
  let context: Context | undefined;
  try {
    context = Context.current();
  } catch {
    context = undefined;
  }
  const signal = context?.cancellationSignal;
  return {
    heartbeat: (details) => context?.heartbeat(details),
    warn: (message, attributes) => context?.log.warn(message, attributes),
    heartbeatDetails: context?.info.heartbeatDetails,
    cancellationSignal: signal,
    throwIfCancelled() {
      if (!signal?.aborted) return;
      const reason: unknown = signal.reason;
      throw reason instanceof Error ? reason : new CancelledFailure('activity cancelled');
    },
  };
}

/**
 * Runs `work` while heartbeating every `intervalMs`, for activities whose single steps (an index
 * build) can outlast a heartbeat timeout: a worker that dies mid-way is then noticed within it.
 */
export async function withHeartbeats<T>(work: () => Promise<T>, intervalMs = 5000): Promise<T> {
  const context = activityContext();
  context.heartbeat();
  const timer = setInterval(() => context.heartbeat(), intervalMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
