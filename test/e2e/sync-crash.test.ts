// Crashes: the whole service process killed with SIGKILL during the copy and during change event
// application, and the Temporal dev server restarted on its SQLite file mid-sync. After each,
// the sync completes and the destination equals the source: nothing lost, nothing duplicated.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Double, type Document } from 'mongodb';
import { startDevServer, type DevServer } from '../../src/temporal/devServer';
import { findFreePort } from '../../src/temporal/freePort';
import { startTestCluster, stopTestCluster, type TestCluster } from './helpers/clusters';
import { compareClusters } from './helpers/compare';
import { ServiceProcess } from './helpers/process';
import { applyMixedWrites, SyncApi } from './helpers/service';

jest.setTimeout(900_000);

/** Keeps an application writing to a cluster until stopped; returns how many writes it made. */
function startWriter(client: TestCluster['app'], prefix: string): { stop(): Promise<number> } {
  let running = true;
  let count = 0;
  const loop = (async () => {
    const coll = client.db('live').collection<any>('writes');
    while (running) {
      await coll.insertOne({ _id: `${prefix}-${count}`, n: count, value: new Double(count + 0.5) });
      if (count % 3 === 0)
        await coll.updateOne(
          { _id: `${prefix}-${Math.floor(count / 2)}` },
          { $inc: { updates: 1 }, $push: { history: count } as never },
        );
      if (count % 7 === 0) await coll.deleteOne({ _id: `${prefix}-${count - 5}` });
      count++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return count;
    },
  };
}

describe('crash and restart', () => {
  let dataDir: string;
  let temporal: DevServer;
  let temporalPort: number;
  let cluster0: TestCluster;
  let cluster1: TestCluster;
  let service: ServiceProcess;
  let api: SyncApi;

  const startTemporal = () => startDevServer({ dataDir, port: temporalPort, headless: true });

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'mongosync-crash-'));
    temporalPort = await findFreePort();
    [temporal, cluster0, cluster1] = await Promise.all([
      startTemporal(),
      startTestCluster('rsC0'),
      startTestCluster('rsC1'),
    ]);
    // Enough data that the copy is still running when the process is killed.
    const big = cluster0.app.db('bulk').collection<any>('big');
    for (let start = 0; start < 150_000; start += 5000) {
      await big.insertMany(
        Array.from({ length: 5000 }, (_, j) => ({ _id: start + j, pad: 'x'.repeat(300), v: new Double(j) })),
      );
    }
    await cluster0.app
      .db('bulk')
      .collection<any>('small')
      .insertMany(Array.from({ length: 1000 }, (_, i) => ({ i })));
    const apiPort = await findFreePort();
    api = new SyncApi(`http://127.0.0.1:${apiPort}`);
    service = new ServiceProcess([
      '--cluster0',
      cluster0.uri,
      '--cluster1',
      cluster1.uri,
      '--port',
      String(apiPort),
      '--id',
      'crash',
      '--temporal-address',
      temporal.address,
      '--task-queue',
      'crash-test',
      '--verbosity',
      'WARN',
    ]);
    await service.start(api);
  });

  afterAll(async () => {
    await service?.stop();
    await Promise.all([stopTestCluster(cluster0), stopTestCluster(cluster1), temporal?.stop()]);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('SIGKILL during the copy: the restarted service finishes the copy without loss or duplicates', async () => {
    expect(
      (
        await api.post('start', {
          source: 'cluster0',
          destination: 'cluster1',
          enableUserWriteBlocking: 'sourceAndDestination',
        })
      ).body,
    ).toEqual({ success: true });
    const midCopy = await api.waitFor(
      (p) => p.info === 'collection copy' && Number(p.collectionCopy?.estimatedCopiedBytes) > 0,
      120_000,
      'the copy to be under way',
    );
    expect(Number(midCopy.collectionCopy.estimatedCopiedBytes)).toBeLessThan(
      Number(midCopy.collectionCopy.estimatedTotalBytes),
    );
    const copiedBeforeCrash = await cluster1.admin.db('bulk').collection('big').estimatedDocumentCount();
    await service.kill();
    await applyMixedWrites(cluster0.app, 1); // writes while no service runs
    await service.start(api);
    expect(copiedBeforeCrash).toBeLessThan(150_000);
  });

  test('SIGKILL during initial hashing: the verifier resumes, hashed partitions are not read again', async () => {
    // Each partition's hashing passes, counted by the verifier: `reads` when one begins, `hashed`
    // when one reaches its end. Partitions are hashed right after their copy, so the kill comes
    // during the copy, once some partition is hashed and another is being hashed.
    const passes = cluster1.admin
      .db('mongosync_reserved_for_internal_use')
      .collection<{ _id: string; reads: number; hashed?: number }>('verifierPartitions');
    const deadline = Date.now() + 300_000;
    // The store is written by the running activities, the progress once the workflow hears of a
    // finished partition: both must say hashing is under way.
    for (;;) {
      const all = await passes.find().toArray();
      const underWay = all.some((p) => Number(p.hashed ?? 0) > 0) && all.some((p) => p.hashed === undefined);
      if (underWay && (await api.progress()).verification?.source.phase === 'initial hashing') break;
      if (Date.now() > deadline) throw new Error(`hashing never under way: ${JSON.stringify(all)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await service.kill();
    const atKill = await passes.find().toArray();
    const finished = atKill.filter((p) => Number(p.hashed ?? 0) > 0);
    expect(finished.length).toBeGreaterThan(0);
    await service.start(api);
    await api.waitFor((p) => p.verification?.source.phase === 'stream hashing', 300_000, 'hashing done');
    const after = Object.fromEntries((await passes.find().toArray()).map((p) => [p._id, p]));
    expect(Object.keys(after)).toEqual(
      expect.arrayContaining(['bulk.big#0', 'bulk.big#outside', 'bulk.small#0', 'bulk.small#outside']),
    );
    // Hashed before the kill: never read again. Cut short by it: read once more, from its checkpoint.
    for (const partition of finished)
      expect(Number(after[partition._id].reads)).toBe(Number(partition.reads));
    for (const partition of Object.values(after)) {
      expect(Number(partition.reads)).toBeLessThanOrEqual(2);
      expect(Number(partition.hashed)).toBe(1);
    }
    const cea = await api.waitFor(
      (p) => p.info === 'change event application',
      300_000,
      'change event application',
    );
    expect(cea.state).toBe('RUNNING');
  });

  test('SIGKILL during change event application under load', async () => {
    const writer = startWriter(cluster0.app, 'a');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await service.kill();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await service.start(api);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const written = await writer.stop();
    expect(written).toBeGreaterThan(10);
    await api.waitFor((p) => p.canCommit === true, 120_000, 'canCommit after the restart');
  });

  test('the Temporal server restarted on its SQLite file mid-sync: the sync continues', async () => {
    const writer = startWriter(cluster0.app, 'b');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await temporal.stop();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    temporal = await startTemporal();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await writer.stop();
    await api.waitFor(
      (p) => p.state === 'RUNNING' && p.canCommit === true,
      180_000,
      'the sync after the Temporal restart',
    );
  });

  test('commit: the destination equals the source', async () => {
    expect((await api.post('commit')).body).toEqual({ success: true });
    await api.waitFor((p) => p.state === 'COMMITTED', 180_000, 'COMMITTED');
    expect(await compareClusters(cluster0.admin, cluster1.admin)).toEqual([]);
    const count = await cluster1.admin.db('live').collection<Document>('writes').countDocuments();
    expect(count).toBeGreaterThan(0);
  });
});
