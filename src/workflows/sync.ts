// The sync workflow: an entity around one plain-JSON state, driven by the state table. Commands
// (Updates, and Signals of the same names) are validated against the table and follow it; the main
// loop runs the current phase's step and, once the step's work is done, enters the phase the table
// names next. Every step is one activity or one bounded fan-out, so every step boundary is durable.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  isCancellation,
  log,
  makeContinueAsNewFunc,
  patched,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { SyncRef } from '../activities/contract';
import { swapped, type Direction } from '../domain';
import { HALTING_ERROR_TYPES, checks } from './activityProxies';
import {
  COMMAND_SIGNALS,
  COMMAND_UPDATES,
  PROGRESS_MEMO_KEY,
  SEARCH_ATTRIBUTES,
  SYNC_COMMANDS,
  progressQuery,
  startRequestDifferences,
  startRuleViolations,
  startSignal,
  startUpdate,
  type StartRequest,
  type SyncCommand,
  type SyncStatus,
} from './messages';
import { progressView, resumePointOf } from './progress';
import {
  canCommit,
  haltedBy,
  newChangeEventState,
  newCopyState,
  newCommitState,
  newSyncState,
  type ReleaseOnReset,
  type SyncError,
  type SyncTuning,
  type SyncWorkflowState,
} from './state';
import { COMMANDS, PHASES, commandRejection, targetStatus, type SyncPhase } from './stateTable';
import { STEPS, type RunningPhase, type StepContext } from './steps';
import { INTERRUPT_APPLY_ON_COMMIT } from './steps/changeEvents';
import { NATURAL_ORDER_COPY } from './steps/copy';

/** Patch: a reset waiting for its step runs it before the history continues as new (it used to deadlock). */
export const RESET_BEFORE_CONTINUE_AS_NEW = 'reset-before-continue-as-new';

/** Patch: a start shows INITIALIZING while its checks run (it showed IDLE). */
export const INITIALIZING_DURING_START = 'initializing-during-start';

/** Patch: the published progress carries the resume point, to the minute (the oplog estimate). */
export const RESUME_POINT_IN_PROGRESS = 'resume-point-in-progress';

/** Patch: a sync on a namespace with them registered keeps its search attributes current. */
export const SEARCH_ATTRIBUTES_PATCH = 'search-attributes';
/**
 * Patch: an update's handler validates it again. Updates delivered together are all validated
 * before the first one's handler runs, so 50 concurrent /start were all accepted and all ran.
 */
export const REVALIDATE_UPDATES = 'revalidate-updates-in-handler';

const MAX_WARNINGS = 20;

export interface SyncWorkflowInput {
  syncId: string;
  clusterFingerprint: string;
  tuning?: Partial<SyncTuning>;
  /** The state carried over by continue-as-new. */
  carriedState?: SyncWorkflowState;
  /** Whether the namespace has SEARCH_ATTRIBUTES registered: the sync then keeps them current. */
  searchAttributes?: boolean;
}

function failure(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

function errorType(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure && cause.type) return cause.type;
  return cause instanceof Error ? cause.name : 'Error';
}

function errorMessage(err: unknown): string {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return cause instanceof Error ? cause.message : String(err);
}

const PASSED_THROUGH_CHECK_ERRORS = new Set([
  'PreconditionFailed',
  'InvalidRequest',
  'InsufficientDestinationDiskSpace',
]);

/** A check's failure as the command's error: the contract's type when the activity gave one. */
function checkFailure(err: unknown): ApplicationFailure {
  const type = errorType(err);
  if (PASSED_THROUGH_CHECK_ERRORS.has(type)) return failure(type, errorMessage(err));
  if (type === 'SyncRecordMismatch') return failure('PreconditionFailed', errorMessage(err));
  return failure('PreconditionFailed', `could not check the clusters: ${errorMessage(err)}`);
}

class SyncRun {
  private stepInFlight = false;
  /** Whether a pause arrived while the current step ran (it is then cancelled, not failed). */
  private pausedDuringStep = false;
  private commandInFlight: SyncCommand | null = null;
  /** The running step's work that a pause (and, for change event application, a commit) cancels. */
  private cancellableScope: CancellationScope | null = null;
  private finished = false;
  private lastPublished = '';

  constructor(
    private readonly state: SyncWorkflowState,
    private readonly input: SyncWorkflowInput,
  ) {}

