// A sync resumes only on the clusters that hold it: its record on the destination is written at
// start and checked before every write. Clusters replaced behind the same host names (the demo run
// twice, a destination rebuilt or restored) stop the sync with a clear error instead of a sync
// that applies nothing and blocks every write at commit; a destination that is another sync's is
// refused at start; replacing the source makes the resume point one its history cannot serve.
import { startService, type RunningService } from '../../src/main';
import {
  refusesApplicationWrites,
  replaceTestCluster,
  startTestCluster,
  stopTestCluster,
  type TestCluster,
} from './helpers/clusters';
import { SyncApi, testServiceConfig } from './helpers/service';
import { startTestTemporal, type TestTemporal } from './helpers/temporal';

jest.setTimeout(400_000);

const METADATA_DATABASE = 'mongosync_reserved_for_internal_use';
const TUNING = { applyBatchMs: 500, idleBatchMs: 100 };

async function seed(cluster: TestCluster, count = 500): Promise<void> {
  await cluster.app
    .db('app')
    .collection<any>('items')
    .insertMany(Array.from({ length: count }, (_, i) => ({ _id: i, v: i })));
}

async function syncRecords(cluster: TestCluster) {
  return cluster.admin.db(METADATA_DATABASE).collection('syncOwnership').find().toArray();
}

