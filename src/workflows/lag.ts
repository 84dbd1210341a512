// Lag, catch-up and drain arithmetic of change event application: pure functions of the previous
// measurement, the batch's result and the workflow's clock.

export interface LagState {
  /** How far (s) the last applied event is behind the source's latest write; null before a batch. */
  seconds: number | null;
  /** Workflow time (ms) of that measurement. */
  measuredAt: number | null;
  /** Seconds until the lag reaches zero at the rate it shrank since the previous measurement. */
  etaSeconds: number | null;
}

/** The lag after a batch that measured `lagSeconds` at `now`, with the catch-up estimate. */
export function nextLag(previous: LagState, lagSeconds: number, now: number): LagState {
  let etaSeconds: number | null = null;
  if (
    previous.seconds !== null &&
    previous.measuredAt !== null &&
    lagSeconds < previous.seconds &&
    now > previous.measuredAt
  ) {
    const shrinkPerSecond = (previous.seconds - lagSeconds) / ((now - previous.measuredAt) / 1000);
    etaSeconds = Math.round(lagSeconds / shrinkPerSecond);
  }
  return { seconds: lagSeconds, measuredAt: now, etaSeconds };
}

export interface DrainWatch {
  /** Workflow time (ms) the drain last made progress; null before its first batch. */
  progressAt: number | null;
  /** Whole seconds without progress once past the warning threshold, else null. */
  stalledSeconds: number | null;
}

/**
 * A commit drain's watch after one batch: it progresses when the batch applied events or moved
 * the checkpoint; once it has not for `warnAfterMs`, it reports for how long.
 */
export function nextDrainWatch(
  previous: DrainWatch,
  batch: { eventsApplied: number; checkpointMoved: boolean },
  now: number,
  warnAfterMs: number,
): DrainWatch {
  if (previous.progressAt === null || batch.eventsApplied > 0 || batch.checkpointMoved) {
    return { progressAt: now, stalledSeconds: null };
  }
  const stalledMs = now - previous.progressAt;
  return {
    progressAt: previous.progressAt,
    stalledSeconds: stalledMs >= warnAfterMs ? Math.floor(stalledMs / 1000) : null,
  };
}