  installHandlers(): void {
    setHandler(progressQuery, () => progressView(this.state));
    setHandler(startUpdate, (request) => this.runUpdate('start', request), {
      validator: (request) => this.validate('start', request),
    });
    setHandler(startSignal, (request) => this.onSignal('start', request));
    for (const command of SYNC_COMMANDS) {
      if (command === 'start') continue;
      setHandler(COMMAND_UPDATES[command], () => this.runUpdate(command), {
        validator: () => this.validate(command),
      });
      setHandler(COMMAND_SIGNALS[command], () => this.onSignal(command));
    }
  }

  async run(): Promise<void> {
    this.publish();
    while (!this.finished) {
      await this.runStep();
      this.publish();
      if (workflowInfo().continueAsNewSuggested && !this.finished) {
        // A reset's answer waits for this loop to run the reset step: waiting for every handler
        // to finish before continuing as new would wait for it forever.
        await condition(() => allHandlersFinished() || this.resetsAwaitingLoop > 0);
        if (this.resetsAwaitingLoop > 0 && patched(RESET_BEFORE_CONTINUE_AS_NEW)) continue;
        await condition(allHandlersFinished);
        // The memo is carried explicitly so /progress never sees a run without one.
        const continueWithState = makeContinueAsNewFunc<(input: SyncWorkflowInput) => Promise<void>>({
          memo: { [PROGRESS_MEMO_KEY]: progressView(this.state) },
        });
        await continueWithState({ ...this.input, carriedState: this.state });
      }
    }
    await condition(allHandlersFinished);
  }

  // ----- commands -----

  private validate(command: SyncCommand, request?: StartRequest): void {
    if (this.commandInFlight) {
      throw failure(
        'InvalidStateTransition',
        `cannot ${command} while ${this.commandInFlight} is in progress`,
      );
    }
    const halted = haltedBy(this.state);
    const resetting = this.state.phase === 'reset';
    // Clients written for mongosync send the same /start again after a restart: the running
    // sync's own parameters are accepted and change nothing; other ones are named.
    let differences: string[] = [];
    if (command === 'start' && request && this.isUnderWay() && !halted && !resetting) {
      differences = startRequestDifferences(this.runningRequest(), request);
      if (differences.length === 0) return;
    }
    const rejection = commandRejection(this.state.status, command, {
      canCommit: canCommit(this.state),
      haltedBy: halted,
      resetting,
    });
    if (rejection) {
      const description =
        differences.length > 0
          ? `${rejection.description}; the running sync was started with other parameters: ${differences.join('; ')}`
          : rejection.description;
      throw failure(rejection.error, description);
    }
    if (command === 'start') {
      const problems =
        request && request.direction && request.options
          ? startRuleViolations(request)
          : ['malformed start request'];
      if (problems.length > 0) throw failure('InvalidRequest', problems.join('; '));
    }
    if (command === 'reverse') {
      const options = this.state.options;
      if (!options?.reversible || options.writeBlocking !== 'sourceAndDestination') {
        throw failure(
          'PreconditionFailed',
          'cannot reverse: the sync was not started with reversible: true and enableUserWriteBlocking: true',
        );
      }
    }
  }

  private async execute(command: SyncCommand, request?: StartRequest): Promise<void> {
    switch (command) {
      case 'start':
        return this.start(request!);
      case 'pause':
        return this.pause();
      case 'resume':
        return this.resume();
      case 'commit':
        this.follow('commit');
        // An apply batch in flight would hold the commit until its time is up: it stops now instead,
        // and the drain applies from the last checkpoint (events applied twice end the same).
        if (patched(INTERRUPT_APPLY_ON_COMMIT)) this.cancellableScope?.cancel();
        return;
      case 'reverse':
        return this.reverse();
      case 'reset':
        return this.reset();
    }
  }

  /**
   * An accepted update, checked again against the state as its handler finds it: an update taken
   * just before (in the same workflow task) may have changed it since its validator ran.
   */
  private async runUpdate(command: SyncCommand, request?: StartRequest): Promise<void> {
    if (patched(REVALIDATE_UPDATES)) this.validate(command, request);
    return this.execute(command, request);
  }

  /** Signals carry no answer: a rejected or failed one is recorded as a warning instead. */
  private async onSignal(command: SyncCommand, request?: StartRequest): Promise<void> {
    try {
      this.validate(command, request);
      await this.execute(command, request);
    } catch (err) {
      this.warn(`signal ${command} ignored: ${errorMessage(err)}`);
      this.publish();
    }
  }

