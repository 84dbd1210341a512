// The verifier's activities through the real driver against two emulated clusters: hashing a
// partition turns every difference into a suspect; a recheck confirms a difference only once the
// source has stopped changing, repairs it and checks the repair; the commit's final pass settles
// everything, repairs a dropped index, and refuses, naming namespace and _id, what persists.
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Int32, type Document } from 'mongodb';
import { ClusterClients, createActivities } from '../../../src/activities';
import type { Partition, StreamPosition, SyncActivities } from '../../../src/activities/contract';
import { METADATA_DATABASE } from '../../../src/activities/namespaces';
import { currentOperationTime } from '../../../src/activities/operationTime';
import { startTestCluster, stopTestCluster, type TestCluster } from '../helpers/clusters';
import { syncOptions } from '../../helpers/syncOptions';

jest.setTimeout(120_000);

const direction = { source: 'cluster0', destination: 'cluster1' } as const;
const options = syncOptions();
const wholeCollection = (coll: string): Partition => ({
  id: `app.${coll}#0`,
  db: 'app',
  coll,
  lower: null,
  upper: null,
  naturalOrder: false,
  estimatedBytes: 0,
});

let cluster0: TestCluster;
let cluster1: TestCluster;
let clusters: ClusterClients;
let activities: SyncActivities;

beforeAll(async () => {
  [cluster0, cluster1] = await Promise.all([startTestCluster('rsVf0'), startTestCluster('rsVf1')]);
  clusters = new ClusterClients({ cluster0: cluster0.uri, cluster1: cluster1.uri });
  activities = createActivities(clusters);
});

afterAll(async () => {
  await clusters?.close();
  await Promise.all([stopTestCluster(cluster0), stopTestCluster(cluster1)]);
});

beforeEach(async () => {
  for (const cluster of [cluster0, cluster1]) {
    await cluster.admin.db('app').dropDatabase();
    await cluster.admin.db(METADATA_DATABASE).dropDatabase();
  }
});

const store = (name: string) => cluster1.admin.db(METADATA_DATABASE).collection(name);
const docs = (n: number): Document[] =>
  Array.from({ length: n }, (_, i) => ({ _id: new Int32(i), v: new Int32(i), s: `x${i}` }));

/** Both clusters hold the same documents; then the destination is changed behind the sync's back. */
async function seedAndTamper(coll: string): Promise<void> {
  await cluster0.admin.db('app').collection(coll).insertMany(docs(2500));
  await cluster1.admin.db('app').collection(coll).insertMany(docs(2500));
  const tampered = cluster1.admin.db('app').collection(coll);
  await tampered.updateOne({ _id: new Int32(10) } as Document, { $set: { v: new Int32(-1) } });
  await tampered.deleteOne({ _id: new Int32(1500) } as Document);
  await tampered.insertOne({ _id: new Int32(99_999), extra: true } as Document);
  // Same fields, another order: a different BSON document.
  await tampered.replaceOne({ _id: new Int32(2400) } as Document, { s: 'x2400', v: new Int32(2400) });
}

async function everyDocument(cluster: TestCluster, coll: string): Promise<Buffer[]> {
  const raw = await cluster.admin
    .db('app')
    .collection(coll)
    .find({}, { raw: true })
    .sort({ _id: 1 })
    .toArray();
  return raw as unknown as Buffer[];
}

test('hashing a partition makes suspects of exactly the documents that differ, resuming from its heartbeat', async () => {
  await seedAndTamper('items');
  const env = new MockActivityEnvironment();
  const result = await env.run(activities.verifyPartition, {
    direction,
    partition: wholeCollection('items'),
  });
  expect(result).toMatchObject({ sourceDocuments: 2500, suspects: 4 });
  const suspects = await store('verifierSuspects').find().toArray();
  expect(suspects.map((s) => s.id).sort((a, b) => Number(a) - Number(b))).toEqual([10, 1500, 2400, 99_999]);
  expect(await store('verifierPartitions').findOne({ _id: 'app.items#0' } as Document)).toMatchObject({
    reads: 1,
  });

  // A retry starts after the last compared batch its heartbeat names: a checkpoint of a release
  // before segments, and one naming its segment (numbers are the third type bracket of the walk).
  for (const segment of [{}, { segment: 2 }]) {
    const retry = new MockActivityEnvironment({
      heartbeatDetails: {
        ...segment,
        lastId: '{"v":{"$numberInt":"1999"}}',
        sourceDocuments: 2000,
        destinationDocuments: 2000,
        suspects: 0,
      },
    });
    const resumed: { sourceDocuments: number } = await retry.run(activities.verifyPartition, {
      direction,
      partition: wholeCollection('items'),
    });
    expect(resumed.sourceDocuments).toBe(2500);
  }
});

test('a recheck confirms a difference once the source is unchanged, repairs it, and clears it', async () => {
  await seedAndTamper('items');
  await activities.verifyPartition({ direction, partition: wholeCollection('items') });
  const applied = await currentOperationTime(clusters.get('cluster0'));
  // First recheck: the differences are seen again (the source may still move).
  let pass = await activities.recheckSuspects({ direction, appliedThrough: applied, final: false });
  expect(pass).toMatchObject({ rechecked: 4, repairedNow: 0, open: 4, found: 0 });
  // Second: the source has not changed: confirmed, repaired.
  pass = await activities.recheckSuspects({ direction, appliedThrough: pass.now, final: false });
  expect(pass).toMatchObject({ repairedNow: 4, found: 4, repaired: 4, persisting: 0 });
  // Third: the repair holds, nothing is left.
  pass = await activities.recheckSuspects({ direction, appliedThrough: pass.now, final: false });
  expect(pass.open).toBe(0);
  expect(await everyDocument(cluster1, 'items')).toEqual(await everyDocument(cluster0, 'items'));
  const kinds = (await store('verifierMismatches').find().toArray()).map((m) => [m.id, m.kind]).sort();
  expect(kinds).toEqual([
    ['{"$numberInt":"10"}', 'content'],
    ['{"$numberInt":"1500"}', 'missing'],
    ['{"$numberInt":"2400"}', 'content'],
    ['{"$numberInt":"99999"}', 'extra'],
  ]);
});

