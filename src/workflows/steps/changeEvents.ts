// Change event application: one bounded batch per step, with the cluster pings, the lag and
// catch-up estimate, and (during a commit) the drain's watch.
import { CancellationScope, patched, sleep } from '@temporalio/workflow';
import type { ApplyChangesResult } from '../../activities/contract';
import { CLUSTER_NAMES, compareOperationTimes, type OperationTime } from '../../domain';
import { longCalls, pingCalls } from '../activityProxies';
import { nextDrainWatch, nextLag } from '../lag';
import type { ChangeEventState } from '../state';
import type { Step, StepContext } from './context';
import { noteApplied, verifierWork } from './verification';

async function pingIfDue(context: StepContext): Promise<void> {
  const { state } = context;
  if (state.lastPingAt !== null && Date.now() - state.lastPingAt < state.tuning.pingIntervalMs) return;
  state.lastPingAt = Date.now();
  try {
    const latencies = await pingCalls.pingClusters({ clusters: [...CLUSTER_NAMES] });
    for (const { cluster, pingLatencyMs } of latencies) state.pingLatencyMs[cluster] = pingLatencyMs;
  } catch {
    state.pingLatencyMs = { cluster0: -1, cluster1: -1 };
  }
}

/** Patch: the sync reports ceaStage, "collection copy drain" until it passes `drainUntil`. */
export const CEA_STAGE = 'cea-stage';

/**
 * The drain of what the copy left (or, after a reverse, what was written since the commit) ends
 * at the source's latest time as the first batch saw it; applying past it is the steady state.
 */
function advanceCeaStage(changeEvents: ChangeEventState, result: ApplyChangesResult): void {
  if (!changeEvents.drainUntil) changeEvents.drainUntil = result.sourceLatest;
  const { drainUntil } = changeEvents;
  if (drainUntil && result.appliedThrough && compareOperationTimes(result.appliedThrough, drainUntil) >= 0)
    changeEvents.steadyState = true;
}

/** Applies one batch from the checkpoint; with a stop time, until the stream has passed it. */
export async function applyChangeBatch(
  context: StepContext,
  stopAfterOperationTime: OperationTime | null = null,
): Promise<ApplyChangesResult> {
  const { changeEvents, commit, tuning } = context.state;
  const startedAt = Date.now();
  const result = await longCalls.applyChanges({
    direction: context.direction,
    resumeToken: changeEvents.resumeToken,
    startAtOperationTime: changeEvents.resumeToken ? null : changeEvents.startAt,
    maxDurationMs: tuning.applyBatchMs,
    maxEvents: tuning.applyBatchMaxEvents,
    stopAfterOperationTime,
    // Namespace filters and buildIndexes decide which change events apply.
    options: context.options,
    sync: context.syncRef(),
  });
  const now = Date.now();
  const checkpointMoved = result.resumeToken !== null && result.resumeToken !== changeEvents.resumeToken;
  if (result.resumeToken) changeEvents.resumeToken = result.resumeToken;
  changeEvents.batches += 1;
  changeEvents.totalApplied += result.eventsApplied;
  changeEvents.crudApplied += result.crudEventsApplied;
  changeEvents.ddlApplied += result.ddlEventsApplied;
  changeEvents.lag = nextLag(changeEvents.lag, result.lagSeconds, now);
  // A kind none of whose events the batch applied has none waiting behind the stream's position.
  if (result.appliedThrough) changeEvents.appliedThrough = result.appliedThrough;
  changeEvents.crudLagSeconds = result.crudLagSeconds ?? result.lagSeconds;
  changeEvents.ddlLagSeconds = result.ddlLagSeconds ?? result.lagSeconds;
  // ceaStage flips once, and only in runs that know it: the flip changes the published progress.
  if (patched(CEA_STAGE) && !changeEvents.steadyState) advanceCeaStage(changeEvents, result);
  if (stopAfterOperationTime) {
    const watch = nextDrainWatch(
      { progressAt: commit.drainProgressAt, stalledSeconds: commit.drainStalledSeconds },
      { eventsApplied: result.eventsApplied, checkpointMoved },
      now,
      tuning.drainStallWarningMs,
    );
    commit.drainProgressAt = watch.progressAt;
    commit.drainStalledSeconds = watch.stalledSeconds;
  }
  context.publish();
  // An idle stream that answers at once must not turn the loop into a busy one.
  if (result.eventsApplied === 0 && !result.reachedStopTime && now - startedAt < tuning.idleBatchMs) {
    await sleep(tuning.idleBatchMs);
  }
  return result;
}

/** Patch: a commit (or pause) cancels the apply batch in flight instead of waiting for its end. */
export const INTERRUPT_APPLY_ON_COMMIT = 'interrupt-apply-batch-on-commit';

/** Runs until a command (commit, pause) moves the sync on. */
export const changeEvents: Step = async (context) => {
  await pingIfDue(context);
  // The verifier hashes and rechecks beside the batch (nothing for a sync without verification).
  const batch = () => Promise.all([applyChangeBatch(context), verifierWork(context)]);
  if (!patched(INTERRUPT_APPLY_ON_COMMIT)) {
    const [applied] = await batch();
    noteApplied(context, applied.appliedThrough);
    return 'again';
  }
  const scope = new CancellationScope();
  context.setCancellableScope(scope);
  // Both activities end (cancelled ones included) before the step does: nothing of this batch
  // still writes while the next step runs. The first failure cancels the other one (a verifier
  // retrying must not hold back the apply's history loss) and is the step's failure.
  let firstFailure: { error: unknown } | null = null;
  const failFast = async <T>(work: Promise<T>): Promise<T> => {
    try {
      return await work;
    } catch (error) {
      if (firstFailure === null) {
        firstFailure = { error };
        scope.cancel();
      }
      throw error;
    }
  };
  const [applied] = await scope.run(() =>
    Promise.allSettled([failFast(applyChangeBatch(context)), failFast(verifierWork(context))]),
  );
  if (firstFailure !== null) throw (firstFailure as { error: unknown }).error;
  if (applied.status === 'rejected') throw applied.reason;
  noteApplied(context, applied.value.appliedThrough);
  return 'again';
};
