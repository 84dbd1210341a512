// Copy planning through the real driver against an emulated cluster: the partitions of a collection
// with several `_id` types cover every document exactly once, in `_id` order, also when more split
// points are needed than are probed at once.
import { Int32, ObjectId, UUID, type Document } from 'mongodb';
import type { CollectionPlan } from '../../../src/activities/contract';
import { partitionFilter } from '../../../src/activities/copy';
import { hasRandomIds, planPartitions } from '../../../src/activities/partition';
import { startTestCluster, stopTestCluster, type TestCluster } from '../helpers/clusters';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startTestCluster('partitions');
  const documents: Document[] = [];
  for (let n = 0; n < 3000; n++) documents.push({ _id: new Int32(n), pad: 'x'.repeat(100) });
  for (let n = 0; n < 1000; n++) documents.push({ _id: `key-${String(n).padStart(4, '0')}`, pad: 'y' });
  for (let n = 0; n < 500; n++) documents.push({ _id: new ObjectId(), pad: 'z' });
  await cluster.admin.db('plan').collection('mixed').insertMany(documents);
});

afterAll(async () => {
  await stopTestCluster(cluster);
});

async function plan(targetBytes: number) {
  const collection = cluster.admin.db('plan').collection('mixed');
  const estimatedDocuments = await collection.countDocuments();
  const collectionPlan: CollectionPlan = {
    db: 'plan',
    coll: 'mixed',
    uuid: null,
    capped: false,
    estimatedDocuments,
    estimatedBytes: estimatedDocuments * 100,
  };
  const partitions = await planPartitions(cluster.admin, collectionPlan, targetBytes);
  const counts = await Promise.all(
    partitions.map((partition) => collection.countDocuments(partitionFilter(partition, null))),
  );
  return { partitions, counts, estimatedDocuments };
}

test.each([
  ['one partition per type bracket', 10_000_000, 3],
  ['more split points than are probed at once', 10_000, 3 + 20],
])('%s: every document in exactly one partition', async (_name, targetBytes, atLeast) => {
  const { partitions, counts, estimatedDocuments } = await plan(targetBytes);
  expect(partitions.length).toBeGreaterThanOrEqual(atLeast);
  expect(counts.reduce((sum, count) => sum + count, 0)).toBe(estimatedDocuments);
  expect(counts.every((count) => count > 0)).toBe(true);
  expect(new Set(partitions.map((partition) => partition.id)).size).toBe(partitions.length);
});

describe('copy order (copyInNaturalOrder, detectRandomId)', () => {
  const collectionPlan = (coll: string, estimatedDocuments: number): CollectionPlan => ({
    db: 'order',
    coll,
    uuid: null,
    capped: false,
    estimatedDocuments,
    estimatedBytes: estimatedDocuments * 200,
  });

  beforeAll(async () => {
    const db = cluster.admin.db('order');
    await db
      .collection<{ _id: UUID; pad: string }>('uuids')
      .insertMany(Array.from({ length: 2000 }, () => ({ _id: new UUID(), pad: 'u'.repeat(150) })));
    await db
      .collection<Document>('objectIds')
      .insertMany(Array.from({ length: 2000 }, () => ({ _id: new ObjectId(), pad: 'o'.repeat(150) })));
    await db
      .collection<{ _id: Int32; pad: string }>('counters')
      .insertMany(Array.from({ length: 2000 }, (_, n) => ({ _id: new Int32(n), pad: 'c'.repeat(150) })));
  });

  it('tells random _ids from increasing ones by their insertion order', async () => {
    const db = cluster.admin.db('order');
    expect(await hasRandomIds(db.collection('uuids'))).toBe(true);
    expect(await hasRandomIds(db.collection('objectIds'))).toBe(false);
    expect(await hasRandomIds(db.collection('counters'))).toBe(false);
    // Mixed types are not compared: not random.
    expect(await hasRandomIds(cluster.admin.db('plan').collection('mixed'))).toBe(false);
  });

  it('copies a copyInNaturalOrder collection whole, in natural order', async () => {
    const partitions = await planPartitions(
      cluster.admin,
      collectionPlan('counters', 2000),
      10_000,
      'natural',
    );
    expect(partitions).toEqual([expect.objectContaining({ naturalOrder: true, lower: null, upper: null })]);
  });

  it('copies a collection of random _ids in natural order once it would span several partitions', async () => {
    const target = 10_000;
    const [natural] = await planPartitions(
      cluster.admin,
      collectionPlan('uuids', 2000),
      target,
      'naturalIfRandomIds',
    );
    expect(natural.naturalOrder).toBe(true);
    // Within one partition there is nothing to gain: _id order, which a retry resumes.
    const small = await planPartitions(
      cluster.admin,
      collectionPlan('uuids', 2000),
      10_000_000,
      'naturalIfRandomIds',
    );
    expect(small.map((p) => p.naturalOrder)).toEqual([false]);
    // detectRandomId false, or increasing _ids: _id ranges.
    const ranges = await planPartitions(cluster.admin, collectionPlan('uuids', 2000), target, 'idRanges');
    expect(ranges.length).toBeGreaterThan(1);
    expect(ranges.every((p) => !p.naturalOrder)).toBe(true);
    const objectIds = await planPartitions(
      cluster.admin,
      collectionPlan('objectIds', 2000),
      target,
      'naturalIfRandomIds',
    );
    expect(objectIds.length).toBeGreaterThan(1);
    expect(objectIds.every((p) => !p.naturalOrder)).toBe(true);
  });
});