  /** A sync started before INITIALIZING existed shows RUNNING there, as its history did. */
  private shown(status: SyncStatus): SyncStatus {
    return status === 'INITIALIZING' && !this.state.showsInitializing ? 'RUNNING' : status;
  }

  /** Applies the table's transition of `command`. */
  private follow(command: SyncCommand): void {
    const { to } = COMMANDS[command];
    if ('phase' in to) this.state.phase = to.phase;
    this.state.status = this.shown(targetStatus(command));
    this.publish();
  }

  /** Runs checks the command needs before it follows the table; their failure is the command's. */
  private async check(command: SyncCommand, work: () => Promise<void>): Promise<void> {
    this.commandInFlight = command;
    try {
      await work();
    } catch (err) {
      throw checkFailure(err);
    } finally {
      this.commandInFlight = null;
    }
  }

  /** A sync past its start's setup (INITIALIZING refuses a repeated start: nothing runs yet). */
  private isUnderWay(): boolean {
    const { status, direction, options } = this.state;
    return status !== 'IDLE' && status !== 'INITIALIZING' && direction !== null && options !== null;
  }

  private runningRequest(): StartRequest {
    return { direction: this.state.direction!, options: this.state.options! };
  }

  private async start(request: StartRequest): Promise<void> {
    // The running sync's own /start again (validated identical): nothing new starts.
    if (this.isUnderWay()) return;
    const showInitializing = patched(INITIALIZING_DURING_START);
    this.state.showsInitializing = showInitializing;
    if (showInitializing) {
      this.state.status = 'INITIALIZING';
      this.publish();
    }
    try {
      await this.startChecked(request);
    } catch (err) {
      if (showInitializing) {
        this.state.status = 'IDLE';
        this.publish();
      }
      throw err;
    }
  }

  private async startChecked(request: StartRequest): Promise<void> {
    // Kept from a start that failed after its record was written, so a retry or a reset finds it.
    const uuid = this.state.syncUuid ?? uuid4();
    this.state.syncUuid = uuid;
    const sync: SyncRef = { id: this.state.syncId, uuid, holder: request.direction.destination };
    // The sync is recorded on its destination before it has any effect on the clusters.
    await this.check('start', async () => {
      await checks.preflight({ ...request, purpose: 'start', sync });
      await checks.recordSync({ sync, direction: request.direction });
    });
    Object.assign(this.state, {
      direction: request.direction,
      options: request.options,
    } satisfies Partial<SyncWorkflowState>);
    this.state.commit.canWrite = false;
    const naturalOrder = request.options.copyInNaturalOrder ?? [];
    // Syncs started before natural-order copy was built were told their collections go by _id.
    if (naturalOrder.length > 0 && !patched(NATURAL_ORDER_COPY)) {
      const names = naturalOrder.flatMap(({ database, collections }) =>
        collections.map((c) => `${database}.${c}`),
      );
      this.warn(
        `copyInNaturalOrder (${names.join(', ')}): copied in _id ranges like every collection, ` +
          'which a retry resumes; natural-order copy is not supported yet',
      );
    }
    this.follow('start');
  }

  private async pause(): Promise<void> {
    this.pausedDuringStep = this.stepInFlight;
    this.follow('pause');
    this.cancellableScope?.cancel();
    // Answer once the in-flight step has stopped at a durable point.
    await condition(() => !this.stepInFlight);
  }

  private resume(): void {
    const { lastError } = this.state;
    this.state.lastError = null;
    if (lastError?.type === 'ChangeStreamHistoryLost' && lastError.phase === 'changeEvents') {
      // The source's history no longer reaches the checkpoint: recopy every namespace from a new
      // start point over what the destination holds (the copy upserts), then apply from there;
      // the verifier hashes everything again and removes what the source no longer has.
      this.state.copy = newCopyState();
      this.state.changeEvents = newChangeEventState();
      this.state.verification = undefined;
      this.state.phase = 'blockDestination';
      this.warn('change stream history was lost: recopying every namespace from a new start point');
    }
    this.follow('resume');
  }

