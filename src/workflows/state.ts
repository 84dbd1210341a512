// The sync workflow's whole state: one plain-JSON object, grouped by concern and carried across
// continue-as-new.
import type { CollectionPlan, Partition, StreamPosition, UniqueConflict } from '../activities/contract';
import type { ClusterName, Direction, OperationTime, SyncOptions } from '../domain';
import type { LagState } from './lag';
import type { IndexBuildingProgress, SyncStatus } from './messages';
import { PHASES, type SyncPhase } from './stateTable';

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
  /** A commit drain that makes no progress for this long says so in the warnings. */
  drainStallWarningMs: number;
  /** How often a paused or committed sync checks that its destination still holds its record. */
  recordCheckMs: number;
  /** Partitions the verifier hashes at once, beside change event application. */
  verifyConcurrency: number;
  /** How often the verifier reads both change streams and rechecks what the sync applied past. */
  verifyPassMs: number;
  /** How often, once hashing is done, it looks for values that break a relaxed unique index. */
  uniqueCheckMs: number;
  /** Documents per copy batch (`--loadLevel`); absent: the copy's own default (1,000). */
  copyBatchDocuments?: number;
}

export const DEFAULT_TUNING: SyncTuning = {
  copyConcurrency: 8,
  targetPartitionBytes: 64 * 1024 * 1024,
  applyBatchMs: 3000,
  applyBatchMaxEvents: 10_000,
  pingIntervalMs: 30_000,
  errorRetryMs: 60_000,
  idleBatchMs: 500,
  drainStallWarningMs: 30_000,
  recordCheckMs: 60_000,
  verifyConcurrency: 4,
  verifyPassMs: 2_000,
  uniqueCheckMs: 30_000,
};

export interface SyncError {
  type: string;
  message: string;
  phase: SyncPhase;
  /** Workflow time (ms) at which the failed step is retried by itself; null: it cannot continue. */
  retryAt: number | null;
}

export interface CopyState {
  /** Source operation time taken before the copy: change events apply from here. */
  startTime: OperationTime | null;
  /** Collections found by the catalog step; those still to plan; partitions still to copy. */
  collections: CollectionPlan[];
  collectionsToPlan: CollectionPlan[];
  pendingPartitions: Partition[];
  copiedPartitions: number;
  copiedBytes: number;
  /** Bytes and documents of the finished partitions, by namespace (absent in syncs begun before). */
  copiedByNamespace?: Record<string, { bytes: number; documents: number }>;
  /** Workflow time (ms) the copy began, for its ETA (absent in syncs begun before). */
  startedAtMs?: number | null;
  estimatedTotalBytes: number | null;
  indexesToBuildAfterCopy: number;
  indexBuilding: IndexBuildingProgress | null;
  done: boolean;
}

export interface ChangeEventState {
  /** Where application continues: after the token, else at `startAt`. */
  resumeToken: string | null;
  startAt: OperationTime | null;
  batches: number;
  totalApplied: number;
  crudApplied: number;
  ddlApplied: number;
  lag: LagState;
  /** Lag (s) of the last CRUD and DDL events applied (absent in syncs begun before). */
  crudLagSeconds?: number | null;
  ddlLagSeconds?: number | null;
  /**
   * The source's latest operation time after the first batch: the events written during the copy
   * (or since the commit a reverse starts from) end there. Null before the first batch.
   */
  drainUntil?: OperationTime | null;
  /** Whether application has passed `drainUntil`: ceaStage "steady state". */
  steadyState?: boolean;
  /** The operation time the last batch applied through (absent in syncs begun before). */
  appliedThrough?: OperationTime | null;
}

export interface CommitState {
  /** Source operation time the commit drains to. */
  commitPoint: OperationTime | null;
  /** Destination operation time taken while users were still blocked: a reverse starts here. */
  writablePoint: OperationTime | null;
  canWrite: boolean | null;
  /** Workflow time of the drain's last progress, and how long it has made none (null: it moves). */
  drainProgressAt: number | null;
  drainStalledSeconds: number | null;
}

/**
 * The embedded verifier's progress. Documents to recheck and the mismatch log live on the
 * destination (the verifier's store); the workflow keeps only what to hash next and counters.
 */
export interface VerificationState {
  /** Copied partitions not hashed yet (every partition, once planned). */
  partitionsToHash: Partition[];
  hashedPartitions: number;
  /** Partitions left to hash per namespace: a namespace is scanned when it reaches 0. */
  partitionsLeft: Record<string, number>;
  documents: { source: number; destination: number };
  /** Where each cluster's change stream is read next; the destination's starts when the copy ends. */
  sourceStream: StreamPosition;
  destinationStream: StreamPosition | null;
  /** Source time the sync has applied through (suspects seen up to it are rechecked). */
  appliedThrough: { t: number; i: number } | null;
  /** Workflow time of the last stream pass, and the source time it reached. */
  lastPassAt: number | null;
  open: number;
  persisting: number;
  mismatchesFound: number;
  mismatchesRepaired: number;
  /** Duplicate values under relaxed unique indexes at the last check (the commit would fail on them). */
  uniqueConflicts: UniqueConflict[];
  lastUniqueCheckAt: number | null;
}

