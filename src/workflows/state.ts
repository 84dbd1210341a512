// The sync workflow's whole state: one plain-JSON object, carried across continue-as-new.
import type {
  ClusterName,
  CollectionPlan,
  Direction,
  OperationTime,
  Partition,
  SyncOptions,
} from '../activities/contract';
import type { IndexBuildingProgress, SyncStateName } from './messages';

/** The step the main loop runs next within the current state. */
export type SyncPhase =
  | 'blockDestination'
  | 'catalog'
  | 'planning'
  | 'copy'
  | 'indexes'
  | 'changeEvents'
  | 'commitBlockSource'
  | 'commitPoint'
  | 'commitDrain'
  | 'commitFinalize'
  | 'commitWritablePoint'
  | 'commitUnblock'
  | 'reverseSwap';

/** Knobs of the main loop; tests shrink them. */
export interface SyncTuning {
  copyConcurrency: number;
  targetPartitionBytes: number;
  applyBatchMs: number;
  applyBatchMaxEvents: number;
  pingIntervalMs: number;
  /** How long a step that failed waits before it is retried by itself. */
  errorRetryMs: number;
  /** An apply batch that returns sooner than this with nothing applied is followed by a short sleep. */
  idleBatchMs: number;
}

export const DEFAULT_TUNING: SyncTuning = {
  copyConcurrency: 8,
  targetPartitionBytes: 64 * 1024 * 1024,
  applyBatchMs: 3000,
  applyBatchMaxEvents: 10_000,
  pingIntervalMs: 30_000,
  errorRetryMs: 60_000,
  idleBatchMs: 500,
};

export interface SyncError {
  type: string;
  message: string;
  phase: SyncPhase | null;
  /** Workflow time (ms) at which the failed step is retried unless a command intervenes first. */
  retryAt: number;
}

export interface SyncWorkflowState {
  syncId: string;
  clusterFingerprint: string;
  tuning: SyncTuning;
  state: SyncStateName;
  phase: SyncPhase | null;
  direction: Direction | null;
  options: SyncOptions | null;
  /** Collections found by the catalog step; partitions still to plan; partitions still to copy. */
  collections: CollectionPlan[];
  collectionsToPlan: CollectionPlan[];
  pendingPartitions: Partition[];
  copiedPartitions: number;
  indexesToBuildAfterCopy: number;
  copyStartTime: OperationTime | null;
  commitPoint: OperationTime | null;
  writablePoint: OperationTime | null;
  /** Where change event application continues: after the token, else at the operation time. */
  resumeToken: string | null;
  changeEventsStartAt: OperationTime | null;
  changeEventBatches: number;
  totalEventsApplied: number;
  crudEventsApplied: number;
  ddlEventsApplied: number;
  lagSeconds: number | null;
  lagMeasuredAt: number | null;
  estimatedSecondsToCatchup: number | null;
  estimatedTotalBytes: number | null;
  copiedBytes: number;
  copyDone: boolean;
  indexBuilding: IndexBuildingProgress | null;
  canWrite: boolean | null;
  pingLatencyMs: Partial<Record<ClusterName, number>>;
  lastPingAt: number | null;
  lastError: SyncError | null;
  warnings: string[];
}

export function newSyncState(
  syncId: string,
  clusterFingerprint: string,
  tuning?: Partial<SyncTuning>,
): SyncWorkflowState {
  return {
    syncId,
    clusterFingerprint,
    tuning: { ...DEFAULT_TUNING, ...tuning },
    state: 'IDLE',
    phase: null,
    direction: null,
    options: null,
    collections: [],
    collectionsToPlan: [],
    pendingPartitions: [],
    copiedPartitions: 0,
    indexesToBuildAfterCopy: 0,
    copyStartTime: null,
    commitPoint: null,
    writablePoint: null,
    resumeToken: null,
    changeEventsStartAt: null,
    changeEventBatches: 0,
    totalEventsApplied: 0,
    crudEventsApplied: 0,
    ddlEventsApplied: 0,
    lagSeconds: null,
    lagMeasuredAt: null,
    estimatedSecondsToCatchup: null,
    estimatedTotalBytes: null,
    copiedBytes: 0,
    copyDone: false,
    indexBuilding: null,
    canWrite: null,
    pingLatencyMs: {},
    lastPingAt: null,
    lastError: null,
    warnings: [],
  };
}

export const COMMIT_LAG_LIMIT_SECONDS = 30;

/** The contract's canCommit: RUNNING, copy (and after-copy index builds) done, CEA running, lag under 30 s. */
export function canCommit(state: SyncWorkflowState): boolean {
  return (
    state.state === 'RUNNING' &&
    state.copyDone &&
    state.phase === 'changeEvents' &&
    state.changeEventBatches > 0 &&
    state.lastError === null &&
    state.lagSeconds !== null &&
    state.lagSeconds < COMMIT_LAG_LIMIT_SECONDS
  );
}
