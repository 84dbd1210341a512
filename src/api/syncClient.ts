// The API's side of Temporal: sends the commands of one sync to its workflow as Updates and reads
// its progress from the workflow's memo (which answers even while no worker runs).
import {
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  isGrpcServiceError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { syncWorkflow, SyncWorkflowInput } from '../workflows';
import {
  COMMAND_UPDATES,
  PROGRESS_MEMO_KEY,
  SYNC_ERROR_NAMES,
  startUpdate,
  type ArgumentlessCommand,
  type StartRequest,
  type SyncErrorName,
  type WorkflowProgress,
} from '../workflows/messages';
import { idleProgress } from '../workflows/progress';
import { CopyProgressFloor, runningCopies, withRunningCopies } from './copyProgress';
import { withRetryingActivities } from './retryingActivities';
import type { SyncTuning } from '../workflows/state';

export type { ArgumentlessCommand } from '../workflows/messages';

/** A command's failure, named as in the contract. */
export class SyncCommandError extends Error {
  constructor(
    readonly errorName: SyncErrorName,
    message: string,
  ) {
    super(message);
    this.name = 'SyncCommandError';
  }
}

/** What the REST API needs from the sync; implemented over Temporal by TemporalSyncClient. */
export interface SyncService {
  start(request: StartRequest): Promise<void>;
  command(command: ArgumentlessCommand): Promise<void>;
  progress(): Promise<WorkflowProgress>;
}

export interface SyncIdentity {
  syncId: string;
  workflowId: string;
  taskQueue: string;
  clusterFingerprint: string;
  tuning?: Partial<SyncTuning>;
  /** Whether the namespace has the sync's search attributes (a new sync then keeps them current). */
  searchAttributes?: boolean;
}

const CONTRACT_ERRORS: ReadonlySet<string> = new Set<string>(SYNC_ERROR_NAMES);

const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

function isUnreachable(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    if (isGrpcServiceError(e) && (e.code === GRPC_UNAVAILABLE || e.code === GRPC_DEADLINE_EXCEEDED))
      return true;
    if (/ECONNREFUSED|UNAVAILABLE|DEADLINE_EXCEEDED/.test(e.message)) return true;
  }
  return false;
}

/** Any client-side failure as the contract's error. */
export function toSyncCommandError(err: unknown): SyncCommandError {
  if (err instanceof SyncCommandError) return err;
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure && cause.type && CONTRACT_ERRORS.has(cause.type)) {
      return new SyncCommandError(cause.type as SyncErrorName, cause.message);
    }
    return new SyncCommandError('InternalError', cause?.message ?? err.message);
  }
  if (err instanceof WorkflowNotFoundError) {
    return new SyncCommandError('InvalidStateTransition', 'no sync has been started: the state is IDLE');
  }
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isUnreachable(err)) {
    return new SyncCommandError('Unavailable', `the orchestrator did not answer: ${(err as Error).message}`);
  }
  return new SyncCommandError('InternalError', err instanceof Error ? err.message : String(err));
}

export interface SyncClientTimeouts {
  startMs: number;
  commandMs: number;
  progressMs: number;
}

const DEFAULT_TIMEOUTS: SyncClientTimeouts = {
  startMs: 5 * 60_000,
  commandMs: 2 * 60_000,
  progressMs: 10_000,
};

export class TemporalSyncClient implements SyncService {
  private readonly timeouts: SyncClientTimeouts;
  private readonly copyFloor = new CopyProgressFloor();

  constructor(
    private readonly client: Client,
    private readonly identity: SyncIdentity,
    timeouts: Partial<SyncClientTimeouts> = {},
  ) {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...timeouts };
  }

  private async bounded<T>(ms: number, call: () => Promise<T>): Promise<T> {
    try {
      return await this.client.withDeadline(Date.now() + ms, call);
    } catch (err) {
      throw toSyncCommandError(err);
    }
  }

  async start(request: StartRequest): Promise<void> {
    const { syncId, workflowId, taskQueue, clusterFingerprint, tuning, searchAttributes } = this.identity;
    const input: SyncWorkflowInput = { syncId, clusterFingerprint, tuning, searchAttributes };
    await this.bounded(this.timeouts.startMs, () =>
      this.client.workflow.executeUpdateWithStart(startUpdate, {
        args: [request],
        startWorkflowOperation: new WithStartWorkflowOperation<typeof syncWorkflow>('syncWorkflow', {
          workflowId,
          taskQueue,
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
        }),
      }),
    );
  }

  async command(command: ArgumentlessCommand): Promise<void> {
    const handle = this.client.workflow.getHandle(this.identity.workflowId);
    try {
      await this.bounded(this.timeouts.commandMs, () => handle.executeUpdate(COMMAND_UPDATES[command]));
    } catch (err) {
      // Resetting what does not exist (never started, or already reset) leaves it as it is: IDLE.
      if (command === 'reset' && (await this.isClosedOrMissing())) return;
      throw err;
    }
  }

  private async isClosedOrMissing(): Promise<boolean> {
    try {
      const description = await this.client.workflow.getHandle(this.identity.workflowId).describe();
      return description.status.name !== 'RUNNING';
    } catch (err) {
      return err instanceof WorkflowNotFoundError;
    }
  }

  async progress(): Promise<WorkflowProgress> {
    const handle = this.client.workflow.getHandle(this.identity.workflowId);
    let description;
    try {
      description = await this.client.withDeadline(Date.now() + this.timeouts.progressMs, () =>
        handle.describe(),
      );
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return idleProgress();
      throw toSyncCommandError(err);
    }
    const progress = description.memo?.[PROGRESS_MEMO_KEY] as WorkflowProgress | undefined;
    // A sync that was reset has completed: the next /start begins a new one.
    if (!progress || description.status.name === 'COMPLETED') return idleProgress();
    if (description.status.name !== 'RUNNING') {
      return {
        ...progress,
        warnings: [...progress.warnings, `the sync workflow is ${description.status.name.toLowerCase()}`],
      };
    }
    const pendingActivities = (description.raw.pendingActivities ?? []).map((activity) => ({
      activityType: activity.activityType?.name ?? '',
      attempt: activity.attempt ?? 1,
      lastFailure: activity.lastFailure?.message ?? null,
      heartbeat: activity.heartbeatDetails?.payloads?.[0],
    }));
    const current = withRetryingActivities(progress, pendingActivities);
    if (current.collectionCopy?.estimatedCopiedBytes === current.collectionCopy?.estimatedTotalBytes)
      return current;
    // During the copy: the copies still running count too, from their last heartbeats.
    const converter = this.client.options.loadedDataConverter.payloadConverter;
    const pending = pendingActivities.map(({ activityType, heartbeat }) => {
      let details: unknown = undefined;
      try {
        details = heartbeat ? converter.fromPayload(heartbeat) : undefined;
      } catch {
        // Details this release cannot read count as nothing.
      }
      return { activityType, details };
    });
    return withRunningCopies(current, runningCopies(pending), Date.now(), this.copyFloor);
  }
}
