// Messages of the sync workflow and its state machine: shared by the workflow, the REST API and
// the tests. Pure definitions only (this module is bundled into the workflow sandbox).
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Direction, SyncOptions } from '../domain';

export const SYNC_STATES = ['IDLE', 'RUNNING', 'PAUSED', 'COMMITTING', 'COMMITTED', 'REVERSING'] as const;
export type SyncStateName = (typeof SYNC_STATES)[number];

export const SYNC_COMMANDS = ['start', 'pause', 'resume', 'commit', 'reverse'] as const;
export type SyncCommand = (typeof SYNC_COMMANDS)[number];

/** The contract's error names; also the `type` of every ApplicationFailure a validator or handler throws. */
export type SyncErrorName =
  | 'InvalidRequest'
  | 'InvalidStateTransition'
  | 'PreconditionFailed'
  | 'NotCommittable'
  | 'Unavailable'
  | 'InternalError';

/** Which state each command is accepted in and the state it leads to. */
export const COMMAND_TRANSITIONS: Record<SyncCommand, { from: SyncStateName; to: SyncStateName }> = {
  start: { from: 'IDLE', to: 'RUNNING' },
  pause: { from: 'RUNNING', to: 'PAUSED' },
  resume: { from: 'PAUSED', to: 'RUNNING' },
  commit: { from: 'RUNNING', to: 'COMMITTING' },
  reverse: { from: 'COMMITTED', to: 'REVERSING' },
};

/** Transitions the workflow makes by itself once the work of a state is done. */
export const AUTOMATIC_TRANSITIONS: Partial<Record<SyncStateName, SyncStateName>> = {
  COMMITTING: 'COMMITTED',
  REVERSING: 'RUNNING',
};

export interface CommandRejection {
  error: SyncErrorName;
  description: string;
}

/** Why `command` is not allowed now, or null when the state table allows it. */
export function commandRejection(
  state: SyncStateName,
  command: SyncCommand,
  canCommit: boolean,
): CommandRejection | null {
  const transition = COMMAND_TRANSITIONS[command];
  if (state !== transition.from) {
    return {
      error: 'InvalidStateTransition',
      description: `cannot ${command} in state ${state}: ${command} is only allowed in state ${transition.from}`,
    };
  }
  if (command === 'commit' && !canCommit) {
    return {
      error: 'NotCommittable',
      description:
        'cannot commit yet: canCommit is false (the initial copy must be done, change event application running and lag under 30 s)',
    };
  }
  return null;
}

/** A validated /start request as the workflow receives it. */
export interface StartRequest {
  direction: Direction;
  options: SyncOptions;
}

/** The rules a /start request's options must follow, as messages; empty when valid. */
export function startRuleViolations(request: StartRequest): string[] {
  const problems: string[] = [];
  const { direction, options } = request;
  const clusters = ['cluster0', 'cluster1'];
  if (!clusters.includes(direction.source) || !clusters.includes(direction.destination)) {
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

export interface CollectionCopyProgress {
  estimatedTotalBytes: number;
  estimatedCopiedBytes: number;
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

/**
 * The progress the workflow reports (query `progress` and memo `progress`). Clusters appear by name
 * only: the API turns `direction` into the contract's `directionMapping` from its own configuration.
 */
export interface WorkflowProgress {
  state: SyncStateName;
  canCommit: boolean;
  canWrite: boolean | null;
  info: string | null;
  lagTimeSeconds: number | null;
  lag: { overallLagSeconds: number; crudLagSeconds: number; ddlLagSeconds: number } | null;
  totalEventsApplied: number | null;
  estimatedSecondsToCEACatchup: number | null;
  collectionCopy: CollectionCopyProgress | null;
  indexBuilding: IndexBuildingProgress | null;
  direction: Direction | null;
  source: { pingLatencyMs: number } | null;
  destination: { pingLatencyMs: number } | null;
  verification: { source: VerifierSideProgress; destination: VerifierSideProgress } | null;
  warnings: string[];
  mongosyncID: string;
  /** Hash of the clusters' host lists, so a service can tell whether a sync belongs to its clusters. */
  clusterFingerprint: string;
}

export const PROGRESS_MEMO_KEY = 'progress';

export const startUpdate = defineUpdate<void, [StartRequest]>('start');
export const pauseUpdate = defineUpdate<void>('pause');
export const resumeUpdate = defineUpdate<void>('resume');
export const commitUpdate = defineUpdate<void>('commit');
export const reverseUpdate = defineUpdate<void>('reverse');

export const startSignal = defineSignal<[StartRequest]>('start');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const commitSignal = defineSignal('commit');
export const reverseSignal = defineSignal('reverse');

export const progressQuery = defineQuery<WorkflowProgress>('progress');

/** The updates without arguments, by command name, for the API. */
export const COMMAND_UPDATES = {
  pause: pauseUpdate,
  resume: resumeUpdate,
  commit: commitUpdate,
  reverse: reverseUpdate,
} as const;
