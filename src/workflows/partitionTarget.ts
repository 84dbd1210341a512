// How big the copy's partitions are: the configured target, made smaller when the data would not
// fill every copy slot, so that one big collection gets as many parallel cursors as many small
// ones would (what counts over a slow link, where each cursor waits on its round trips).

/** No smaller than this by default: below it a partition's fixed cost outweighs its parallelism. */
export const MIN_ADAPTED_PARTITION_BYTES = 4 * 1024 * 1024;

export function partitionTargetBytes(
  totalBytes: number,
  tuning: { targetPartitionBytes: number; copyConcurrency: number },
): number {
  const { targetPartitionBytes, copyConcurrency } = tuning;
  const shareOfEachSlot = Math.ceil(Math.max(0, totalBytes) / Math.max(1, copyConcurrency));
  const floor = Math.min(targetPartitionBytes, MIN_ADAPTED_PARTITION_BYTES);
  return Math.max(floor, Math.min(targetPartitionBytes, shareOfEachSlot));
}
