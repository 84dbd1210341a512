// The sync workflow driven through the REST API on a real Temporal dev server, with in-memory
// activities standing in for the clusters.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import pino from 'pino';
import type {
  StreamPosition,
  ApplyChangesInput,
  ApplyChangesResult,
  ClusterName,
  CollectionPlan,
  CopyPartitionInput,
  ForSync,
  OperationTime,
  Partition,
  PreflightInput,
  RecordSyncInput,
  SyncActivities,
  SyncRef,
} from '../../src/activities/contract';
import { Client, Connection } from '@temporalio/client';
import {
  LOAD_LEVEL_TUNING,
  clusterFingerprint,
  parseServiceConfig,
  syncWorkflowId,
  type ServiceConfig,
} from '../../src/config';
import {
  COMMAND_SIGNALS,
  startSignal,
  type ArgumentlessCommand,
  type StartRequest,
} from '../../src/workflows/messages';
import type { SyncTuning } from '../../src/workflows/state';
import { startService, type RunningService } from '../../src/main';
import { startTestTemporal, type TestTemporal } from './helpers/temporal';

jest.setTimeout(120_000);

/** Two in-memory "clusters": write-block flags, a clock, and a log of what the workflow asked. */
class FakeClusters implements SyncActivities {
  preflightFailure: { purpose: PreflightInput['purpose']; message: string; type?: string } | null = null;
  writeBlocked: Record<ClusterName, boolean> = { cluster0: false, cluster1: false };
  /** The sync uuid each cluster's record names. */
  records: Partial<Record<ClusterName, string>> = {};
  /** A commit drain that never reaches its commit point. */
  drainStuck = false;
  /** The source's change stream no longer reaches the sync's resume point. */
  historyLost = false;
  copyStepMs = 40;
  /** The batch size each copyPartition was asked for. */
  copyBatchSizes: (number | undefined)[] = [];
  /** While set, record checks wait for it (a check in flight holds a committed sync's loop). */
  recordCheckGate: Promise<void> | null = null;
  recordChecksHeld = 0;
  readonly completedPartitions: string[] = [];
  readonly applyInputs: ApplyChangesInput[] = [];
  readonly operationTimes: { cluster: ClusterName; time: OperationTime }[] = [];
  private clock = 1000;
  private batches = 0;

  /** While set, preflight waits for it (a start's checks in flight). */
  preflightGate: Promise<void> | null = null;
  /** Preflights run, by purpose: each start or reverse that got under way runs one. */
  preflights: Record<string, number> = {};

  async preflight(input: PreflightInput) {
    this.preflights[input.purpose] = (this.preflights[input.purpose] ?? 0) + 1;
    if (this.preflightGate) await this.preflightGate;
    if (this.preflightFailure?.purpose === input.purpose) {
      throw ApplicationFailure.nonRetryable(
        this.preflightFailure.message,
        this.preflightFailure.type ?? 'PreconditionFailed',
      );
    }
    return { sourceVersion: '7.0.0', destinationVersion: '7.0.0' };
  }

  async recordSync({ sync }: RecordSyncInput) {
    if (this.records[sync.holder] && this.records[sync.holder] !== sync.uuid) {
      throw ApplicationFailure.nonRetryable(
        `${sync.holder} holds another sync's record`,
        'SyncRecordMismatch',
      );
    }
    this.records[sync.holder] = sync.uuid;
  }

  async checkSyncRecord({ sync }: { sync: SyncRef }) {
    if (this.recordCheckGate) {
      this.recordChecksHeld += 1;
      await this.recordCheckGate;
    }
    this.assertRecorded(sync);
  }

  async removeSyncRecord({ sync, clusters }: { sync: { uuid: string }; clusters: ClusterName[] }) {
    for (const cluster of clusters) if (this.records[cluster] === sync.uuid) delete this.records[cluster];
  }

  async setUserWriteBlocking({
    cluster,
    enabled,
    sync,
  }: { cluster: ClusterName; enabled: boolean } & ForSync) {
    this.assertRecorded(sync);
    this.writeBlocked[cluster] = enabled;
  }

  /** As the real activities' guard: a cluster that lost the sync's record is never written to. */
  private assertRecorded(sync: SyncRef | undefined) {
    if (sync && this.records[sync.holder] !== sync.uuid) {
      throw ApplicationFailure.nonRetryable(
        `${sync.holder} holds no record of ${sync.uuid}`,
        'SyncRecordMismatch',
      );
    }
  }

  async currentOperationTime({ cluster }: { cluster: ClusterName }) {
    const time = { t: ++this.clock, i: 1 };
    this.operationTimes.push({ cluster, time });
    return time;
  }

  async prepareCatalog() {
    const collection = (coll: string): CollectionPlan => ({
      db: 'shop',
      coll,
      uuid: null,
      capped: false,
      estimatedBytes: 3000,
      estimatedDocuments: 30,
    });
    return { collections: [collection('orders'), collection('users')], views: 0, indexesToBuildAfterCopy: 2 };
  }

  async planPartitions({ collection }: { collection: CollectionPlan }): Promise<Partition[]> {
    return [0, 1, 2].map((n) => ({
      id: `${collection.coll}-${n}`,
      db: collection.db,
      coll: collection.coll,
      lower: null,
      upper: null,
      naturalOrder: false,
      estimatedBytes: 1000,
    }));
  }

