// Activities that fail and are retried by Temporal show in /progress: one warning per kind of
// activity and failure, and no commit while change events cannot be applied.
import { withRetryingActivities } from '../../../src/api/retryingActivities';
import type { WorkflowProgress } from '../../../src/workflows/messages';
import { idleProgress } from '../../../src/workflows/progress';

const running = (): WorkflowProgress => ({
  ...idleProgress(),
  state: 'RUNNING',
  canCommit: true,
  warnings: ['kept'],
});

describe('withRetryingActivities', () => {
  it('leaves the progress alone while every activity is on its first attempt', () => {
    const progress = running();
    expect(
      withRetryingActivities(progress, [{ activityType: 'applyChanges', attempt: 1, lastFailure: null }]),
    ).toBe(progress);
  });

  it('says which activities are being retried and why, once per kind and failure', () => {
    const copying = { activityType: 'copyPartition', lastFailure: 'connection 3 to db1:27018 closed' };
    const shown = withRetryingActivities(running(), [
      { ...copying, attempt: 2 },
      { ...copying, attempt: 4 },
      { activityType: 'verifyPartition', attempt: 3, lastFailure: 'timed out' },
    ]);
    expect(shown.warnings).toEqual([
      'kept',
      'copyPartition (2 of them) failed and is being retried (attempt 4): connection 3 to db1:27018 closed',
      'verifyPartition failed and is being retried (attempt 3): timed out',
    ]);
    expect(shown.canCommit).toBe(true);
  });

  it('is not committable while change events fail to apply', () => {
    const shown = withRetryingActivities(running(), [
      { activityType: 'applyChanges', attempt: 5, lastFailure: 'connection closed' },
    ]);
    expect(shown.canCommit).toBe(false);
    expect(shown.warnings.at(-1)).toBe(
      'applyChanges failed and is being retried (attempt 5): connection closed',
    );
  });
});
