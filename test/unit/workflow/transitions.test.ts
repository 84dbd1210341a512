import {
  AUTOMATIC_TRANSITIONS,
  COMMAND_TRANSITIONS,
  SYNC_COMMANDS,
  SYNC_STATES,
  commandRejection,
  startRuleViolations,
  type StartRequest,
  type SyncCommand,
  type SyncStateName,
} from '../../../src/workflows/messages';
import { idleProgress, progressView } from '../../../src/workflows/progress';
import { canCommit, newSyncState } from '../../../src/workflows/state';

// The contract's state table: which commands each state accepts.
const ALLOWED: Record<SyncStateName, SyncCommand[]> = {
  IDLE: ['start'],
  RUNNING: ['pause', 'commit'],
  PAUSED: ['resume'],
  COMMITTING: [],
  COMMITTED: ['reverse'],
  REVERSING: [],
};

describe('state transition table', () => {
  it.each(SYNC_STATES.flatMap((state) => SYNC_COMMANDS.map((command) => [state, command] as const)))(
    '%s accepts %s only as the contract says',
    (state, command) => {
      const rejection = commandRejection(state, command, true);
      if (ALLOWED[state].includes(command)) expect(rejection).toBeNull();
      else
        expect(rejection).toEqual({
          error: 'InvalidStateTransition',
          description: expect.stringContaining(state),
        });
    },
  );

  it('leads each command to the contract state', () => {
    expect(COMMAND_TRANSITIONS).toEqual({
      start: { from: 'IDLE', to: 'RUNNING' },
      pause: { from: 'RUNNING', to: 'PAUSED' },
      resume: { from: 'PAUSED', to: 'RUNNING' },
      commit: { from: 'RUNNING', to: 'COMMITTING' },
      reverse: { from: 'COMMITTED', to: 'REVERSING' },
    });
    expect(AUTOMATIC_TRANSITIONS).toEqual({ COMMITTING: 'COMMITTED', REVERSING: 'RUNNING' });
  });

  it('rejects commit with NotCommittable while canCommit is false', () => {
    expect(commandRejection('RUNNING', 'commit', false)?.error).toBe('NotCommittable');
    expect(commandRejection('PAUSED', 'commit', false)?.error).toBe('InvalidStateTransition');
  });
});

describe('start rules', () => {
  const request = (options: Partial<StartRequest['options']> = {}, source = 'cluster0'): StartRequest => ({
    direction: { source: source as 'cluster0', destination: 'cluster1' },
    options: {
      reversible: false,
      writeBlocking: 'destinationOnly',
      buildIndexes: 'afterDataCopy',
      includeNamespaces: [],
      excludeNamespaces: [],
      verificationEnabled: true,
      preExistingDestinationData: false,
      ...options,
    },
  });

  it('accepts the defaults and a complete reversible request', () => {
    expect(startRuleViolations(request())).toEqual([]);
    expect(startRuleViolations(request({ reversible: true, writeBlocking: 'sourceAndDestination' }))).toEqual(
      [],
    );
  });

  it('names every broken rule', () => {
    expect(startRuleViolations(request({}, 'cluster1'))).toEqual([
      'source and destination must be different clusters',
    ]);
    const problems = startRuleViolations(
      request({
        reversible: true,
        writeBlocking: 'destinationOnly',
        includeNamespaces: [{ database: 'a' }],
        buildIndexes: 'never',
        preExistingDestinationData: true,
      }),
    );
    expect(problems).toHaveLength(4);
    expect(problems.join(' ')).toMatch(
      /enableUserWriteBlocking.*includeNamespaces.*never.*preExistingDestinationData/,
    );
    expect(startRuleViolations(request({ preExistingDestinationData: true }))).toEqual([
      'preExistingDestinationData requires includeNamespaces or excludeNamespaces',
    ]);
  });
});

describe('progress view', () => {
  it('reports IDLE with null fields', () => {
    const view = progressView(newSyncState('s1', 'abc'));
    expect(view).toEqual({ ...idleProgress(), mongosyncID: 's1', clusterFingerprint: 'abc' });
  });

  it('reports copy progress, errors as info and warnings, and canCommit only in CEA with low lag', () => {
    const state = {
      ...newSyncState('s1', 'abc'),
      state: 'RUNNING' as const,
      phase: 'copy' as const,
      direction: { source: 'cluster0' as const, destination: 'cluster1' as const },
      estimatedTotalBytes: 100,
      copiedBytes: 40,
      canWrite: false,
    };
    expect(progressView(state)).toMatchObject({
      info: 'collection copy',
      collectionCopy: { estimatedTotalBytes: 100, estimatedCopiedBytes: 40 },
      lagTimeSeconds: null,
      canCommit: false,
    });
    const applying = {
      ...state,
      phase: 'changeEvents' as const,
      copyDone: true,
      changeEventBatches: 1,
      lagSeconds: 2,
    };
    expect(canCommit(applying)).toBe(true);
    expect(canCommit({ ...applying, lagSeconds: 30 })).toBe(false);
    expect(progressView(applying)).toMatchObject({
      info: 'change event application',
      lagTimeSeconds: 2,
      canCommit: true,
    });
    const failed = {
      ...applying,
      lastError: {
        type: 'ChangeStreamHistoryLost',
        message: 'gone',
        phase: 'changeEvents' as const,
        retryAt: 0,
      },
    };
    const view = progressView(failed);
    expect(view.canCommit).toBe(false);
    expect(view.info).toBe('error: ChangeStreamHistoryLost: gone');
    expect(view.warnings[0]).toContain('ChangeStreamHistoryLost');
  });
});
