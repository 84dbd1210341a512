// The contract's /progress object, built from the workflow's progress and the API's own
// knowledge of which hosts cluster0 and cluster1 are (never credentials).
import type { ClusterName } from '../domain';
import type { WorkflowProgress } from '../workflows/messages';

/** `host:port[,host:port]` per cluster name, already redacted. */
export type ClusterHosts = Record<ClusterName, string>;

export function progressResponse(progress: WorkflowProgress, hosts: ClusterHosts): Record<string, unknown> {
  if (progress.state === 'IDLE') {
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
      directionMapping: null,
      source: null,
      destination: null,
      verification: null,
      mongosyncID: null,
      coordinatorID: null,
    };
  }
  const { direction } = progress;
  const response: Record<string, unknown> = {
    state: progress.state,
    canCommit: progress.canCommit,
    canWrite: progress.canWrite,
    info: progress.info,
    lagTimeSeconds: progress.lagTimeSeconds,
    lag: progress.lag,
    totalEventsApplied: progress.totalEventsApplied,
    estimatedSecondsToCEACatchup: progress.estimatedSecondsToCEACatchup,
    collectionCopy: progress.collectionCopy,
    indexBuilding: progress.indexBuilding,
    directionMapping: direction
      ? {
          Source: `${direction.source}: ${hosts[direction.source]}`,
          Destination: `${direction.destination}: ${hosts[direction.destination]}`,
        }
      : null,
    source: progress.source,
    destination: progress.destination,
    verification: progress.verification,
    mongosyncID: progress.mongosyncID,
    coordinatorID: progress.mongosyncID,
  };
  if (progress.warnings.length > 0) response.warnings = progress.warnings;
  return response;
}
