import type { SyncActivities } from './contract';
import { ClusterClients } from './clusters';
import { applyChanges } from './applyEvents';
import { buildIndexesAfterCopy, finalizeIndexes, prepareCatalog, relaxDestinationIndexes } from './catalog';
import { withHeartbeats } from './context';
import { copyPartition } from './copy';
import { currentOperationTime, pingLatencyMs } from './operationTime';
import { planPartitions } from './partition';
import { preflight } from './preflight';
import { setUserWriteBlocking } from './writeBlocking';

export { ClusterClients } from './clusters';
export type { ClusterUris } from './clusters';
export type * from './contract';

/** The sync service's activities, bound to the worker's cluster connections. */
export function createActivities(clusters: ClusterClients): SyncActivities {
  return {
    preflight: (input) => preflight(clusters, input),
    setUserWriteBlocking: ({ cluster, enabled }) => setUserWriteBlocking(clusters.get(cluster), enabled),
    currentOperationTime: ({ cluster }) => currentOperationTime(clusters.get(cluster)),
    // Catalog and index steps heartbeat while they work, so a worker that dies mid-way is noticed
    // within the heartbeat timeout and the step is retried elsewhere, not after its long timeout.
    prepareCatalog: ({ direction, options }) =>
      withHeartbeats(() =>
        prepareCatalog(clusters.get(direction.source), clusters.get(direction.destination), options),
      ),
    planPartitions: ({ direction, collection, targetPartitionBytes }) =>
      withHeartbeats(() => planPartitions(clusters.get(direction.source), collection, targetPartitionBytes)),
    copyPartition: (input) => copyPartition(clusters, input),
    buildIndexesAfterCopy: ({ direction, options }) =>
      withHeartbeats(() =>
        buildIndexesAfterCopy(clusters.get(direction.source), clusters.get(direction.destination), options),
      ),
    applyChanges: (input) => applyChanges(clusters, input),
    finalizeIndexes: ({ direction, options }) =>
      withHeartbeats(() =>
        finalizeIndexes(clusters.get(direction.source), clusters.get(direction.destination), options),
      ),
    relaxIndexes: ({ direction, options }) =>
      withHeartbeats(() =>
        relaxDestinationIndexes(clusters.get(direction.source), clusters.get(direction.destination), options),
      ),
    pingClusters: async ({ clusters: names }) =>
      Promise.all(
        names.map(async (cluster) => ({
          cluster,
          pingLatencyMs: await pingLatencyMs(clusters.get(cluster)),
        })),
      ),
  };
}
