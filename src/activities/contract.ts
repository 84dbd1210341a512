// The activity interface the sync workflow calls, as types only (the workflow imports nothing
// else from src/activities). Every input and output is small, JSON-safe and free of credentials:
// clusters are named, documents are never passed, BSON values travel as canonical Extended JSON.

import type { ClusterName, Direction, OperationTime, SyncOptions } from '../domain';

export type {
  BuildIndexesMode,
  ClusterName,
  Direction,
  NamespaceFilter,
  OperationTime,
  RegexFilter,
  SyncOptions,
  WriteBlockingMode,
} from '../domain';

/**
 * Which sync an activity works for, and the cluster that holds its record (the destination).
 * Activities that write check the record first: a cluster that does not hold it (rebuilt, restored,
 * replaced behind the same host name, or another sync's destination) is never written to.
 */
export interface SyncRef {
  id: string;
  uuid: string;
  holder: ClusterName;
}

/** Inputs of activities that write to a cluster on behalf of a sync. */
export interface ForSync {
  sync?: SyncRef;
}

export interface RecordSyncInput {
  sync: SyncRef;
  direction: Direction;
}

export interface PreflightInput {
  direction: Direction;
  options: SyncOptions;
  /** The sync that is starting or reversing: its destination must hold no other sync's record. */
  sync?: Pick<SyncRef, 'id' | 'uuid'>;
  /** 'start' checks a fresh sync; 'reverse' checks the reversal of a committed one. */
  purpose: 'start' | 'reverse';
}

export interface PreflightResult {
  sourceVersion: string;
  destinationVersion: string;
}

/** One collection to copy, as the catalog step found it on the source. */
export interface CollectionPlan {
  db: string;
  coll: string;
  /** Source collection UUID as hex, to detect drop-and-recreate between steps. */
  uuid: string | null;
  capped: boolean;
  estimatedBytes: number;
  estimatedDocuments: number;
}

export interface CatalogResult {
  collections: CollectionPlan[];
  views: number;
  indexesToBuildAfterCopy: number;
}

/** An `_id` range of one collection: bounds are canonical Extended JSON of `{v: <_id>}`, null = open. */
export interface Partition {
  id: string;
  db: string;
  coll: string;
  /** Inclusive lower bound, or null for the start of the collection. */
  lower: string | null;
  /** Exclusive upper bound, or null for the end of the collection. */
  upper: string | null;
  /** Capped collections are copied in natural order by a single partition. */
  naturalOrder: boolean;
  estimatedBytes: number;
  /**
   * The verifier's check of everything outside a collection's partitions (documents the plan did not
   * see, such as destination documents of other `_id` types): the ranges it leaves out.
   */
  outsideOf?: Array<{ lower: string | null; upper: string | null }>;
}

/**
 * How a collection is planned. `natural`: one partition read in natural order (`copyInNaturalOrder`).
 * `naturalIfRandomIds`: the same when the collection would span several partitions and its `_id`s
 * look random (`detectRandomId`). `idRanges`: `_id` ranges.
 */
export type CopyOrder = 'natural' | 'naturalIfRandomIds' | 'idRanges';

export interface CopyPartitionInput extends ForSync {
  direction: Direction;
  partition: Partition;
  batchSize?: number;
}

export interface CopyPartitionResult {
  partitionId: string;
  documentsCopied: number;
  bytesCopied: number;
}

export interface ApplyChangesInput extends ForSync {
  direction: Direction;
  /** Resume after this token (a change stream `_id` as canonical Extended JSON), when set. */
  resumeToken: string | null;
  /** Otherwise start at this operation time (inclusive). */
  startAtOperationTime: OperationTime | null;
  /** Stop the batch after this long (ms) ... */
  maxDurationMs: number;
  /** ... or after this many events. */
  maxEvents: number;
  /** Return as soon as the stream's high-water mark has passed this time (commit drain). */
  stopAfterOperationTime: OperationTime | null;
  /**
   * The sync's options, for namespace filters and `buildIndexes` (which indexes created during
   * sync are built). Without them every synced namespace is applied and every index is built.
   */
  options?: SyncOptions;
}

export interface ApplyChangesResult {
  resumeToken: string | null;
  /** Operation time of the last applied event, or of the high-water mark when idle. */
  appliedThrough: OperationTime | null;
  eventsApplied: number;
  crudEventsApplied: number;
  ddlEventsApplied: number;
  /** Source's latest operation time observed during the batch. */
  sourceLatest: OperationTime | null;
  lagSeconds: number;
  /**
   * How far (s) the last CRUD (DDL) event this batch applied is behind `sourceLatest`; null when
   * the batch applied none of that kind (none of it waits behind `appliedThrough` then).
   */
  crudLagSeconds: number | null;
  ddlLagSeconds: number | null;
  /** True when stopAfterOperationTime was given and has been passed. */
  reachedStopTime: boolean;
}

export interface VerifyPartitionInput extends ForSync {
  direction: Direction;
  partition: Partition;
}

export interface VerifyPartitionResult {
  sourceDocuments: number;
  destinationDocuments: number;
  /** Documents that differed or were missing on one side: rechecked later. */
  suspects: number;
}

/** Where the verifier reads a cluster's change stream next: after the token, else from `startAt`. */
export interface StreamPosition {
  token: string | null;
  startAt: OperationTime | null;
}

