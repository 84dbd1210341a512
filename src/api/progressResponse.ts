// The contract's /progress object, built from the workflow's progress and the API's own
// knowledge of which hosts cluster0 and cluster1 are (never credentials).
import type { ClusterName } from '../domain';
import type { WorkflowProgress } from '../workflows/messages';

/** `host:port[,host:port]` per cluster name, already redacted. */
export type ClusterHosts = Record<ClusterName, string>;

/** An IDLE sync has no id to show yet: the contract reports every field but state and canCommit as null. */
export function progressResponse(progress: WorkflowProgress, hosts: ClusterHosts): Record<string, unknown> {
  const { direction } = progress;
  const idle = progress.state === 'IDLE';
  const response: Record<string, unknown> = {
    state: progress.state,
    canCommit: progress.canCommit,
    canWrite: progress.canWrite,
    info: progress.info,
    lagTimeSeconds: progress.lagTimeSeconds,
    lag: progress.lag,
    totalEventsApplied: progress.totalEventsApplied,
    estimatedSecondsToCEACatchup: progress.estimatedSecondsToCEACatchup,
    ceaStage: progress.ceaStage ?? null,
    // Filled in by the API from the source's oplog (see oplogEstimate.ts).
    estimatedOplogTimeRemaining: null,
    collectionCopy: progress.collectionCopy,
    indexBuilding: progress.indexBuilding,
    directionMapping:
      direction && !idle
        ? {
            Source: `${direction.source}: ${hosts[direction.source]}`,
            Destination: `${direction.destination}: ${hosts[direction.destination]}`,
          }
        : null,
    source: progress.source,
    destination: progress.destination,
    verification: progress.verification,
    mongosyncID: idle ? null : progress.mongosyncID,
    coordinatorID: idle ? null : progress.mongosyncID,
  };
  if (progress.warnings.length > 0) response.warnings = progress.warnings;
  return response;
}
