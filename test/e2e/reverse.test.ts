// Reversing a committed sync end to end: the real Temporal dev server and worker, two emulated
// clusters with auth on and an application user without write-blocking bypass, driven through
// mongosync's REST API. cluster0 → cluster1, commit, reverse (cluster1 → cluster0) without a new
// copy, commit, reverse again, commit again; the clusters compare equal at every commit.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Document, Timestamp } from 'mongodb';
import { NEUTRAL_EXPIRE_AFTER_SECONDS } from '../../src/activities/indexSpecs';
import { startService, type RunningService } from '../../src/main';
import {
  refusesApplicationWrites,
  startTestCluster,
  stopTestCluster,
  type TestCluster,
} from './helpers/clusters';
import { compareClusters } from './helpers/compare';
import {
  LOG,
  changeEventsSince,
  eventually,
  expectedTaggedState,
  indexNamed,
  operationTime,
  taggedState,
  writeTagged,
} from './helpers/reverse';
import { applyMixedWrites, seedSourceData, SyncApi, testServiceConfig } from './helpers/service';
import { startTestTemporal, type TestTemporal } from './helpers/temporal';

const run = promisify(execFile);
jest.setTimeout(300_000);

describe('reverse a committed sync, commit, and reverse again', () => {
  let temporal: TestTemporal;
  let cluster0: TestCluster;
  let cluster1: TestCluster;
  let service: RunningService;
  let api: SyncApi;
  let port: number;
  let host0: string;
  let host1: string;
  /** cluster0's operation time just before the first reverse: what cluster0 recorded after it. */
  let beforeFirstReverse: Timestamp;

  const waitCommittable = (label: string) =>
    api.waitFor((p) => p.state === 'RUNNING' && p.canCommit === true, 120_000, label);

  async function commitAndCompare(): Promise<Document> {
    expect((await api.post('commit')).body).toEqual({ success: true });
    const committed = await api.waitFor((p) => p.state === 'COMMITTED', 120_000, 'COMMITTED');
    expect(committed).toMatchObject({ canWrite: true, info: 'commit completed', lagTimeSeconds: 0 });
    expect(await compareClusters(cluster0.admin, cluster1.admin)).toEqual([]);
    return committed;
  }

  beforeAll(async () => {
    [temporal, cluster0, cluster1] = await Promise.all([
      startTestTemporal(),
      startTestCluster('rsRev0'),
      startTestCluster('rsRev1'),
    ]);
    await seedSourceData(cluster0.app, 5000);
    const config = testServiceConfig({
      cluster0: cluster0.uri,
      cluster1: cluster1.uri,
      id: 'reverse',
      temporalAddress: temporal.address,
      taskQueue: 'reverse-test',
    });
    service = await startService(config, {
      tuning: { targetPartitionBytes: 1024 * 1024, copyConcurrency: 4, applyBatchMs: 1000 },
    });
    api = new SyncApi(service.apiUrl);
    port = Number(new URL(service.apiUrl).port);
    host0 = `cluster0: 127.0.0.1:${cluster0.emulator.port}`;
    host1 = `cluster1: 127.0.0.1:${cluster1.emulator.port}`;
  });

  afterAll(async () => {
    await service?.stop();
    await Promise.all([stopTestCluster(cluster0), stopTestCluster(cluster1), temporal?.stop()]);
  });

  test('a reversible sync from cluster0 commits: cluster1 writable, cluster0 refusing', async () => {
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
    await writeTagged(cluster0.app, 'sync0', 40);
    await applyMixedWrites(cluster0.app, 1);
    await waitCommittable('canCommit of the first sync');
    // Written just before the commit: applied to cluster1 before the writable point, never to be replayed.
    await writeTagged(cluster0.app, 'lastBeforeCommit', 20);
    await commitAndCompare();
    expect(await taggedState(cluster1.admin, 'lastBeforeCommit')).toEqual(expectedTaggedState(20));
    expect(await refusesApplicationWrites(cluster0)).toBe(true);
    expect(await refusesApplicationWrites(cluster1)).toBe(false);
  });

  test('reverse: writes made on cluster1 since commit and after the reverse all reach cluster0', async () => {
    // Application writes between commit and reverse, DDL included: a new collection with a unique,
    // a TTL and a hidden index, and the mixed writes (collections created, renamed, dropped).
    await writeTagged(cluster1.app, 'committed1', 30);
    await applyMixedWrites(cluster1.app, 5);
    const fresh = cluster1.app.db('fresh').collection<Document>('people');
    await fresh.createIndex({ email: 1 }, { unique: true });
    await fresh.createIndex({ seen: 1 }, { expireAfterSeconds: 3600 });
    await fresh.createIndex({ nick: 1 }, { hidden: true });
    await fresh.insertMany(
      Array.from({ length: 20 }, (_, i) => ({ email: `p${i}@example.com`, seen: new Date(), nick: `n${i}` })),
    );
    const differences = await compareClusters(cluster1.admin, cluster0.admin);
    expect(differences).toEqual(expect.arrayContaining([expect.stringContaining('fresh.people')]));
    const eventsBefore = Number((await api.progress()).totalEventsApplied);
    beforeFirstReverse = await operationTime(cluster0.admin);

    const { stdout } = await run('curl', [`localhost:${port}/api/v1/reverse`, '-XPOST', '--data', '{ }']);
    expect(JSON.parse(stdout)).toEqual({ success: true });
    const reversing = await api.progress();
    expect(['REVERSING', 'RUNNING']).toContain(reversing.state);
    const running = await api.waitFor((p) => p.state === 'RUNNING', 60_000, 'RUNNING after reverse');
    expect(running.directionMapping).toEqual({ Source: host1, Destination: host0 });
    expect(running.canWrite).toBe(false);
    // No new copy: the copy statistics are those of the first sync.
    expect(running.collectionCopy.estimatedCopiedBytes).toBe(running.collectionCopy.estimatedTotalBytes);
    // The new destination holds the sync's record, as the first destination does: the same sync.
    const recordOn = (cluster: typeof cluster0) =>
      cluster.admin
        .db('mongosync_reserved_for_internal_use')
        .collection('syncOwnership')
        .findOne({ _id: 'reverse' as never });
    const [record0, record1] = await Promise.all([recordOn(cluster0), recordOn(cluster1)]);
    expect(record0?.syncUuid).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
    expect(record0?.syncUuid).toBe(record1?.syncUuid);
    expect(record0?.direction).toEqual({ source: 'cluster1', destination: 'cluster0' });

    // cluster1 (source) takes application writes, cluster0 (destination) refuses them.
    expect(await refusesApplicationWrites(cluster0)).toBe(true);
    await writeTagged(cluster1.app, 'reversed1', 25);
    await applyMixedWrites(cluster1.app, 6);
    await waitCommittable('canCommit after the reverse');
    await api.waitFor(
      (p) => Number(p.totalEventsApplied) > eventsBefore,
      60_000,
      'events applied in the reversed direction',
    );
    // Both write sets arrive while the sync still runs, before any commit drains.
    expect(
      await eventually(() => taggedState(cluster0.admin, 'committed1'), expectedTaggedState(30)),
    ).toEqual(expectedTaggedState(30));
    expect(await eventually(() => taggedState(cluster0.admin, 'reversed1'), expectedTaggedState(25))).toEqual(
      expectedTaggedState(25),
    );
    expect(await refusesApplicationWrites(cluster0)).toBe(true);
    expect(await refusesApplicationWrites(cluster1)).toBe(false);
  });

  test('indexes stay relaxed on cluster0 during the reversed sync, including those created on cluster1', async () => {
    // Created on cluster1 after the commit: built relaxed on cluster0.
    expect(await indexNamed(cluster0.admin, 'fresh', 'people', 'email_1')).not.toHaveProperty('unique');
    expect(await indexNamed(cluster0.admin, 'fresh', 'people', 'nick_1')).not.toHaveProperty('hidden');
    expect(await indexNamed(cluster0.admin, 'fresh', 'people', 'seen_1')).toMatchObject({
      expireAfterSeconds: NEUTRAL_EXPIRE_AFTER_SECONDS,
    });
    // Restored on cluster0 at the first commit? No: cluster0 was the source; they are relaxed now too.
    expect(await indexNamed(cluster0.admin, 'shop', 'customers', 'email_1')).not.toHaveProperty('unique');
    expect(await indexNamed(cluster0.admin, 'shop', 'customers', 'tier_1')).not.toHaveProperty('hidden');
    expect(await indexNamed(cluster0.admin, 'shop', 'sessions', 'seen_1')).toMatchObject({
      expireAfterSeconds: NEUTRAL_EXPIRE_AFTER_SECONDS,
    });
    // The source keeps its own.
    expect(await indexNamed(cluster1.admin, 'shop', 'customers', 'email_1')).toMatchObject({ unique: true });
  });

  test('commit in the reversed direction: cluster0 writable, cluster1 refusing, indexes restored', async () => {
    await writeTagged(cluster1.app, 'reversed2', 15);
    await commitAndCompare();
    expect(await refusesApplicationWrites(cluster0)).toBe(false);
    expect(await refusesApplicationWrites(cluster1)).toBe(true);
    expect(await indexNamed(cluster0.admin, 'fresh', 'people', 'email_1')).toMatchObject({ unique: true });
    expect(await indexNamed(cluster0.admin, 'fresh', 'people', 'nick_1')).toMatchObject({ hidden: true });
    expect(await indexNamed(cluster0.admin, 'fresh', 'people', 'seen_1')).toMatchObject({
      expireAfterSeconds: 3600,
    });
    expect(await indexNamed(cluster0.admin, 'shop', 'customers', 'email_1')).toMatchObject({ unique: true });
    expect(await indexNamed(cluster0.admin, 'shop', 'customers', 'tier_1')).toMatchObject({ hidden: true });
    expect(await indexNamed(cluster0.admin, 'shop', 'sessions', 'seen_1')).toMatchObject({
      expireAfterSeconds: 7200,
    });

    // What cluster0 recorded since the reverse: each tagged write of cluster1 applied exactly once,
    // and nothing written to cluster1 before the writable point (the last writes of the first sync).
    const events = await changeEventsSince(cluster0.admin, beforeFirstReverse);
    const logEvents = events.filter((e) => e.ns?.db === LOG.db && e.ns?.coll === LOG.coll);
    const touched = (tag: string) =>
      logEvents.filter((e) => String(e.documentKey?._id).startsWith(`${tag}-`));
    expect(touched('lastBeforeCommit')).toEqual([]);
    expect(touched('sync0')).toEqual([]);
    for (const [tag, count] of [
      ['committed1', 30],
      ['reversed1', 25],
      ['reversed2', 15],
    ] as const) {
      const inserts = touched(tag).filter((e) => e.operationType === 'insert');
      expect(inserts).toHaveLength(count);
      expect(new Set(inserts.map((e) => String(e.documentKey._id))).size).toBe(count);
      const counterEvents = events.filter(
        (e) => e.ns?.db === LOG.db && e.ns?.coll === 'counters' && e.documentKey?._id === tag,
      );
      expect(counterEvents).toHaveLength(1);
    }
  });

  test('reverse again (cluster0 → cluster1), commit again: the clusters stay equal', async () => {
    await writeTagged(cluster0.app, 'committed2', 20);
    await applyMixedWrites(cluster0.app, 7);
    expect((await api.post('reverse', '{ }')).body).toEqual({ success: true });
    const running = await api.waitFor((p) => p.state === 'RUNNING', 60_000, 'RUNNING after reverse');
    expect(running.directionMapping).toEqual({ Source: host0, Destination: host1 });
    expect(await refusesApplicationWrites(cluster1)).toBe(true);
    expect(await refusesApplicationWrites(cluster0)).toBe(false);
    await writeTagged(cluster0.app, 'reversed3', 20);
    await waitCommittable('canCommit after the second reverse');
    expect(
      await eventually(() => taggedState(cluster1.admin, 'committed2'), expectedTaggedState(20)),
    ).toEqual(expectedTaggedState(20));
    expect(await eventually(() => taggedState(cluster1.admin, 'reversed3'), expectedTaggedState(20))).toEqual(
      expectedTaggedState(20),
    );
    expect(await indexNamed(cluster1.admin, 'shop', 'customers', 'email_1')).not.toHaveProperty('unique');

    await commitAndCompare();
    expect(await refusesApplicationWrites(cluster1)).toBe(false);
    expect(await refusesApplicationWrites(cluster0)).toBe(true);
    expect(await indexNamed(cluster1.admin, 'shop', 'customers', 'email_1')).toMatchObject({ unique: true });
    const progress = await api.progress();
    expect(progress.directionMapping).toEqual({ Source: host0, Destination: host1 });
    expect((await api.post('commit')).body.error).toBe('InvalidStateTransition');
  });
});
