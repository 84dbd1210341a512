// Transaction isolation through the real driver: other clients read only committed data, a
// second transaction writing the same document gets a transient WriteConflict, and a write
// outside transactions waits for the transaction that owns its document.
import { MongoClient, MongoServerError, type ClientSession, type Collection, type Document } from 'mongodb';
import { startEmulator, type RunningEmulator } from '../../emulator';

interface Doc {
  _id: string;
  v: number;
  w?: number;
}

describe('emulator transactions: isolation', () => {
  let emulator: RunningEmulator;
  let client: MongoClient;
  let other: MongoClient;
  let counter = 0;

  beforeAll(async () => {
    emulator = await startEmulator({ version: '7.0', replSet: 'rsTxn' });
    client = await MongoClient.connect(emulator.uri, { serverSelectionTimeoutMS: 5000 });
    other = await MongoClient.connect(emulator.uri, { serverSelectionTimeoutMS: 5000 });
  });

  afterAll(async () => {
    await client?.close();
    await other?.close();
    await emulator?.stop();
  });

  /** A fresh collection seeded with a, b and c, as seen by the transaction's client and by another. */
  async function seeded(): Promise<{ mine: Collection<Doc>; theirs: Collection<Doc> }> {
    const name = `iso${++counter}`;
    const mine = client.db('txn').collection<Doc>(name);
    await mine.insertMany([
      { _id: 'a', v: 1 },
      { _id: 'b', v: 2 },
      { _id: 'c', v: 3 },
    ]);
    return { mine, theirs: other.db('txn').collection<Doc>(name) };
  }

  async function observed(theirs: Collection<Doc>): Promise<Document> {
    return {
      find: await theirs.find({}, { sort: { _id: 1 } }).toArray(),
      natural: (await theirs.find({}).toArray()).map((doc) => doc._id).sort(),
      filtered: await theirs.find({ v: { $gte: 2 } }, { sort: { _id: 1 } }).toArray(),
      range: await theirs.find({ _id: { $gte: 'a', $lte: 'z' } }).toArray(),
      one: await theirs.findOne({ _id: 'a' }),
      deletedOne: await theirs.findOne({ _id: 'b' }),
      insertedOne: await theirs.findOne({ _id: 'd' }),
      count: await theirs.countDocuments(),
      countFiltered: await theirs.countDocuments({ v: { $gte: 2 } }),
      estimated: await theirs.estimatedDocumentCount(),
      aggregate: await theirs.aggregate([{ $sort: { _id: 1 } }]).toArray(),
      distinct: (await theirs.distinct('v')).sort((x, y) => x - y),
    };
  }

  const before = {
    find: [
      { _id: 'a', v: 1 },
      { _id: 'b', v: 2 },
      { _id: 'c', v: 3 },
    ],
    natural: ['a', 'b', 'c'],
    filtered: [
      { _id: 'b', v: 2 },
      { _id: 'c', v: 3 },
    ],
    range: [
      { _id: 'a', v: 1 },
      { _id: 'b', v: 2 },
      { _id: 'c', v: 3 },
    ],
    one: { _id: 'a', v: 1 },
    deletedOne: { _id: 'b', v: 2 },
    insertedOne: null,
    count: 3,
    countFiltered: 2,
    estimated: 3,
    aggregate: [
      { _id: 'a', v: 1 },
      { _id: 'b', v: 2 },
      { _id: 'c', v: 3 },
    ],
    distinct: [1, 2, 3],
  };

  async function changeInTransaction(mine: Collection<Doc>, session: ClientSession) {
    session.startTransaction();
    await mine.updateOne({ _id: 'a' }, { $set: { v: 10 } }, { session });
    await mine.deleteOne({ _id: 'b' }, { session });
    await mine.insertOne({ _id: 'd', v: 4 }, { session });
    // The transaction reads its own writes.
    expect(await mine.find({}, { session, sort: { _id: 1 } }).toArray()).toEqual([
      { _id: 'a', v: 10 },
      { _id: 'c', v: 3 },
      { _id: 'd', v: 4 },
    ]);
    expect(await mine.countDocuments({}, { session })).toBe(3);
  }

  test('other clients see only committed data, and everything after the commit', async () => {
    const { mine, theirs } = await seeded();
    const session = client.startSession();
    try {
      await changeInTransaction(mine, session);
      expect(await observed(theirs)).toEqual(before);
      await session.commitTransaction();
    } finally {
      await session.endSession();
    }
    expect(await observed(theirs)).toEqual({
      find: [
        { _id: 'a', v: 10 },
        { _id: 'c', v: 3 },
        { _id: 'd', v: 4 },
      ],
      natural: ['a', 'c', 'd'],
      filtered: [
        { _id: 'a', v: 10 },
        { _id: 'c', v: 3 },
        { _id: 'd', v: 4 },
      ],
      range: [
        { _id: 'a', v: 10 },
        { _id: 'c', v: 3 },
        { _id: 'd', v: 4 },
      ],
      one: { _id: 'a', v: 10 },
      deletedOne: null,
      insertedOne: { _id: 'd', v: 4 },
      count: 3,
      countFiltered: 3,
      estimated: 3,
      aggregate: [
        { _id: 'a', v: 10 },
        { _id: 'c', v: 3 },
        { _id: 'd', v: 4 },
      ],
      distinct: [3, 4, 10],
    });
  });

  test('after an abort nothing changed', async () => {
    const { mine, theirs } = await seeded();
    const session = client.startSession();
    try {
      await changeInTransaction(mine, session);
      await session.abortTransaction();
    } finally {
      await session.endSession();
    }
    expect(await observed(theirs)).toEqual(before);
    // The documents are free again: a plain write goes through at once.
    await theirs.updateOne({ _id: 'a' }, { $set: { v: 5 } });
    expect(await mine.findOne({ _id: 'a' })).toEqual({ _id: 'a', v: 5 });
  });

  test('a second transaction writing the same document gets a transient WriteConflict', async () => {
    const { mine, theirs } = await seeded();
    const first = client.startSession();
    const second = other.startSession();
    try {
      first.startTransaction();
      await mine.updateOne({ _id: 'a' }, { $inc: { v: 1 } }, { session: first });

      second.startTransaction();
      const error = await theirs
        .updateOne({ _id: 'a' }, { $inc: { v: 100 } }, { session: second })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MongoServerError);
      expect((error as MongoServerError).code).toBe(112);
      expect((error as MongoServerError).codeName).toBe('WriteConflict');
      expect((error as MongoServerError).hasErrorLabel('TransientTransactionError')).toBe(true);
      await second.abortTransaction();

      // withTransaction retries on the transient error until the first transaction has committed.
      let attempts = 0;
      const retried = second.withTransaction(async () => {
        attempts++;
        await theirs.updateOne({ _id: 'a' }, { $inc: { v: 100 } }, { session: second });
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      await first.commitTransaction();
      await retried;
      expect(attempts).toBeGreaterThan(1);
      expect(await mine.findOne({ _id: 'a' })).toEqual({ _id: 'a', v: 102 });
    } finally {
      await first.endSession();
      await second.endSession();
    }
  });

  test('a write outside transactions waits for the transaction that changed its document', async () => {
    const { mine, theirs } = await seeded();
    const session = client.startSession();
    try {
      session.startTransaction();
      await mine.updateOne({ _id: 'a' }, { $inc: { v: 10 } }, { session });
      await mine.deleteOne({ _id: 'b' }, { session });

      let done = false;
      const update = theirs.updateOne({ _id: 'a' }, { $inc: { v: 100 } }).then((result) => {
        done = true;
        return result;
      });
      const reinsert = theirs.insertOne({ _id: 'b', v: 20 });
      // Statements before the blocked one are applied once, even though the command waits.
      const many = theirs.insertMany(
        [
          { _id: 'e', v: 5 },
          { _id: 'a2', v: 6 },
          { _id: 'c', v: 30 },
        ],
        {
          ordered: false,
        },
      );
      const manyOutcome = many.catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(done).toBe(false);
      // Writes to other documents are not held up.
      await theirs.updateOne({ _id: 'c' }, { $set: { w: 1 } });
      await session.commitTransaction();

      expect((await update).modifiedCount).toBe(1);
      expect((await reinsert).insertedId).toBe('b');
      expect(await manyOutcome).toBeInstanceOf(MongoServerError); // 'c' exists: a duplicate key
      expect(await mine.find({}, { sort: { _id: 1 } }).toArray()).toEqual([
        { _id: 'a', v: 111 },
        { _id: 'a2', v: 6 },
        { _id: 'b', v: 20 },
        { _id: 'c', v: 3, w: 1 },
        { _id: 'e', v: 5 },
      ]);
    } finally {
      await session.endSession();
    }
  });

  test('a waiting write goes ahead when the transaction aborts instead', async () => {
    const { mine, theirs } = await seeded();
    const session = client.startSession();
    try {
      session.startTransaction();
      await mine.updateOne({ _id: 'a' }, { $set: { v: 50 } }, { session });
      const waiting = theirs.findOneAndUpdate({ _id: 'a' }, { $inc: { v: 1 } }, { returnDocument: 'after' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      await session.abortTransaction();
      expect(await waiting).toEqual({ _id: 'a', v: 2 });
    } finally {
      await session.endSession();
    }
  });
});
