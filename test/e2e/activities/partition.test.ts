// Copy planning through the real driver against an emulated cluster: the partitions of a collection
// with several `_id` types cover every document exactly once, in `_id` order, also when more split
// points are needed than are probed at once.
import { Int32, ObjectId, type Document } from 'mongodb';
import type { CollectionPlan } from '../../../src/activities/contract';
import { partitionFilter } from '../../../src/activities/copy';
import { planPartitions } from '../../../src/activities/partition';
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