export interface CollectChangesInput extends ForSync {
  direction: Direction;
  options: SyncOptions;
  source: StreamPosition;
  destination: StreamPosition;
  maxDurationMs: number;
}

export interface CollectChangesResult {
  source: StreamPosition;
  destination: StreamPosition;
  sourceEvents: number;
  destinationEvents: number;
  /** The source's operation time when the pass began. */
  sourceNow: OperationTime;
}

export interface RecheckInput extends ForSync {
  direction: Direction;
  /** Suspects observed up to this source time are rechecked (the sync has applied past them). */
  appliedThrough: OperationTime | null;
  /** The commit's pass: the source is blocked and drained, every suspect is settled now. */
  final: boolean;
  batchSize?: number;
  /** How long a running pass may work through what is due (default 5 s); the final pass has no limit. */
  maxDurationMs?: number;
}

export interface VerifierCounts {
  /** Documents still to recheck. */
  open: number;
  /** Confirmed mismatches that differ again after their repair (and metadata that cannot be repaired). */
  persisting: number;
  /** Confirmed mismatches, ever. */
  found: number;
  repaired: number;
}

export interface RecheckResult extends VerifierCounts {
  rechecked: number;
  repairedNow: number;
  now: OperationTime;
}

export interface MetadataCheckInput extends ForSync {
  direction: Direction;
  options: SyncOptions;
}

export interface MetadataCheckResult {
  differences: number;
  repaired: number;
  /** The first differences that hold the commit, as "ns: what". */
  blocking: string[];
  blockingCount: number;
}

export interface FinalVerificationInput extends ForSync {
  direction: Direction;
  options: SyncOptions;
  source: StreamPosition;
  destination: StreamPosition;
}

export interface FinalVerificationResult extends VerifierCounts {
  source: StreamPosition;
  destination: StreamPosition;
}

export interface UniqueConflictsInput extends ForSync {
  direction: Direction;
  options: SyncOptions;
}

/** Documents of the destination sharing one value of a unique index the sync relaxed. */
export interface UniqueConflict {
  ns: string;
  index: string;
  documents: number;
  /** The first few `_id`s holding the value, as canonical Extended JSON. */
  ids: string[];
}

export interface UniqueConflictsResult {
  indexesChecked: number;
  conflicts: UniqueConflict[];
}

export interface ClusterLatency {
  cluster: ClusterName;
  pingLatencyMs: number;
}

/** Everything the sync workflow asks of the outside world. */
export interface SyncActivities {
  preflight(input: PreflightInput): Promise<PreflightResult>;
  /** Records the sync on its destination (idempotent); refuses a cluster holding another sync's record. */
  recordSync(input: RecordSyncInput): Promise<void>;
  /** Refuses (SyncRecordMismatch) when the sync's destination does not hold its record. */
  checkSyncRecord(input: { sync: SyncRef }): Promise<void>;
  /** Removes this sync's record (only its own) from the given clusters: the sync is over. */
  removeSyncRecord(input: { sync: Pick<SyncRef, 'id' | 'uuid'>; clusters: ClusterName[] }): Promise<void>;
  setUserWriteBlocking(input: { cluster: ClusterName; enabled: boolean } & ForSync): Promise<void>;
  currentOperationTime(input: { cluster: ClusterName }): Promise<OperationTime>;
  prepareCatalog(input: { direction: Direction; options: SyncOptions } & ForSync): Promise<CatalogResult>;
  planPartitions(input: {
    direction: Direction;
    collection: CollectionPlan;
    targetPartitionBytes: number;
    /** Absent (syncs planned before natural-order copy): `_id` ranges. */
    order?: CopyOrder;
  }): Promise<Partition[]>;
  copyPartition(input: CopyPartitionInput): Promise<CopyPartitionResult>;
  buildIndexesAfterCopy(
    input: {
      direction: Direction;
      options: SyncOptions;
    } & ForSync,
  ): Promise<{ indexesBuilt: number }>;
  applyChanges(input: ApplyChangesInput): Promise<ApplyChangesResult>;
  finalizeIndexes(
    input: {
      direction: Direction;
      options: SyncOptions;
    } & ForSync,
  ): Promise<{ indexesFinalized: number }>;
  /** Relaxes the destination's existing indexes as a sync does (a reversal's new destination). */
  relaxIndexes(
    input: { direction: Direction; options: SyncOptions } & ForSync,
  ): Promise<{ indexesRelaxed: number }>;
  /** Compares one copied partition on both clusters; differences become suspects. */
  verifyPartition(input: VerifyPartitionInput): Promise<VerifyPartitionResult>;
  /** Reads both clusters' change streams: documents that changed become suspects. */
  collectChanges(input: CollectChangesInput): Promise<CollectChangesResult>;
  /** Rechecks the suspects the sync has applied past; confirms and repairs real mismatches. */
  recheckSuspects(input: RecheckInput): Promise<RecheckResult>;
  /** At commit (source blocked, drained): every change since the last pass, every suspect and the metadata. */
  finalVerification(input: FinalVerificationInput): Promise<FinalVerificationResult>;
  /** The destination's duplicate values under unique indexes the sync relaxed (the commit would fail on them). */
  findUniqueConflicts(input: UniqueConflictsInput): Promise<UniqueConflictsResult>;
  pingClusters(input: { clusters: ClusterName[] }): Promise<ClusterLatency[]>;
}
