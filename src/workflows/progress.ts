// The progress view of a sync's state, as the query and the memo report it. State and info come
// from the state table.
import type { NamespaceCopyProgress, VerifierSideProgress, WorkflowProgress } from './messages';
import { canCommit, haltedBy, type CopyState, type SyncWorkflowState } from './state';
import { PHASES } from './stateTable';
import type { OperationTime } from '../domain';

function isApplyingChanges(state: SyncWorkflowState): boolean {
  return state.phase === 'changeEvents' || state.status === 'COMMITTING';
}

/** The memo carries the progress: a sync of very many collections lists the ones still copying first. */
const MAX_NAMESPACES_SHOWN = 500;
const SHOWN_FIRST: Record<NamespaceCopyProgress['state'], number> = {
  copying: 0,
  'not started': 1,
  copied: 2,
};

/** Each collection's copy (ours): finished partitions as the workflow counted them. */
function namespaceCopies(copy: CopyState): NamespaceCopyProgress[] {
  const all = copy.collections.map(({ db, coll, estimatedBytes, estimatedDocuments }) => {
    const namespace = `${db}.${coll}`;
    const copied = copy.copiedByNamespace?.[namespace] ?? { bytes: 0, documents: 0 };
    const planned = !copy.collectionsToPlan.some((c) => c.db === db && c.coll === coll);
    const pending = copy.pendingPartitions.some((p) => p.db === db && p.coll === coll);
    const finished = copy.done || (planned && !pending);
    return {
      namespace,
      state: finished ? 'copied' : copied.bytes > 0 ? 'copying' : 'not started',
      estimatedTotalBytes: Math.max(estimatedBytes, copied.bytes),
      estimatedCopiedBytes: finished ? Math.max(estimatedBytes, copied.bytes) : copied.bytes,
      estimatedTotalDocuments: Math.max(estimatedDocuments, copied.documents),
      copiedDocuments: copied.documents,
    } satisfies NamespaceCopyProgress;
  });
  if (all.length <= MAX_NAMESPACES_SHOWN) return all;
  return [...all].sort((a, b) => SHOWN_FIRST[a.state] - SHOWN_FIRST[b.state]).slice(0, MAX_NAMESPACES_SHOWN);
}

function verifierProgress(
  state: SyncWorkflowState,
  side: 'source' | 'destination',
  estimatedDocumentCount: number,
): VerifierSideProgress {
  const verification = state.verification;
  const totalCollectionCount = state.copy.collections.length;
  if (
    verification === undefined ||
    (verification.hashedPartitions === 0 && verification.lastPassAt === null)
  ) {
    return {
      estimatedDocumentCount,
      hashedDocumentCount: 0,
      lagTimeSeconds: null,
      totalCollectionCount,
      scannedCollectionCount: 0,
      phase: 'not started',
    };
  }
  const scanned = Object.values(verification.partitionsLeft).filter((left) => left === 0).length;
  const lag =
    verification.lastPassAt === null
      ? null
      : Math.max(0, Math.round((Date.now() - verification.lastPassAt) / 1000));
  return {
    estimatedDocumentCount,
    hashedDocumentCount: verification.documents[side],
    lagTimeSeconds: lag,
    totalCollectionCount,
    scannedCollectionCount: Math.min(scanned, totalCollectionCount),
    phase: verification.partitionsToHash.length > 0 ? 'initial hashing' : 'stream hashing',
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
    eventsAppliedByKind: null,
    estimatedSecondsToCEACatchup: null,
    ceaStage: null,
    collectionCopy: null,
    indexBuilding: null,
    direction: null,
    source: null,
    destination: null,
    verification: null,
    warnings: [],
    mongosyncID: '',
    clusterFingerprint: '',
    syncUuid: null,
  };
}

function warningsOf(state: SyncWorkflowState): string[] {
  const warnings = [...state.warnings];
  const { lastError, commit } = state;
  const verification = state.verification;
  if (state.options?.verificationEnabled && verification && verification.persisting > 0) {
    warnings.push(
      `the verifier found ${verification.persisting} difference(s) that persist after repair; ` +
        'the commit waits for them (GET /api/v1/verification lists them)',
    );
  }
  for (const conflict of verification?.uniqueConflicts ?? []) {
    warnings.push(
      `unique index ${conflict.index} on ${conflict.ns}: ${conflict.documents} documents on the destination share one ` +
        `value (_id ${conflict.ids.join(', ')}); the commit cannot make the index unique until they differ`,
    );
  }
  if (lastError && lastError.retryAt === null) {
    const recovery =
      lastError.type === 'ChangeStreamHistoryLost' && lastError.phase === 'changeEvents'
        ? '; or POST /api/v1/pause then /api/v1/resume to recopy every namespace from a new start point'
        : '';
    warnings.push(
      `the sync cannot continue: ${lastError.phase} failed (${lastError.type}): ${lastError.message}; ` +
        `nothing more is written to the clusters; end the sync with POST /api/v1/reset to start over${recovery}`,
    );
  } else if (lastError) {
    warnings.push(
      `${lastError.phase} failed (${lastError.type}): ${lastError.message}; ` +
        'the step is retried automatically, or at once after pause and resume',
    );
  }
  if (state.status === 'COMMITTING' && commit.drainStalledSeconds !== null) {
    warnings.push(
      `the commit has made no progress for ${commit.drainStalledSeconds} s: change event application ` +
        "has not reached the commit point (is the source's change stream advancing?)",
    );
  }
  return warnings;
}

