// Workers scale out: the service plus two worker-only processes (`worker.ts`) on one task queue,
// against the real Temporal dev server and two emulated clusters with auth. The workflow history
// shows copyPartition activities spread over several processes; with every worker stopped the
// API still answers /progress from the last known state; a worker-only process alone finishes.
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { Double, Int32 } from 'mongodb';
import { createApiServer, type ApiServer } from '../../src/api/server';
import { TemporalSyncClient } from '../../src/api/syncClient';
import {
  clusterFingerprint,
  redactConnectionString,
  syncWorkflowId,
  type ServiceConfig,
} from '../../src/config';
import { componentLogger, createLogger } from '../../src/logger';
import { startService, type RunningService } from '../../src/main';
import { startTestCluster, stopTestCluster, type TestCluster } from './helpers/clusters';
import { compareClusters } from './helpers/compare';
import { WorkerProcess } from './helpers/process';
import { SyncApi, testServiceConfig } from './helpers/service';
import { startTestTemporal, type TestTemporal } from './helpers/temporal';

jest.setTimeout(300_000);

/** For each activity of `type` that ran, the identity of the worker that started it. */
async function activityIdentities(handle: WorkflowHandle, type: string): Promise<string[]> {
  const history = await handle.fetchHistory();
  const scheduled = new Set<string>();
  const identities: string[] = [];
  for (const event of history.events ?? []) {
    const attributes = event.activityTaskScheduledEventAttributes;
    if (attributes?.activityType?.name === type) scheduled.add(String(event.eventId));
    const started = event.activityTaskStartedEventAttributes;
    if (started && scheduled.has(String(started.scheduledEventId))) identities.push(started.identity ?? '');
  }
  return identities;
}