test('a document the source keeps changing is never confirmed while it moves', async () => {
  const hot = (cluster: TestCluster) => cluster.admin.db('app').collection<{ _id: number; n: number }>('hot');
  await hot(cluster0).insertOne({ _id: 1, n: 0 });
  await hot(cluster1).insertOne({ _id: 1, n: 0 });
  let source: StreamPosition = {
    token: null,
    startAt: await currentOperationTime(clusters.get('cluster0')),
  };
  let destination: StreamPosition = {
    token: null,
    startAt: await currentOperationTime(clusters.get('cluster1')),
  };
  const pass = async () => {
    const collected = await activities.collectChanges({
      direction,
      options,
      source,
      destination,
      maxDurationMs: 2000,
    });
    source = collected.source;
    destination = collected.destination;
    const now = await currentOperationTime(clusters.get('cluster0'));
    return activities.recheckSuspects({ direction, appliedThrough: now, final: false });
  };
  // Nothing applies the source's changes here: the destination stays behind while the source moves.
  for (let n = 1; n <= 3; n++) {
    await hot(cluster0).updateOne({ _id: 1 }, { $set: { n } });
    expect(await pass()).toMatchObject({ open: 1, found: 0 });
  }
  // Once the source stops, the difference is confirmed and repaired.
  expect(await pass()).toMatchObject({ found: 1, repaired: 1 });
  expect(await pass()).toMatchObject({ open: 0 });
  expect(await hot(cluster1).findOne({ _id: 1 })).toEqual({ _id: 1, n: 3 });
});

test('the final pass reads both streams, repairs at once, rebuilds a dropped index, and names what persists', async () => {
  await cluster0.admin.db('app').collection('items').insertMany(docs(50));
  await cluster1.admin.db('app').collection('items').insertMany(docs(50));
  for (const cluster of [cluster0, cluster1])
    await cluster.admin.db('app').collection('items').createIndex({ v: 1 });
  const source = { token: null, startAt: await currentOperationTime(clusters.get('cluster0')) };
  const destination = { token: null, startAt: await currentOperationTime(clusters.get('cluster1')) };
  // Behind the sync's back, after the last pass: a change, a deletion and a dropped index.
  await cluster1.admin
    .db('app')
    .collection('items')
    .updateOne({ _id: new Int32(3) } as Document, { $set: { v: 0 } });
  await cluster1.admin
    .db('app')
    .collection('items')
    .deleteOne({ _id: new Int32(4) } as Document);
  await cluster1.admin.db('app').collection('items').dropIndex('v_1');
  const result = await activities.finalVerification({ direction, options, source, destination });
  expect(result).toMatchObject({ open: 0, persisting: 0, found: 3, repaired: 3 });
  expect(await everyDocument(cluster1, 'items')).toEqual(await everyDocument(cluster0, 'items'));
  expect((await cluster1.admin.db('app').collection('items').indexes()).map((i) => i.name)).toContain('v_1');

  // An index the source does not have cannot be repaired safely: the commit is refused.
  await cluster1.admin.db('app').collection('items').createIndex({ s: 1 });
  const error = await activities
    .finalVerification({ direction, options, source: result.source, destination: result.destination })
    .then(
      () => null,
      (e: unknown) => e,
    );
  expect(error).toBeInstanceOf(ApplicationFailure);
  expect((error as ApplicationFailure).type).toBe('VerificationFailed');
  expect((error as ApplicationFailure).message).toMatch(/app\.items: index s_1 is not on the source/);
});

test('duplicate values under a relaxed unique index are named before the commit', async () => {
  const source = cluster0.admin.db('app').collection('people');
  const destination = cluster1.admin.db('app').collection('people');
  await source.insertMany([
    { _id: new Int32(1), email: 'a@x', team: 'red' },
    { _id: new Int32(2), email: 'b@x', team: 'red' },
    { _id: new Int32(3), team: 'blue' },
  ] as Document[]);
  await source.createIndex({ email: 1 }, { unique: true, sparse: true });
  await source.createIndex({ team: 1 }, { unique: true, partialFilterExpression: { team: 'blue' } });
  // The destination's copies are relaxed (no constraint), and hold two documents with one email.
  await destination.insertMany([
    { _id: new Int32(1), email: 'a@x', team: 'red' },
    { _id: new Int32(2), email: 'a@x', team: 'red' },
    { _id: new Int32(3), team: 'blue' },
    { _id: new Int32(4), team: 'red' },
  ] as Document[]);
  await destination.createIndex({ email: 1 }, { sparse: true });
  await destination.createIndex({ team: 1 }, { partialFilterExpression: { team: 'blue' } });
  const result = await activities.findUniqueConflicts({ direction, options });
  expect(result.indexesChecked).toBe(2);
  // Only the email index conflicts: the partial index covers one "blue" document.
  expect(result.conflicts).toEqual([
    { ns: 'app.people', index: 'email_1', documents: 2, ids: ['{"$numberInt":"1"}', '{"$numberInt":"2"}'] },
  ]);
});
