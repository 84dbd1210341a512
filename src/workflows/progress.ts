// The progress view of a sync's state, as the query and the memo report it.
import type { WorkflowProgress, VerifierSideProgress } from './messages';
import { canCommit, type SyncPhase, type SyncWorkflowState } from './state';

const COPY_PHASES: ReadonlySet<SyncPhase> = new Set([
  'blockDestination',
  'catalog',
  'planning',
  'copy',
  'indexes',
]);

function phaseInfo(state: SyncWorkflowState): string | null {
  switch (state.state) {
    case 'IDLE':
      return null;
    case 'COMMITTING':
      return 'waiting for commit to complete';
    case 'COMMITTED':
      return 'commit completed';
    case 'REVERSING':
      return 'reversing';
    default:
      if (state.phase === null) return null;
      return COPY_PHASES.has(state.phase) ? 'collection copy' : 'change event application';
  }
}

function isApplyingChanges(state: SyncWorkflowState): boolean {
  return state.phase === 'changeEvents' || state.state === 'COMMITTING';
}

function verifierNotStarted(estimatedDocumentCount: number | null): VerifierSideProgress {
  return {
    estimatedDocumentCount,
    hashedDocumentCount: 0,
    lagTimeSeconds: null,
    totalCollectionCount: null,
    scannedCollectionCount: 0,
    phase: 'not started',
  };
}

export function idleProgress(): WorkflowProgress {
  return {
    state: 'IDLE',
    canCommit: false,
    canWrite: null,
    info: null,
    lagTimeSeconds: null,
    lag: null,
    totalEventsApplied: null,
    estimatedSecondsToCEACatchup: null,
    collectionCopy: null,
    indexBuilding: null,
    direction: null,
    source: null,
    destination: null,
    verification: null,
    warnings: [],
    mongosyncID: '',
    clusterFingerprint: '',
  };
}

export function progressView(state: SyncWorkflowState): WorkflowProgress {
  if (state.state === 'IDLE' || state.direction === null) {
    return {
      ...idleProgress(),
      warnings: [...state.warnings],
      mongosyncID: state.syncId,
      clusterFingerprint: state.clusterFingerprint,
    };
  }
  const { direction, lastError } = state;
  const committed = state.state === 'COMMITTED';
  const lagTimeSeconds = committed ? 0 : isApplyingChanges(state) ? state.lagSeconds : null;
  const info = lastError ? `error: ${lastError.type}: ${lastError.message}` : phaseInfo(state);
  const warnings = [...state.warnings];
  if (state.options && !state.options.verificationEnabled) {
    warnings.push(
      'The embedded verifier is not implemented yet: this sync runs without verification, and commit is not gated by it',
    );
  }
  if (lastError) {
    warnings.push(
      `${lastError.phase ?? state.state} failed (${lastError.type}): ${lastError.message}; ` +
        'the step is retried automatically, or at once after pause and resume',
    );
  }
  const ping = (cluster: keyof typeof state.pingLatencyMs) => {
    const latency = state.pingLatencyMs[cluster];
    return latency === undefined ? null : { pingLatencyMs: latency };
  };
  const estimatedDocuments = state.collections.reduce((sum, c) => sum + c.estimatedDocuments, 0);
  return {
    state: state.state,
    canCommit: canCommit(state),
    canWrite: state.canWrite,
    info,
    lagTimeSeconds,
    lag:
      lagTimeSeconds === null
        ? null
        : {
            overallLagSeconds: lagTimeSeconds,
            crudLagSeconds: lagTimeSeconds,
            ddlLagSeconds: lagTimeSeconds,
          },
    totalEventsApplied: state.totalEventsApplied,
    estimatedSecondsToCEACatchup: state.phase === 'changeEvents' ? state.estimatedSecondsToCatchup : null,
    collectionCopy: {
      estimatedTotalBytes: state.estimatedTotalBytes ?? 1,
      estimatedCopiedBytes: state.copyDone ? (state.estimatedTotalBytes ?? 0) : state.copiedBytes,
    },
    indexBuilding: state.indexBuilding,
    direction,
    source: ping(direction.source),
    destination: ping(direction.destination),
    verification:
      state.options?.verificationEnabled === false
        ? null
        : { source: verifierNotStarted(estimatedDocuments), destination: verifierNotStarted(null) },
    warnings,
    mongosyncID: state.syncId,
    clusterFingerprint: state.clusterFingerprint,
  };
}
