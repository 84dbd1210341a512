// Query-side fidelity through the real driver: $indexOfCP/$indexOfBytes bounds, $indexStats,
// $toHashedIndexKey, and mongod's errors for the query features the emulator does not implement.
import { Double, Int32, Long, MongoClient, ObjectId, type Db, type Document } from 'mongodb';
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

  test('$indexStats: one document per index with name, key, host, accesses and spec', async () => {
    const coll = db.collection<{ _id: number; a: number }>('stats');
    await coll.insertMany([
      { _id: 1, a: 1 },
      { _id: 2, a: 2 },
    ]);
    await coll.createIndex({ a: 1 }, { unique: true });
    const first = await coll.aggregate([{ $indexStats: {} }]).toArray();
    expect(first.map((entry) => entry.name).sort()).toEqual(['_id_', 'a_1']);
    const a = first.find((entry) => entry.name === 'a_1') as Document;
    expect(Object.keys(a)).toEqual(['name', 'key', 'host', 'accesses', 'spec']);
    expect(a).toMatchObject({
      key: { a: 1 },
      host: emulator.engine.options.hostAndPort,
      spec: { v: 2, key: { a: 1 }, name: 'a_1', unique: true },
    });
    expect(a.building).toBeUndefined();
    expect(a.accesses.since).toBeInstanceOf(Date);
    expect(a.accesses.ops).toBe(0);
    const id = first.find((entry) => entry.name === '_id_') as Document;
    // Queries answered from the _id index count; the `since` stays put.
    await coll.findOne({ _id: 2 });
    await coll.find({ _id: { $gte: 1 } }).toArray();
    const raw = await coll.aggregate([{ $indexStats: {} }], { promoteLongs: false }).toArray();
    const idAfter = raw.find((entry) => entry.name === '_id_') as Document;
    expect(idAfter.accesses.ops).toBeInstanceOf(Long);
    expect(Number(idAfter.accesses.ops)).toBe(Number(id.accesses.ops) + 2);
    expect(idAfter.accesses.since).toEqual(id.accesses.since);
    await expect(coll.aggregate([{ $indexStats: { x: 1 } }]).toArray()).rejects.toMatchObject({
      code: 28803,
    });
    expect(
      await db
        .collection('nothere')
        .aggregate([{ $indexStats: {} }])
        .toArray(),
    ).toEqual([]);
  });

  test('$toHashedIndexKey equals the values mongod publishes for its hashed index keys', async () => {
    const [row] = await client
      .db('admin')
      .aggregate(
        [
          { $documents: [{ val: 'string to hash', n: 42, d: 42.5 }] },
          {
            $project: {
              _id: 0,
              s: { $toHashedIndexKey: '$val' },
              n: { $toHashedIndexKey: '$n' },
              d: { $toHashedIndexKey: '$d' },
              missing: { $toHashedIndexKey: '$nothing' },
              nul: { $toHashedIndexKey: null },
            },
          },
        ],
        { promoteLongs: false },
      )
      .toArray();
    expect(row.s).toEqual(Long.fromString('763543691661428748'));
    expect(row.n).toEqual(Long.fromString('-944302157085130861'));
    expect(row.d).toEqual(row.n);
    expect(row.missing).toEqual(row.nul);
  });

  test('`_id` lookups by $in and by $type-restricted ranges select what mongod selects', async () => {
    const coll = db.collection('mixedIds');
    const oids = [new ObjectId(), new ObjectId(), new ObjectId()];
    const ids: unknown[] = [new Int32(1), new Double(2.5), Long.fromNumber(3), 'a', 'b', ...oids, true];
    await coll.insertMany(ids.map((_id, n) => ({ _id, n })) as Document[]);
    const nsOf = async (filter: Document, sort?: Document) =>
      (await coll.find(filter, { sort, projection: { n: 1 } }).toArray()).map((doc) => doc.n as number);
    // $in matches numbers across types, each document once, in `_id` order; unknown values match nothing.
    expect(await nsOf({ _id: { $in: [3, 'b', new Double(1), 1, oids[1], 'zz', null] } })).toEqual([
      0, 2, 4, 6,
    ]);
    expect(await nsOf({ _id: { $in: [2.5, 'a'] } }, { _id: -1 })).toEqual([3, 1]);
    expect(await nsOf({ _id: { $in: [2.5, 'a'], $type: 'string' } })).toEqual([3]);
    expect(await nsOf({ _id: { $in: [] } })).toEqual([]);
    // Ranges stay in their type bracket; $type narrows further, also for raw (unsorted) reads.
    expect(await nsOf({ _id: { $gte: 1, $type: ['int', 'long'] } }, { _id: 1 })).toEqual([0, 2]);
    expect(await nsOf({ _id: { $gte: 1, $lt: 3, $type: 'double' } })).toEqual([1]);
    expect(await nsOf({ _id: { $gt: oids[0], $type: 'objectId' } }, { _id: 1 })).toEqual([6, 7]);
    expect(await nsOf({ _id: { $lt: 'b', $type: ['string', 'symbol'] } })).toEqual([3]);
    const raw = await coll
      .find({ _id: { $gte: 0, $lte: 3, $type: 'long' } } as Document, { raw: true })
      .toArray();
    expect(raw).toHaveLength(1);
    // $type alone bounds the `_id` walk to its brackets (how partitioning finds each bracket's first id).
    const sorted = { _id: 1 } as const;
    expect(await nsOf({ _id: { $type: 'number' } }, sorted)).toEqual([0, 1, 2]);
    expect(await nsOf({ _id: { $type: 'string' } }, sorted)).toEqual([3, 4]);
    expect(await nsOf({ _id: { $type: 7 } }, sorted)).toEqual([5, 6, 7]);
    expect(await nsOf({ _id: { $type: ['objectId', 'string'] } }, sorted)).toEqual([3, 4, 5, 6, 7]);
    expect(await nsOf({ _id: { $type: ['bool', 'minKey'] } }, sorted)).toEqual([8]);
    expect(await nsOf({ _id: { $type: 'date' } }, sorted)).toEqual([]);
    const first = await coll.findOne({ _id: { $type: ['binData', 'objectId'] } } as Document, {
      sort: sorted,
      projection: { _id: 1 },
      hint: { _id: 1 },
    });
    expect(first).toEqual({ _id: oids[0] });
    await expect(nsOf({ _id: { $type: 'nope' } }, sorted)).rejects.toMatchObject({ code: 2 });
    // Probes that skip along one whole bracket (how partitioning finds split points) stop at its end.
    const numbers = ['int', 'long', 'double', 'decimal'];
    const probe = async (condition: Document, skip: number) =>
      (
        await coll
          .find({ _id: { ...condition, $type: numbers } } as Document, {
            projection: { _id: 1 },
            sort: sorted,
            skip,
            limit: 1,
          })
          .toArray()
      ).map((doc) => doc._id);
    expect(await probe({ $gte: 1 }, 1)).toEqual([2.5]);
    expect(await probe({ $gt: 1 }, 1)).toEqual([3]);
    expect(await probe({ $gte: 1 }, 3)).toEqual([]);
    expect(await probe({ $gte: 1, $lt: 3 }, 1)).toEqual([2.5]);
    expect(await probe({ $gte: 1, $lt: 3 }, 2)).toEqual([]);
    expect(await probe({}, 2)).toEqual([3]);
  });

  test("unsupported query features answer with mongod's errors", async () => {
    const coll = db.collection('features');
    await coll.insertOne({ loc: [0, 0], t: 'hello' });
    // $text without a text index.
    await expect(coll.find({ $text: { $search: 'hello' } }).toArray()).rejects.toMatchObject({
      code: 27,
      codeName: 'IndexNotFound',
      message: 'text index required for $text query',
    });
    // $near / $nearSphere: the planner finds no geo index.
    await expect(coll.find({ loc: { $near: [0, 0] } }).toArray()).rejects.toMatchObject({
      code: 291,
      codeName: 'NoQueryExecutionPlans',
      message: expect.stringContaining('unable to find index for $geoNear query'),
    });
    await expect(
      coll.find({ loc: { $nearSphere: { $geometry: { type: 'Point', coordinates: [0, 0] } } } }).toArray(),
    ).rejects.toMatchObject({ code: 291 });
    // $geoNear without a 2d or 2dsphere index.
    const geoNear = [{ $geoNear: { near: [0, 0], distanceField: 'd' } }];
    await expect(coll.aggregate(geoNear).toArray()).rejects.toMatchObject({
      code: 27,
      message: '$geoNear requires a 2d or 2dsphere index, but none were found',
    });
    // Stages the emulator does not run answer as a mongod without them.
    for (const stage of [
      { $setWindowFields: { sortBy: { t: 1 }, output: { n: { $documentNumber: {} } } } },
      {
        $graphLookup: {
          from: 'features',
          startWith: '$t',
          connectFromField: 't',
          connectToField: 't',
          as: 'g',
        },
      },
      { $densify: { field: 'n', range: { step: 1, bounds: 'full' } } },
    ]) {
      const name = Object.keys(stage)[0];
      await expect(coll.aggregate([stage]).toArray()).rejects.toMatchObject({
        code: 40324,
        message: `Unrecognized pipeline stage name: '${name}'`,
      });
    }
    await coll.createIndex({ loc: '2d' });
    await expect(coll.aggregate(geoNear).toArray()).rejects.toMatchObject({ code: 40324 });
  });
});
