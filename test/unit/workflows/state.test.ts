import { canCommit, haltedBy, newSyncState, type SyncWorkflowState } from '../../../src/workflows/state';

function applying(overrides: Partial<SyncWorkflowState> = {}): SyncWorkflowState {
  const state = newSyncState('s1', 'abc', { applyBatchMs: 100 });
  return {
    ...state,
    status: 'RUNNING',
    phase: 'changeEvents',
    direction: { source: 'cluster0', destination: 'cluster1' },
    copy: { ...state.copy, done: true },
    changeEvents: { ...state.changeEvents, batches: 1, lag: { seconds: 3, measuredAt: 0, etaSeconds: null } },
    ...overrides,
  };
}

describe('sync state', () => {
  it('starts IDLE with the given tuning over the defaults', () => {
    const state = newSyncState('s1', 'abc', { applyBatchMs: 100 });
    expect(state).toMatchObject({ status: 'IDLE', phase: 'idle', syncUuid: null, lastError: null });
    expect(state.tuning.applyBatchMs).toBe(100);
    expect(state.tuning.drainStallWarningMs).toBe(30_000);
  });

  it('can commit only while applying change events after the copy, without error, under 30 s of lag', () => {
    expect(canCommit(applying())).toBe(true);
    expect(canCommit(applying({ status: 'PAUSED' }))).toBe(false);
    expect(canCommit(applying({ phase: 'indexes' }))).toBe(false);
    const state = applying();
    expect(canCommit({ ...state, copy: { ...state.copy, done: false } })).toBe(false);
    expect(canCommit({ ...state, changeEvents: { ...state.changeEvents, batches: 0 } })).toBe(false);
    const lagged = { ...state.changeEvents, lag: { seconds: 30, measuredAt: 0, etaSeconds: null } };
    expect(canCommit({ ...state, changeEvents: lagged })).toBe(false);
    const error = { type: 'X', message: 'm', phase: 'changeEvents' as const, retryAt: 5 };
    expect(canCommit({ ...state, lastError: error })).toBe(false);
  });

  it('is halted only by an error that is not retried by itself', () => {
    expect(haltedBy(applying())).toBeNull();
    const retried = { type: 'Busy', message: 'later', phase: 'changeEvents' as const, retryAt: 10 };
    expect(haltedBy(applying({ lastError: retried }))).toBeNull();
    const halting = {
      type: 'SyncRecordMismatch',
      message: 'not ours',
      phase: 'copy' as const,
      retryAt: null,
    };
    expect(haltedBy(applying({ lastError: halting }))).toBe('SyncRecordMismatch: not ours');
  });
});
