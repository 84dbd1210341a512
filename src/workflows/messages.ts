// Messages of the sync workflow and its state machine: shared by the workflow, the REST API and
// the tests. Pure definitions only (this module is bundled into the workflow sandbox).
import type { UniqueConflict } from '../activities/contract';
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import type { SignalDefinition, UpdateDefinition } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { CLUSTER_NAMES, type Direction, type OperationTime, type SyncOptions } from '../domain';

export const SYNC_STATUSES = [
  'IDLE',
  'INITIALIZING',
  'RUNNING',
  'PAUSED',
  'COMMITTING',
  'COMMITTED',
  'REVERSING',
] as const;
/** The contract's `state` of a sync. */
export type SyncStatus = (typeof SYNC_STATUSES)[number];

/** The contract's commands, and `reset` (ours): end a sync so the next /start begins a new one. */
export const SYNC_COMMANDS = ['start', 'pause', 'resume', 'commit', 'reverse', 'reset'] as const;
export type SyncCommand = (typeof SYNC_COMMANDS)[number];
/** The commands that take no argument (all but start). */
export type ArgumentlessCommand = Exclude<SyncCommand, 'start'>;

/** The contract's error names; also the `type` of every ApplicationFailure a validator or handler throws. */
export type SyncErrorName =
  | 'InvalidRequest'
  | 'InvalidStateTransition'
  | 'PreconditionFailed'
  | 'NotCommittable'
  | 'InsufficientDestinationDiskSpace'
  | 'Unavailable'
  | 'InternalError';

export const SYNC_ERROR_NAMES: readonly SyncErrorName[] = [
  'InvalidRequest',
  'InvalidStateTransition',
  'PreconditionFailed',
  'NotCommittable',
  'InsufficientDestinationDiskSpace',
  'Unavailable',
  'InternalError',
];

/** A validated /start request as the workflow receives it. */
export interface StartRequest {
  direction: Direction;
  options: SyncOptions;
}

