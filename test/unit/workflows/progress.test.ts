import { idleProgress, progressView } from '../../../src/workflows/progress';
import { canCommit, newSyncState, type SyncWorkflowState } from '../../../src/workflows/state';

function runningState(overrides: Partial<SyncWorkflowState> = {}): SyncWorkflowState {
  const state = newSyncState('s1', 'abc');
  return {
    ...state,
    syncUuid: 'uuid-1',
    status: 'RUNNING',
    phase: 'copy',
    direction: { source: 'cluster0', destination: 'cluster1' },
    copy: { ...state.copy, estimatedTotalBytes: 100, copiedBytes: 40 },
    commit: { ...state.commit, canWrite: false },
    ...overrides,
  };
}

function applyingState(lagSeconds = 2): SyncWorkflowState {
  const state = runningState();
  return {
    ...state,
    phase: 'changeEvents',
    copy: { ...state.copy, done: true },
    changeEvents: {
      ...state.changeEvents,
      batches: 1,
      lag: { seconds: lagSeconds, measuredAt: 0, etaSeconds: null },
    },
  };
}

describe('progress view', () => {
  it('reports IDLE with null fields', () => {
    const view = progressView(newSyncState('s1', 'abc'));
    expect(view).toEqual({ ...idleProgress(), mongosyncID: 's1', clusterFingerprint: 'abc' });
  });

  it('reports copy progress, errors as info and warnings, and canCommit only in CEA with low lag', () => {
    expect(progressView(runningState())).toMatchObject({
      info: 'collection copy',
      collectionCopy: { estimatedTotalBytes: 100, estimatedCopiedBytes: 40 },
      lagTimeSeconds: null,
      canCommit: false,
      syncUuid: 'uuid-1',
    });
    const applying = applyingState(2);
    expect(canCommit(applying)).toBe(true);
    expect(canCommit(applyingState(30))).toBe(false);
    expect(progressView(applying)).toMatchObject({
      info: 'change event application',
      lagTimeSeconds: 2,
      canCommit: true,
    });
    const failed: SyncWorkflowState = {
      ...applying,
      lastError: { type: 'DuplicateKeyOnDestination', message: 'dup', phase: 'changeEvents', retryAt: 0 },
    };
    const view = progressView(failed);
    expect(view.canCommit).toBe(false);
    expect(view.info).toBe('error: DuplicateKeyOnDestination: dup');
    expect(view.warnings[0]).toContain('retried automatically');
  });

  it('says a sync that cannot continue is halted, and how to start over', () => {
    const halted: SyncWorkflowState = {
      ...applyingState(),
      lastError: { type: 'ChangeStreamHistoryLost', message: 'gone', phase: 'changeEvents', retryAt: null },
    };
    const view = progressView(halted);
    expect(view.canCommit).toBe(false);
    expect(view.info).toBe('error: ChangeStreamHistoryLost: gone');
    expect(view.warnings[0]).toMatch(/cannot continue.*ChangeStreamHistoryLost.*\/api\/v1\/reset/);
  });

  it('warns when a commit drain makes no progress', () => {
    const state = applyingState();
    const draining: SyncWorkflowState = {
      ...state,
      status: 'COMMITTING',
      phase: 'commitDrain',
      commit: { ...state.commit, drainProgressAt: 0, drainStalledSeconds: 42 },
    };
    const view = progressView(draining);
    expect(view.info).toBe('waiting for commit to complete');
    expect(view.warnings.join('\n')).toContain('no progress for 42 s');
    expect(
      progressView({ ...draining, commit: { ...draining.commit, drainStalledSeconds: null } }).warnings,
    ).toEqual([]);
  });

  it('shows the phase of a paused sync and COMMITTED with lag 0', () => {
    expect(progressView({ ...runningState(), status: 'PAUSED' })).toMatchObject({
      state: 'PAUSED',
      info: 'collection copy',
    });
    const committed = progressView({ ...applyingState(), status: 'COMMITTED', phase: 'committed' });
    expect(committed).toMatchObject({ state: 'COMMITTED', info: 'commit completed', lagTimeSeconds: 0 });
  });

  it('shows INITIALIZING while a start is checked and during its setup', () => {
    const checking = progressView({ ...newSyncState('s1', 'abc'), status: 'INITIALIZING' });
    expect(checking).toMatchObject({ state: 'INITIALIZING', canCommit: false, direction: null });
    const settingUp = progressView(runningState({ status: 'INITIALIZING', phase: 'blockDestination' }));
    expect(settingUp).toMatchObject({ state: 'INITIALIZING', canCommit: false, ceaStage: null });
  });

  it('separates CRUD and DDL lag, each falling back to the overall lag', () => {
    const state = applyingState(4);
    expect(progressView(state).lag).toEqual({ overallLagSeconds: 4, crudLagSeconds: 4, ddlLagSeconds: 4 });
    const separate = {
      ...state,
      changeEvents: { ...state.changeEvents, crudLagSeconds: 1, ddlLagSeconds: 9 },
    };
    expect(progressView(separate).lag).toEqual({ overallLagSeconds: 4, crudLagSeconds: 1, ddlLagSeconds: 9 });
    const committed = { ...separate, status: 'COMMITTED' as const, phase: 'committed' as const };
    expect(progressView(committed).lag).toEqual({
      overallLagSeconds: 0,
      crudLagSeconds: 0,
      ddlLagSeconds: 0,
    });
  });

  it('says ceaStage: draining what the copy left, then steady state, and nothing outside CEA', () => {
    expect(progressView(runningState()).ceaStage).toBeNull();
    const state = applyingState(4);
    expect(progressView(state).ceaStage).toBe('collection copy drain');
    const steady = { ...state, changeEvents: { ...state.changeEvents, steadyState: true } };
    expect(progressView(steady).ceaStage).toBe('steady state');
  });
});
