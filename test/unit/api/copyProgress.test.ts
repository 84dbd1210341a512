// The copy's progress between the workflow's counts: running copies' heartbeats counted in, each
// namespace's share, the ETA, and a figure that never goes down while the same copy runs.
import {
  CopyProgressFloor,
  copySecondsRemaining,
  runningCopies,
  withRunningCopies,
} from '../../../src/api/copyProgress';
import type { WorkflowProgress } from '../../../src/workflows/messages';

const MB = 1024 * 1024;

function copying(copiedBytes: number, startedAtMs: number | null = 0): WorkflowProgress {
  return {
    collectionCopy: {
      estimatedTotalBytes: 100 * MB,
      estimatedCopiedBytes: copiedBytes,
      startedAtMs,
      namespaces: [
        {
          namespace: 'app.big',
          state: 'copying',
          estimatedTotalBytes: 90 * MB,
          estimatedCopiedBytes: copiedBytes,
          estimatedTotalDocuments: 90_000,
          copiedDocuments: copiedBytes / 1024,
        },
        {
          namespace: 'app.small',
          state: 'copied',
          estimatedTotalBytes: 10 * MB,
          estimatedCopiedBytes: 10 * MB,
          estimatedTotalDocuments: 10_000,
          copiedDocuments: 10_000,
        },
      ],
    },
  } as unknown as WorkflowProgress;
}

describe('runningCopies', () => {
  test('reads copyPartition heartbeats only, and only well-formed ones', () => {
    expect(
      runningCopies([
        { activityType: 'copyPartition', details: { ns: 'app.big', bytesCopied: 5, documentsCopied: 2 } },
        { activityType: 'copyPartition', details: { bytesCopied: 5 } }, // a release before namespaces
        { activityType: 'copyPartition', details: undefined }, // not heartbeated yet
        { activityType: 'verifyPartition', details: { ns: 'app.big', bytesCopied: 9 } },
        { activityType: 'copyPartition', details: { ns: 'app.big', bytesCopied: -1 } },
      ]),
    ).toEqual([{ ns: 'app.big', bytesCopied: 5, documentsCopied: 2 }]);
  });
});

describe('withRunningCopies', () => {
  test('adds what running copies have written, overall and to their namespace', () => {
    const running = [
      { ns: 'app.big', bytesCopied: 3 * MB, documentsCopied: 3072 },
      { ns: 'app.big', bytesCopied: 2 * MB, documentsCopied: 2048 },
    ];
    const collectionCopy = withRunningCopies(copying(20 * MB), running, 10_000).collectionCopy!;
    expect(collectionCopy.estimatedCopiedBytes).toBe(25 * MB);
    expect(collectionCopy.namespaces?.[0]).toMatchObject({
      state: 'copying',
      estimatedCopiedBytes: 25 * MB,
      copiedDocuments: 20 * 1024 + 5120,
    });
    expect(collectionCopy.namespaces?.[1].estimatedCopiedBytes).toBe(10 * MB);
    // 25 MB in 10 s: 75 MB left take 30 s.
    expect(collectionCopy.estimatedSecondsRemaining).toBe(30);
  });

  test('never above the total, and never down while the same copy runs', () => {
    const floor = new CopyProgressFloor();
    const first = withRunningCopies(
      copying(20 * MB),
      [{ ns: 'app.big', bytesCopied: 8 * MB, documentsCopied: 0 }],
      1,
      floor,
    );
    expect(first.collectionCopy!.estimatedCopiedBytes).toBe(28 * MB);
    // The partition has finished but the workflow has not counted it yet: in neither figure.
    const between = withRunningCopies(copying(20 * MB), [], 2, floor);
    expect(between.collectionCopy!.estimatedCopiedBytes).toBe(28 * MB);
    const over = withRunningCopies(
      copying(99 * MB),
      [{ ns: 'app.big', bytesCopied: 8 * MB, documentsCopied: 0 }],
      3,
      floor,
    );
    expect(over.collectionCopy!.estimatedCopiedBytes).toBe(100 * MB);
    // A copy begun again (a recopy after history loss) starts from its own figures.
    const again = withRunningCopies(
      copying(0, 5000),
      [{ ns: 'app.big', bytesCopied: MB, documentsCopied: 0 }],
      6000,
      floor,
    );
    expect(again.collectionCopy!.estimatedCopiedBytes).toBe(MB);
  });

  test('the ETA waits for something copied, and a sync begun before ETAs has none', () => {
    expect(copySecondsRemaining(copying(0).collectionCopy!, 5000)).toBeNull();
    expect(copySecondsRemaining(copying(10 * MB, null).collectionCopy!, 5000)).toBeNull();
    expect(copySecondsRemaining(copying(100 * MB).collectionCopy!, 5000)).toBe(0);
    const before = {
      collectionCopy: { estimatedTotalBytes: 1, estimatedCopiedBytes: 0 },
    } as WorkflowProgress;
    expect(withRunningCopies(before, [], 1)).toBe(before);
  });
});
