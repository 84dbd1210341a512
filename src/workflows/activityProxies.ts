// The sync workflow's activity stubs, one per kind of call: each kind has the timeouts and retry
// policy its work needs. Errors no retry can fix are never retried.
import { ActivityCancellationType, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { SyncActivities } from '../activities/contract';

/** Activity failure types a retry cannot fix. */
export const NON_RETRYABLE_ERROR_TYPES = [
  'PreconditionFailed',
  'InvalidRequest',
  'ChangeStreamHistoryLost',
  'SyncRecordMismatch',
];

/** Failures after which the sync cannot continue by itself: it waits for the user (reset). */
export const HALTING_ERROR_TYPES: ReadonlySet<string> = new Set([
  'ChangeStreamHistoryLost',
  'SyncRecordMismatch',
]);

function activityOptions(options: ActivityOptions, maximumAttempts: number): ActivityOptions {
  return {
    ...options,
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '20 seconds',
      maximumAttempts,
      nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
    },
  };
}

/** Preflight and the sync's record: quick checks, answered to the command that asked. */
export const checks = proxyActivities<SyncActivities>(
  activityOptions({ startToCloseTimeout: '2 minutes' }, 3),
);

/** Single commands (write blocking, operation times). */
export const shortCalls = proxyActivities<SyncActivities>(
  activityOptions({ startToCloseTimeout: '1 minute' }, 10),
);

// Fan-out work (planning, copy) goes through the task queue, never eagerly to the worker that ran
// the workflow task: eager dispatch would keep every partition on that one worker and defeat
// scaling out with more worker processes.
export const catalogCalls = proxyActivities<SyncActivities>(
  activityOptions(
    { startToCloseTimeout: '30 minutes', heartbeatTimeout: '20 seconds', allowEagerDispatch: false },
    10,
  ),
);

export const longCalls = proxyActivities<SyncActivities>(
  activityOptions(
    {
      startToCloseTimeout: '2 hours',
      heartbeatTimeout: '20 seconds',
      // A paused copy must really have stopped before a resumed one writes the same range.
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      allowEagerDispatch: false,
    },
    20,
  ),
);

/** Index steps heartbeat: a worker killed mid-way is noticed in seconds, not hours. */
export const indexCalls = proxyActivities<SyncActivities>(
  activityOptions({ startToCloseTimeout: '6 hours', heartbeatTimeout: '20 seconds' }, 5),
);

/** A ping is a measurement: a failure is reported as -1, not retried. */
export const pingCalls = proxyActivities<SyncActivities>(
  activityOptions({ startToCloseTimeout: '15 seconds' }, 1),
);