  private async reverse(): Promise<void> {
    const { options, commit } = this.state;
    const reversed = swapped(this.direction);
    const sync: SyncRef = { ...this.syncRef(), holder: reversed.destination };
    // The committed destination must still be this sync's, and the new destination is recorded
    // as this sync's before anything is written to it.
    await this.check('reverse', async () => {
      await checks.checkSyncRecord({ sync: this.syncRef() });
      await checks.preflight({ direction: reversed, options: options!, purpose: 'reverse', sync });
      await checks.recordSync({ sync, direction: reversed });
    });
    this.state.direction = reversed;
    this.state.changeEvents = newChangeEventState(commit.writablePoint);
    this.state.commit = { ...newCommitState(), canWrite: false };
    this.follow('reverse');
  }

  /** Resets whose answer waits for the main loop (see `run`). */
  private resetsAwaitingLoop = 0;

  private async reset(): Promise<void> {
    // A reset already under way (retrying a failed step) keeps what it set out to release.
    if (this.state.phase !== 'reset') {
      this.state.releaseOnReset = this.blockedByThisSync();
      this.follow('reset');
    }
    this.state.lastError = null;
    this.publish();
    this.resetsAwaitingLoop += 1;
    try {
      await condition(() => this.finished || this.state.lastError !== null);
    } finally {
      this.resetsAwaitingLoop -= 1;
    }
    const error = this.state.lastError as SyncError | null;
    if (error) throw failure('InternalError', `reset could not finish (${error.type}): ${error.message}`);
  }

  /**
   * What a reset releases: nothing for an IDLE or COMMITTED sync (a commit leaves the old source
   * blocked on purpose); else the write blocking this sync switched on, so applications are never
   * left unable to write. A destination that is not this sync's any more is never touched; the
   * source a commit blocked is released even then, without its record (it never holds one).
   */
  private blockedByThisSync(): ReleaseOnReset[] {
    const { status, options, direction, lastError, phase } = this.state;
    if (status === 'IDLE' || status === 'COMMITTED' || !options || !direction) return [];
    if (options.writeBlocking === 'none') return [];
    const release: ReleaseOnReset[] = [];
    if (lastError?.type !== 'SyncRecordMismatch') {
      release.push({ cluster: direction.destination, checkRecord: true });
    }
    const sourceBlocked =
      status === 'COMMITTING' &&
      options.writeBlocking === 'sourceAndDestination' &&
      phase !== 'commitBlockSource';
    if (sourceBlocked) release.push({ cluster: direction.source, checkRecord: false });
    return release;
  }

  // ----- main loop -----

  private async runStep(): Promise<void> {
    const { status, phase, lastError } = this.state;
    if (phase === 'idle') {
      await this.waitForCommand();
      return;
    }
    if (status === 'PAUSED' || phase === 'committed') {
      await this.waitCheckingRecord();
      return;
    }
    if (lastError) {
      if (lastError.retryAt === null) {
        await this.waitForCommand();
        return;
      }
      await this.waitForCommand(Math.max(0, lastError.retryAt - Date.now()));
      if (this.state.status !== status || this.state.phase !== phase) return;
    }
    this.stepInFlight = true;
    this.pausedDuringStep = false;
    try {
      const outcome = await STEPS[phase](this.stepContext());
      this.state.lastError = null;
      // A command may have moved the sync on while the step ran: then the table's next is not ours.
      if (outcome === 'done' && this.state.phase === phase) this.advance(phase);
    } catch (err) {
      // A step cancelled by a pause stopped at a durable point, even if resume came before it did.
      const pausedAway = this.pausedDuringStep || this.state.status !== status;
      if (!(isCancellation(err) && pausedAway)) this.recordError(phase, err);
    } finally {
      this.cancellableScope = null;
      this.stepInFlight = false;
    }
  }

  private enter(phase: SyncPhase): void {
    this.state.phase = phase;
    // A pause holds whatever phase the sync is in; only resume ends it.
    if (this.state.status !== 'PAUSED') this.state.status = this.shown(PHASES[phase].status);
  }

  private advance(phase: RunningPhase): void {
    if (phase === 'reset') {
      this.finished = true;
      return;
    }
    const next = PHASES[phase].next;
    if (next !== null) this.enter(next);
  }

  /**
   * Waits until a command changes the state or phase (or the history should continue as new);
   * false when `timeoutMs` passed first.
   */
  private async waitForCommand(timeoutMs?: number): Promise<boolean> {
    const { status, phase } = this.state;
    const changedOrDue = () =>
      this.state.status !== status || this.state.phase !== phase || workflowInfo().continueAsNewSuggested;
    if (timeoutMs === undefined) {
      await condition(changedOrDue);
      return true;
    }
    return condition(changedOrDue, timeoutMs);
  }

