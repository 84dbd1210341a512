// The sync record through the real driver against two emulated clusters: written once per sync and
// idempotent on retry, refused on a cluster that is another sync's destination, removed only for
// its own sync; and the guard the activities run before every write: it refuses a cluster that
// lost the record, checks again once its memory of a check is older than asked, and never lets
// the wrapped write run against the wrong cluster.
import { ApplicationFailure } from '@temporalio/common';
import { ClusterClients, createActivities } from '../../../src/activities';
import type { SyncRef } from '../../../src/activities/contract';
import { recordSync, removeSyncRecord, SyncRecordGuard } from '../../../src/activities/syncRecord';
import {
  refusesApplicationWrites,
  startTestCluster,
  stopTestCluster,
  type TestCluster,
} from '../helpers/clusters';

jest.setTimeout(120_000);

const direction = { source: 'cluster0', destination: 'cluster1' } as const;
const records = (cluster: TestCluster) =>
  cluster.admin.db('mongosync_reserved_for_internal_use').collection('syncOwnership');

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

describe('the sync record', () => {
  let cluster0: TestCluster;
  let cluster1: TestCluster;
  let clusters: ClusterClients;
  const sync: SyncRef = { id: 's1', uuid: '11111111-1111-4111-8111-111111111111', holder: 'cluster1' };

  beforeAll(async () => {
    [cluster0, cluster1] = await Promise.all([startTestCluster('rsS0'), startTestCluster('rsS1')]);
    clusters = new ClusterClients({ cluster0: cluster0.uri, cluster1: cluster1.uri });
  });

  afterAll(async () => {
    await clusters?.close();
    await Promise.all([stopTestCluster(cluster0), stopTestCluster(cluster1)]);
  });

  beforeEach(() => records(cluster1).deleteMany({}));

  test('is written once with both clusters, and a retry of the same sync changes nothing', async () => {
    await recordSync(clusters, { sync, direction });
    const [first] = await records(cluster1).find().toArray();
    expect(first).toMatchObject({
      _id: 's1',
      syncUuid: sync.uuid,
      cluster0: `127.0.0.1:${cluster0.emulator.port}`,
      cluster1: `127.0.0.1:${cluster1.emulator.port}`,
      fingerprint: clusters.fingerprint(),
      direction,
    });
    await recordSync(clusters, { sync, direction });
    expect(await records(cluster1).find().toArray()).toEqual([first]);
    expect(await records(cluster0).countDocuments()).toBe(0);
  });

  test("is refused on another sync's destination, whatever that sync's id", async () => {
    await recordSync(clusters, { sync, direction });
    for (const other of [
      { ...sync, uuid: '22222222-2222-4222-8222-222222222222' },
      { ...sync, id: 's2', uuid: '22222222-2222-4222-8222-222222222222' },
    ]) {
      const failure = await failureOf(recordSync(clusters, { sync: other, direction }));
      expect(failure.type).toBe('SyncRecordMismatch');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toMatch(
        /cluster1 \(127\.0\.0\.1:\d+\) holds the record of the sync "s1" \(uuid 1111/,
      );
    }
    expect(await records(cluster1).countDocuments()).toBe(1);
  });

  test('is removed only for its own sync', async () => {
    await recordSync(clusters, { sync, direction });
    await removeSyncRecord(clusters, {
      sync: { id: 's1', uuid: 'someone-else' },
      clusters: ['cluster0', 'cluster1'],
    });
    expect(await records(cluster1).countDocuments()).toBe(1);
    await removeSyncRecord(clusters, { sync, clusters: ['cluster0', 'cluster1'] });
    expect(await records(cluster1).countDocuments()).toBe(0);
  });

  test('guards writes: a cluster without the record is refused, and a check is remembered only as long as asked', async () => {
    const guard = new SyncRecordGuard(clusters);
    const missing = await failureOf(guard.assertHeld(sync, 60_000));
    expect(missing.type).toBe('SyncRecordMismatch');
    expect(missing.message).toMatch(
      /is not this sync's destination any more.*holds no record of it.*\/api\/v1\/reset/,
    );

    await recordSync(clusters, { sync, direction });
    await guard.assertHeld(sync, 60_000);
    // The destination is replaced: a remembered check still passes, a fresh one does not.
    await records(cluster1).deleteMany({});
    await guard.assertHeld(sync, 60_000);
    expect((await failureOf(guard.assertHeld(sync, 0))).type).toBe('SyncRecordMismatch');
    await records(cluster1).insertOne({ _id: 's1' as never, syncUuid: 'another' });
    const other = await failureOf(guard.assertHeld(sync, 0));
    expect(other.message).toMatch(/holds the record of the sync "s1" \(uuid another/);
  });

  test('the activities switch write blocking only on a cluster holding the record', async () => {
    const activities = createActivities(clusters);
    try {
      const refused = await failureOf(
        activities.setUserWriteBlocking({ cluster: 'cluster1', enabled: true, sync }),
      );
      expect(refused.type).toBe('SyncRecordMismatch');
      expect(await refusesApplicationWrites(cluster1)).toBe(false);

      await activities.recordSync({ sync, direction });
      await activities.setUserWriteBlocking({ cluster: 'cluster1', enabled: true, sync });
      expect(await refusesApplicationWrites(cluster1)).toBe(true);
      await activities.setUserWriteBlocking({ cluster: 'cluster1', enabled: false, sync });
      expect(await refusesApplicationWrites(cluster1)).toBe(false);
    } finally {
      await cluster1.admin.db('admin').command({ setUserWriteBlockMode: 1, global: false });
    }
  });
});
