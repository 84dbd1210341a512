// Sessions, transactions and retryable writes through the real driver, as mongod answers them:
// $listLocalSessions / $listSessions, snapshot reads at a cluster time, the commands refused in a
// transaction or with snapshot read concern, TransientTransactionError labels, unsatisfiable write
// concerns, and retryable writes under the onPrimaryTransactionalWrite fail point.
import {
  MongoClient,
  MongoServerError,
  MongoWriteConcernError,
  type Document,
  type Timestamp,
  type W,
} from 'mongodb';
import { startEmulator, type RunningEmulator } from '../../emulator';

describe('emulator sessions, transactions and retryable writes', () => {
  let emulator: RunningEmulator;
  let client: MongoClient;
  let counter = 0;
  const fresh = () => client.db('sessions').collection<{ _id: number; x?: number }>(`c${++counter}`);

  beforeAll(async () => {
    emulator = await startEmulator({ version: '8.0', replSet: 'rsSessions' });
    client = await MongoClient.connect(emulator.uri, { serverSelectionTimeoutMS: 5000 });
  });

  afterAll(async () => {
    await client?.close();
    await emulator?.stop();
  });

  it('$listLocalSessions and $listSessions list the sessions in use', async () => {
    const session = client.startSession();
    try {
      await client.db('admin').command({ ping: 1 }, { session });
      const local = await client
        .db('any')
        .aggregate([{ $listLocalSessions: {} }])
        .toArray();
      const ids = local.map((doc) => Buffer.from((doc._id as Document).id.buffer).toString('hex'));
      expect(ids).toContain(Buffer.from(session.id!.id.buffer).toString('hex'));
      expect(local[0]).toMatchObject({ _id: { uid: expect.anything() }, lastUse: expect.any(Date) });
      const listed = await client
        .db('config')
        .collection('system.sessions')
        .aggregate([{ $listSessions: { allUsers: true } }, { $count: 'n' }])
        .toArray();
      expect(listed[0].n).toBeGreaterThan(0);
      await expect(
        fresh()
          .aggregate([{ $listLocalSessions: {} }])
          .toArray(),
      ).rejects.toThrow(/aggregate: 1/);
    } finally {
      await session.endSession();
    }
  });

  it('reads a snapshot at its cluster time; other commands refuse snapshot read concern', async () => {
    const coll = fresh();
    await coll.insertMany([
      { _id: 1, x: 11 },
      { _id: 2, x: 22 },
    ]);
    const session = client.startSession({ snapshot: true });
    try {
      expect(await coll.find({}, { session }).toArray()).toHaveLength(2);
      const at = (session as unknown as { snapshotTime?: Timestamp }).snapshotTime;
      expect(at).toBeDefined();
      await coll.updateOne({ _id: 1 }, { $set: { x: 12 } });
      await coll.deleteOne({ _id: 2 });
      await coll.insertOne({ _id: 3, x: 33 });
      expect(await coll.find({}, { session }).sort({ _id: 1 }).toArray()).toEqual([
        { _id: 1, x: 11 },
        { _id: 2, x: 22 },
      ]);
      expect(await coll.distinct('x', {}, { session })).toEqual([11, 22]);
      expect(await coll.find().sort({ _id: 1 }).toArray()).toEqual([
        { _id: 1, x: 12 },
        { _id: 3, x: 33 },
      ]);
      const refused = await coll.insertOne({ _id: 4 }, { session }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(MongoServerError);
      expect((refused as MongoServerError).codeName).toBe('InvalidOptions');
    } finally {
      await session.endSession();
    }
  });

  it('a transaction reads from its snapshot: later commits of other sessions stay invisible', async () => {
    const coll = fresh();
    await coll.insertOne({ _id: 1, x: 1 });
    const session = client.startSession();
    try {
      session.startTransaction();
      expect(await coll.findOne({ _id: 1 }, { session })).toEqual({ _id: 1, x: 1 });
      await coll.updateOne({ _id: 1 }, { $set: { x: 2 } });
      await coll.insertOne({ _id: 2, x: 2 });
      expect(await coll.find({}, { session }).toArray()).toEqual([{ _id: 1, x: 1 }]);
      await coll.insertOne({ _id: 3 }, { session });
      expect(await coll.countDocuments({}, { session })).toBe(2);
      await session.commitTransaction();
      expect(await coll.countDocuments()).toBe(3);
    } finally {
      await session.endSession();
    }
  });

  it('hides a collection and an index created in a transaction from others until the commit', async () => {
    const coll = fresh();
    const names = async () =>
      (await client.db('sessions').listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
    const session = client.startSession();
    try {
      session.startTransaction();
      await coll.insertOne({ _id: 1 }, { session });
      await coll.createIndex({ x: 1 }, { session });
      expect(await names()).not.toContain(coll.collectionName);
      await session.commitTransaction();
      expect(await names()).toContain(coll.collectionName);
      expect((await coll.listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_', 'x_1']);
    } finally {
      await session.endSession();
    }
  });

  it('refuses count in a transaction and labels transient transaction errors', async () => {
    const coll = fresh();
    await coll.insertOne({ _id: 1 });
    const session = client.startSession();
    try {
      session.startTransaction();
      const error = (await coll.countDocuments({}, { session }).then(
        () => undefined,
        (e: unknown) => e,
      )) as MongoServerError | undefined;
      // countDocuments is an aggregate, which transactions allow; count is not.
      expect(error).toBeUndefined();
      const count = await client
        .db('sessions')
        .command({ count: coll.collectionName }, { session })
        .catch((e: unknown) => e);
      expect((count as MongoServerError).codeName).toBe('OperationNotSupportedInTransaction');
      await session.abortTransaction().catch(() => undefined);

      await client.db('admin').command({
        configureFailPoint: 'failCommand',
        mode: { times: 1 },
        data: { failCommands: ['insert'], errorCode: 112 },
      });
      session.startTransaction();
      const conflict = (await coll
        .insertOne({ _id: 2 }, { session })
        .catch((e: unknown) => e)) as MongoServerError;
      expect(conflict.code).toBe(112);
      expect(conflict.hasErrorLabel('TransientTransactionError')).toBe(true);
      await session.abortTransaction().catch(() => undefined);

      // A statement that fails aborts the transaction.
      session.startTransaction();
      await expect(coll.insertOne({ _id: 1 }, { session })).rejects.toThrow(/E11000/);
      const after = (await coll
        .insertOne({ _id: 5 }, { session })
        .catch((e: unknown) => e)) as MongoServerError;
      expect(after.codeName).toBe('NoSuchTransaction');
      await session.abortTransaction().catch(() => undefined);
    } finally {
      await session.endSession();
    }
  });

  it('reports a write concern a one-member replica set cannot satisfy, after writing', async () => {
    const coll = fresh();
    const unsatisfiable = (await coll
      .insertOne({ _id: 1 }, { writeConcern: { w: 3 } })
      .catch((e: unknown) => e)) as MongoWriteConcernError | undefined;
    expect(unsatisfiable).toBeInstanceOf(MongoWriteConcernError);
    expect(unsatisfiable?.code).toBe(100);
    expect(unsatisfiable?.result).toMatchObject({ n: 1 });
    const unknown = (await coll
      .insertOne({ _id: 2 }, { writeConcern: { w: 'dc1' as unknown as W } })
      .catch((e: unknown) => e)) as MongoWriteConcernError | undefined;
    expect(unknown?.code).toBe(79);
    expect(await coll.countDocuments()).toBe(2);
    expect((await coll.insertOne({ _id: 3 }, { writeConcern: { w: 'majority' } })).acknowledged).toBe(true);
  });

  it('retries a write whose connection closed after it committed, without applying it twice', async () => {
    const coll = fresh();
    await coll.insertOne({ _id: 1, x: 1 });
    await client
      .db('admin')
      .command({ configureFailPoint: 'onPrimaryTransactionalWrite', mode: { times: 1 } });
    const result = await coll.updateOne({ _id: 1 }, { $inc: { x: 1 } });
    expect(result.modifiedCount).toBe(1);
    expect(await coll.findOne({ _id: 1 })).toEqual({ _id: 1, x: 2 });
  });

  it('retries only the statements not committed before the failure', async () => {
    const coll = fresh();
    await client.db('admin').command({
      configureFailPoint: 'onPrimaryTransactionalWrite',
      mode: { skip: 1 },
      data: { failBeforeCommitExceptionCode: 1 },
    });
    try {
      // Statement 0 commits; statement 1 fails (and keeps failing: the mode is skip) each attempt.
      const error = await coll
        .insertMany([{ _id: 1 }, { _id: 2 }], { ordered: true })
        .then(() => undefined)
        .catch((e: unknown) => e);
      expect(error).toBeDefined();
    } finally {
      await client.db('admin').command({ configureFailPoint: 'onPrimaryTransactionalWrite', mode: 'off' });
    }
    expect(await coll.find().toArray()).toEqual([{ _id: 1 }]);
    await client.db('admin').command({
      configureFailPoint: 'onPrimaryTransactionalWrite',
      mode: { times: 1 },
      data: { failBeforeCommitExceptionCode: 1 },
    });
    const retried = await coll.insertMany([{ _id: 3 }, { _id: 4 }]);
    expect(retried.insertedCount).toBe(2);
    expect(await coll.countDocuments()).toBe(3);
  });
});