describe('workers scale out on one task queue', () => {
  let temporal: TestTemporal;
  let cluster0: TestCluster;
  let cluster1: TestCluster;
  let config: ServiceConfig;
  let service: RunningService | undefined;
  let api: SyncApi;
  let workers: WorkerProcess[] = [];
  let temporalClient: Client;
  let apiOnly: ApiServer | undefined;

  const workerArgs = () => [
    '--cluster0',
    cluster0.uri,
    '--cluster1',
    cluster1.uri,
    '--temporal-address',
    temporal.address,
    '--task-queue',
    config.taskQueue,
    '--id',
    config.id,
  ];

  beforeAll(async () => {
    [temporal, cluster0, cluster1] = await Promise.all([
      startTestTemporal(),
      startTestCluster('rsS0'),
      startTestCluster('rsS1'),
    ]);
    // About 5 MB: some twenty partitions of 256 KB.
    const big = cluster0.app.db('bulk').collection<any>('big');
    for (let start = 0; start < 12_000; start += 3000) {
      await big.insertMany(
        Array.from({ length: 3000 }, (_, j) => ({ _id: start + j, pad: 'x'.repeat(300), v: new Double(j) })),
      );
    }
    await big.createIndex({ v: 1 });
    await cluster0.app
      .db('bulk')
      .collection<any>('other')
      .insertMany(Array.from({ length: 4000 }, (_, i) => ({ i: new Int32(i), pad: 'y'.repeat(300) })));
    config = testServiceConfig({
      cluster0: cluster0.uri,
      cluster1: cluster1.uri,
      id: 'scale',
      temporalAddress: temporal.address,
      taskQueue: 'scale-out-test',
    });
    const connection = await Connection.connect({ address: temporal.address });
    temporalClient = new Client({ connection, namespace: config.temporalNamespace });
    workers = [new WorkerProcess(workerArgs()), new WorkerProcess(workerArgs())];
    // Worker processes poll before the sync starts, so the copy can spread over all of them.
    await Promise.all(workers.map((worker) => worker.start()));
    service = await startService(config, {
      tuning: { targetPartitionBytes: 256 * 1024, copyConcurrency: 8, applyBatchMs: 1000 },
    });
    api = new SyncApi(service.apiUrl);
  });

  afterAll(async () => {
    await apiOnly?.close();
    await service?.stop();
    await Promise.all(workers.map((worker) => worker.stop()));
    await temporalClient?.connection.close();
    await Promise.all([stopTestCluster(cluster0), stopTestCluster(cluster1), temporal?.stop()]);
  });

  test('copyPartition activities ran on more than one worker process', async () => {
    expect((await api.post('start', { source: 'cluster0', destination: 'cluster1' })).body).toEqual({
      success: true,
    });
    await api.waitFor((p) => p.info === 'change event application', 120_000, 'change event application');
    const handle = temporalClient.workflow.getHandle(syncWorkflowId(config));
    const identities = await activityIdentities(handle, 'copyPartition');
    expect(identities.length).toBeGreaterThanOrEqual(15);
    const perProcess = new Map<string, number>();
    for (const identity of identities) perProcess.set(identity, (perProcess.get(identity) ?? 0) + 1);
    // Spread, not one process with a straggler: at least two processes copied several partitions.
    const busy = [...perProcess.values()].filter((count) => count >= 3);
    expect(busy.length).toBeGreaterThanOrEqual(2);
    // Worker identities are `pid@host`: at least one copy ran in a worker-only process.
    const workerPids = workers.map((worker) => `${worker.pid}@`);
    expect(identities.some((identity) => workerPids.some((pid) => identity.startsWith(pid)))).toBe(true);
  });

  test('with every worker stopped, /progress answers from the last known state', async () => {
    const before = await api.progress();
    await service!.stop();
    service = undefined;
    await Promise.all(workers.map((worker) => worker.stop()));
    workers = [];

    // The API alone, as src/main.ts builds it, without a worker.
    const sync = new TemporalSyncClient(temporalClient, {
      syncId: config.id,
      workflowId: syncWorkflowId(config),
      taskQueue: config.taskQueue,
      clusterFingerprint: clusterFingerprint(config.cluster0, config.cluster1),
    });
    apiOnly = await createApiServer({
      sync,
      clusterHosts: {
        cluster0: redactConnectionString(config.cluster0),
        cluster1: redactConnectionString(config.cluster1),
      },
      logger: componentLogger(
        createLogger({ mongosyncID: config.id, verbosity: 'ERROR', logPath: null }),
        'api',
      ),
      port: 0,
    });
    api = new SyncApi(apiOnly.url);
    const stopped = await api.progress();
    expect(stopped).toMatchObject({
      state: 'RUNNING',
      info: 'change event application',
      canWrite: false,
      mongosyncID: 'scale',
      directionMapping: {
        Source: `cluster0: 127.0.0.1:${cluster0.emulator.port}`,
        Destination: `cluster1: 127.0.0.1:${cluster1.emulator.port}`,
      },
    });
    expect(stopped.totalEventsApplied).toBeGreaterThanOrEqual(before.totalEventsApplied);
    expect(stopped.collectionCopy.estimatedCopiedBytes).toBe(stopped.collectionCopy.estimatedTotalBytes);
    // Nothing runs: a source write is not applied and the progress stays as it was.
    await cluster0.app.db('bulk').collection<any>('other').insertOne({ _id: 'while-stopped' });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await api.progress()).toEqual(stopped);
    expect(
      await cluster1.admin.db('bulk').collection<any>('other').countDocuments({ _id: 'while-stopped' }),
    ).toBe(0);
  });

  test('a worker-only process resumes the sync and commits; the destination equals the source', async () => {
    const frozen = await api.progress();
    const worker = new WorkerProcess(workerArgs());
    workers = [worker];
    await worker.start();
    await cluster0.app
      .db('bulk')
      .collection<any>('big')
      .updateMany({ _id: { $lt: 500 } }, { $set: { after: true } });
    await api.waitFor(
      (p) => p.canCommit === true && p.totalEventsApplied > frozen.totalEventsApplied,
      120_000,
      'canCommit after the restart',
    );
    expect((await api.post('commit')).body).toEqual({ success: true });
    const committed = await api.waitFor((p) => p.state === 'COMMITTED', 120_000, 'COMMITTED');
    expect(committed).toMatchObject({ canWrite: true, info: 'commit completed' });
    expect(await compareClusters(cluster0.admin, cluster1.admin)).toEqual([]);
    const handle = temporalClient.workflow.getHandle(syncWorkflowId(config));
    expect(await activityIdentities(handle, 'finalizeIndexes')).toEqual([
      expect.stringMatching(new RegExp(`^${worker.pid}@`)),
    ]);
  });
});