/** Where the change stream resumes from, to the minute (it changes the memo once a minute at most). */
export function resumePointOf(state: SyncWorkflowState): OperationTime | null {
  if (state.direction === null || state.status === 'IDLE' || state.status === 'COMMITTED') return null;
  const at = state.changeEvents.appliedThrough ?? state.changeEvents.startAt;
  return at ? { t: Math.floor(at.t / 60) * 60, i: 0 } : null;
}

export function progressView(state: SyncWorkflowState): WorkflowProgress {
  if (state.status === 'IDLE' || state.direction === null) {
    return {
      ...idleProgress(),
      // A start whose checks run shows INITIALIZING before it has a direction.
      state: state.status === 'INITIALIZING' ? 'INITIALIZING' : 'IDLE',
      // A reset that has not finished says why here, as any failed step does.
      warnings: warningsOf(state),
      mongosyncID: state.syncId,
      clusterFingerprint: state.clusterFingerprint,
      syncUuid: state.syncUuid,
    };
  }
  const { direction, lastError, copy, changeEvents } = state;
  const committed = state.status === 'COMMITTED';
  const lagTimeSeconds = committed ? 0 : isApplyingChanges(state) ? changeEvents.lag.seconds : null;
  const halted = haltedBy(state);
  const info = halted
    ? `error: ${halted}`
    : lastError
      ? `error: ${lastError.type}: ${lastError.message}`
      : state.status === 'INITIALIZING'
        ? null
        : PHASES[state.phase].info;
  const ping = (cluster: keyof typeof state.pingLatencyMs) => {
    const latency = state.pingLatencyMs[cluster];
    return latency === undefined ? null : { pingLatencyMs: latency };
  };
  const estimatedDocuments = copy.collections.reduce((sum, c) => sum + c.estimatedDocuments, 0);
  return {
    state: state.status,
    canCommit: canCommit(state),
    canWrite: state.commit.canWrite,
    info,
    lagTimeSeconds,
    lag:
      lagTimeSeconds === null
        ? null
        : {
            overallLagSeconds: lagTimeSeconds,
            crudLagSeconds: committed ? 0 : (changeEvents.crudLagSeconds ?? lagTimeSeconds),
            ddlLagSeconds: committed ? 0 : (changeEvents.ddlLagSeconds ?? lagTimeSeconds),
          },
    totalEventsApplied: changeEvents.totalApplied,
    eventsAppliedByKind: { crud: changeEvents.crudApplied, ddl: changeEvents.ddlApplied },
    estimatedSecondsToCEACatchup: state.phase === 'changeEvents' ? changeEvents.lag.etaSeconds : null,
    ceaStage: isApplyingChanges(state)
      ? changeEvents.steadyState
        ? 'steady state'
        : 'collection copy drain'
      : null,
    collectionCopy: {
      estimatedTotalBytes: copy.estimatedTotalBytes ?? 1,
      estimatedCopiedBytes: copy.done ? (copy.estimatedTotalBytes ?? 0) : copy.copiedBytes,
      namespaces: namespaceCopies(copy),
      startedAtMs: copy.startedAtMs ?? null,
    },
    indexBuilding: copy.indexBuilding,
    direction,
    source: ping(direction.source),
    destination: ping(direction.destination),
    verification: state.options?.verificationEnabled
      ? {
          source: verifierProgress(state, 'source', estimatedDocuments),
          destination: verifierProgress(state, 'destination', estimatedDocuments),
          mismatchesFound: state.verification?.mismatchesFound ?? 0,
          mismatchesRepaired: state.verification?.mismatchesRepaired ?? 0,
          uniqueConflicts: state.verification?.uniqueConflicts ?? [],
        }
      : null,
    warnings: warningsOf(state),
    mongosyncID: state.syncId,
    clusterFingerprint: state.clusterFingerprint,
    syncUuid: state.syncUuid,
  };
}
