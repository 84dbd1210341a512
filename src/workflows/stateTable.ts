// The sync's one state table. Each phase is a step of the main loop and says the contract state it
// shows, its `info` and the phase that follows once its work is done; each command says the states
// it is accepted in and where it leads. The workflow, its handlers and the progress view read it.
import type { SyncCommand, SyncErrorName, SyncStatus } from './messages';

const COPY = 'collection copy';
const CHANGE_EVENTS = 'change event application';
const COMMITTING = 'waiting for commit to complete';
const REVERSING = 'reversing';

export const SYNC_PHASES = [
  'idle',
  'blockDestination',
  'catalog',
  'planning',
  'copy',
  'indexes',
  'changeEvents',
  'commitBlockSource',
  'commitPoint',
  'commitDrain',
  'commitFinalize',
  'commitWritablePoint',
  'commitUnblock',
  'committed',
  'reverseBlockDestination',
  'reverseRelaxIndexes',
  'reset',
] as const;
export type SyncPhase = (typeof SYNC_PHASES)[number];

export interface PhaseRow {
  status: SyncStatus;
  info: string | null;
  /** The phase entered when this one's work is done; null: it runs until a command moves on. */
  next: SyncPhase | null;
}

const row = (status: SyncStatus, info: string | null, next: SyncPhase | null): PhaseRow => ({
  status,
  info,
  next,
});

/** IDLE and COMMITTED wait for commands; every other phase is a step of the main loop. */
export const PHASES: Record<SyncPhase, PhaseRow> = {
  idle: row('IDLE', null, null),
  // mongosync's INITIALIZING: the accepted start's setup, before anything is copied.
  // (Syncs begun before that show it as RUNNING, as their history did.)
  blockDestination: row('INITIALIZING', COPY, 'catalog'),
  catalog: row('RUNNING', COPY, 'planning'),
  planning: row('RUNNING', COPY, 'copy'),
  copy: row('RUNNING', COPY, 'indexes'),
  indexes: row('RUNNING', COPY, 'changeEvents'),
  changeEvents: row('RUNNING', CHANGE_EVENTS, null),
  commitBlockSource: row('COMMITTING', COMMITTING, 'commitPoint'),
  commitPoint: row('COMMITTING', COMMITTING, 'commitDrain'),
  commitDrain: row('COMMITTING', COMMITTING, 'commitFinalize'),
  commitFinalize: row('COMMITTING', COMMITTING, 'commitWritablePoint'),
  commitWritablePoint: row('COMMITTING', COMMITTING, 'commitUnblock'),
  commitUnblock: row('COMMITTING', COMMITTING, 'committed'),
  committed: row('COMMITTED', 'commit completed', null),
  reverseBlockDestination: row('REVERSING', REVERSING, 'reverseRelaxIndexes'),
  reverseRelaxIndexes: row('REVERSING', REVERSING, 'changeEvents'),
  // Ends the sync: releases what it holds, then the workflow completes (the next start is new).
  reset: row('IDLE', null, null),
};

export interface CommandRow {
  /** The states the command is accepted in. */
  from: readonly SyncStatus[];
  /** The phase the command enters, or the state it switches to while keeping the phase. */
  to: { phase: SyncPhase } | { status: 'PAUSED' | 'RUNNING' };
}

export const COMMANDS: Record<SyncCommand, CommandRow> = {
  start: { from: ['IDLE'], to: { phase: 'blockDestination' } },
  pause: { from: ['RUNNING'], to: { status: 'PAUSED' } },
  resume: { from: ['PAUSED'], to: { status: 'RUNNING' } },
  commit: { from: ['RUNNING'], to: { phase: 'commitBlockSource' } },
  reverse: { from: ['COMMITTED'], to: { phase: 'reverseBlockDestination' } },
  // Also accepted in any state once the sync cannot continue (see commandRejection).
  reset: { from: ['IDLE', 'COMMITTED'], to: { phase: 'reset' } },
};

/** The state a command leads to. */
export function targetStatus(command: SyncCommand): SyncStatus {
  const { to } = COMMANDS[command];
  return 'phase' in to ? PHASES[to.phase].status : to.status;
}

export interface CommandRejection {
  error: SyncErrorName;
  description: string;
}

/** What the table's guards need to know of the sync beyond its state. */
export interface CommandContext {
  canCommit: boolean;
  /** Why the sync cannot continue (history lost, not on its clusters any more), or null. */
  haltedBy: string | null;
  /** A reset is under way: only reset (which waits for it) is accepted. */
  resetting: boolean;
}

const RESET_HINT =
  'to start over, end this sync with POST /api/v1/reset (accepted when IDLE or COMMITTED, or once the sync cannot continue)';

/** Why `command` is not allowed now, or null when the state table allows it. */
export function commandRejection(
  status: SyncStatus,
  command: SyncCommand,
  context: CommandContext,
): CommandRejection | null {
  const row = COMMANDS[command];
  if (context.resetting) {
    return command === 'reset'
      ? null
      : { error: 'InvalidStateTransition', description: `cannot ${command}: the sync is being reset` };
  }
  if (command === 'reset' && context.haltedBy !== null) return null;
  if (!row.from.includes(status)) {
    let description = `cannot ${command} in state ${status}: ${command} is only allowed in state ${row.from.join(' or ')}`;
    if (context.haltedBy !== null)
      description += `; the sync cannot continue (${context.haltedBy}); ${RESET_HINT}`;
    else if (command === 'start') description += `; a sync already runs on these clusters: ${RESET_HINT}`;
    return { error: 'InvalidStateTransition', description };
  }
  if (command === 'commit' && !context.canCommit) {
    return {
      error: 'NotCommittable',
      description:
        'cannot commit yet: canCommit is false (the initial copy must be done, change event application running and lag under 30 s)',
    };
  }
  return null;
}