  async copyPartition({ partition, batchSize }: CopyPartitionInput) {
    this.copyBatchSizes.push(batchSize);
    const context = Context.current();
    for (let step = 0; step < 5; step++) {
      context.heartbeat(step);
      await context.sleep(this.copyStepMs);
    }
    this.completedPartitions.push(partition.id);
    return { partitionId: partition.id, documentsCopied: 10, bytesCopied: 1000 };
  }

  async buildIndexesAfterCopy() {
    return { indexesBuilt: 2 };
  }

  async applyChanges(input: ApplyChangesInput): Promise<ApplyChangesResult> {
    this.assertRecorded(input.sync);
    if (this.historyLost) {
      throw ApplicationFailure.nonRetryable(
        'the resume point is not in the history',
        'ChangeStreamHistoryLost',
      );
    }
    this.applyInputs.push(input);
    await new Promise((resolve) => setTimeout(resolve, Math.min(input.maxDurationMs, 100)));
    if (this.drainStuck && input.stopAfterOperationTime !== null) {
      return {
        resumeToken: input.resumeToken,
        appliedThrough: { t: this.clock - 1, i: 1 },
        eventsApplied: 0,
        crudEventsApplied: 0,
        ddlEventsApplied: 0,
        sourceLatest: { t: this.clock, i: 1 },
        lagSeconds: 1,
        crudLagSeconds: null,
        ddlLagSeconds: null,
        reachedStopTime: false,
      };
    }
    this.batches += 1;
    return {
      resumeToken: `token-${this.batches}`,
      appliedThrough: { t: this.clock, i: 1 },
      eventsApplied: 2,
      crudEventsApplied: 2,
      ddlEventsApplied: 0,
      sourceLatest: { t: this.clock, i: 1 },
      lagSeconds: 1,
      crudLagSeconds: 1,
      ddlLagSeconds: null,
      reachedStopTime: input.stopAfterOperationTime !== null,
    };
  }

  async finalizeIndexes() {
    return { indexesFinalized: 1 };
  }

  /** While set, a reverse's index step waits for it (the sync stays REVERSING). */
  relaxGate: Promise<void> | null = null;

  async relaxIndexes() {
    if (this.relaxGate) await this.relaxGate;
    return { indexesRelaxed: 1 };
  }

  async pingClusters({ clusters }: { clusters: ClusterName[] }) {
    return clusters.map((cluster) => ({ cluster, pingLatencyMs: 3 }));
  }

  // The verifier on clusters that always agree: hashing counts the partition's documents, streams
  // hold nothing new, and nothing is ever left to recheck.
  verifiedPartitions = 0;

  async verifyPartition() {
    this.verifiedPartitions += 1;
    return { sourceDocuments: 10, destinationDocuments: 10, suspects: 0 };
  }

  async collectChanges(input: { source: StreamPosition; destination: StreamPosition }) {
    return {
      source: input.source,
      destination: input.destination,
      sourceEvents: 0,
      destinationEvents: 0,
      sourceNow: { t: this.clock, i: 1 },
    };
  }

  async recheckSuspects() {
    return {
      rechecked: 0,
      repairedNow: 0,
      open: 0,
      persisting: 0,
      found: 0,
      repaired: 0,
      now: { t: this.clock, i: 1 },
    };
  }

  async findUniqueConflicts() {
    return { indexesChecked: 1, conflicts: [] };
  }

  async finalVerification(input: { source: StreamPosition; destination: StreamPosition }) {
    return {
      open: 0,
      persisting: 0,
      found: 0,
      repaired: 0,
      source: input.source,
      destination: input.destination,
    };
  }
}

// Small histories make the workflow continue-as-new many times during every scenario.
let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await startTestTemporal({ 'limit.historyCount.suggestContinueAsNew': 100 });
}, 120_000);
afterAll(() => temporal?.stop(), 60_000);

interface ApiAnswer {
  status: number;
  body: Record<string, any>;
}

