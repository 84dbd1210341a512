// The steps of the initial copy: block the destination, take the copy's start time, recreate the
// catalog, plan partitions, copy them in a bounded fan-out, build the indexes built after the copy.
import { CancellationScope, patched } from '@temporalio/workflow';
import { catalogCalls, indexCalls, longCalls, shortCalls } from '../activityProxies';
import { partitionTargetBytes } from '../partitionTarget';
import { runBounded } from '../runBounded';
import type { CollectionPlan, CopyOrder } from '../../activities/contract';
import type { SyncOptions } from '../../domain';
import type { Step } from './context';
import { hashAfterCopy, notePlannedPartitions } from './verification';

/** Patch: the verifier hashes each partition right after its copy (it used to wait for the whole copy). */
export const HASH_DURING_COPY = 'hash-partitions-during-copy';
/** Patch: partitions sized to fill the copy slots (see partitionTarget.ts). */
export const ADAPTIVE_PARTITIONS = 'adaptive-partition-target';
/** Patch: the copy records when it began (its ETA in /progress). */
export const COPY_STARTED_AT = 'copy-started-at';
/** Patch: `copyInNaturalOrder` and `detectRandomId` choose natural-order copies (see CopyOrder). */
export const NATURAL_ORDER_COPY = 'natural-order-copy';

/** How /start's options have a collection copied. */
function copyOrderOf(collection: CollectionPlan, options: SyncOptions): CopyOrder {
  const listed = (options.copyInNaturalOrder ?? []).some(
    ({ database, collections }) => database === collection.db && collections.includes(collection.coll),
  );
  if (listed) return 'natural';
  return options.detectRandomId === false ? 'idRanges' : 'naturalIfRandomIds';
}

export const blockDestination: Step = async (context) => {
  const { state, direction, options } = context;
  if (options.writeBlocking !== 'none') {
    await shortCalls.setUserWriteBlocking({
      cluster: direction.destination,
      enabled: true,
      sync: context.syncRef(),
    });
  }
  const copyStart = await shortCalls.currentOperationTime({ cluster: direction.source });
  state.copy.startTime = copyStart;
  // The copy's start time (for its ETA) changes the published progress here: patched, so runs
  // begun before replay as they ran.
  if (patched(COPY_STARTED_AT)) state.copy.startedAtMs = Date.now();
  state.changeEvents.startAt = copyStart;
  return 'done';
};

export const catalog: Step = async (context) => {
  const { direction, options } = context;
  const found = await catalogCalls.prepareCatalog({ direction, options, sync: context.syncRef() });
  Object.assign(context.state.copy, {
    collections: found.collections,
    collectionsToPlan: found.collections,
    indexesToBuildAfterCopy: found.indexesToBuildAfterCopy,
    estimatedTotalBytes: found.collections.reduce((sum, c) => sum + c.estimatedBytes, 0),
  });
  return 'done';
};

export const planning: Step = async (context) => {
  const { copy, tuning } = context.state;
  const targetPartitionBytes = patched(ADAPTIVE_PARTITIONS)
    ? partitionTargetBytes(copy.estimatedTotalBytes ?? 0, tuning)
    : tuning.targetPartitionBytes;
  const naturalOrderCopy = patched(NATURAL_ORDER_COPY);
  await runBounded(
    [...copy.collectionsToPlan],
    tuning.copyConcurrency,
    () => context.shouldStopFanOut(),
    async (collection) => {
      const partitions = await catalogCalls.planPartitions({
        direction: context.direction,
        collection,
        targetPartitionBytes,
        ...(naturalOrderCopy ? { order: copyOrderOf(collection, context.options) } : {}),
      });
      copy.pendingPartitions = [...copy.pendingPartitions, ...partitions];
      notePlannedPartitions(context, partitions);
      copy.collectionsToPlan = copy.collectionsToPlan.filter((c) => c !== collection);
    },
  );
  return copy.collectionsToPlan.length === 0 ? 'done' : 'again';
};

export const copy: Step = async (context) => {
  const { copy: progress, tuning } = context.state;
  const { direction } = context;
  const sync = context.syncRef();
  const scope = new CancellationScope();
  context.setCancellableScope(scope);
  await scope.run(() =>
    runBounded(
      [...progress.pendingPartitions],
      tuning.copyConcurrency,
      () => context.shouldStopFanOut(),
      async (partition) => {
        const batchSize = tuning.copyBatchDocuments;
        const result = await longCalls.copyPartition({
          direction,
          partition,
          sync,
          ...(batchSize ? { batchSize } : {}),
        });
        // Only finished partitions leave the list: a crash or pause recopies just the others.
        progress.pendingPartitions = progress.pendingPartitions.filter((p) => p.id !== partition.id);
        progress.copiedPartitions += 1;
        progress.copiedBytes += result.bytesCopied;
        const ns = `${partition.db}.${partition.coll}`;
        const copied = (progress.copiedByNamespace ??= {})[ns] ?? { bytes: 0, documents: 0 };
        progress.copiedByNamespace[ns] = {
          bytes: copied.bytes + result.bytesCopied,
          documents: copied.documents + result.documentsCopied,
        };
        context.publish();
        if (context.options.verificationEnabled && patched(HASH_DURING_COPY))
          await hashAfterCopy(context, partition);
      },
    ),
  );
  if (progress.pendingPartitions.length > 0) return 'again';
  progress.done = true;
  return 'done';
};

export const indexes: Step = async (context) => {
  const { copy: progress } = context.state;
  const collectionsTotal = progress.collections.length;
  progress.indexBuilding = {
    indexesBuilt: 0,
    totalIndexesToBuild: progress.indexesToBuildAfterCopy,
    collectionsFinished: 0,
    collectionsTotal,
  };
  context.publish();
  const { indexesBuilt } = await indexCalls.buildIndexesAfterCopy({
    direction: context.direction,
    options: context.options,
    sync: context.syncRef(),
  });
  progress.indexBuilding = {
    indexesBuilt,
    totalIndexesToBuild: Math.max(indexesBuilt, progress.indexesToBuildAfterCopy),
    collectionsFinished: collectionsTotal,
    collectionsTotal,
  };
  return 'done';
};
