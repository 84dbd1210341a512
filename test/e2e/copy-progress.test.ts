// The copy's progress moves inside a partition (real Temporal, real worker, two emulated
// clusters): one collection of about 24 MB is copied as a single partition into a destination
// that holds every insert 500 ms (the emulator's failCommand with blockConnection and no error,
// as a slow link would), and /progress is sampled all along. With two batches written at a time
// that keeps the copy about 6 s long: several heartbeats, each one a step of progress.
import { Int32, type Document } from 'mongodb';
import { startService, type RunningService } from '../../src/main';
import { startTestCluster, stopTestCluster, type TestCluster } from './helpers/clusters';
import { SyncApi, testServiceConfig } from './helpers/service';
import { startTestTemporal, type TestTemporal } from './helpers/temporal';

jest.setTimeout(300_000);

const DOCUMENTS = 24_000;
let temporal: TestTemporal;
let cluster0: TestCluster;
let cluster1: TestCluster;
let service: RunningService;
let api: SyncApi;

beforeAll(async () => {
  [temporal, cluster0, cluster1] = await Promise.all([
    startTestTemporal(),
    startTestCluster('rsCp0'),
    startTestCluster('rsCp1'),
  ]);
  const big = cluster0.app.db('app').collection('big');
  for (let start = 0; start < DOCUMENTS; start += 4000) {
    await big.insertMany(
      Array.from(
        { length: 4000 },
        (_, i) => ({ _id: new Int32(start + i), pad: 'p'.repeat(1000) }) as Document,
      ),
    );
  }
  service = await startService(
    testServiceConfig({
      cluster0: cluster0.uri,
      cluster1: cluster1.uri,
      id: 'copy-progress',
      temporalAddress: temporal.address,
      taskQueue: 'copy-progress-test',
    }),
    { tuning: { targetPartitionBytes: 1024 * 1024 * 1024, copyConcurrency: 2 } },
  );
  api = new SyncApi(service.apiUrl);
});

afterAll(async () => {
  await cluster1?.admin
    .db('admin')
    .command({ configureFailPoint: 'failCommand', mode: 'off' })
    .catch(() => undefined);
  await service?.stop();
  await Promise.all([stopTestCluster(cluster0), stopTestCluster(cluster1), temporal?.stop()]);
});

interface Sample {
  at: number;
  copied: number;
  total: number;
  info: string | null;
  copy: Document;
}

test('estimatedCopiedBytes advances at least every 2 s inside one partition and never goes down', async () => {
  await cluster1.admin.db('admin').command({
    configureFailPoint: 'failCommand',
    mode: 'alwaysOn',
    data: { failCommands: ['insert'], blockConnection: true, blockTimeMS: 500 },
  });
  const body = { source: 'cluster0', destination: 'cluster1', verification: { enabled: false } };
  expect((await api.post('start', body)).body).toEqual({ success: true });
  const samples: Sample[] = [];
  const deadline = Date.now() + 240_000;
  for (;;) {
    const p = await api.progress();
    const copy = (p.collectionCopy ?? {}) as Document;
    samples.push({
      at: Date.now(),
      copied: Number(copy.estimatedCopiedBytes ?? 0),
      total: Number(copy.estimatedTotalBytes ?? 1),
      info: p.info as string | null,
      copy,
    });
    if (p.info === 'change event application') break;
    if (Date.now() > deadline) throw new Error(`the copy did not finish: ${JSON.stringify(p)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await cluster1.admin.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });

  // Never down, from the first sample to the last.
  for (let i = 1; i < samples.length; i++)
    expect(samples[i].copied).toBeGreaterThanOrEqual(samples[i - 1].copied);
  // The total is known once partitions copy; the copy is one partition, so every step below is inside it.
  const during = samples.filter((s) => s.copied > 0 && s.copied < s.total);
  expect(during.length).toBeGreaterThan(5);
  expect(during[0].total).toBeGreaterThan(DOCUMENTS * 1000);
  const steps = new Set(during.map((s) => s.copied));
  expect(steps.size).toBeGreaterThanOrEqual(3);
  // From the first byte copied to the last, no 2 s (and a little for the sampling) without a rise.
  const rises = samples.filter((s, i) => i > 0 && s.copied > samples[i - 1].copied).map((s) => s.at);
  for (let i = 1; i < rises.length; i++) expect(rises[i] - rises[i - 1]).toBeLessThanOrEqual(2500);

  // Ours: the namespace's own progress and an ETA while it copies; copied at the end.
  const middle = during[Math.floor(during.length / 2)].copy;
  const [namespace] = middle.namespaces as Document[];
  expect(namespace).toMatchObject({ namespace: 'app.big', state: 'copying' });
  expect(namespace.copiedDocuments).toBeGreaterThan(0);
  expect(namespace.copiedDocuments).toBeLessThan(DOCUMENTS);
  expect(middle.estimatedSecondsRemaining).toBeGreaterThan(0);
  const last = samples[samples.length - 1].copy;
  expect((last.namespaces as Document[])[0]).toMatchObject({ state: 'copied', copiedDocuments: DOCUMENTS });
  expect(await cluster1.admin.db('app').collection('big').countDocuments()).toBe(DOCUMENTS);
});
