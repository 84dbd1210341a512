import type { ForSync, SyncActivities } from './contract';
import { ClusterClients } from './clusters';
import { applyChanges } from './applyEvents';
import { buildIndexesAfterCopy, finalizeIndexes, prepareCatalog, relaxDestinationIndexes } from './catalog';
import { withHeartbeats } from './context';
import { HotDocuments } from './hotDocuments';
import { copyPartition } from './copy';
import { currentOperationTime, pingLatencyMs } from './operationTime';
import { planPartitions } from './partition';
import { preflight } from './preflight';
import { recordSync, removeSyncRecord, SyncRecordGuard } from './syncRecord';
import { setUserWriteBlocking } from './writeBlocking';
import { finalVerification } from './finalVerification';
import { recheckSuspects, verifyPartition } from './verifyDocuments';
import { collectChanges } from './verifyStreams';
import { findUniqueConflicts } from './uniqueConflicts';

export { ClusterClients } from './clusters';
export type { ClusterUris } from './clusters';
export type * from './contract';

/** Bulk work re-reads the sync's record at most this often per worker process. */
const BULK_RECHECK_MS = 30_000;

/** What the service's flags set for the activities of its worker. */
export interface ActivitySettings {
  /** Indexes per createIndexes command during the copy (0: all of a collection's at once). */
  createIndexesBatchSize?: number;
  /** `--hotDocIDs`: `_id`s (canonical Extended JSON) whose events get a lane of their own. */
  hotDocIds?: readonly string[];
}

/** The sync service's activities, bound to the worker's cluster connections. */
export function createActivities(clusters: ClusterClients, settings: ActivitySettings = {}): SyncActivities {
  const batchSize = settings.createIndexesBatchSize;
  const hotDocuments = new HotDocuments(settings.hotDocIds);
  const guard = new SyncRecordGuard(clusters);
  /** Runs `work` only once the sync's destination is known to hold its record (checked within `maxAgeMs`). */
  const forSync =
    <I extends ForSync, O>(maxAgeMs: number, work: (input: I) => Promise<O>) =>
    async (input: I): Promise<O> => {
      if (input.sync) await guard.assertHeld(input.sync, maxAgeMs);
      return work(input);
    };
  return {
    preflight: (input) => preflight(clusters, input),
    recordSync: (input) => recordSync(clusters, input),
    checkSyncRecord: ({ sync }) => guard.assertHeld(sync, 0),
    removeSyncRecord: (input) => removeSyncRecord(clusters, input),
    // Switching write blocking on or off (start, commit, reverse) always reads the record afresh.
    setUserWriteBlocking: forSync(0, ({ cluster, enabled }) =>
      setUserWriteBlocking(clusters.get(cluster), enabled),
    ),
    currentOperationTime: ({ cluster }) => currentOperationTime(clusters.get(cluster)),
    // Catalog and index steps heartbeat while they work, so a worker that dies mid-way is noticed
    // within the heartbeat timeout and the step is retried elsewhere, not after its long timeout.
    prepareCatalog: forSync(0, ({ direction, options }) =>
      withHeartbeats(() =>
        prepareCatalog(
          clusters.get(direction.source),
          clusters.get(direction.destination),
          options,
          batchSize,
        ),
      ),
    ),
    planPartitions: ({ direction, collection, targetPartitionBytes, order }) =>
      withHeartbeats(() =>
        planPartitions(clusters.get(direction.source), collection, targetPartitionBytes, order),
      ),
    copyPartition: forSync(BULK_RECHECK_MS, (input) => copyPartition(clusters, input)),
    buildIndexesAfterCopy: forSync(0, ({ direction, options }) =>
      withHeartbeats(() =>
        buildIndexesAfterCopy(
          clusters.get(direction.source),
          clusters.get(direction.destination),
          options,
          batchSize,
        ),
      ),
    ),
    applyChanges: forSync(BULK_RECHECK_MS, (input) => applyChanges(clusters, input, hotDocuments)),
    finalizeIndexes: forSync(0, ({ direction, options }) =>
      withHeartbeats(() =>
        finalizeIndexes(clusters.get(direction.source), clusters.get(direction.destination), options),
      ),
    ),
    relaxIndexes: forSync(0, ({ direction, options }) =>
      withHeartbeats(() =>
        relaxDestinationIndexes(clusters.get(direction.source), clusters.get(direction.destination), options),
      ),
    ),
    verifyPartition: forSync(BULK_RECHECK_MS, (input) => verifyPartition(clusters, input)),
    collectChanges: forSync(BULK_RECHECK_MS, (input) => collectChanges(clusters, input)),
    recheckSuspects: forSync(BULK_RECHECK_MS, (input) => recheckSuspects(clusters, input)),
    finalVerification: forSync(0, (input) => finalVerification(clusters, input)),
    findUniqueConflicts: forSync(BULK_RECHECK_MS, (input) => findUniqueConflicts(clusters, input)),
    pingClusters: async ({ clusters: names }) =>
      Promise.all(
        names.map(async (cluster) => ({
          cluster,
          pingLatencyMs: await pingLatencyMs(clusters.get(cluster)),
        })),
      ),
  };
}
