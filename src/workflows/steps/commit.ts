// The steps of a commit (block the source, drain to the commit point, restore index options,
// unblock the destination), of a reverse (block the new destination, relax its indexes), and of a
// reset (release what the sync blocked, remove its record).
import { CLUSTER_NAMES, type ClusterName } from '../../domain';
import { checks, indexCalls, shortCalls } from '../activityProxies';
import { applyChangeBatch } from './changeEvents';
import type { Step, StepContext } from './context';
import { finalVerification } from './verification';

async function setWriteBlocking(context: StepContext, cluster: ClusterName, enabled: boolean): Promise<void> {
  await shortCalls.setUserWriteBlocking({ cluster, enabled, sync: context.syncRef() });
}

export const commitBlockSource: Step = async (context) => {
  if (context.options.writeBlocking === 'sourceAndDestination') {
    await setWriteBlocking(context, context.direction.source, true);
  }
  return 'done';
};

export const commitPoint: Step = async (context) => {
  context.state.commit.commitPoint = await shortCalls.currentOperationTime({
    cluster: context.direction.source,
  });
  return 'done';
};

export const commitDrain: Step = async (context) => {
  const result = await applyChangeBatch(context, context.state.commit.commitPoint);
  return result.reachedStopTime ? 'done' : 'again';
};

export const commitFinalize: Step = async (context) => {
  const { direction, options } = context;
  await indexCalls.finalizeIndexes({ direction, options, sync: context.syncRef() });
  // Index options are restored: the verifier's last pass compares data and metadata as they stay.
  await finalVerification(context);
  return 'done';
};

export const commitWritablePoint: Step = async (context) => {
  // Taken while users are still blocked, so no user write can fall before it unreplicated.
  context.state.commit.writablePoint = await shortCalls.currentOperationTime({
    cluster: context.direction.destination,
  });
  return 'done';
};

export const commitUnblock: Step = async (context) => {
  const { state } = context;
  if (context.options.writeBlocking !== 'none') {
    await setWriteBlocking(context, context.direction.destination, false);
  }
  state.commit.canWrite = true;
  state.changeEvents.lag = { seconds: 0, measuredAt: Date.now(), etaSeconds: null };
  return 'done';
};

export const reverseBlockDestination: Step = async (context) => {
  // The old source was blocked at commit and becomes the destination: keep users off it.
  await setWriteBlocking(context, context.direction.destination, true);
  // The reversed sync verifies what it applies from its own start, on its own streams.
  context.state.verification = undefined;
  return 'done';
};

export const reverseRelaxIndexes: Step = async (context) => {
  // It holds the indexes with their constraints: relax them as for any destination until the next commit.
  const { direction, options } = context;
  await indexCalls.relaxIndexes({ direction, options, sync: context.syncRef() });
  return 'done';
};

export const reset: Step = async (context) => {
  const { state } = context;
  for (const { cluster, checkRecord } of state.releaseOnReset) {
    if (checkRecord) await setWriteBlocking(context, cluster, false);
    else await shortCalls.setUserWriteBlocking({ cluster, enabled: false });
  }
  if (state.syncUuid) {
    await checks.removeSyncRecord({
      sync: { id: state.syncId, uuid: state.syncUuid },
      clusters: [...CLUSTER_NAMES],
    });
  }
  return 'done';
};
