// Builds the Temporal worker that runs the sync workflow and its activities. Workflow code is
// bundled once per process and shared by every worker created afterwards.
import {
  bundleWorkflowCode,
  Worker,
  type ActivityInterceptorsFactory,
  type NativeConnection,
  type WorkflowBundle,
} from '@temporalio/worker';
import { CancelledFailure, type Duration } from '@temporalio/common';
import { activityDuration } from '../metrics';
import type { SyncActivities } from '../activities/contract';

export interface SyncWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: SyncActivities;
  maxConcurrentActivityTaskExecutions?: number;
  /** How long in-flight activities get on shutdown to heartbeat a last checkpoint. */
  shutdownGraceTime?: Duration;
}

/** Every activity of the contract; `satisfies` keeps the list complete when the contract grows. */
const ACTIVITY_NAMES = Object.keys({
  preflight: true,
  recordSync: true,
  checkSyncRecord: true,
  removeSyncRecord: true,
  setUserWriteBlocking: true,
  currentOperationTime: true,
  prepareCatalog: true,
  planPartitions: true,
  copyPartition: true,
  buildIndexesAfterCopy: true,
  applyChanges: true,
  finalizeIndexes: true,
  relaxIndexes: true,
  verifyPartition: true,
  collectChanges: true,
  recheckSuspects: true,
  finalVerification: true,
  findUniqueConflicts: true,
  pingClusters: true,
} satisfies Record<keyof SyncActivities, true>) as (keyof SyncActivities)[];

/** The activities as own, bound functions: the worker registers only an object's own properties. */
function activityFunctions(
  activities: SyncActivities,
): Record<string, (...args: never[]) => Promise<unknown>> {
  return Object.fromEntries(
    ACTIVITY_NAMES.map((name) => [
      name,
      (activities[name] as (...args: never[]) => Promise<unknown>).bind(activities),
    ]),
  );
}

/** Each activity's duration and outcome into the service's metrics. */
const timeActivities: ActivityInterceptorsFactory = (context) => ({
  inbound: {
    async execute(input, next) {
      const end = activityDuration.startTimer({ activity: context.info.activityType });
      try {
        const result = await next(input);
        end({ outcome: 'completed' });
        return result;
      } catch (err) {
        end({ outcome: err instanceof CancelledFailure ? 'cancelled' : 'failed' });
        throw err;
      }
    },
  },
});

let bundlePromise: Promise<WorkflowBundle> | null = null;

/** The sync workflows' bundle, built on first use (10-20 s) and reused. */
export function syncWorkflowBundle(): Promise<WorkflowBundle> {
  bundlePromise ??= bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
  }).catch((err: unknown) => {
    bundlePromise = null;
    throw err;
  });
  return bundlePromise;
}

export async function createSyncWorker(options: SyncWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: await syncWorkflowBundle(),
    activities: activityFunctions(options.activities),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 32,
    shutdownGraceTime: options.shutdownGraceTime ?? '15 seconds',
    // Cancellation reaches an activity through heartbeat responses (keep pause responsive), and the
    // API counts the running copies' heartbeats into /progress (it moves at least every 2 s).
    maxHeartbeatThrottleInterval: '1 second',
    interceptors: { activity: [timeActivities] },
  });
}
