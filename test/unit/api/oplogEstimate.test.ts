import { OplogWindowCache, oplogEstimate } from '../../../src/api/oplogEstimate';
import { formatDuration, oplogSecondsRemaining, type OplogWindow } from '../../../src/domain';
import { idleProgress } from '../../../src/workflows/progress';
import type { WorkflowProgress } from '../../../src/workflows/messages';

const MB = 1024 * 1024;
// 100 MB written over 1,000 s (100 KB/s) into an oplog of 1,000 MB.
const window: OplogWindow = {
  first: { t: 10_000, i: 1 },
  last: { t: 11_000, i: 1 },
  sizeBytes: 100 * MB,
  maxSizeBytes: 1000 * MB,
};

function running(overrides: Partial<WorkflowProgress>): WorkflowProgress {
  return {
    ...idleProgress(),
    state: 'RUNNING',
    direction: { source: 'cluster0', destination: 'cluster1' },
    resumePoint: { t: 10_500, i: 0 },
    ...overrides,
  };
}

describe('estimatedOplogTimeRemaining', () => {
  it('is the time to fill the oplog plus the entries older than the resume point', () => {
    // 900 MB free at 100 KB/s = 9,000 s, then 500 s of entries before the resume point.
    expect(oplogSecondsRemaining(window, { t: 10_500, i: 0 })).toBe(9500);
    const full = { ...window, sizeBytes: 1000 * MB, first: { t: 1_000, i: 1 } };
    expect(oplogSecondsRemaining(full, { t: 1_600, i: 0 })).toBe(600);
    // A resume point older than the oldest entry is already gone.
    expect(oplogSecondsRemaining(full, { t: 900, i: 0 })).toBe(0);
    // No time between the ends: no rate to tell.
    expect(oplogSecondsRemaining({ ...window, last: window.first }, { t: 10_000, i: 0 })).toBeNull();
  });

  it('prints durations as mongosync (Go) does', () => {
    expect(formatDuration(9500)).toBe('2h38m20s');
    expect(formatDuration(200)).toBe('3m20s');
    expect(formatDuration(45)).toBe('45s');
    expect(formatDuration(0)).toBe('0s');
  });

  it('warns when the window is shorter than twice the copy’s remaining time', () => {
    const copy = (secondsLeft: number) => ({
      estimatedTotalBytes: 100,
      estimatedCopiedBytes: 10,
      estimatedSecondsRemaining: secondsLeft,
    });
    const calm = oplogEstimate(running({ collectionCopy: copy(4000) }), window);
    expect(calm).toEqual({ estimatedOplogTimeRemaining: '2h38m20s', warning: null });
    const tight = oplogEstimate(running({ collectionCopy: copy(5000) }), window);
    expect(tight.warning).toMatch(
      /oplog holds the sync's resume point for about 2h38m20s more, less than twice the copy's remaining 1h23m20s/,
    );
    expect(oplogEstimate(running({ resumePoint: undefined }), window).estimatedOplogTimeRemaining).toBeNull();
    expect(oplogEstimate(running({}), null).estimatedOplogTimeRemaining).toBeNull();
  });

  it('answers at once with the last window read, and reads at most once per interval, in the background', async () => {
    let reads = 0;
    let release = () => {};
    const cache = new OplogWindowCache(
      () =>
        new Promise((resolve) => {
          reads += 1;
          release = () => resolve(window);
        }),
      1000,
    );
    expect(cache.get('cluster0', 0)).toBeNull(); // the first read is under way
    expect(cache.get('cluster0', 10)).toBeNull();
    expect(reads).toBe(1);
    release();
    await cache.settled();
    expect(cache.get('cluster0', 500)).toEqual(window);
    expect(reads).toBe(1);
    expect(cache.get('cluster0', 1500)).toEqual(window); // stale: answered, read again behind it
    expect(reads).toBe(2);
    expect(cache.get('cluster1', 1500)).toBeNull();
    expect(reads).toBe(3);
  });
});