/** A service for one sync with the given fake clusters; commands and progress go through HTTP. */
function syncHarness(
  id: string,
  clusters: FakeClusters,
  tuning: Partial<SyncTuning> = {},
  flags: string[] = [],
) {
  let service: RunningService;
  let workflowId = '';
  let config: ServiceConfig;

  beforeAll(async () => {
    config = parseServiceConfig([
      '--cluster0',
      'mongodb://syncuser:secret@db0.example:27017/?replicaSet=rs0',
      '--cluster1',
      'mongodb://db1.example:27018',
      '--port',
      '0',
      '--temporal-address',
      temporal.address,
      '--id',
      `${id}-${Date.now()}`,
      ...flags,
    ]);
    workflowId = syncWorkflowId(config);
    service = await startService(config, {
      activities: clusters,
      logger: pino({ level: 'silent' }),
      tuning: { copyConcurrency: 2, applyBatchMs: 100, idleBatchMs: 50, ...tuning },
    });
  }, 180_000);

  afterAll(() => service?.stop(), 60_000);

  async function call(path: string, body?: string, contentType = 'application/json'): Promise<ApiAnswer> {
    const started = Date.now();
    try {
      const response = await fetch(`${service.apiUrl}/api/v1/${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: body === undefined ? {} : { 'content-type': contentType },
        body,
        // A call that never answers fails here, naming itself, not as the test's timeout.
        signal: AbortSignal.timeout(90_000),
      });
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    } catch (err) {
      throw new Error(`${path} ${body ?? ''} got no answer in ${Date.now() - started} ms: ${String(err)}`);
    }
  }

  const post = (path: string, body: unknown = {}) => call(path, JSON.stringify(body));

  async function progress(): Promise<Record<string, any>> {
    const answer = await call('progress');
    expect(answer.status).toBe(200);
    expect(answer.body.success).toBe(true);
    return answer.body.progress;
  }

  async function waitForProgress(
    predicate: (p: Record<string, any>) => boolean,
    timeoutMs = 60_000,
  ): Promise<Record<string, any>> {
    const deadline = Date.now() + timeoutMs;
    let last: Record<string, any> = {};
    while (Date.now() < deadline) {
      last = await progress();
      if (predicate(last)) return last;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    throw new Error(`progress never matched; last: ${JSON.stringify(last)}`);
  }

  function expectRejected(answer: ApiAnswer, status: number, error: string) {
    expect(answer).toMatchObject({ status, body: { success: false, error } });
    expect(typeof answer.body.errorDescription).toBe('string');
  }

  /** How many runs the workflow has had (continue-as-new starts a new run). */
  async function runCount(): Promise<number> {
    const connection = await Connection.connect({ address: temporal.address });
    try {
      const client = new Client({ connection });
      let runs = 0;
      for await (const _ of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs += 1;
      return runs;
    } finally {
      await connection.close();
    }
  }

  /** Sends a command as a Temporal signal, as a client of the workflow (not the REST API) would. */
  async function signal(command: ArgumentlessCommand | 'start', request?: StartRequest): Promise<void> {
    const connection = await Connection.connect({ address: temporal.address });
    try {
      const client = new Client({ connection });
      if (command === 'start') {
        await client.workflow.signalWithStart('syncWorkflow', {
          workflowId,
          taskQueue: config.taskQueue,
          args: [
            { syncId: config.id, clusterFingerprint: clusterFingerprint(config.cluster0, config.cluster1) },
          ],
          signal: startSignal,
          signalArgs: [request!],
        });
      } else {
        await client.workflow.getHandle(workflowId).signal(COMMAND_SIGNALS[command]);
      }
    } finally {
      await connection.close();
    }
  }

  /** The number of events in the history of the workflow's current run. */
  async function historyLength(): Promise<number> {
    const connection = await Connection.connect({ address: temporal.address });
    try {
      return (await new Client({ connection }).workflow.getHandle(workflowId).describe()).historyLength;
    } finally {
      await connection.close();
    }
  }

  /** Waits until a visibility query on the sync's search attributes finds this sync. */
  async function findBySearchAttributes(query: string, timeoutMs = 20_000): Promise<void> {
    const connection = await Connection.connect({ address: temporal.address });
    try {
      const client = new Client({ connection });
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found: string[] = [];
        for await (const execution of client.workflow.list({
          query: `WorkflowId = '${workflowId}' AND ${query}`,
        }))
          found.push(execution.workflowId);
        if (found.length > 0) return;
        if (Date.now() > deadline) throw new Error(`no sync found by ${query}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      await connection.close();
    }
  }

  return {
    call,
    post,
    progress,
    waitForProgress,
    expectRejected,
    runCount,
    signal,
    historyLength,
    findBySearchAttributes,
  };
}

describe('sync workflow through the REST API (mock activities)', () => {
  const clusters = new FakeClusters();
  const { call, post, progress, waitForProgress, expectRejected, runCount } = syncHarness('e2e', clusters);

  it('answers IDLE with null fields before any sync exists and rejects commands other than start', async () => {
    const idle = await progress();
    expect(idle.state).toBe('IDLE');
    expect(idle.canCommit).toBe(false);
    for (const [key, value] of Object.entries(idle)) {
      if (key !== 'state' && key !== 'canCommit') expect(value).toBeNull();
    }
    for (const command of ['pause', 'resume', 'commit', 'reverse']) {
      expectRejected(await post(command), 409, 'InvalidStateTransition');
    }
  });

  it('rejects invalid requests with InvalidRequest', async () => {
    expectRejected(await call('start', '{not json'), 400, 'InvalidRequest');
    expectRejected(await post('start', { source: 'cluster0' }), 400, 'InvalidRequest');
    expectRejected(
      await post('start', { source: 'cluster0', destination: 'cluster1', colour: 'red' }),
      400,
      'InvalidRequest',
    );
    expectRejected(await post('pause', { now: true }), 400, 'InvalidRequest');
    const unknown = await call('frobnicate');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ success: false });
  });

  it('keeps the sync IDLE when preflight fails', async () => {
    clusters.preflightFailure = { purpose: 'start', message: 'destination cluster1 is not empty' };
    const answer = await post('start', { source: 'cluster0', destination: 'cluster1' });
    expectRejected(answer, 400, 'PreconditionFailed');
    expect(answer.body.errorDescription).toContain('not empty');
    expect((await progress()).state).toBe('IDLE');
    clusters.preflightFailure = null;
  });

  it('starts, copies every partition once, and reaches canCommit in change event application', async () => {
    // curl's `--data` labels the body form-urlencoded: it must still be read as JSON.
    const start = await call(
      'start',
      JSON.stringify({
        source: 'cluster0',
        destination: 'cluster1',
        reversible: true,
        enableUserWriteBlocking: true,
      }),
      'application/x-www-form-urlencoded',
    );
    expect(start).toEqual({ status: 200, body: { success: true } });
    expectRejected(
      await post('start', { source: 'cluster0', destination: 'cluster1' }),
      409,
      'InvalidStateTransition',
    );

    // The accepted start's setup shows mongosync's INITIALIZING, then the copy RUNNING.
    const running = await progress();
    expect(['INITIALIZING', 'RUNNING']).toContain(running.state);
    expect(running.directionMapping).toEqual({
      Source: 'cluster0: db0.example:27017',
      Destination: 'cluster1: db1.example:27018',
    });
    expect(JSON.stringify(running)).not.toContain('secret');
    expect(clusters.writeBlocked.cluster1).toBe(true);

    const ready = await waitForProgress((p) => p.canCommit === true && p.totalEventsApplied >= 4);
    expect(ready).toMatchObject({
      state: 'RUNNING',
      info: 'change event application',
      canWrite: false,
      collectionCopy: { estimatedTotalBytes: 6000, estimatedCopiedBytes: 6000 },
      indexBuilding: { indexesBuilt: 2, totalIndexesToBuild: 2, collectionsFinished: 2, collectionsTotal: 2 },
      source: { pingLatencyMs: 3 },
      destination: { pingLatencyMs: 3 },
      mongosyncID: expect.stringMatching(/^e2e-/),
    });
    expect(ready.lagTimeSeconds).toBe(1);
    expect(ready.totalEventsApplied).toBeGreaterThan(0);
    expect([...clusters.completedPartitions].sort()).toEqual([
      'orders-0',
      'orders-1',
      'orders-2',
      'users-0',
      'users-1',
      'users-2',
    ]);
    const t0 = clusters.operationTimes[0];
    expect(clusters.applyInputs[0]).toMatchObject({
      direction: { source: 'cluster0', destination: 'cluster1' },
      resumeToken: null,
      startAtOperationTime: t0.time,
    });
    expect(clusters.applyInputs[1].resumeToken).toBe('token-1');
  });

  it('pauses at a durable point and resumes from the last token', async () => {
    expectRejected(await post('resume'), 409, 'InvalidStateTransition');
    expect(await post('pause')).toEqual({ status: 200, body: { success: true } });
    const paused = await progress();
    expect(paused.state).toBe('PAUSED');
    expect(paused.canCommit).toBe(false);
    const batchesAtPause = clusters.applyInputs.length;
    expectRejected(await post('pause'), 409, 'InvalidStateTransition');
    expectRejected(await post('commit'), 409, 'InvalidStateTransition');
    expectRejected(await post('reverse'), 409, 'InvalidStateTransition');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(clusters.applyInputs.length).toBe(batchesAtPause);

    expect(await post('resume')).toEqual({ status: 200, body: { success: true } });
    // canCommit can be true again before the first batch after resume is scheduled: wait for it.
    await waitForProgress(
      (p) => p.state === 'RUNNING' && p.canCommit === true && clusters.applyInputs.length > batchesAtPause,
    );
    const resumedBatch = clusters.applyInputs[batchesAtPause];
    expect(resumedBatch.resumeToken).toBe(`token-${batchesAtPause}`);
    expectRejected(await post('reverse'), 409, 'InvalidStateTransition');
  });

  it('commits: blocks the source, drains to the commit point, unblocks the destination', async () => {
    expect(await post('commit')).toEqual({ status: 200, body: { success: true } });
    const committed = await waitForProgress((p) => p.state === 'COMMITTED');
    expect(committed).toMatchObject({
      canWrite: true,
      info: 'commit completed',
      lagTimeSeconds: 0,
      canCommit: false,
    });
    expect(clusters.writeBlocked).toEqual({ cluster0: true, cluster1: false });
    const drain = clusters.applyInputs.find((input) => input.stopAfterOperationTime !== null);
    const commitPoint = clusters.operationTimes.filter((o) => o.cluster === 'cluster0').at(-1)!;
    expect(drain?.stopAfterOperationTime).toEqual(commitPoint.time);
    for (const command of ['commit', 'pause', 'resume']) {
      expectRejected(await post(command), 409, 'InvalidStateTransition');
    }
  });

  it('refuses a reverse whose preflight fails and stays COMMITTED', async () => {
    clusters.preflightFailure = { purpose: 'reverse', message: 'legacy unique index format on cluster0' };
    expectRejected(await post('reverse'), 400, 'PreconditionFailed');
    expect((await progress()).state).toBe('COMMITTED');
    clusters.preflightFailure = null;
  });

  it('reverses from the writable point without a copy, then commits and reverses again', async () => {
    const writablePoint = clusters.operationTimes.filter((o) => o.cluster === 'cluster1').at(-1)!;
    const appliedBefore = clusters.applyInputs.length;
    const copiedBefore = clusters.completedPartitions.length;
    expect(await post('reverse')).toEqual({ status: 200, body: { success: true } });
    const reversed = await waitForProgress((p) => p.state === 'RUNNING' && p.canCommit === true);
    expect(reversed.directionMapping).toEqual({
      Source: 'cluster1: db1.example:27018',
      Destination: 'cluster0: db0.example:27017',
    });
    expect(reversed.canWrite).toBe(false);
    expect(clusters.writeBlocked).toEqual({ cluster0: true, cluster1: false });
    expect(clusters.applyInputs[appliedBefore]).toMatchObject({
      direction: { source: 'cluster1', destination: 'cluster0' },
      resumeToken: null,
      startAtOperationTime: writablePoint.time,
    });
    expect(clusters.completedPartitions.length).toBe(copiedBefore);

    expect(await post('commit')).toEqual({ status: 200, body: { success: true } });
    await waitForProgress((p) => p.state === 'COMMITTED');
    expect(clusters.writeBlocked).toEqual({ cluster0: false, cluster1: true });

    expect(await post('reverse')).toEqual({ status: 200, body: { success: true } });
    const again = await waitForProgress((p) => p.state === 'RUNNING');
    expect(again.directionMapping.Source).toBe('cluster0: db0.example:27017');
    expect(await runCount()).toBeGreaterThan(1);
  });
});