  /**
   * A paused or committed sync waits for commands, days if need be; meanwhile it checks that its
   * destination still holds its record, so /progress says so when the cluster was replaced.
   */
  private async waitCheckingRecord(): Promise<void> {
    if (this.state.lastError?.retryAt === null || !this.state.syncUuid) {
      await this.waitForCommand();
      return;
    }
    if (await this.waitForCommand(this.state.tuning.recordCheckMs)) return;
    try {
      await checks.checkSyncRecord({ sync: this.syncRef() });
    } catch (err) {
      // Only a mismatch is news; an unreachable cluster is checked again next time.
      if (errorType(err) === 'SyncRecordMismatch') this.recordError(this.state.phase, err);
      else log.warn(`could not check the sync's record: ${errorMessage(err)}`);
    }
  }

  private recordError(phase: SyncPhase, err: unknown): void {
    const type = errorType(err);
    const halts = HALTING_ERROR_TYPES.has(type);
    this.state.lastError = {
      type,
      message: errorMessage(err),
      phase,
      retryAt: halts ? null : Date.now() + this.state.tuning.errorRetryMs,
    };
    if (halts) log.error(`the sync cannot continue (${type}): ${errorMessage(err)}`, { phase });
    else log.warn(`${phase} failed (${type}): ${errorMessage(err)}`, { phase });
  }

  private warn(message: string): void {
    this.state.warnings = [...this.state.warnings, message].slice(-MAX_WARNINGS);
  }

  private get direction(): Direction {
    if (!this.state.direction) throw failure('InternalError', 'sync has no direction');
    return this.state.direction;
  }

  private get options() {
    if (!this.state.options) throw failure('InternalError', 'sync has no options');
    return this.state.options;
  }

  /** This sync, as activities that write check it: its record is on the current destination. */
  private syncRef(): SyncRef {
    if (!this.state.syncUuid) throw failure('InternalError', 'sync has no uuid');
    return { id: this.state.syncId, uuid: this.state.syncUuid, holder: this.direction.destination };
  }

  /** What the current phase's step may use of this sync. */
  private stepContext(): StepContext {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const run = this;
    return {
      state: this.state,
      // Read when a step needs them: a reset of a sync that never started has neither.
      get direction() {
        return run.direction;
      },
      get options() {
        return run.options;
      },
      syncRef: () => this.syncRef(),
      publish: () => this.publish(),
      setCancellableScope: (scope) => (this.cancellableScope = scope),
      shouldStopFanOut: () => this.state.status !== 'RUNNING' || workflowInfo().continueAsNewSuggested,
    };
  }

  /** Publishes the progress as memo, so the API can answer while no worker runs. */
  private publish(): void {
    const progress = progressView(this.state);
    const resumePoint = resumePointOf(this.state);
    if (resumePoint !== null && patched(RESUME_POINT_IN_PROGRESS)) progress.resumePoint = resumePoint;
    const serialized = JSON.stringify(progress);
    if (serialized !== this.lastPublished) {
      this.lastPublished = serialized;
      upsertMemo({ [PROGRESS_MEMO_KEY]: progress });
    }
    // A phase can change while the progress shows the same (catalog, then planning: "collection copy").
    this.upsertSearchAttributes();
  }

  private lastSearchAttributes = '';

  /** State, phase and id as search attributes, upserted when they change (each transition). */
  private upsertSearchAttributes(): void {
    if (!this.input.searchAttributes) return;
    const { status, phase, syncId } = this.state;
    const current = `${status}|${phase}`;
    if (current === this.lastSearchAttributes || !patched(SEARCH_ATTRIBUTES_PATCH)) return;
    this.lastSearchAttributes = current;
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTES.state, value: status },
      { key: SEARCH_ATTRIBUTES.phase, value: phase },
      { key: SEARCH_ATTRIBUTES.id, value: syncId },
    ]);
  }
}

/** One sync between cluster0 and cluster1, for its whole life (start, commits, reversals, reset). */
export async function syncWorkflow(input: SyncWorkflowInput): Promise<void> {
  const state = input.carriedState ?? newSyncState(input.syncId, input.clusterFingerprint, input.tuning);
  const run = new SyncRun(state, {
    syncId: input.syncId,
    clusterFingerprint: input.clusterFingerprint,
    tuning: input.tuning,
    searchAttributes: input.searchAttributes,
  });
  run.installHandlers();
  await run.run();
}
