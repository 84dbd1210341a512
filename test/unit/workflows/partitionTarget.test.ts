// Partition sizes that fill the copy slots: one big collection as parallel as many small ones.
import { MIN_ADAPTED_PARTITION_BYTES, partitionTargetBytes } from '../../../src/workflows/partitionTarget';

const MB = 1024 * 1024;
const tuning = { targetPartitionBytes: 64 * MB, copyConcurrency: 8 };

describe('partitionTargetBytes', () => {
  test('data that would not fill every slot at the target is cut into one share per slot', () => {
    // One 100 MB collection, or four of 25 MB: partitions of 12.5 MB, eight of them either way.
    expect(partitionTargetBytes(100 * MB, tuning)).toBe(12.5 * MB);
    expect(Math.ceil((25 * MB) / partitionTargetBytes(100 * MB, tuning)) * 4).toBe(8);
  });

  test('never above the configured target, never below the floor unless the target is', () => {
    expect(partitionTargetBytes(10_000 * MB, tuning)).toBe(64 * MB);
    expect(partitionTargetBytes(2 * MB, tuning)).toBe(MIN_ADAPTED_PARTITION_BYTES);
    expect(partitionTargetBytes(0, tuning)).toBe(MIN_ADAPTED_PARTITION_BYTES);
    expect(partitionTargetBytes(100 * MB, { targetPartitionBytes: 128 * 1024, copyConcurrency: 2 })).toBe(
      128 * 1024,
    );
    expect(partitionTargetBytes(100 * MB, { targetPartitionBytes: 64 * MB, copyConcurrency: 0 })).toBe(
      64 * MB,
    );
  });
});
