// Collations through the real driver: command-level options, a collection's default collation,
// `_id` lookups under a collation, and the $merge / $out errors mongod gives.
import { MongoClient, MongoServerError, type Document } from 'mongodb';
import { startEmulator, type RunningEmulator } from '../../emulator';

interface AnyDocument {
  _id: string | number;
  [field: string]: unknown;
}

describe('emulator collation', () => {
  let emulator: RunningEmulator;
  let client: MongoClient;

  beforeAll(async () => {
    emulator = await startEmulator({ version: '7.0', replSet: 'rsCollation' });
    client = await MongoClient.connect(emulator.uri, { serverSelectionTimeoutMS: 5000 });
  });

  afterAll(async () => {
    await client?.close();
    await emulator?.stop();
  });

  const ci = { locale: 'en', strength: 2 };

  test('command collations apply to find, count, distinct, sort, update and delete', async () => {
    const coll = client.db('collation').collection<AnyDocument>('words');
    await coll.insertMany([
      { _id: 'b', w: 'b' },
      { _id: 'B', w: 'B' },
      { _id: 'a', w: 'a' },
      { _id: 'A', w: 'A' },
    ]);
    expect(await coll.countDocuments({ w: 'a' })).toBe(1);
    expect(await coll.countDocuments({ w: 'a' }, { collation: ci })).toBe(2);
    expect(await coll.distinct('w', {}, { collation: ci })).toEqual(['b', 'a']);
    const sorted = await coll.find({}, { sort: { w: 1 }, collation: { locale: 'en' } }).toArray();
    expect(sorted.map((d) => d.w)).toEqual(['a', 'A', 'b', 'B']);
    // `_id` equality and ranges cannot use the binary-ordered `_id` tree under a collation.
    const byId = await coll.find({ _id: 'A' }, { collation: ci }).toArray();
    expect(byId.map((d) => d._id).sort()).toEqual(['A', 'a']);
    const range = await coll.find({ _id: { $lt: 'b' } }, { collation: ci }).toArray();
    expect(range.map((d) => d._id).sort()).toEqual(['A', 'a']);
    const idSorted = await coll.find({}, { sort: { _id: -1 }, collation: { locale: 'en' } }).toArray();
    expect(idSorted.map((d) => d._id)).toEqual(['B', 'b', 'A', 'a']);
    const updated = await coll.updateMany({ w: 'B' }, { $set: { seen: true } }, { collation: ci });
    expect(updated.modifiedCount).toBe(2);
    const deleted = await coll.deleteMany({ w: { $gte: 'B' } }, { collation: ci });
    expect(deleted.deletedCount).toBe(2);
    await expect(coll.find({}, { collation: { locale: 'xx_XX' } }).toArray()).rejects.toMatchObject({
      code: 2,
    });
  });

  test("a collection's default collation applies when the command gives none", async () => {
    const db = client.db('collation');
    await db.createCollection('names', { collation: { locale: 'en', strength: 1 } });
    const [info] = await db.listCollections({ name: 'names' }).toArray();
    expect((info as Document).options.collation).toMatchObject({
      locale: 'en',
      strength: 1,
      caseLevel: false,
    });
    const coll = db.collection<Document>('names');
    await coll.insertMany([{ n: 'Élan' }, { n: 'elan' }, { n: 'other' }]);
    expect(await coll.countDocuments({ n: 'ELAN' })).toBe(2);
    expect(await coll.countDocuments({ n: 'ELAN' }, { collation: { locale: 'simple' } })).toBe(0);
    const grouped = await coll.aggregate([{ $group: { _id: '$n' } }]).toArray();
    expect(grouped).toHaveLength(2);
  });

  test('$merge whenMatched fail reports the duplicate key like other E11000 errors', async () => {
    const db = client.db('collation');
    await db.collection<AnyDocument>('target').insertMany([{ _id: 1 }, { _id: 2 }]);
    const error = await db
      .aggregate([{ $documents: [{ _id: 2, x: 1 }] }, { $merge: { into: 'target', whenMatched: 'fail' } }])
      .toArray()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error).toMatchObject({ code: 11000, keyPattern: { _id: 1 }, keyValue: { _id: 2 } });
  });

  test('$out refuses readConcern linearizable', async () => {
    const coll = client.db('collation').collection('target', { readConcern: { level: 'linearizable' } });
    await expect(coll.aggregate([{ $out: 'copied' }]).toArray()).rejects.toMatchObject({ code: 72 });
    const local = client.db('collation').collection('target', { readConcern: { level: 'local' } });
    await local.aggregate([{ $out: 'copied' }]).toArray();
    expect(await client.db('collation').collection('copied').countDocuments()).toBe(2);
  });
});
