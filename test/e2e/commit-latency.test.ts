// A commit does not wait for the change event batch in flight (real Temporal, real worker, two
// emulated clusters): batches are tuned to last a minute on an idle stream, yet /commit reaches
// COMMITTED in seconds, with the verifier on and every write applied. The same holds for a pause.
import { Int32, type Document } from 'mongodb';
import { startService, type RunningService } from '../../src/main';
import { startTestCluster, stopTestCluster, type TestCluster } from './helpers/clusters';
import { SyncApi, testServiceConfig } from './helpers/service';
import { startTestTemporal, type TestTemporal } from './helpers/temporal';

jest.setTimeout(300_000);

const BATCH_MS = 60_000;
let temporal: TestTemporal;
let cluster0: TestCluster;
let cluster1: TestCluster;
let service: RunningService;
let api: SyncApi;

beforeAll(async () => {
  [temporal, cluster0, cluster1] = await Promise.all([
    startTestTemporal(),
    startTestCluster('rsCl0'),
    startTestCluster('rsCl1'),
  ]);
  await cluster0.app
    .db('app')
    .collection('items')
    .insertMany(Array.from({ length: 100 }, (_, i) => ({ _id: new Int32(i), v: i }) as Document));
  service = await startService(
    testServiceConfig({
      cluster0: cluster0.uri,
      cluster1: cluster1.uri,
      id: 'commit-latency',
      temporalAddress: temporal.address,
      taskQueue: 'commit-latency-test',
    }),
    { tuning: { applyBatchMs: BATCH_MS } },
  );
  api = new SyncApi(service.apiUrl);
});

afterAll(async () => {
  await service?.stop();
  await Promise.all([stopTestCluster(cluster0), stopTestCluster(cluster1), temporal?.stop()]);
});

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = Date.now();
  await work();
  return Date.now() - started;
}

test('pause and commit stop a minute-long apply batch instead of waiting for its end', async () => {
  const body = { source: 'cluster0', destination: 'cluster1', enableUserWriteBlocking: true };
  expect((await api.post('start', body)).body).toEqual({ success: true });
  await api.waitFor((p) => p.canCommit === true, 120_000, 'canCommit');
  const items = cluster0.app.db('app').collection('items');
  await items.updateOne({ _id: new Int32(1) }, { $set: { v: 'during the batch' } });
  // A batch that has applied something returns at once: let the next one start on the idle stream.
  await new Promise((resolve) => setTimeout(resolve, 3000));

  const pauseMs = await timed(async () => {
    expect((await api.post('pause')).body).toEqual({ success: true });
  });
  expect(pauseMs).toBeLessThan(BATCH_MS / 3);
  expect((await api.post('resume')).body).toEqual({ success: true });
  await api.waitFor((p) => p.state === 'RUNNING' && p.canCommit === true, 120_000, 'running again');
  await items.insertOne({ _id: new Int32(1000), v: 'before the commit' } as Document);
  await new Promise((resolve) => setTimeout(resolve, 3000));

  const commitMs = await timed(async () => {
    expect((await api.post('commit')).body).toEqual({ success: true });
    await api.waitFor((p) => p.state === 'COMMITTED', BATCH_MS, 'COMMITTED');
  });
  expect(commitMs).toBeLessThan(BATCH_MS / 3);

  const destination = cluster1.admin.db('app').collection('items');
  expect(await destination.findOne({ _id: new Int32(1) })).toMatchObject({ v: 'during the batch' });
  expect(await destination.findOne({ _id: new Int32(1000) })).toMatchObject({ v: 'before the commit' });
  expect(await destination.countDocuments()).toBe(101);
});
