// The sync workflow: a thin entity around one plain-JSON state. Message handlers validate against
// the state table and flip the state; the main loop runs one step at a time for the current state
// (each step is one activity or one bounded fan-out), so every step boundary is a durable point.
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  makeContinueAsNewFunc,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  upsertMemo,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { ApplyChangesResult, Direction, SyncActivities } from '../activities/contract';
import {
  PROGRESS_MEMO_KEY,
  commandRejection,
  commitSignal,
  commitUpdate,
  pauseSignal,
  pauseUpdate,
  progressQuery,
  resumeSignal,
  resumeUpdate,
  reverseSignal,
  reverseUpdate,
  startRuleViolations,
  startSignal,
  startUpdate,
  type StartRequest,
  type SyncCommand,
  type SyncStateName,
} from './messages';
import { progressView } from './progress';
import { canCommit, newSyncState, type SyncPhase, type SyncTuning, type SyncWorkflowState } from './state';

const NON_RETRYABLE_ERROR_TYPES = ['PreconditionFailed', 'InvalidRequest', 'ChangeStreamHistoryLost'];
const MAX_WARNINGS = 20;

function activityOptions(options: ActivityOptions, maximumAttempts: number): ActivityOptions {
  return {
    ...options,
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '20 seconds',
      maximumAttempts,
      nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
    },
  };
}

const checks = proxyActivities<SyncActivities>(activityOptions({ startToCloseTimeout: '2 minutes' }, 3));
const shortCalls = proxyActivities<SyncActivities>(activityOptions({ startToCloseTimeout: '1 minute' }, 10));
// Fan-out work (planning, copy) goes through the task queue, never eagerly to the worker that ran
// the workflow task: eager dispatch would keep every partition on that one worker and defeat
// scaling out with more worker processes.
const catalogCalls = proxyActivities<SyncActivities>(
  activityOptions(
    { startToCloseTimeout: '30 minutes', heartbeatTimeout: '20 seconds', allowEagerDispatch: false },
    10,
  ),
);
const longCalls = proxyActivities<SyncActivities>(
  activityOptions(
    {
      startToCloseTimeout: '2 hours',
      heartbeatTimeout: '20 seconds',
      // A paused copy must really have stopped before a resumed one writes the same range.
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      allowEagerDispatch: false,
    },
    20,
  ),
);
// Index steps heartbeat: a worker killed mid-way is noticed in seconds, not hours.
const indexCalls = proxyActivities<SyncActivities>(
  activityOptions({ startToCloseTimeout: '6 hours', heartbeatTimeout: '20 seconds' }, 5),
);
// A ping is a measurement: a failure is reported as -1, not retried.
const pingCalls = proxyActivities<SyncActivities>(activityOptions({ startToCloseTimeout: '15 seconds' }, 1));

