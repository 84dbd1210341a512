// The source's oplog window through the real driver against an emulated replica set: its ends
// move with writes, its capped size is the configured one, and a user who may not read
// local.oplog.rs gets null (the estimate is left out), not an error.
import { MongoClient } from 'mongodb';
import { readOplogWindow } from '../../../src/activities/oplogWindow';
import { APP_USER, startTestCluster, stopTestCluster, type TestCluster } from '../helpers/clusters';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startTestCluster('oplogWin', '8.0', 64);
});
afterAll(() => stopTestCluster(cluster));

test('reads the oldest and newest entries and the capped size', async () => {
  await cluster.admin.db('app').collection('a').insertOne({ n: 1 });
  const before = await readOplogWindow(cluster.admin);
  expect(before).not.toBeNull();
  expect(before!.maxSizeBytes).toBe(64 * 1024 * 1024);
  expect(before!.sizeBytes).toBeGreaterThan(0);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await cluster.admin.db('app').collection('a').insertOne({ n: 2 });
  const after = await readOplogWindow(cluster.admin);
  expect(after!.first).toEqual(before!.first);
  expect(after!.last.t).toBeGreaterThan(before!.last.t);
  expect(after!.sizeBytes).toBeGreaterThan(before!.sizeBytes);
});

test('is null for a user who may not read the oplog', async () => {
  const app = await MongoClient.connect(`mongodb://127.0.0.1:${cluster.emulator.port}/?replicaSet=oplogWin`, {
    auth: APP_USER,
  });
  try {
    expect(await readOplogWindow(app)).toBeNull();
  } finally {
    await app.close();
  }
});