describe('pausing during the copy, and a sync that is not reversible', () => {
  const clusters = new FakeClusters();
  clusters.copyStepMs = 150;
  const { post, progress, waitForProgress, expectRejected, runCount } = syncHarness('e2e-copy', clusters);

  it('pauses mid-copy, resumes without recopying finished partitions, and continues as new on the way', async () => {
    expect(await post('start', { source: 'cluster0', destination: 'cluster1' })).toEqual({
      status: 200,
      body: { success: true },
    });
    await waitForProgress((p) => p.collectionCopy?.estimatedCopiedBytes >= 1000);
    expect(await post('pause')).toEqual({ status: 200, body: { success: true } });
    const paused = await progress();
    expect(paused).toMatchObject({ state: 'PAUSED', info: 'collection copy' });
    const finishedAtPause = [...clusters.completedPartitions];
    expect(finishedAtPause.length).toBeLessThan(6);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(clusters.completedPartitions).toEqual(finishedAtPause);

    expect(await post('resume')).toEqual({ status: 200, body: { success: true } });
    await waitForProgress((p) => p.canCommit === true);
    expect(new Set(clusters.completedPartitions).size).toBe(clusters.completedPartitions.length);
    expect(clusters.completedPartitions).toHaveLength(6);
    expect(await runCount()).toBeGreaterThan(1);
  });

  it('commits without blocking the source and refuses to reverse', async () => {
    expect(await post('commit')).toEqual({ status: 200, body: { success: true } });
    await waitForProgress((p) => p.state === 'COMMITTED');
    expect(clusters.writeBlocked).toEqual({ cluster0: false, cluster1: false });
    const reverse = await post('reverse');
    expectRejected(reverse, 400, 'PreconditionFailed');
    expect(reverse.body.errorDescription).toContain('reversible');
    expect((await progress()).state).toBe('COMMITTED');
  });
});