/** The rules a /start request's options must follow, as messages; empty when valid. */
export function startRuleViolations(request: StartRequest): string[] {
  const problems: string[] = [];
  const { direction, options } = request;
  if (!CLUSTER_NAMES.includes(direction.source) || !CLUSTER_NAMES.includes(direction.destination)) {
    problems.push('source and destination must be "cluster0" or "cluster1"');
  } else if (direction.source === direction.destination) {
    problems.push('source and destination must be different clusters');
  }
  const hasFilters = options.includeNamespaces.length > 0 || options.excludeNamespaces.length > 0;
  if (options.reversible) {
    if (options.writeBlocking !== 'sourceAndDestination') {
      problems.push('reversible requires enableUserWriteBlocking to be true ("sourceAndDestination")');
    }
    if (hasFilters)
      problems.push('reversible cannot be combined with includeNamespaces or excludeNamespaces');
    if (options.buildIndexes === 'never')
      problems.push('reversible cannot be combined with buildIndexes "never"');
    if (options.preExistingDestinationData) {
      problems.push('reversible cannot be combined with preExistingDestinationData');
    }
  }
  if (options.preExistingDestinationData && !hasFilters) {
    problems.push('preExistingDestinationData requires includeNamespaces or excludeNamespaces');
  }
  return problems;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * How a /start request differs from the running sync's, one message per field; empty when it
 * asks for the same sync. Options the running sync was started without (an older release's) are
 * not compared.
 */
export function startRequestDifferences(running: StartRequest, request: StartRequest): string[] {
  const differences: string[] = [];
  for (const key of ['source', 'destination'] as const) {
    if (running.direction[key] !== request.direction[key])
      differences.push(`${key} is ${running.direction[key]}, not ${request.direction[key]}`);
  }
  const runningOptions = running.options as unknown as Record<string, unknown>;
  const requestOptions = request.options as unknown as Record<string, unknown>;
  for (const key of Object.keys(requestOptions).sort()) {
    if (!(key in runningOptions)) continue;
    if (canonical(runningOptions[key]) !== canonical(requestOptions[key])) {
      differences.push(`${key} is ${canonical(runningOptions[key])}, not ${canonical(requestOptions[key])}`);
    }
  }
  return differences;
}

/** Ours: one namespace's copy. */
export interface NamespaceCopyProgress {
  namespace: string;
  state: 'not started' | 'copying' | 'copied';
  estimatedTotalBytes: number;
  estimatedCopiedBytes: number;
  estimatedTotalDocuments: number;
  copiedDocuments: number;
}

export interface CollectionCopyProgress {
  estimatedTotalBytes: number;
  estimatedCopiedBytes: number;
  /** Ours: each namespace's copy. */
  namespaces?: NamespaceCopyProgress[];
  /** Ours: seconds left at the copy's average rate so far (null until it can be told). */
  estimatedSecondsRemaining?: number | null;
  /** Ours: when the copy began (ms since the epoch, workflow time). */
  startedAtMs?: number | null;
}

export interface IndexBuildingProgress {
  indexesBuilt: number;
  totalIndexesToBuild: number;
  collectionsFinished: number;
  collectionsTotal: number;
}

export interface VerifierSideProgress {
  estimatedDocumentCount: number | null;
  hashedDocumentCount: number | null;
  lagTimeSeconds: number | null;
  totalCollectionCount: number | null;
  scannedCollectionCount: number | null;
  phase: 'not started' | 'initial hashing' | 'stream hashing';
}

export interface VerificationProgress {
  source: VerifierSideProgress;
  destination: VerifierSideProgress;
  /** Ours, beside the contract's: confirmed mismatches, and how many were repaired. */
  mismatchesFound: number;
  mismatchesRepaired: number;
  /** Ours: duplicate values under unique indexes relaxed on the destination (commit waits for them). */
  uniqueConflicts: UniqueConflict[];
}

export const CEA_STAGES = ['collection copy drain', 'steady state'] as const;
export type CeaStage = (typeof CEA_STAGES)[number];

/**
 * The progress the workflow reports (query `progress` and memo `progress`). Clusters appear by name
 * only: the API turns `direction` into the contract's `directionMapping` from its own configuration.
 */
export interface WorkflowProgress {
  state: SyncStatus;
  canCommit: boolean;
  canWrite: boolean | null;
  info: string | null;
  lagTimeSeconds: number | null;
  lag: { overallLagSeconds: number; crudLagSeconds: number; ddlLagSeconds: number } | null;
  totalEventsApplied: number | null;
  /** Ours: the applied events by kind (absent in progress published before). */
  eventsAppliedByKind?: { crud: number; ddl: number } | null;
  estimatedSecondsToCEACatchup: number | null;
  /** mongosync 1.22: during change event application, whether it still drains what the copy left. */
  ceaStage: CeaStage | null;
  collectionCopy: CollectionCopyProgress | null;
  indexBuilding: IndexBuildingProgress | null;
  direction: Direction | null;
  source: { pingLatencyMs: number } | null;
  destination: { pingLatencyMs: number } | null;
  verification: VerificationProgress | null;
  warnings: string[];
  mongosyncID: string;
  /** Hash of the clusters' host lists, so a service can tell whether a sync belongs to its clusters. */
  clusterFingerprint: string;
  /** The random id of this sync, recorded on its destination; null before start. */
  syncUuid: string | null;
  /**
   * Where the sync's change stream resumes, to the minute (absent before the patch): the API
   * tells from it how long the source's oplog still holds it (estimatedOplogTimeRemaining).
   */
  resumePoint?: OperationTime;
}

export const PROGRESS_MEMO_KEY = 'progress';

/**
 * The search attributes a sync keeps current, so `temporal workflow list --query
 * 'MongosyncState="COMMITTED"'` and the Web UI find syncs by state, phase and id. They must be
 * registered on the namespace (the dev server the service starts registers them).
 */
export const SEARCH_ATTRIBUTES = {
  state: defineSearchAttributeKey('MongosyncState', SearchAttributeType.KEYWORD),
  phase: defineSearchAttributeKey('MongosyncPhase', SearchAttributeType.KEYWORD),
  id: defineSearchAttributeKey('MongosyncId', SearchAttributeType.KEYWORD),
};

/** Each command is a Workflow Update (answered) and a Signal of the same name (fire and forget). */
export const startUpdate = defineUpdate<void, [StartRequest]>('start');
export const startSignal = defineSignal<[StartRequest]>('start');

const ARGUMENTLESS_COMMANDS = SYNC_COMMANDS.filter(
  (command): command is ArgumentlessCommand => command !== 'start',
);

export const COMMAND_UPDATES = Object.fromEntries(
  ARGUMENTLESS_COMMANDS.map((command) => [command, defineUpdate<void>(command)]),
) as Record<ArgumentlessCommand, UpdateDefinition<void, []>>;

export const COMMAND_SIGNALS = Object.fromEntries(
  ARGUMENTLESS_COMMANDS.map((command) => [command, defineSignal(command)]),
) as Record<ArgumentlessCommand, SignalDefinition<[]>>;

export const progressQuery = defineQuery<WorkflowProgress>('progress');
