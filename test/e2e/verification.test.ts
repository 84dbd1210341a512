// The embedded verifier end to end (real Temporal, real worker, two emulated clusters): the
// destination is changed behind the sync's back by a user that bypasses write blocking during the
// copy, during change event application, and between the drain and the unblock of the commit
// (held there by the test-only hook). Every change is found and repaired, /progress and
// GET /api/v1/verification say so without document contents, and the clusters end identical.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Int32, type Document } from 'mongodb';
import { TEST_HOLD_FINAL_VERIFICATION_ENV } from '../../src/activities/finalVerification';
import { startService, type RunningService } from '../../src/main';
import { startTestCluster, stopTestCluster, type TestCluster } from './helpers/clusters';
import { compareClusters } from './helpers/compare';
import { SyncApi, testServiceConfig } from './helpers/service';
import { startTestTemporal, type TestTemporal } from './helpers/temporal';

jest.setTimeout(600_000);

let temporal: TestTemporal;
let cluster0: TestCluster;
let cluster1: TestCluster;
let service: RunningService;
let api: SyncApi;
const holdDir = mkdtempSync(join(tmpdir(), 'verifier-hold-'));
const holdFile = join(holdDir, 'hold');

beforeAll(async () => {
  process.env[TEST_HOLD_FINAL_VERIFICATION_ENV] = holdFile;
  [temporal, cluster0, cluster1] = await Promise.all([
    startTestTemporal(),
    startTestCluster('rsVe0'),
    startTestCluster('rsVe1'),
  ]);
  for (const coll of ['a', 'b', 'c']) {
    await cluster0.app
      .db('shop')
      .collection(coll)
      .insertMany(
        Array.from(
          { length: 3000 },
          (_, i) => ({ _id: new Int32(i), n: new Int32(i), pad: 'p'.repeat(200) }) as Document,
        ),
      );
    await cluster0.app.db('shop').collection(coll).createIndex({ n: 1 });
  }
  const config = testServiceConfig({
    cluster0: cluster0.uri,
    cluster1: cluster1.uri,
    id: 'verify',
    temporalAddress: temporal.address,
    taskQueue: 'verify-test',
  });
  service = await startService(config, {
    tuning: { targetPartitionBytes: 128 * 1024, copyConcurrency: 2, applyBatchMs: 1000, verifyPassMs: 500 },
  });
  api = new SyncApi(service.apiUrl);
});

afterAll(async () => {
  delete process.env[TEST_HOLD_FINAL_VERIFICATION_ENV];
  rmSync(holdDir, { recursive: true, force: true });
  await service?.stop();
  await Promise.all([stopTestCluster(cluster0), stopTestCluster(cluster1), temporal?.stop()]);
});

// The sync's own user bypasses write blocking: it stands for anyone writing behind the sync's back.
const destination = (coll: string) => cluster1.admin.db('shop').collection(coll);

test('changes behind the sync are found, repaired, and reported without contents', async () => {
  expect((await api.post('start', { source: 'cluster0', destination: 'cluster1' })).body).toEqual({
    success: true,
  });
  // During the copy: an extra document the copy never removes.
  await api.waitFor((p) => p.state === 'RUNNING', 60_000, 'RUNNING');
  await destination('a').insertOne({ _id: new Int32(-1), intruder: true } as Document);

  const ready = await api.waitFor((p) => p.canCommit === true, 240_000, 'canCommit');
  expect(ready.verification.source.phase).toBe('stream hashing');
  expect(ready.verification.source.hashedDocumentCount).toBe(9000);
  expect(ready.verification.source.scannedCollectionCount).toBe(3);
  expect(ready.verification.source.totalCollectionCount).toBe(3);

  // During change event application: a field changed, a document deleted, an extra one, an index dropped.
  await destination('b').updateOne({ _id: new Int32(5) } as Document, { $set: { n: -5 } });
  await destination('b').deleteOne({ _id: new Int32(6) } as Document);
  await destination('c').insertOne({ _id: new Int32(-7) } as Document);
  await destination('c').dropIndex('n_1');
  await cluster0.app
    .db('shop')
    .collection('a')
    .updateOne({ _id: new Int32(1) } as Document, { $set: { n: 100 } });
  const repaired = await api.waitFor(
    (p) => p.verification.mismatchesRepaired >= 4,
    120_000,
    'the document mismatches repaired',
  );
  expect(repaired.verification.mismatchesFound).toBeGreaterThanOrEqual(4);

  // Between the drain and the unblock: held before the final verification.
  writeFileSync(holdFile, 'hold');
  await api.waitFor((p) => p.canCommit === true, 60_000, 'canCommit again');
  expect((await api.post('commit')).body).toEqual({ success: true });
  await api.waitFor((p) => p.state === 'COMMITTING', 30_000, 'COMMITTING');
  await new Promise((resolve) => setTimeout(resolve, 3000));
  expect((await api.progress()).state).toBe('COMMITTING');
  await destination('a').updateOne({ _id: new Int32(2) } as Document, { $set: { n: -2 } });
  rmSync(holdFile);
  const committed = await api.waitFor((p) => p.state === 'COMMITTED', 120_000, 'COMMITTED');
  expect(committed.verification.mismatchesRepaired).toBeGreaterThanOrEqual(6);

  expect(
    await compareClusters(cluster0.admin, cluster1.admin, { namespaces: (ns) => ns.startsWith('shop.') }),
  ).toEqual([]);

  const report = (await (await fetch(`${service.apiUrl}/api/v1/verification`)).json()) as Document;
  expect(report.success).toBe(true);
  const listed = (report.verification.mismatches as Document[]).map(
    (m) => `${m.namespace} ${m._id} ${m.kind}`,
  );
  expect(listed).toEqual(
    expect.arrayContaining([
      'shop.a {"$numberInt":"-1"} extra',
      'shop.b {"$numberInt":"5"} content',
      'shop.b {"$numberInt":"6"} missing',
      'shop.c {"$numberInt":"-7"} extra',
      'shop.a {"$numberInt":"2"} content',
      'shop.c index n_1 missing metadata',
    ]),
  );
  // Never a document's contents.
  expect(JSON.stringify(report)).not.toMatch(/pad|intruder|ppp/);
});