describe('signals, reset, and syncs that cannot continue', () => {
  const clusters = new FakeClusters();
  const { post, progress, waitForProgress, expectRejected, signal } = syncHarness('e2e-halt', clusters, {
    drainStallWarningMs: 1000,
    recordCheckMs: 300,
  });
  const request: StartRequest = {
    direction: { source: 'cluster0', destination: 'cluster1' },
    options: {
      reversible: true,
      writeBlocking: 'sourceAndDestination',
      buildIndexes: 'afterDataCopy',
      includeNamespaces: [],
      excludeNamespaces: [],
      verificationEnabled: true,
      preExistingDestinationData: false,
    },
  };

  const REVERSIBLE = {
    source: 'cluster0',
    destination: 'cluster1',
    reversible: true,
    enableUserWriteBlocking: true,
  };

  /** Starts a sync through the REST API and waits until it can commit. */
  async function startUntilCommittable(body: Record<string, unknown>): Promise<void> {
    expect(await post('start', body)).toEqual({ status: 200, body: { success: true } });
    await waitForProgress((p) => p.canCommit === true);
  }

  it('takes start and commit as signals, and shows a rejected signal in the warnings', async () => {
    await signal('start', request);
    await waitForProgress((p) => p.state === 'RUNNING');
    expect(clusters.records.cluster1).toMatch(/^[0-9a-f-]{36}$/);
    await signal('resume');
    const warned = await waitForProgress((p) => (p.warnings ?? []).some((w: string) => w.includes('resume')));
    expect(warned.warnings).toContainEqual(
      expect.stringMatching(/signal resume ignored: cannot resume in state RUNNING/),
    );
    expect(warned.state).toBe('RUNNING');
    await waitForProgress((p) => p.canCommit === true);
    await signal('commit');
    await waitForProgress((p) => p.state === 'COMMITTED');
    expect(clusters.writeBlocked).toEqual({ cluster0: true, cluster1: false });
  });

  it('resets a committed sync: its record goes, the next start is a new sync', async () => {
    expectRejected(await post('pause'), 409, 'InvalidStateTransition');
    const first = clusters.records.cluster1;
    expect(await post('reset')).toEqual({ status: 200, body: { success: true } });
    expect((await progress()).state).toBe('IDLE');
    expect(clusters.records).toEqual({});
    // A commit leaves the old source blocked on purpose: reset does not undo the cut-over.
    expect(clusters.writeBlocked).toEqual({ cluster0: true, cluster1: false });
    expect(await post('reset')).toEqual({ status: 200, body: { success: true } });
    clusters.writeBlocked.cluster0 = false;

    await startUntilCommittable(REVERSIBLE);
    expect(clusters.records.cluster1).toMatch(/^[0-9a-f-]{36}$/);
    expect(clusters.records.cluster1).not.toBe(first);
  });

  it('stops a sync whose destination lost its record, explains /start, and lets reset end it', async () => {
    expectRejected(await post('reset'), 409, 'InvalidStateTransition');
    delete clusters.records.cluster1; // the destination was replaced behind the same host name
    const halted = await waitForProgress((p) => String(p.info).includes('SyncRecordMismatch'));
    expect(halted).toMatchObject({ state: 'RUNNING', canCommit: false });
    expect(halted.warnings).toContainEqual(expect.stringMatching(/cannot continue.*\/api\/v1\/reset/));
    const batches = clusters.applyInputs.length;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(clusters.applyInputs.length).toBe(batches);

    const start = await post('start', { source: 'cluster0', destination: 'cluster1' });
    expectRejected(start, 409, 'InvalidStateTransition');
    expect(start.body.errorDescription).toMatch(/cannot continue.*holds no record.*\/api\/v1\/reset/);
    expectRejected(await post('commit'), 409, 'NotCommittable');

    const blockedBefore = { ...clusters.writeBlocked };
    expect(await post('reset')).toEqual({ status: 200, body: { success: true } });
    expect((await progress()).state).toBe('IDLE');
    // Nothing is touched on a cluster that is not this sync's.
    expect(clusters.writeBlocked).toEqual(blockedBefore);
    clusters.writeBlocked = { cluster0: false, cluster1: false };
  });

  it('warns when a commit drain makes no progress, and commits once it does', async () => {
    await startUntilCommittable(REVERSIBLE);
    clusters.drainStuck = true;
    expect(await post('commit')).toEqual({ status: 200, body: { success: true } });
    const stalled = await waitForProgress((p) =>
      (p.warnings ?? []).some((w: string) => /commit has made no progress for \d+ s/.test(w)),
    );
    expect(stalled.state).toBe('COMMITTING');
    clusters.drainStuck = false;
    const committed = await waitForProgress((p) => p.state === 'COMMITTED');
    expect(committed.warnings ?? []).not.toContainEqual(expect.stringContaining('no progress'));
    expect(await post('reset')).toEqual({ status: 200, body: { success: true } });
    clusters.writeBlocked = { cluster0: false, cluster1: false };
  });

  it('halts on lost history without retrying, and a reset releases the write blocking it switched on', async () => {
    await startUntilCommittable({ source: 'cluster0', destination: 'cluster1' });
    expect(clusters.writeBlocked.cluster1).toBe(true);
    clusters.historyLost = true;
    const halted = await waitForProgress((p) => String(p.info).includes('ChangeStreamHistoryLost'));
    expect(halted.canCommit).toBe(false);
    expect(halted.warnings).toContainEqual(expect.stringMatching(/cannot continue/));
    expect(await post('reset')).toEqual({ status: 200, body: { success: true } });
    expect(clusters.writeBlocked).toEqual({ cluster0: false, cluster1: false });
    expect(clusters.records).toEqual({});
    clusters.historyLost = false;
  });

  it('resets a sync whose start was refused', async () => {
    clusters.preflightFailure = { purpose: 'start', message: 'destination cluster1 is not empty' };
    expectRejected(
      await post('start', { source: 'cluster0', destination: 'cluster1' }),
      400,
      'PreconditionFailed',
    );
    clusters.preflightFailure = null;
    expect(await post('reset')).toEqual({ status: 200, body: { success: true } });
    expect((await progress()).state).toBe('IDLE');
  });

  it('shows a committed sync whose destination lost its record, and refuses to reverse onto it', async () => {
    await startUntilCommittable(REVERSIBLE);
    expect(await post('commit')).toEqual({ status: 200, body: { success: true } });
    await waitForProgress((p) => p.state === 'COMMITTED');
    delete clusters.records.cluster1;
    const halted = await waitForProgress((p) => String(p.info).includes('SyncRecordMismatch'));
    expect(halted.state).toBe('COMMITTED');
    const reverse = await post('reverse');
    expectRejected(reverse, 400, 'PreconditionFailed');
    expect(reverse.body.errorDescription).toContain('holds no record');
    expect(clusters.records.cluster0).toBeUndefined();
    expect(await post('reset')).toEqual({ status: 200, body: { success: true } });
    clusters.writeBlocked = { cluster0: false, cluster1: false };
  });

  it('resets a halted sync that was paused', async () => {
    await startUntilCommittable({ source: 'cluster0', destination: 'cluster1' });
    clusters.historyLost = true;
    await waitForProgress((p) => String(p.info).includes('ChangeStreamHistoryLost'));
    expect(await post('pause')).toEqual({ status: 200, body: { success: true } });
    expect(await post('reset')).toEqual({ status: 200, body: { success: true } });
    expect((await progress()).state).toBe('IDLE');
    expect(clusters.writeBlocked).toEqual({ cluster0: false, cluster1: false });
    clusters.historyLost = false;
  });

  it('a commit whose destination lost its record: reset releases the source it blocked, not the destination', async () => {
    await startUntilCommittable(REVERSIBLE);
    clusters.drainStuck = true;
    expect(await post('commit')).toEqual({ status: 200, body: { success: true } });
    await waitForProgress((p) => p.state === 'COMMITTING' && clusters.writeBlocked.cluster0);
    delete clusters.records.cluster1;
    await waitForProgress((p) => String(p.info).includes('SyncRecordMismatch'));
    expect(clusters.writeBlocked).toEqual({ cluster0: true, cluster1: true });
    expect(await post('reset')).toEqual({ status: 200, body: { success: true } });
    expect(clusters.writeBlocked).toEqual({ cluster0: false, cluster1: true });
    clusters.drainStuck = false;
    clusters.writeBlocked = { cluster0: false, cluster1: false };
  });
});

