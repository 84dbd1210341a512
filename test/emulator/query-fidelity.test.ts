// Query-side fidelity through the real driver: $indexOfCP/$indexOfBytes bounds, $indexStats,
// $toHashedIndexKey, and mongod's errors for the query features the emulator does not implement.
import { MongoClient, type Db, type Document } from 'mongodb';
import { startEmulator, type RunningEmulator } from '../../emulator';

describe('emulator query fidelity', () => {
  let emulator: RunningEmulator;
  let client: MongoClient;
  let db: Db;

  beforeAll(async () => {
    emulator = await startEmulator({ version: '7.0', replSet: 'rsQueryFidelity' });
    client = await MongoClient.connect(emulator.uri, { serverSelectionTimeoutMS: 5000 });
    db = client.db('queryfidelity');
    await db.collection('one').insertOne({ _id: 1, s: 'abcd' } as Document);
  });

  afterAll(async () => {
    await client?.close();
    await emulator?.stop();
  });

  async function project(expression: Document): Promise<unknown> {
    const [row] = await db
      .collection('one')
      .aggregate([{ $project: { _id: 0, out: expression } }])
      .toArray();
    return row.out;
  }

  test('$indexOfCP matches starting before the end index; $indexOfBytes only matches fitting before it', async () => {
    expect(await project({ $indexOfCP: ['$s', 'bcd', 0, 2] })).toBe(1);
    expect(await project({ $indexOfBytes: ['$s', 'bcd', 0, 2] })).toBe(-1);
    expect(await project({ $indexOfCP: ['$s', 'd', 0, 3] })).toBe(-1);
    expect(await project({ $indexOfCP: ['$s', 'c', 1, 99] })).toBe(2);
    expect(await project({ $indexOfCP: ['$s', 'c', 3, 1] })).toBe(-1);
    expect(await project({ $indexOfBytes: ['$s', '', 4] })).toBe(4);
    expect(await project({ $indexOfCP: ['$s', '', 4] })).toBe(-1);
    await expect(project({ $indexOfCP: ['$s', 'b', -1] })).rejects.toMatchObject({ code: 40097 });
    await expect(project({ $indexOfBytes: ['$s', 'b', 'x'] })).rejects.toMatchObject({ code: 40096 });
  });
});
