import {
  SYNC_COMMANDS,
  SYNC_STATUSES,
  type SyncCommand,
  type SyncStatus,
} from '../../../src/workflows/messages';
import {
  COMMANDS,
  PHASES,
  SYNC_PHASES,
  commandRejection,
  targetStatus,
  type SyncPhase,
} from '../../../src/workflows/stateTable';

// The contract's state table: which commands each state accepts (reset is ours).
const ALLOWED: Record<SyncStatus, SyncCommand[]> = {
  IDLE: ['start', 'reset'],
  INITIALIZING: [],
  RUNNING: ['pause', 'commit'],
  PAUSED: ['resume'],
  COMMITTING: [],
  COMMITTED: ['reverse', 'reset'],
  REVERSING: [],
};

const healthy = { canCommit: true, haltedBy: null, resetting: false };

/** The phases met following `next` from `phase` until a phase that waits for a command. */
function chainFrom(phase: SyncPhase): SyncPhase[] {
  const chain: SyncPhase[] = [phase];
  for (let next = PHASES[phase].next; next !== null; next = PHASES[next].next) {
    if (chain.includes(next)) throw new Error(`cycle at ${next}`);
    chain.push(next);
  }
  return chain;
}

describe('state transition table', () => {
  it.each(SYNC_STATUSES.flatMap((state) => SYNC_COMMANDS.map((command) => [state, command] as const)))(
    '%s accepts %s only as the contract says',
    (state, command) => {
      const rejection = commandRejection(state, command, healthy);
      if (ALLOWED[state].includes(command)) expect(rejection).toBeNull();
      else
        expect(rejection).toEqual({
          error: 'InvalidStateTransition',
          description: expect.stringContaining(state),
        });
    },
  );

  it('leads each command to the contract state', () => {
    const targets = Object.fromEntries(SYNC_COMMANDS.map((command) => [command, targetStatus(command)]));
    expect(targets).toEqual({
      start: 'INITIALIZING',
      pause: 'PAUSED',
      resume: 'RUNNING',
      commit: 'COMMITTING',
      reverse: 'REVERSING',
      reset: 'IDLE',
    });
  });

  it('runs a start through the copy phases into change event application', () => {
    const start = COMMANDS.start.to;
    expect('phase' in start && chainFrom(start.phase)).toEqual([
      'blockDestination',
      'catalog',
      'planning',
      'copy',
      'indexes',
      'changeEvents',
    ]);
    // mongosync's INITIALIZING is the setup; then the copy.
    expect(PHASES.blockDestination).toMatchObject({ status: 'INITIALIZING' });
    for (const phase of chainFrom('blockDestination').slice(1, -1)) {
      expect(PHASES[phase]).toMatchObject({ status: 'RUNNING', info: 'collection copy' });
    }
    expect(PHASES.changeEvents).toEqual({ status: 'RUNNING', info: 'change event application', next: null });
  });

  it('runs a commit to COMMITTED and a reverse back to change event application', () => {
    const commit = chainFrom('commitBlockSource');
    expect(commit.at(-1)).toBe('committed');
    expect(commit.slice(0, -1).map((phase) => PHASES[phase].status)).toEqual(
      commit.slice(0, -1).map(() => 'COMMITTING'),
    );
    expect(commit).toContain('commitDrain');
    expect(PHASES.committed).toEqual({ status: 'COMMITTED', info: 'commit completed', next: null });
    const reverse = chainFrom('reverseBlockDestination');
    expect(reverse.at(-1)).toBe('changeEvents');
    expect(reverse.slice(0, -1).every((phase) => PHASES[phase].status === 'REVERSING')).toBe(true);
  });

  it('reaches every phase from a command', () => {
    const reached = new Set<SyncPhase>(['idle']);
    for (const command of SYNC_COMMANDS) {
      const { to } = COMMANDS[command];
      if ('phase' in to) chainFrom(to.phase).forEach((phase) => reached.add(phase));
    }
    expect([...reached].sort()).toEqual([...SYNC_PHASES].sort());
  });

  it('rejects commit with NotCommittable while canCommit is false', () => {
    const notReady = { canCommit: false, haltedBy: null, resetting: false };
    expect(commandRejection('RUNNING', 'commit', notReady)?.error).toBe('NotCommittable');
    expect(commandRejection('PAUSED', 'commit', notReady)?.error).toBe('InvalidStateTransition');
  });

  it('accepts reset in any state once the sync cannot continue, and says so when start is refused', () => {
    const halted = {
      canCommit: false,
      haltedBy: 'SyncRecordMismatch: cluster1 holds no record',
      resetting: false,
    };
    for (const status of SYNC_STATUSES) expect(commandRejection(status, 'reset', halted)).toBeNull();
    const start = commandRejection('RUNNING', 'start', halted);
    expect(start?.error).toBe('InvalidStateTransition');
    expect(start?.description).toMatch(/cannot start in state RUNNING.*cluster1 holds no record.*reset/);
    expect(commandRejection('RUNNING', 'start', healthy)?.description).toContain('/api/v1/reset');
  });

  it('accepts only reset while a reset is under way', () => {
    const resetting = { canCommit: false, haltedBy: null, resetting: true };
    for (const command of SYNC_COMMANDS) {
      const rejection = commandRejection('IDLE', command, resetting);
      if (command === 'reset') expect(rejection).toBeNull();
      else
        expect(rejection).toEqual({
          error: 'InvalidStateTransition',
          description: `cannot ${command}: the sync is being reset`,
        });
    }
  });
});
