// The fault matrix, first cases: faults the clusters inject with their fail points (failCommand
// and failGetMoreAfterCursorCheckout, a few times each), during the copy and during change event
// application, while an application writes on the source. Each case ends with the clusters compared document
// by document and every tagged application write counted once on the destination.
import { Int32, type Document } from 'mongodb';
import { startService, type RunningService } from '../../src/main';
import { startTestCluster, stopTestCluster, type TestCluster } from './helpers/clusters';
import { compareClusters } from './helpers/compare';
import { SyncApi, testServiceConfig } from './helpers/service';
import { startTestTemporal, type TestTemporal } from './helpers/temporal';

jest.setTimeout(600_000);

type Stage = 'copy' | 'changeEvents';

interface FaultCase {
  name: string;
  stage: Stage;
  cluster: 'source' | 'destination';
  failPoint: Document;
}

const closeOn = (commands: string[], times: number): Document => ({
  configureFailPoint: 'failCommand',
  mode: { times },
  data: { failCommands: commands, closeConnection: true },
});

const CASES: FaultCase[] = [
  {
    name: 'connection closed mid-getMore on the source',
    stage: 'copy',
    cluster: 'source',
    failPoint: closeOn(['getMore'], 3),
  },
  {
    name: 'connection closed mid-insert on the destination',
    stage: 'copy',
    cluster: 'destination',
    failPoint: closeOn(['insert'], 3),
  },
  {
    name: 'connection closed mid-getMore on the source',
    stage: 'changeEvents',
    cluster: 'source',
    failPoint: closeOn(['getMore'], 3),
  },
  {
    name: 'connection closed mid-write on the destination',
    stage: 'changeEvents',
    cluster: 'destination',
    failPoint: closeOn(['update', 'insert', 'delete'], 3),
  },
  {
    name: 'resumable change stream errors (ResumableChangeStreamError)',
    stage: 'changeEvents',
    cluster: 'source',
    failPoint: {
      configureFailPoint: 'failCommand',
      mode: { times: 3 },
      data: {
        failCommands: ['getMore'],
        errorCode: 6,
        errorLabels: ['ResumableChangeStreamError'],
      },
    },
  },
  {
    name: 'failGetMoreAfterCursorCheckout',
    stage: 'changeEvents',
    cluster: 'source',
    failPoint: {
      configureFailPoint: 'failGetMoreAfterCursorCheckout',
      mode: { times: 2 },
      data: { errorCode: 6 },
    },
  },
  {
    name: 'WriteConcernError on the destination’s writes',
    stage: 'changeEvents',
    cluster: 'destination',
    failPoint: {
      configureFailPoint: 'failCommand',
      mode: { times: 3 },
      data: {
        failCommands: ['update', 'insert', 'delete'],
        writeConcernError: {
          code: 64,
          codeName: 'WriteConcernFailed',
          errmsg: 'waiting for replication timed out',
          errInfo: { wtimeout: true },
        },
      },
    },
  },
];

const TAG = 'fault-matrix';

interface Order {
  _id: string | Int32;
  tag?: string;
  round?: Int32 | number;
  n?: Int32;
  touched?: number;
  pad?: string;
}

/** Tagged application writes on the source: inserts, updates of seeded documents, deletes. */
async function applicationWrites(cluster: TestCluster, round: number, count: number): Promise<void> {
  const orders = cluster.app.db('app').collection<Order>('orders');
  for (let n = 0; n < count; n++) {
    await orders.insertOne({
      _id: `${TAG}-${round}-${n}`,
      tag: TAG,
      round: new Int32(round),
      n: new Int32(n),
    });
    await orders.updateOne(
      { _id: new Int32((round * count + n) % 3000) },
      { $inc: { touched: 1 }, $set: { round } },
    );
    if (n % 10 === 9) await orders.deleteOne({ _id: `${TAG}-${round}-${n - 5}` });
  }
}

interface Scenario {
  source: TestCluster;
  destination: TestCluster;
  service: RunningService;
  api: SyncApi;
}

/** Fresh clusters, 3,000 orders on the source, and a service for them with small batches; IDLE. */
async function startScenario(temporal: TestTemporal, id: string, errorRetryMs: number): Promise<Scenario> {
  const [source, destination] = await Promise.all([startTestCluster(`${id}s`), startTestCluster(`${id}d`)]);
  try {
    await source.app
      .db('app')
      .collection<Order>('orders')
      .insertMany(
        Array.from({ length: 3000 }, (_, n) => ({ _id: new Int32(n), touched: 0, pad: 'o'.repeat(200) })),
      );
    const service = await startService(
      testServiceConfig({
        cluster0: source.uri,
        cluster1: destination.uri,
        id,
        temporalAddress: temporal.address,
      }),
      {
        tuning: {
          targetPartitionBytes: 128 * 1024,
          copyConcurrency: 4,
          applyBatchMs: 500,
          idleBatchMs: 100,
          errorRetryMs,
        },
      },
    );
    return { source, destination, service, api: new SyncApi(service.apiUrl) };
  } catch (err) {
    await Promise.all([stopTestCluster(source), stopTestCluster(destination)]);
    throw err;
  }
}