export interface SyncWorkflowInput {
  syncId: string;
  clusterFingerprint: string;
  tuning?: Partial<SyncTuning>;
  /** The state carried over by continue-as-new. */
  carriedState?: SyncWorkflowState;
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

/** A preflight failure as the update's error: the contract's type when the activity gave one. */
function preflightFailure(err: unknown): ApplicationFailure {
  const type = errorType(err);
  if (type === 'PreconditionFailed' || type === 'InvalidRequest') return failure(type, errorMessage(err));
  return failure('PreconditionFailed', `could not check the clusters: ${errorMessage(err)}`);
}

function swapped(direction: Direction): Direction {
  return { source: direction.destination, destination: direction.source };
}

/** Runs `work` over `items` with at most `limit` at once; stops launching when `shouldStop` says so or one fails. */
async function runBounded<T>(
  items: readonly T[],
  limit: number,
  shouldStop: () => boolean,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let firstError: unknown = undefined;
  const lane = async () => {
    while (next < items.length && firstError === undefined && !shouldStop()) {
      const item = items[next++];
      try {
        await work(item);
      } catch (err) {
        firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (firstError !== undefined) throw firstError;
}

class SyncRun {
  private stepInFlight = false;
  private commandInFlight: SyncCommand | null = null;
  private copyScope: CancellationScope | null = null;
  private lastPublished = '';

  constructor(
    private readonly state: SyncWorkflowState,
    private readonly input: SyncWorkflowInput,
  ) {}

  installHandlers(): void {
    setHandler(progressQuery, () => progressView(this.state));
    setHandler(startUpdate, (request) => this.start(request), {
      validator: (request) => this.validateStart(request),
    });
    setHandler(pauseUpdate, () => this.pause(), { validator: () => this.validate('pause') });
    setHandler(resumeUpdate, () => this.resume(), { validator: () => this.validate('resume') });
    setHandler(commitUpdate, () => this.commit(), { validator: () => this.validate('commit') });
    setHandler(reverseUpdate, () => this.reverse(), { validator: () => this.validateReverse() });

    setHandler(startSignal, (request) =>
      this.onSignal(
        'start',
        () => this.validateStart(request),
        () => this.start(request),
      ),
    );
    setHandler(pauseSignal, () =>
      this.onSignal(
        'pause',
        () => this.validate('pause'),
        () => this.pause(),
      ),
    );
    setHandler(resumeSignal, () =>
      this.onSignal(
        'resume',
        () => this.validate('resume'),
        () => this.resume(),
      ),
    );
    setHandler(commitSignal, () =>
      this.onSignal(
        'commit',
        () => this.validate('commit'),
        () => this.commit(),
      ),
    );
    setHandler(reverseSignal, () =>
      this.onSignal(
        'reverse',
        () => this.validateReverse(),
        () => this.reverse(),
      ),
    );
  }

  async run(): Promise<never> {
    this.publish();
    for (;;) {
      await this.runStep();
      this.publish();
      if (workflowInfo().continueAsNewSuggested) {
        await condition(allHandlersFinished);
        // The memo is carried explicitly so /progress never sees a run without one.
        const continueWithState = makeContinueAsNewFunc<(input: SyncWorkflowInput) => Promise<void>>({
          memo: { [PROGRESS_MEMO_KEY]: progressView(this.state) },
        });
        await continueWithState({ ...this.input, carriedState: this.state });
      }
    }
  }

  // ----- message handlers -----

  private validate(command: SyncCommand): void {
    if (this.commandInFlight) {
      throw failure(
        'InvalidStateTransition',
        `cannot ${command} while ${this.commandInFlight} is in progress`,
      );
    }
    const rejection = commandRejection(this.state.state, command, canCommit(this.state));
    if (rejection) throw failure(rejection.error, rejection.description);
  }

  private validateStart(request: StartRequest): void {
    this.validate('start');
    const problems =
      request && request.direction && request.options
        ? startRuleViolations(request)
        : ['malformed start request'];
    if (problems.length > 0) throw failure('InvalidRequest', problems.join('; '));
  }

  private validateReverse(): void {
    this.validate('reverse');
    const options = this.state.options;
    if (!options?.reversible || options.writeBlocking !== 'sourceAndDestination') {
      throw failure(
        'PreconditionFailed',
        'cannot reverse: the sync was not started with reversible: true and enableUserWriteBlocking: true',
      );
    }
  }

  private async start(request: StartRequest): Promise<void> {
    this.commandInFlight = 'start';
    try {
      await checks.preflight({ direction: request.direction, options: request.options, purpose: 'start' });
    } catch (err) {
      throw preflightFailure(err);
    } finally {
      this.commandInFlight = null;
    }
    Object.assign(this.state, {
      direction: request.direction,
      options: request.options,
      state: 'RUNNING',
      phase: 'blockDestination',
      canWrite: false,
    } satisfies Partial<SyncWorkflowState>);
    this.publish();
  }

  private async pause(): Promise<void> {
    this.state.state = 'PAUSED';
    this.copyScope?.cancel();
    this.publish();
    // Answer once the in-flight step has stopped at a durable point.
    await condition(() => !this.stepInFlight);
  }

  private resume(): void {
    this.state.state = 'RUNNING';
    this.state.lastError = null;
    this.publish();
  }

  private commit(): void {
    this.state.state = 'COMMITTING';
    this.state.phase = 'commitBlockSource';
    this.publish();
  }

  private async reverse(): Promise<void> {
    const { direction, options } = this.state;
    if (!direction || !options)
      throw failure('InternalError', 'a committed sync without direction or options');
    this.commandInFlight = 'reverse';
    try {
      await checks.preflight({ direction: swapped(direction), options, purpose: 'reverse' });
    } catch (err) {
      throw preflightFailure(err);
    } finally {
      this.commandInFlight = null;
    }
    this.state.state = 'REVERSING';
    this.state.phase = 'reverseSwap';
    this.publish();
  }

  /** Signals carry no answer: a rejected or failed one is recorded as a warning instead. */
  private async onSignal(command: SyncCommand, validate: () => void, handle: () => unknown): Promise<void> {
    try {
      validate();
      await handle();
    } catch (err) {
      this.warn(`signal ${command} ignored: ${errorMessage(err)}`);
      this.publish();
    }
  }

  // ----- main loop -----

  private async runStep(): Promise<void> {
    const { state, lastError } = this.state;
    if (state === 'IDLE' || state === 'PAUSED' || state === 'COMMITTED') {
      await this.waitWhile(state);
      return;
    }
    if (lastError) {
      await this.waitWhile(state, Math.max(0, lastError.retryAt - Date.now()));
      if (this.state.state !== state) return;
    }
    const phase = this.state.phase;
    this.stepInFlight = true;
    try {
      await this.runPhase(phase);
      this.state.lastError = null;
    } catch (err) {
      if (!(isCancellation(err) && this.state.state !== state)) this.recordError(phase, err);
    } finally {
      this.copyScope = null;
      this.stepInFlight = false;
    }
  }

  private async waitWhile(state: SyncStateName, timeoutMs?: number): Promise<void> {
    const changedOrDue = () => this.state.state !== state || workflowInfo().continueAsNewSuggested;
    if (timeoutMs === undefined) await condition(changedOrDue);
    else await condition(changedOrDue, timeoutMs);
  }

  private recordError(phase: SyncPhase | null, err: unknown): void {
    this.state.lastError = {
      type: errorType(err),
      message: errorMessage(err),
      phase,
      retryAt: Date.now() + this.state.tuning.errorRetryMs,
    };
  }

  private warn(message: string): void {
    this.state.warnings = [...this.state.warnings, message].slice(-MAX_WARNINGS);
  }

  private get direction(): Direction {
    if (!this.state.direction) throw failure('InternalError', 'sync has no direction');
    return this.state.direction;
  }

  private async runPhase(phase: SyncPhase | null): Promise<void> {
    const s = this.state;
    const direction = this.direction;
    const options = s.options!;
    switch (phase) {
      case 'blockDestination':
        if (options.writeBlocking !== 'none') {
          await shortCalls.setUserWriteBlocking({ cluster: direction.destination, enabled: true });
        }
        s.copyStartTime = await shortCalls.currentOperationTime({ cluster: direction.source });
        s.changeEventsStartAt = s.copyStartTime;
        s.phase = 'catalog';
        return;
      case 'catalog': {
        const catalog = await catalogCalls.prepareCatalog({ direction, options });
        s.collections = catalog.collections;
        s.collectionsToPlan = catalog.collections;
        s.indexesToBuildAfterCopy = catalog.indexesToBuildAfterCopy;
        s.estimatedTotalBytes = catalog.collections.reduce((sum, c) => sum + c.estimatedBytes, 0);
        s.phase = 'planning';
        return;
      }
      case 'planning':
        await this.planPartitions(direction);
        if (s.collectionsToPlan.length === 0) s.phase = 'copy';
        return;
      case 'copy':
        await this.copyPartitions(direction);
        if (s.pendingPartitions.length === 0) {
          s.copyDone = true;
          s.phase = 'indexes';
        }
        return;
      case 'indexes':
        await this.buildIndexes(direction);
        s.phase = 'changeEvents';
        return;
      case 'changeEvents':
        await this.pingIfDue();
        await this.applyChangeBatch(direction);
        return;
      case 'commitBlockSource':
        if (options.writeBlocking === 'sourceAndDestination') {
          await shortCalls.setUserWriteBlocking({ cluster: direction.source, enabled: true });
        }
        s.phase = 'commitPoint';
        return;
      case 'commitPoint':
        s.commitPoint = await shortCalls.currentOperationTime({ cluster: direction.source });
        s.phase = 'commitDrain';
        return;
      case 'commitDrain': {
        const result = await this.applyChangeBatch(direction, s.commitPoint);
        if (result.reachedStopTime) s.phase = 'commitFinalize';
        return;
      }
      case 'commitFinalize':
        await indexCalls.finalizeIndexes({ direction, options });
        s.phase = 'commitWritablePoint';
        return;
      case 'commitWritablePoint':
        // Taken while users are still blocked, so no user write can fall before it unreplicated.
        s.writablePoint = await shortCalls.currentOperationTime({ cluster: direction.destination });
        s.phase = 'commitUnblock';
        return;
      case 'commitUnblock':
        if (options.writeBlocking !== 'none') {
          await shortCalls.setUserWriteBlocking({ cluster: direction.destination, enabled: false });
        }
        Object.assign(s, {
          state: 'COMMITTED',
          phase: null,
          canWrite: true,
          lagSeconds: 0,
          estimatedSecondsToCatchup: null,
        } satisfies Partial<SyncWorkflowState>);
        return;
      case 'reverseSwap': {
        const reversed = swapped(direction);
        // The old source was blocked at commit and becomes the destination: keep users off it.
        await shortCalls.setUserWriteBlocking({ cluster: reversed.destination, enabled: true });
        // It holds the indexes with their constraints: relax them as for any destination until the next commit.
        await indexCalls.relaxIndexes({ direction: reversed, options });
        Object.assign(s, {
          direction: reversed,
          state: 'RUNNING',
          phase: 'changeEvents',
          canWrite: false,
          resumeToken: null,
          changeEventsStartAt: s.writablePoint,
          changeEventBatches: 0,
          lagSeconds: null,
          lagMeasuredAt: null,
          estimatedSecondsToCatchup: null,
          commitPoint: null,
        } satisfies Partial<SyncWorkflowState>);
        return;
      }
      case null:
        throw failure('InternalError', `state ${s.state} has no step to run`);
    }
  }

  private shouldStopFanOut(): boolean {
    return this.state.state !== 'RUNNING' || workflowInfo().continueAsNewSuggested;
  }

  private async planPartitions(direction: Direction): Promise<void> {
    const s = this.state;
    await runBounded(
      [...s.collectionsToPlan],
      s.tuning.copyConcurrency,
      () => this.shouldStopFanOut(),
      async (collection) => {
        const partitions = await catalogCalls.planPartitions({
          direction,
          collection,
          targetPartitionBytes: s.tuning.targetPartitionBytes,
        });
        s.pendingPartitions = [...s.pendingPartitions, ...partitions];
        s.collectionsToPlan = s.collectionsToPlan.filter((c) => c !== collection);
      },
    );
  }

  private async copyPartitions(direction: Direction): Promise<void> {
    const s = this.state;
    const scope = new CancellationScope();
    this.copyScope = scope;
    await scope.run(() =>
      runBounded(
        [...s.pendingPartitions],
        s.tuning.copyConcurrency,
        () => this.shouldStopFanOut(),
        async (partition) => {
          const result = await longCalls.copyPartition({ direction, partition });
          // Only finished partitions leave the list: a crash or pause recopies just the others.
          s.pendingPartitions = s.pendingPartitions.filter((p) => p.id !== partition.id);
          s.copiedPartitions += 1;
          s.copiedBytes += result.bytesCopied;
          this.publish();
        },
      ),
    );
  }

  private async buildIndexes(direction: Direction): Promise<void> {
    const s = this.state;
    const collectionsTotal = s.collections.length;
    s.indexBuilding = {
      indexesBuilt: 0,
      totalIndexesToBuild: s.indexesToBuildAfterCopy,
      collectionsFinished: 0,
      collectionsTotal,
    };
    this.publish();
    const { indexesBuilt } = await indexCalls.buildIndexesAfterCopy({ direction, options: s.options! });
    s.indexBuilding = {
      indexesBuilt,
      totalIndexesToBuild: Math.max(indexesBuilt, s.indexesToBuildAfterCopy),
      collectionsFinished: collectionsTotal,
      collectionsTotal,
    };
  }

  private async applyChangeBatch(
    direction: Direction,
    stopAfterOperationTime: SyncWorkflowState['commitPoint'] = null,
  ): Promise<ApplyChangesResult> {
    const s = this.state;
    const startedAt = Date.now();
    const result = await longCalls.applyChanges({
      direction,
      resumeToken: s.resumeToken,
      startAtOperationTime: s.resumeToken ? null : s.changeEventsStartAt,
      maxDurationMs: s.tuning.applyBatchMs,
      maxEvents: s.tuning.applyBatchMaxEvents,
      stopAfterOperationTime,
      // Namespace filters and buildIndexes decide which change events apply.
      options: s.options ?? undefined,
    });
    const now = Date.now();
    if (result.resumeToken) s.resumeToken = result.resumeToken;
    s.changeEventBatches += 1;
    s.totalEventsApplied += result.eventsApplied;
    s.crudEventsApplied += result.crudEventsApplied;
    s.ddlEventsApplied += result.ddlEventsApplied;
    const previousLag = s.lagSeconds;
    const previousAt = s.lagMeasuredAt;
    s.lagSeconds = result.lagSeconds;
    s.lagMeasuredAt = now;
    s.estimatedSecondsToCatchup = null;
    if (previousLag !== null && previousAt !== null && result.lagSeconds < previousLag && now > previousAt) {
      const shrinkPerSecond = (previousLag - result.lagSeconds) / ((now - previousAt) / 1000);
      s.estimatedSecondsToCatchup = Math.round(result.lagSeconds / shrinkPerSecond);
    }
    this.publish();
    // An idle stream that answers at once must not turn the loop into a busy one.
    if (result.eventsApplied === 0 && !result.reachedStopTime && now - startedAt < s.tuning.idleBatchMs) {
      await sleep(s.tuning.idleBatchMs);
    }
    return result;
  }

  private async pingIfDue(): Promise<void> {
    const s = this.state;
    if (s.lastPingAt !== null && Date.now() - s.lastPingAt < s.tuning.pingIntervalMs) return;
    s.lastPingAt = Date.now();
    try {
      const latencies = await pingCalls.pingClusters({ clusters: ['cluster0', 'cluster1'] });
      for (const { cluster, pingLatencyMs } of latencies) s.pingLatencyMs[cluster] = pingLatencyMs;
    } catch {
      s.pingLatencyMs = { cluster0: -1, cluster1: -1 };
    }
  }

  /** Publishes the progress as memo, so the API can answer while no worker runs. */
  private publish(): void {
    const progress = progressView(this.state);
    const serialized = JSON.stringify(progress);
    if (serialized === this.lastPublished) return;
    this.lastPublished = serialized;
    upsertMemo({ [PROGRESS_MEMO_KEY]: progress });
  }
}

/** One sync between cluster0 and cluster1, for its whole life (start, commits, reversals). */
export async function syncWorkflow(input: SyncWorkflowInput): Promise<void> {
  const state = input.carriedState ?? newSyncState(input.syncId, input.clusterFingerprint, input.tuning);
  const run = new SyncRun(state, {
    syncId: input.syncId,
    clusterFingerprint: input.clusterFingerprint,
    tuning: input.tuning,
  });
  run.installHandlers();
  await run.run();
}
