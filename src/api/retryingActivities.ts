// What the workflow cannot see while an activity fails and Temporal retries it: the memo's
// progress stays as the last completed step left it. The API reads the pending activities'
// attempts and last failures from the same describe, so /progress says what is being retried, and
// a change event batch that keeps failing is not committable on a lag figure it can no longer
// measure.
import type { WorkflowProgress } from '../workflows/messages';

export interface PendingAttempt {
  activityType: string;
  attempt: number;
  /** The last attempt's failure message, if it failed. */
  lastFailure: string | null;
}

/** Activities that apply change events: while they fail, the lag is not known. */
const APPLYING = new Set(['applyChanges']);

export function withRetryingActivities(
  progress: WorkflowProgress,
  pending: PendingAttempt[],
): WorkflowProgress {
  const retrying = pending.filter((activity) => activity.attempt > 1 && activity.lastFailure !== null);
  if (retrying.length === 0) return progress;
  // One line per kind of activity and failure: eight copy partitions failing alike are one line.
  const lines = new Map<string, PendingAttempt & { count: number }>();
  for (const activity of retrying) {
    const key = `${activity.activityType}\u0000${activity.lastFailure}`;
    const seen = lines.get(key);
    if (seen) {
      seen.count += 1;
      seen.attempt = Math.max(seen.attempt, activity.attempt);
    } else lines.set(key, { ...activity, count: 1 });
  }
  const warnings = [...lines.values()].map(
    ({ activityType, attempt, lastFailure, count }) =>
      `${activityType}${count > 1 ? ` (${count} of them)` : ''} failed and is being retried ` +
      `(attempt ${attempt}): ${lastFailure}`,
  );
  const applying = retrying.some((activity) => APPLYING.has(activity.activityType));
  return {
    ...progress,
    canCommit: applying ? false : progress.canCommit,
    warnings: [...progress.warnings, ...warnings],
  };
}