async function stopScenario(scenario: Scenario | undefined): Promise<void> {
  if (!scenario) return;
  await scenario.service.stop();
  await Promise.all([stopTestCluster(scenario.source), stopTestCluster(scenario.destination)]);
}

const START = {
  source: 'cluster0',
  destination: 'cluster1',
  reversible: true,
  enableUserWriteBlocking: true,
};

/** Both clusters hold the same documents, and every tagged write left is there once. */
async function expectEqualAndOnce(source: TestCluster, destination: TestCluster): Promise<number> {
  expect(await compareClusters(source.admin, destination.admin)).toEqual([]);
  const tagged = (c: TestCluster) => c.admin.db('app').collection('orders').countDocuments({ tag: TAG });
  const onSource = await tagged(source);
  expect(await tagged(destination)).toBe(onSource);
  return onSource;
}

describe('fault matrix', () => {
  let temporal: TestTemporal;

  beforeAll(async () => {
    temporal = await startTestTemporal();
  });
  afterAll(() => temporal?.stop());

  test.each(CASES.map((c) => [`${c.stage}: ${c.name}`, c] as const))('%s', async (_label, fault) => {
    const scenario = await startScenario(temporal, `fault${CASES.indexOf(fault)}`, 1000);
    const { source, destination, api } = scenario;
    const target = () => (fault.cluster === 'source' ? source : destination);
    try {
      if (fault.stage === 'copy') await target().admin.db('admin').command(fault.failPoint);
      expect((await api.post('start', START)).body).toEqual({ success: true });
      const writing = applicationWrites(source, 0, 60);
      if (fault.stage === 'changeEvents') {
        await api.waitFor((p) => p.info === 'change event application', 180_000, 'change event application');
        await target().admin.db('admin').command(fault.failPoint);
      }
      await writing;
      await applicationWrites(source, 1, 60);
      await api.waitFor((p) => p.canCommit === true, 180_000, 'canCommit');
      expect((await api.post('commit')).body).toEqual({ success: true });
      const committed = await api.waitFor((p) => p.state === 'COMMITTED', 180_000, 'COMMITTED');
      expect(committed.state).toBe('COMMITTED');
      // The fault fired (the count of its firings), and is off before the clusters are compared.
      const off = await target()
        .admin.db('admin')
        .command({ configureFailPoint: fault.failPoint.configureFailPoint, mode: 'off' });
      expect(off.count).toBeGreaterThan(0);

      expect(await expectEqualAndOnce(source, destination)).toBe(2 * 60 - 2 * 6);
    } finally {
      await stopScenario(scenario);
    }
  });
});

describe('the destination unreachable for 60 s', () => {
  let temporal: TestTemporal;

  beforeAll(async () => {
    temporal = await startTestTemporal();
  });
  afterAll(() => temporal?.stop());

  test('every command closes its connection; the sync says so in /progress, then catches up and commits', async () => {
    const scenario = await startScenario(temporal, 'outage', 2000);
    const { source, destination, api } = scenario;
    try {
      expect((await api.post('start', START)).body).toEqual({ success: true });
      await api.waitFor((p) => p.canCommit === true, 180_000, 'canCommit');
      // Every command the service sends the destination closes its connection (the test's own
      // client sends none until the outage is over). The handshake and monitoring (hello) still
      // answer, so the test can switch the fault off again.
      await destination.admin.db('admin').command({
        configureFailPoint: 'failCommand',
        mode: 'alwaysOn',
        data: {
          failCommands: [
            'insert',
            'update',
            'delete',
            'find',
            'getMore',
            'aggregate',
            'listCollections',
            'listIndexes',
            'count',
            'ping',
            'createIndexes',
            'dbStats',
            'collStats',
          ],
          closeConnection: true,
        },
      });
      const outageEnds = Date.now() + 60_000;
      const writing = (async () => {
        for (let round = 0; Date.now() < outageEnds; round++) {
          await applicationWrites(source, round, 20);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      // The failing batches are retried, said in the warnings, and the sync is not committable
      // meanwhile: its lag cannot be measured.
      const told = await api.waitFor(
        (p) => (p.warnings ?? []).some((w: string) => /^applyChanges failed and is being retried/.test(w)),
        60_000,
        'the outage in the warnings',
      );
      expect(told).toMatchObject({ state: 'RUNNING', canCommit: false });
      expect(told.warnings.join('\n')).toMatch(/closed/);
      await writing;
      const off = await destination.admin
        .db('admin')
        .command({ configureFailPoint: 'failCommand', mode: 'off' });
      expect(off.count).toBeGreaterThan(10);
      await applicationWrites(source, 1_000_000, 20);
      await api.waitFor(
        (p) => p.canCommit === true && (p.lag?.overallLagSeconds ?? 99) < 5,
        240_000,
        'caught up',
      );
      // As a client would: a commit refused as not yet committable (a batch still catching up)
      // is sent again.
      let commit = await api.post('commit');
      for (let tries = 0; commit.body.error === 'NotCommittable' && tries < 60; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        commit = await api.post('commit');
      }
      expect(commit.body).toEqual({ success: true });
      await api.waitFor((p) => p.state === 'COMMITTED', 180_000, 'COMMITTED');
      expect(await expectEqualAndOnce(source, destination)).toBeGreaterThan(0);
    } finally {
      await stopScenario(scenario);
    }
  });
});
