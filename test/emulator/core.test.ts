// The emulator through the real driver: handshake, exact BSON round trips, CRUD and cursors,
// indexes and the catalog, sessions, retryable writes and transactions.
import {
  Binary,
  BSONRegExp,
  Code,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  MongoClient,
  MongoServerError,
  ObjectId,
  Timestamp,
  UUID,
  BSON,
  type Document,
} from 'mongodb';
import { startEmulator, type RunningEmulator } from '../../emulator';

const exact = { promoteValues: false, promoteLongs: false, bsonRegExp: true } as const;

describe('emulator core', () => {
  let emulator: RunningEmulator;
  let client: MongoClient;

  beforeAll(async () => {
    emulator = await startEmulator({ version: '7.0', replSet: 'rsCore' });
    client = await MongoClient.connect(emulator.uri, { serverSelectionTimeoutMS: 5000 });
  });

  afterAll(async () => {
    await client?.close();
    await emulator?.stop();
  });

  test('hello reports a replica-set primary of the configured version', async () => {
    const hello = await client.db('admin').command({ hello: 1 });
    expect(hello.isWritablePrimary).toBe(true);
    expect(hello.setName).toBe('rsCore');
    expect(hello.me).toBe(`127.0.0.1:${emulator.port}`);
    expect(hello.maxWireVersion).toBe(21);
    const info = await client.db('admin').command({ buildInfo: 1 });
    expect(info.version).toMatch(/^7\.0\./);
    const fcv = await client.db('admin').command({ getParameter: 1, featureCompatibilityVersion: 1 });
    expect(fcv.featureCompatibilityVersion.version).toBe('7.0');
    expect(client.options.replicaSet).toBe('rsCore');
  });

  test('every BSON type reads back byte-identical', async () => {
    const doc: Document = {
      _id: new ObjectId(),
      int32: new Int32(7),
      int64: Long.fromString('9007199254740993'),
      double: new Double(1.0),
      decimal: Decimal128.fromString('1234.5678901234567890'),
      date: new Date('2024-02-29T12:34:56.789Z'),
      bin: new Binary(Buffer.from([1, 2, 3]), 0),
      uuid: new UUID(),
      regex: new BSONRegExp('^a.*z$', 'i'),
      ts: new Timestamp({ t: 1700000000, i: 5 }),
      nested: { a: [1, { b: null }, [new Int32(2)]], z: 'last', a2: 'order' },
      minKey: new MinKey(),
      maxKey: new MaxKey(),
      code: new Code('function () { return 1; }'),
      bool: false,
      nothing: null,
      str: 'héllo',
    };
    const coll = client.db('types').collection<any>('all');
    await coll.insertOne(doc);
    const back = await coll.findOne({ _id: doc._id }, exact);
    expect(Buffer.from(BSON.serialize(back!)).equals(Buffer.from(BSON.serialize(doc)))).toBe(true);
  });

  test('mixed-type _id ranges follow the BSON order', async () => {
    const coll = client.db('types').collection<any>('mixed');
    // (a null _id is left out: the driver replaces it with a new ObjectId before sending)
    const ids: unknown[] = [
      new ObjectId(),
      'str',
      5,
      new Double(2.5),
      Long.fromNumber(10),
      { a: 1 },
      true,
      new Date(0),
      new MinKey(),
      new MaxKey(),
    ];
    await coll.insertMany(ids.map((id) => ({ _id: id as never })));
    const sorted = await coll.find({}, exact).sort({ _id: 1 }).toArray();
    const kindOf = (value: unknown): string =>
      value === null
        ? 'null'
        : value instanceof Date
          ? 'Date'
          : ((value as { _bsontype?: string })._bsontype ?? typeof value);
    expect(sorted.map((doc) => kindOf(doc._id))).toEqual([
      'MinKey',
      'Double',
      'Int32',
      'Long',
      'string',
      'object',
      'ObjectId',
      'boolean',
      'Date',
      'MaxKey',
    ]);
    const numbers = await coll.find({ _id: { $gte: 0, $lt: 100 } }).toArray();
    expect(numbers.map((doc) => Number(doc._id))).toEqual([2.5, 5, 10]);
    // One-sided ranges stay within the bound's type bracket.
    expect((await coll.find({ _id: { $gt: 'a' } }).toArray()).map((doc) => doc._id)).toEqual(['str']);
    expect((await coll.find({ _id: { $lt: 6 } }).toArray()).map((doc) => Number(doc._id))).toEqual([2.5, 5]);
    expect((await coll.find({ _id: { $gte: new Date(0) } }).toArray()).map((doc) => doc._id)).toEqual([
      new Date(0),
    ]);
    await expect(coll.insertOne({ _id: [1] as never })).rejects.toMatchObject({ code: 53 });
  });

  test('CRUD, cursors and write results', async () => {
    const coll = client.db('crud').collection<any>('items');
    const docs = Array.from({ length: 250 }, (_, i) => ({
      _id: i,
      n: i,
      tag: i % 3 === 0 ? 'fizz' : 'plain',
      arr: [i, i + 1],
    }));
    const inserted = await coll.insertMany(docs);
    expect(inserted.insertedCount).toBe(250);
    expect(await coll.countDocuments({ tag: 'fizz' })).toBe(84);
    expect(await coll.estimatedDocumentCount()).toBe(250);
    const page = await coll
      .find({ n: { $gte: 100 } }, { batchSize: 7 })
      .sort({ n: -1 })
      .skip(5)
      .limit(20)
      .project({ n: 1 })
      .toArray();
    expect(page).toHaveLength(20);
    expect(page[0]).toEqual({ _id: 244, n: 244 });
    const updated = await coll.updateMany(
      { tag: 'fizz' },
      { $inc: { n: 1000 }, $push: { arr: -1 } as never },
    );
    expect(updated.matchedCount).toBe(84);
    expect(updated.modifiedCount).toBe(84);
    const upsert = await coll.updateOne({ _id: 'new' }, { $set: { n: 1 } }, { upsert: true });
    expect(upsert.upsertedId).toBe('new');
    const replaced = await coll.replaceOne({ _id: 1 }, { replaced: true });
    expect(replaced.modifiedCount).toBe(1);
    expect(await coll.findOne({ _id: 1 })).toEqual({ _id: 1, replaced: true });
    const found = await coll.findOneAndUpdate({ _id: 2 }, { $set: { x: 1 } }, { returnDocument: 'after' });
    expect(found).toMatchObject({ _id: 2, x: 1 });
    const deleted = await coll.deleteMany({ n: { $lt: 50 } });
    // n < 50: the 33 non-fizz of 0..49 (fizz moved to n >= 1000), less the replaced _id 1, plus the upserted 'new'.
    expect(deleted.deletedCount).toBe(33);
    expect(await coll.distinct('tag')).toEqual(expect.arrayContaining(['fizz', 'plain']));
    const grouped = await coll
      .aggregate([{ $group: { _id: '$tag', count: { $sum: 1 } } }, { $sort: { _id: 1 } }])
      .toArray();
    expect(grouped.map((group) => group._id)).toEqual([null, 'fizz', 'plain']);
  });

  test('bulk writes report writeErrors ordered and unordered', async () => {
    const coll = client.db('crud').collection<any>('bulk');
    await coll.insertOne({ _id: 1 });
    await expect(
      coll.insertMany([{ _id: 2 }, { _id: 1 }, { _id: 3 }], { ordered: true }),
    ).rejects.toMatchObject({
      code: 11000,
      result: expect.anything(),
    });
    expect(await coll.countDocuments()).toBe(2);
    const unordered = await coll
      .insertMany([{ _id: 4 }, { _id: 1 }, { _id: 5 }], { ordered: false })
      .catch((error: unknown) => error);
    expect((unordered as { writeErrors: unknown[] }).writeErrors).toHaveLength(1);
    expect(await coll.countDocuments()).toBe(4);
    const bulk = await coll.bulkWrite([
      { insertOne: { document: { _id: 10 } } },
      { updateOne: { filter: { _id: 10 }, update: { $set: { a: 1 } } } },
      { deleteOne: { filter: { _id: 2 } } },
    ]);
    expect(bulk.insertedCount).toBe(1);
    expect(bulk.modifiedCount).toBe(1);
    expect(bulk.deletedCount).toBe(1);
  });

  test('unique indexes give E11000 with keyPattern and keyValue; index catalog round-trips', async () => {
    const coll = client.db('idx').collection<any>('users');
    await coll.createIndex({ email: 1 }, { unique: true, name: 'email_1' });
    await coll.createIndex({ a: 1, b: -1 }, { partialFilterExpression: { a: { $gt: 5 } } });
    await coll.createIndex({ createdAt: 1 }, { expireAfterSeconds: 3600 });
    await coll.createIndex({ hiddenField: 1 }, { hidden: true, sparse: true });
    await coll.insertOne({ email: 'a@x' });
    const error = await coll.insertOne({ email: 'a@x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(11000);
    expect((error as MongoServerError).errmsg).toContain('index: email_1 dup key: { email: "a@x" }');
    expect((error as MongoServerError).keyPattern).toEqual({ email: 1 });
    expect((error as MongoServerError).keyValue).toEqual({ email: 'a@x' });
    const indexes = await coll.listIndexes().toArray();
    expect(indexes.map((index) => index.name)).toEqual([
      '_id_',
      'email_1',
      'a_1_b_-1',
      'createdAt_1',
      'hiddenField_1',
    ]);
    expect(indexes[3].expireAfterSeconds).toBe(3600);
    expect(indexes[4]).toMatchObject({ hidden: true, sparse: true });
    await expect(coll.createIndex({ other: 1 }, { name: 'email_1' })).rejects.toMatchObject({ code: 86 });
    await coll.dropIndex('a_1_b_-1');
    expect((await coll.listIndexes().toArray()).length).toBe(4);
  });

  test('collMod prepareUnique then unique converts an index, refusing duplicates', async () => {
    const coll = client.db('idx').collection<any>('convert');
    await coll.createIndex({ k: 1 });
    await coll.insertMany([{ k: 1 }, { k: 2 }]);
    const db = client.db('idx');
    await expect(
      db.command({ collMod: 'convert', index: { name: 'k_1', unique: true } }),
    ).rejects.toMatchObject({ code: 72 });
    await db.command({ collMod: 'convert', index: { name: 'k_1', prepareUnique: true } });
    await expect(coll.insertOne({ k: 1 })).rejects.toMatchObject({ code: 11000 });
    const result = await db.command({ collMod: 'convert', index: { name: 'k_1', unique: true } });
    expect(result.unique_new).toBe(true);
    expect((await coll.listIndexes().toArray())[1]).toMatchObject({ name: 'k_1', unique: true });
    const hidden = await db.command({ collMod: 'convert', index: { name: 'k_1', hidden: true } });
    expect(hidden).toMatchObject({ hidden_old: false, hidden_new: true });
  });

  test('collections with options, views, rename, drop, listCollections, stats and validate', async () => {
    const db = client.db('cat');
    await db.createCollection('capped', { capped: true, size: 4096, max: 3 });
    await db.createCollection('validated', {
      validator: { n: { $type: 'int' } },
      validationAction: 'error',
      validationLevel: 'strict',
    });
    await db.createCollection('images', { changeStreamPreAndPostImages: { enabled: true } });
    await db.createCollection('clustered', { clusteredIndex: { key: { _id: 1 }, unique: true } });
    await db.createCollection('view', { viewOn: 'capped', pipeline: [{ $match: { n: { $gte: 2 } } }] });
    const capped = db.collection<any>('capped');
    for (let n = 0; n < 5; n++) await capped.insertOne({ n });
    expect((await capped.find().toArray()).map((doc) => doc.n)).toEqual([2, 3, 4]);
    expect((await db.collection<any>('view').find().toArray()).map((doc) => doc.n)).toEqual([2, 3, 4]);
    await expect(db.collection<any>('validated').insertOne({ n: 'text' })).rejects.toMatchObject({
      code: 121,
    });
    const collections = await db.listCollections({}, { nameOnly: false }).toArray();
    const byName = Object.fromEntries(collections.map((entry) => [entry.name, entry]));
    expect(byName.capped.options).toEqual({ capped: true, size: 4096, max: 3 });
    expect(byName.view.type).toBe('view');
    expect(byName.view.options).toEqual({ viewOn: 'capped', pipeline: [{ $match: { n: { $gte: 2 } } }] });
    expect(byName.images.info?.uuid).toBeInstanceOf(Binary);
    await db.collection<any>('images').insertOne({ _id: 1 });
    await client.db('admin').command({ renameCollection: 'cat.images', to: 'cat2.moved' });
    expect(await client.db('cat2').collection<any>('moved').countDocuments()).toBe(1);
    const stats = await db.command({ collStats: 'capped' });
    expect(stats.count).toBe(3);
    expect(stats.capped).toBe(true);
    const [collStats] = await capped.aggregate([{ $collStats: { storageStats: {} } }]).toArray();
    expect(collStats.storageStats.count).toBe(3);
    const validation = await db.command({ validate: 'capped' });
    expect(validation.valid).toBe(true);
    const dbs = await client.db('admin').admin().listDatabases();
    expect(dbs.databases.map((entry) => entry.name)).toEqual(expect.arrayContaining(['cat', 'cat2']));
    expect(await db.collection<any>('capped').drop()).toBe(true);
    await db.dropDatabase();
    expect(
      (await client.db('admin').admin().listDatabases()).databases.map((entry) => entry.name),
    ).not.toContain('cat');
  });

  test('emulator-only hook: validate reports a unique index in the legacy key format', async () => {
    const db = client.db('legacy');
    await db.collection<any>('c').createIndex({ u: 1 }, { unique: true, name: 'u_1' });
    await db.command({ emulatorMarkLegacyUniqueIndex: 'c', index: 'u_1' });
    const validation = await db.command({ validate: 'c' });
    expect(validation.warnings.join(' ')).toMatch(/Unique index u_1 .*old/);
    expect(validation.indexDetails.u_1.warnings).toHaveLength(1);
  });

  test('retryable writes apply once for the same (lsid, txnNumber)', async () => {
    const db = client.db('retry');
    // The driver puts its own session's lsid on every command; use a txnNumber no pooled session has used.
    const session = client.startSession();
    try {
      const command = { insert: 'c', documents: [{ x: 1 }], txnNumber: Long.fromNumber(1_000_000) };
      await db.command(command, { session });
      const again = await db.command(command, { session });
      expect(again.n).toBe(1);
      expect(await db.collection<any>('c').countDocuments()).toBe(1);
    } finally {
      await session.endSession();
    }
  });

  test('transactions commit atomically and abort without trace', async () => {
    const coll = client.db('txn').collection<any>('accounts');
    await coll.insertMany([
      { _id: 'a', balance: 100 },
      { _id: 'b', balance: 0 },
    ]);
    const session = client.startSession();
    try {
      await session.withTransaction(async () => {
        await coll.updateOne({ _id: 'a' }, { $inc: { balance: -40 } }, { session });
        await coll.updateOne({ _id: 'b' }, { $inc: { balance: 40 } }, { session });
      });
      session.startTransaction();
      await coll.insertOne({ _id: 'c', balance: 1 }, { session });
      await coll.deleteOne({ _id: 'a' }, { session });
      await session.abortTransaction();
    } finally {
      await session.endSession();
    }
    expect(await coll.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 'a', balance: 60 },
      { _id: 'b', balance: 40 },
    ]);
  });

  test('unknown commands answer 59 CommandNotFound; replies carry $clusterTime that advances', async () => {
    const db = client.db('admin');
    await expect(db.command({ noSuchCommand: 1 })).rejects.toMatchObject({ code: 59 });
    const first = await db.command({ ping: 1 });
    await client.db('clock').collection<any>('c').insertOne({});
    const second = await db.command({ ping: 1 });
    expect(first.operationTime).toBeInstanceOf(Timestamp);
    expect((second.operationTime as Timestamp).greaterThan(first.operationTime as Timestamp)).toBe(true);
  });
});