describe('a reset that arrives when the history should continue as new', () => {
  const clusters = new FakeClusters();
  const { post, progress, waitForProgress, signal, historyLength } = syncHarness('e2e-reset-can', clusters, {
    recordCheckMs: 200,
  });

  // The reset's answer waits for the main loop to run the reset step. If the step in flight ends
  // once continue-as-new is suggested, the loop must run the reset, not wait for every handler
  // (the reset's among them) to finish first: that wait never ends.
  it('answers the reset and ends the sync', async () => {
    expect(await post('start', { source: 'cluster0', destination: 'cluster1' })).toEqual({
      status: 200,
      body: { success: true },
    });
    await waitForProgress((p) => p.canCommit === true);
    expect(await post('commit')).toEqual({ status: 200, body: { success: true } });
    await waitForProgress((p) => p.state === 'COMMITTED');

    // The committed sync's loop waits in a record check that does not end …
    let release = () => {};
    clusters.recordCheckGate = new Promise<void>((resolve) => (release = resolve));
    const deadline = Date.now() + 30_000;
    while (clusters.recordChecksHeld === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(clusters.recordChecksHeld).toBe(1);
    // … while rejected signals grow the run's history past the suggestion (100 events) …
    while ((await historyLength()) <= 110) await signal('pause');
    // … and the reset comes in: its handler runs and publishes IDLE, its answer waits for the loop.
    const reset = post('reset');
    await waitForProgress((p) => p.state === 'IDLE');
    clusters.recordCheckGate = null;
    release();

    let timer: NodeJS.Timeout | undefined;
    const answer = await Promise.race([
      reset,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the reset got no answer in 30 s')), 30_000);
      }),
    ]).finally(() => clearTimeout(timer));
    expect(answer).toEqual({ status: 200, body: { success: true } });
    expect((await progress()).state).toBe('IDLE');
    expect(clusters.records).toEqual({});
  });
});

