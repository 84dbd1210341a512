import { nextDrainWatch, nextLag } from '../../../src/workflows/lag';

describe('lag and catch-up', () => {
  const none = { seconds: null, measuredAt: null, etaSeconds: null };

  it('has no estimate from a first measurement, or while the lag does not shrink', () => {
    expect(nextLag(none, 12, 1000)).toEqual({ seconds: 12, measuredAt: 1000, etaSeconds: null });
    expect(nextLag({ seconds: 5, measuredAt: 1000, etaSeconds: 3 }, 5, 2000).etaSeconds).toBeNull();
    expect(nextLag({ seconds: 5, measuredAt: 1000, etaSeconds: 3 }, 9, 2000).etaSeconds).toBeNull();
  });

  it('estimates the time to catch up from the rate the lag shrank at', () => {
    // 20 s of lag shrank to 10 s in 5 s: 2 s per second, so 5 s to go.
    expect(nextLag({ seconds: 20, measuredAt: 0, etaSeconds: null }, 10, 5000)).toEqual({
      seconds: 10,
      measuredAt: 5000,
      etaSeconds: 5,
    });
    expect(nextLag({ seconds: 3, measuredAt: 0, etaSeconds: null }, 0, 1000).etaSeconds).toBe(0);
  });

  it('ignores a measurement no later than the previous one', () => {
    expect(nextLag({ seconds: 20, measuredAt: 5000, etaSeconds: null }, 10, 5000).etaSeconds).toBeNull();
  });
});

describe('commit drain watch', () => {
  const idle = { eventsApplied: 0, checkpointMoved: false };

  it('starts at the first batch and moves with applied events or a moving checkpoint', () => {
    const first = nextDrainWatch({ progressAt: null, stalledSeconds: null }, idle, 1000, 30_000);
    expect(first).toEqual({ progressAt: 1000, stalledSeconds: null });
    expect(nextDrainWatch(first, { eventsApplied: 3, checkpointMoved: false }, 50_000, 30_000)).toEqual({
      progressAt: 50_000,
      stalledSeconds: null,
    });
    expect(nextDrainWatch(first, { eventsApplied: 0, checkpointMoved: true }, 50_000, 30_000)).toEqual({
      progressAt: 50_000,
      stalledSeconds: null,
    });
  });

  it('reports how long it has stalled once past the threshold', () => {
    const watch = { progressAt: 1000, stalledSeconds: null };
    expect(nextDrainWatch(watch, idle, 30_999, 30_000).stalledSeconds).toBeNull();
    expect(nextDrainWatch(watch, idle, 31_000, 30_000)).toEqual({ progressAt: 1000, stalledSeconds: 30 });
    expect(nextDrainWatch(watch, idle, 76_500, 30_000).stalledSeconds).toBe(75);
  });
});