describe('a sync bound to its clusters', () => {
  let temporal: TestTemporal;
  let cluster0: TestCluster;
  let cluster1: TestCluster;
  let service: RunningService | undefined;

  const startSyncService = async (id = 'bound') => {
    service = await startService(
      testServiceConfig({
        cluster0: cluster0.uri,
        cluster1: cluster1.uri,
        id,
        temporalAddress: temporal.address,
      }),
      { tuning: TUNING },
    );
    return new SyncApi(service.apiUrl);
  };
  const stopSyncService = async () => {
    await service?.stop();
    service = undefined;
  };

  beforeAll(async () => {
    [temporal, cluster0, cluster1] = await Promise.all([
      startTestTemporal(),
      startTestCluster('rsR0'),
      startTestCluster('rsR1'),
    ]);
  });

  afterAll(async () => {
    await stopSyncService();
    await Promise.all([stopTestCluster(cluster0), stopTestCluster(cluster1), temporal?.stop()]);
  });

  test('start records the sync on the destination, durably, before it blocks anything', async () => {
    await seed(cluster0);
    const api = await startSyncService();
    expect(
      (
        await api.post('start', {
          source: 'cluster0',
          destination: 'cluster1',
          reversible: true,
          enableUserWriteBlocking: true,
        })
      ).body,
    ).toEqual({ success: true });
    const [record] = await syncRecords(cluster1);
    expect(record).toMatchObject({
      _id: 'bound',
      syncUuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      cluster0: `127.0.0.1:${cluster0.emulator.port}`,
      cluster1: `127.0.0.1:${cluster1.emulator.port}`,
      direction: { source: 'cluster0', destination: 'cluster1' },
    });
    await api.waitFor((p) => p.canCommit === true, 120_000, 'canCommit');
    expect(await refusesApplicationWrites(cluster1)).toBe(true);
  });

  test('fresh clusters on the same ports, same id and Temporal data: a clear refusal, then reset and a new sync', async () => {
    await stopSyncService();
    // Both clusters are rebuilt behind the same host names: empty, with no record of the sync.
    cluster0 = await replaceTestCluster(cluster0, 'rsR0', '8.0');
    cluster1 = await replaceTestCluster(cluster1, 'rsR1', '8.0');
    await seed(cluster0, 300);
    const api = await startSyncService();

    const halted = await api.waitFor(
      (p) => typeof p.info === 'string' && p.info.includes('SyncRecordMismatch'),
      120_000,
      'the record mismatch in /progress',
    );
    expect(halted.state).toBe('RUNNING');
    expect(halted.canCommit).toBe(false);
    expect(halted.info).toMatch(/cluster1 \(127\.0\.0\.1:\d+\) is not this sync's destination any more/);
    expect(halted.warnings.join(' ')).toMatch(/cannot continue.*\/api\/v1\/reset/);
    // Nothing was written to the new clusters: no record, no data, no write blocking.
    expect(await syncRecords(cluster1)).toEqual([]);
    expect(await cluster1.admin.db('app').collection('items').countDocuments()).toBe(0);
    expect(await refusesApplicationWrites(cluster1)).toBe(false);
    expect(await refusesApplicationWrites(cluster0)).toBe(false);
    // The probes wrote where writes are allowed: the new destination must be empty again.
    await Promise.all([cluster0, cluster1].map((c) => c.admin.db('probe').dropDatabase()));

    const start = await api.post('start', { source: 'cluster0', destination: 'cluster1' });
    expect(start.status).toBe(409);
    expect(start.body.errorDescription).toMatch(/cannot continue.*SyncRecordMismatch.*POST \/api\/v1\/reset/);
    const commit = await api.post('commit');
    expect(commit.body.error).toBe('NotCommittable');

    expect((await api.post('reset')).body).toEqual({ success: true });
    expect((await api.progress()).state).toBe('IDLE');
    expect((await api.post('start', { source: 'cluster0', destination: 'cluster1' })).body).toEqual({
      success: true,
    });
    await api.waitFor((p) => p.canCommit === true, 120_000, 'canCommit of the new sync');
    expect(await cluster1.admin.db('app').collection('items').countDocuments()).toBe(300);
    expect(await syncRecords(cluster1)).toHaveLength(1);
  });

  test('reset refuses a sync that runs, and says why', async () => {
    const api = new SyncApi(service!.apiUrl);
    const reset = await api.post('reset');
    expect(reset.status).toBe(409);
    expect(reset.body).toMatchObject({ success: false, error: 'InvalidStateTransition' });
    expect(reset.body.errorDescription).toMatch(
      /cannot reset in state RUNNING: reset is only allowed in state IDLE or COMMITTED/,
    );
    expect((await api.progress()).state).toBe('RUNNING');
  });

  test("a destination that holds another sync's record is refused at start", async () => {
    const other = await startTestCluster('rsR2');
    let otherService: RunningService | undefined;
    try {
      await seed(other, 10);
      otherService = await startService(
        testServiceConfig({
          cluster0: other.uri,
          cluster1: cluster1.uri,
          id: 'intruder',
          temporalAddress: temporal.address,
        }),
        { tuning: TUNING },
      );
      const api = new SyncApi(otherService.apiUrl);
      const start = await api.post('start', {
        source: 'cluster0',
        destination: 'cluster1',
        preExistingDestinationData: true,
        includeNamespaces: [{ database: 'app' }],
      });
      expect(start.status).toBe(400);
      expect(start.body).toMatchObject({ success: false, error: 'PreconditionFailed' });
      expect(start.body.errorDescription).toMatch(
        /cluster1 \(127\.0\.0\.1:\d+\) holds the record of the sync "bound" .*it is that sync's destination/,
      );
      expect((await api.progress()).state).toBe('IDLE');
      expect(await syncRecords(cluster1)).toHaveLength(1);
    } finally {
      await otherService?.stop();
      await stopTestCluster(other);
    }
  });

  test('a source replaced behind the same host name whose history does not reach the resume point', async () => {
    const api = new SyncApi(service!.apiUrl);
    await api.waitFor((p) => p.canCommit === true, 120_000, 'canCommit');
    expect((await api.post('pause')).body).toEqual({ success: true });
    // The new source keeps about 256 KB of history and has already trimmed it.
    cluster0 = await replaceTestCluster(cluster0, 'rsR0', '8.0', 0.25);
    const items = cluster0.app.db('app').collection<any>('items');
    await items.insertMany(Array.from({ length: 100 }, (_, i) => ({ _id: i, v: 0 })));
    for (let round = 0; round < 10; round++) {
      await items.updateMany({}, { $set: { v: round, pad: 'x'.repeat(1000) } });
    }
    expect((await api.post('resume')).body).toEqual({ success: true });
    const lost = await api.waitFor(
      (p) => typeof p.info === 'string' && p.info.includes('ChangeStreamHistoryLost'),
      120_000,
      'history loss in /progress',
    );
    expect(lost.canCommit).toBe(false);
    expect(lost.warnings.join(' ')).toMatch(/cannot continue/);
    expect((await api.post('commit')).body.error).toBe('NotCommittable');
    // Halted: nothing is retried by itself, and a reset releases the destination it blocked.
    expect((await api.post('reset')).body).toEqual({ success: true });
    expect(await refusesApplicationWrites(cluster1)).toBe(false);
    expect(await syncRecords(cluster1)).toEqual([]);
  });
});