describe('mongosync 1.20-1.22 states and fields', () => {
  const clusters = new FakeClusters();
  const { post, progress, waitForProgress, expectRejected } = syncHarness('e2e-parity', clusters, {}, [
    '--loadLevel',
    '1',
  ]);
  const body = {
    source: 'cluster0',
    destination: 'cluster1',
    reversible: true,
    enableUserWriteBlocking: true,
  };

  it('shows INITIALIZING while the start is checked, and refuses /start there', async () => {
    let release = () => {};
    clusters.preflightGate = new Promise<void>((resolve) => (release = resolve));
    const start = post('start', body);
    await waitForProgress((p) => p.state === 'INITIALIZING');
    expectRejected(await post('start', body), 409, 'InvalidStateTransition');
    expectRejected(await post('pause'), 409, 'InvalidStateTransition');
    clusters.preflightGate = null;
    release();
    expect(await start).toEqual({ status: 200, body: { success: true } });
    await waitForProgress((p) => p.canCommit === true);
  });

  it('copies in the batches of --loadLevel 1', () => {
    expect(clusters.copyBatchSizes.length).toBeGreaterThan(0);
    expect(new Set(clusters.copyBatchSizes)).toEqual(new Set([LOAD_LEVEL_TUNING[1].copyBatchDocuments]));
  });

  it('refuses /resume before PAUSED', async () => {
    const resume = await post('resume');
    expectRejected(resume, 409, 'InvalidStateTransition');
    expect(resume.body.errorDescription).toMatch(/cannot resume in state RUNNING/);
  });

  it('answers the running sync’s own /start with success and starts nothing; names a different one', async () => {
    const uuid = clusters.records.cluster1;
    const batches = clusters.applyInputs.length;
    expect(await post('start', body)).toEqual({ status: 200, body: { success: true } });
    // The defaults, written out, are the same request.
    expect(await post('start', { ...body, buildIndexes: 'afterDataCopy', detectRandomId: true })).toEqual({
      status: 200,
      body: { success: true },
    });
    expect(clusters.records.cluster1).toBe(uuid);
    const other = await post('start', { ...body, buildIndexes: 'beforeDataCopy', skipDiskSpaceCheck: true });
    expectRejected(other, 409, 'InvalidStateTransition');
    expect(other.body.errorDescription).toMatch(/buildIndexes is "afterDataCopy", not "beforeDataCopy"/);
    expect(other.body.errorDescription).toMatch(/skipDiskSpaceCheck is false, not true/);
    const swapped = await post('start', { ...body, source: 'cluster1', destination: 'cluster0' });
    expect(swapped.body.errorDescription).toMatch(/source is cluster0, not cluster1/);
    const now = await progress();
    expect(now.state).toBe('RUNNING');
    expect(clusters.applyInputs.length).toBeGreaterThanOrEqual(batches);
  });

  it('reports ceaStage and CRUD and DDL lag apart', async () => {
    const now = await waitForProgress((p) => p.ceaStage === 'steady state');
    // The fake's batches apply CRUD events 1 s behind and no DDL: DDL lag is the stream's.
    expect(now.lag).toEqual({ overallLagSeconds: 1, crudLagSeconds: 1, ddlLagSeconds: 1 });
    expect(await post('commit')).toEqual({ status: 200, body: { success: true } });
    await waitForProgress((p) => p.state === 'COMMITTED');
    expect((await progress()).ceaStage).toBeNull();
  });

  it('answers a start without room on the destination with InsufficientDestinationDiskSpace, and stays IDLE', async () => {
    expect(await post('reset')).toEqual({ status: 200, body: { success: true } });
    clusters.writeBlocked = { cluster0: false, cluster1: false };
    const message = 'the destination cluster1 has 1.0 MB free on its data volume';
    clusters.preflightFailure = { purpose: 'start', message, type: 'InsufficientDestinationDiskSpace' };
    const refused = await post('start', { source: 'cluster0', destination: 'cluster1' });
    expectRejected(refused, 400, 'InsufficientDestinationDiskSpace');
    expect(refused.body.errorDescription).toContain(message);
    expect((await progress()).state).toBe('IDLE');
    clusters.preflightFailure = null;
  });
});