export function newVerificationState(): VerificationState {
  return {
    partitionsToHash: [],
    hashedPartitions: 0,
    partitionsLeft: {},
    documents: { source: 0, destination: 0 },
    sourceStream: { token: null, startAt: null },
    destinationStream: null,
    appliedThrough: null,
    lastPassAt: null,
    open: 0,
    persisting: 0,
    mismatchesFound: 0,
    mismatchesRepaired: 0,
    uniqueConflicts: [],
    lastUniqueCheckAt: null,
  };
}

export interface ReleaseOnReset {
  cluster: ClusterName;
  /** Whether the cluster must hold the sync's record first (a source a commit blocked holds none). */
  checkRecord: boolean;
}

export interface SyncWorkflowState {
  syncId: string;
  /** Random id of this sync, recorded on its destination at start; null while IDLE. */
  syncUuid: string | null;
  clusterFingerprint: string;
  /** Whether this sync shows INITIALIZING during its start (absent in syncs begun before). */
  showsInitializing?: boolean;
  tuning: SyncTuning;
  status: SyncStatus;
  phase: SyncPhase;
  direction: Direction | null;
  options: SyncOptions | null;
  copy: CopyState;
  changeEvents: ChangeEventState;
  /** Absent in states written before the verifier existed (treated as a fresh one). */
  verification?: VerificationState;
  commit: CommitState;
  pingLatencyMs: Partial<Record<ClusterName, number>>;
  lastPingAt: number | null;
  lastError: SyncError | null;
  /** The write blocking a reset releases: what this sync switched on, and whether the record is checked. */
  releaseOnReset: ReleaseOnReset[];
  warnings: string[];
}

export function newCopyState(): CopyState {
  return {
    startTime: null,
    collections: [],
    collectionsToPlan: [],
    pendingPartitions: [],
    copiedPartitions: 0,
    copiedBytes: 0,
    copiedByNamespace: {},
    startedAtMs: null,
    estimatedTotalBytes: null,
    indexesToBuildAfterCopy: 0,
    indexBuilding: null,
    done: false,
  };
}

export function newChangeEventState(startAt: OperationTime | null = null): ChangeEventState {
  return {
    resumeToken: null,
    startAt,
    batches: 0,
    totalApplied: 0,
    crudApplied: 0,
    ddlApplied: 0,
    lag: { seconds: null, measuredAt: null, etaSeconds: null },
    crudLagSeconds: null,
    ddlLagSeconds: null,
    drainUntil: null,
    steadyState: false,
  };
}

export function newCommitState(): CommitState {
  return {
    commitPoint: null,
    writablePoint: null,
    canWrite: null,
    drainProgressAt: null,
    drainStalledSeconds: null,
  };
}

export function newSyncState(
  syncId: string,
  clusterFingerprint: string,
  tuning?: Partial<SyncTuning>,
): SyncWorkflowState {
  return {
    syncId,
    syncUuid: null,
    clusterFingerprint,
    tuning: { ...DEFAULT_TUNING, ...tuning },
    status: PHASES.idle.status,
    phase: 'idle',
    direction: null,
    options: null,
    copy: newCopyState(),
    changeEvents: newChangeEventState(),
    commit: newCommitState(),
    pingLatencyMs: {},
    lastPingAt: null,
    lastError: null,
    releaseOnReset: [],
    warnings: [],
  };
}

export const COMMIT_LAG_LIMIT_SECONDS = 30;

/** Why the sync cannot continue by itself (a failure no retry fixes), or null. */
export function haltedBy(state: SyncWorkflowState): string | null {
  const error = state.lastError;
  return error && error.retryAt === null ? `${error.type}: ${error.message}` : null;
}

/**
 * The verifier is ready for the commit: every partition hashed, no mismatch persisting after repair,
 * and no value that would break a relaxed unique index.
 */
export function verifierReady(state: SyncWorkflowState): boolean {
  if (!state.options?.verificationEnabled) return true;
  const verification = state.verification;
  return (
    verification !== undefined &&
    verification.partitionsToHash.length === 0 &&
    verification.destinationStream !== null &&
    verification.lastPassAt !== null &&
    verification.persisting === 0 &&
    (verification.lastUniqueCheckAt ?? null) !== null &&
    (verification.uniqueConflicts ?? []).length === 0
  );
}

/**
 * The contract's canCommit: RUNNING, copy (and after-copy index builds) done, CEA running, lag
 * under 30 s, and (with verification) the verifier ready.
 */
export function canCommit(state: SyncWorkflowState): boolean {
  const lag = state.changeEvents.lag.seconds;
  return (
    verifierReady(state) &&
    state.status === 'RUNNING' &&
    state.copy.done &&
    state.phase === 'changeEvents' &&
    state.changeEvents.batches > 0 &&
    state.lastError === null &&
    lag !== null &&
    lag < COMMIT_LAG_LIMIT_SECONDS
  );
}