describe('search attributes', () => {
  const clusters = new FakeClusters();
  const { post, waitForProgress, findBySearchAttributes } = syncHarness('e2e-search', clusters);
  const body = {
    source: 'cluster0',
    destination: 'cluster1',
    reversible: true,
    enableUserWriteBlocking: true,
  };
  const gate = () => {
    let release = () => {};
    const promise = new Promise<void>((resolve) => (release = resolve));
    return { promise, release };
  };

  it('finds the sync by MongosyncState in every state it passes, with its phase and id', async () => {
    const checks = gate();
    clusters.preflightGate = checks.promise;
    const start = post('start', body);
    await waitForProgress((p) => p.state === 'INITIALIZING');
    await findBySearchAttributes(`MongosyncState = 'INITIALIZING' AND MongosyncPhase = 'idle'`);
    clusters.preflightGate = null;
    checks.release();
    expect((await start).body).toEqual({ success: true });

    await waitForProgress((p) => p.canCommit === true);
    await findBySearchAttributes(`MongosyncState = 'RUNNING' AND MongosyncPhase = 'changeEvents'`);
    await findBySearchAttributes(`MongosyncId STARTS_WITH 'e2e-search-'`);

    expect((await post('pause')).body).toEqual({ success: true });
    await findBySearchAttributes(`MongosyncState = 'PAUSED'`);
    expect((await post('resume')).body).toEqual({ success: true });
    await waitForProgress((p) => p.canCommit === true);

    clusters.drainStuck = true;
    expect((await post('commit')).body).toEqual({ success: true });
    await findBySearchAttributes(`MongosyncState = 'COMMITTING' AND MongosyncPhase = 'commitDrain'`);
    clusters.drainStuck = false;
    await waitForProgress((p) => p.state === 'COMMITTED');
    await findBySearchAttributes(`MongosyncState = 'COMMITTED'`);

    const relax = gate();
    clusters.relaxGate = relax.promise;
    expect((await post('reverse')).body).toEqual({ success: true });
    await findBySearchAttributes(`MongosyncState = 'REVERSING' AND MongosyncPhase = 'reverseRelaxIndexes'`);
    clusters.relaxGate = null;
    relax.release();
    await waitForProgress((p) => p.state === 'RUNNING' && p.canCommit === true);
    expect((await post('commit')).body).toEqual({ success: true });
    await waitForProgress((p) => p.state === 'COMMITTED');

    expect((await post('reset')).body).toEqual({ success: true });
    await findBySearchAttributes(`MongosyncState = 'IDLE' AND ExecutionStatus = 'Completed'`);
    clusters.writeBlocked = { cluster0: false, cluster1: false };
  });
});

describe('concurrent commands', () => {
  const clusters = new FakeClusters();
  const { post, waitForProgress } = syncHarness('e2e-concurrent', clusters);
  const body = {
    source: 'cluster0',
    destination: 'cluster1',
    reversible: true,
    enableUserWriteBlocking: true,
  };
  const CALLS = 50;

  /** Sends the commands at once: exactly one is taken, the others are refused as a transition. */
  async function race(path: string, payloads: unknown[]) {
    const answers = await Promise.all(payloads.map((payload) => post(path, payload)));
    const taken = answers.filter((a) => a.status === 200 && a.body.success === true);
    const refused = answers.filter((a) => a.status === 409 && a.body.error === 'InvalidStateTransition');
    expect({ path, taken: taken.length, refused: refused.length }).toEqual({
      path,
      taken: 1,
      refused: payloads.length - 1,
    });
  }

  it(`takes one of ${CALLS} concurrent /start, /commit and /reverse each, and runs it once`, async () => {
    // Fifty different starts (an identical one is answered with success once the sync runs).
    const starts = Array.from({ length: CALLS }, (_, n) => ({
      ...body,
      copyInNaturalOrder: [{ database: 'shop', collections: [`c${n}`] }],
    }));
    await race('start', starts);
    await waitForProgress((p) => p.canCommit === true);
    expect(clusters.preflights.start).toBe(1);
    await race(
      'commit',
      Array.from({ length: CALLS }, () => ({})),
    );
    await waitForProgress((p) => p.state === 'COMMITTED');
    await race(
      'reverse',
      Array.from({ length: CALLS }, () => ({})),
    );
    await waitForProgress((p) => p.state === 'RUNNING' && p.canCommit === true);
    expect(clusters.preflights.reverse).toBe(1);
  });

  it('starts a sync once for fifty identical concurrent /start, each answered success or refused', async () => {
    expect((await post('commit')).body.success).toBe(true);
    await waitForProgress((p) => p.state === 'COMMITTED');
    expect((await post('reset')).body.success).toBe(true);
    await waitForProgress((p) => p.state === 'IDLE');
    clusters.preflights = {};
    const answers = await Promise.all(Array.from({ length: CALLS }, () => post('start', body)));
    for (const answer of answers)
      if (answer.status !== 200) expect(answer.body.error).toBe('InvalidStateTransition');
    await waitForProgress((p) => p.canCommit === true);
    expect(clusters.preflights.start).toBe(1);
  });
});
