// Resume tokens in mongod's format and $changeStreamSplitLargeEvent, through the official driver.
import { Binary, type Collection, type Document, MongoClient, MongoServerError, Timestamp } from 'mongodb';
import { startEmulator } from '../../emulator';
import { startEmulatorWithClient } from './helpers/emulator';

type TestDoc = { _id: number; [field: string]: unknown };

let client: MongoClient;
let stop: (() => Promise<void>) | undefined;
let dbCounter = 0;

beforeAll(async () => {
  ({ client, stop } = await startEmulatorWithClient({}));
});

afterAll(() => stop?.());

function freshDb(): ReturnType<MongoClient['db']> {
  dbCounter++;
  return client.db(`cst_${dbCounter}`);
}

const hex = (value: number, width = 8): string => value.toString(16).toUpperCase().padStart(width, '0');
const ascii = (text: string): string => Buffer.from(text).toString('hex').toUpperCase();
const timeHex = (ts: Timestamp): string => hex(ts.high) + hex(ts.low);

async function collectionUuidHex(db: ReturnType<MongoClient['db']>, name: string): Promise<string> {
  const [info] = (await db.listCollections({ name }).toArray()) as Document[];
  return Buffer.from((info.info as { uuid: Binary }).uuid.buffer)
    .toString('hex')
    .toUpperCase();
}

async function streamError(promise: Promise<unknown>): Promise<MongoServerError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof MongoServerError) return error;
    throw error;
  }
  throw new Error('expected a server error');
}

describe('resume tokens', () => {
  it('are KeyStrings as mongod writes them: v2 by default, v1 on request', async () => {
    const db = freshDb();
    const coll = db.collection<TestDoc>('tokens');
    await db.createCollection('tokens');
    const uuid = await collectionUuidHex(db, 'tokens');
    const v2 = coll.watch([], { maxAwaitTimeMS: 100 });
    const v1 = coll.watch([], { maxAwaitTimeMS: 100, $_generateV2ResumeTokens: false } as Document);
    await v2.tryNext();
    await v1.tryNext();
    // An idle stream's postBatchResumeToken is a high-water mark: 82 time, 2B04 (version 2),
    // 29 (type 0), 29 (txnOpIndex 0), 6E (fromInvalidate false), 14 (no UUID), 04 (end).
    const mark = v2.resumeToken as { _data: string };
    expect(mark._data).toMatch(/^82[0-9A-F]{16}2B0429296E1404$/);

    await coll.insertOne({ _id: 1 });
    const event = (await v2.next()) as Document & { clusterTime: Timestamp };
    // 2C0100 (event, 128), 5A1004 + 16 bytes (the UUID), then
    // {operationType: "insert", documentKey: {_id: 1}} and the end byte.
    expect(event._id).toEqual({
      _data:
        `82${timeHex(event.clusterTime)}2B042C0100296E5A1004${uuid}` +
        `463C${ascii('operationType')}003C${ascii('insert')}00` +
        `46${ascii('documentKey')}00461E${ascii('_id')}002B02000004`,
    });
    expect(event._id._data > mark._data).toBe(true);
    const v1Event = (await v1.next()) as Document;
    // v1: the documentKey alone is the event identifier.
    expect(v1Event._id).toEqual({
      _data: `82${timeHex(event.clusterTime)}2B022C0100296E5A1004${uuid}461E${ascii('_id')}002B020004`,
    });

    // A double _id needs type bits, returned as _typeBits (as mongod does).
    await coll.insertOne({ _id: 2.5 });
    const withDouble = (await v2.next()) as Document;
    expect(withDouble._id._typeBits).toBeInstanceOf(Binary);
    // Every kind of token resumes: an event's, a v1 event's, a high-water mark.
    await coll.insertOne({ _id: 3 });
    for (const resumeAfter of [event._id, v1Event._id, withDouble._id, mark]) {
      const resumed = coll.watch([], { resumeAfter, maxAwaitTimeMS: 100 });
      const first = (await resumed.next()) as Document;
      expect(first.documentKey._id).toBe(resumeAfter === mark ? 1 : resumeAfter === withDouble._id ? 3 : 2.5);
      await resumed.close();
    }
    await v1.close();
    await v2.close();
  });

  it('an invalidate token has fromInvalidate set and resumes with startAfter', async () => {
    const db = freshDb();
    const coll = db.collection<TestDoc>('gone');
    await coll.insertOne({ _id: 0 });
    const stream = coll.watch([], { maxAwaitTimeMS: 100 });
    await stream.tryNext();
    await coll.drop();
    const drop = (await stream.next()) as Document;
    const invalidate = (await stream.next()) as Document;
    expect(invalidate.operationType).toBe('invalidate');
    // Same event identity, with 6F (true) where the drop has 6E (false).
    expect(invalidate._id._data).toBe(drop._id._data.replace(/2C0100296E/, '2C0100296F'));
    expect(drop._id._data).toContain(`463C${ascii('operationType')}003C${ascii('drop')}000004`);
    await coll.insertOne({ _id: 1 });
    const after = coll.watch([], { startAfter: invalidate._id, maxAwaitTimeMS: 100 });
    expect(((await after.next()) as Document).documentKey).toEqual({ _id: 1 });
    await after.close();
  });
});

describe('$changeStreamSplitLargeEvent', () => {
  const large = 16 * 1024 * 1024 - 1024;

  async function largeUpdate(): Promise<{
    coll: Collection<TestDoc>;
    start: Timestamp;
  }> {
    const db = freshDb();
    await db.createCollection('big', { changeStreamPreAndPostImages: { enabled: true } });
    const coll = db.collection<TestDoc>('big');
    await coll.insertOne({ _id: 0, largeField: 'a'.repeat(large) });
    const session = client.startSession();
    await coll.findOne({ _id: 0 }, { session });
    const start = session.operationTime as Timestamp;
    await session.endSession();
    await coll.updateOne({ _id: 0 }, { $set: { largeField: 'b'.repeat(large) } });
    await coll.insertOne({ _id: 1 });
    return { coll, start };
  }

  const options = (extra: Document): Document => ({
    fullDocument: 'required',
    fullDocumentBeforeChange: 'required',
    maxAwaitTimeMS: 100,
    ...extra,
  });

  it('splits an update over 16 MB into fragments as mongod does, and resumes from each', async () => {
    const { coll, start } = await largeUpdate();
    const pipeline = [{ $match: { operationType: { $ne: 'insert' } } }, { $changeStreamSplitLargeEvent: {} }];
    const stream = coll.watch(pipeline, options({ startAtOperationTime: start }));
    const fragments: Document[] = [];
    for (let k = 0; k < 3; k++) fragments.push((await stream.next()) as Document);
    await stream.close();
    expect(fragments.map((f) => f.splitEvent)).toEqual([
      { fragment: 1, of: 3 },
      { fragment: 2, of: 3 },
      { fragment: 3, of: 3 },
    ]);
    // Fields in ascending size: the small ones and fullDocument first, then the pre-image, then
    // the update description; `_id` and `splitEvent` lead every fragment.
    expect(Object.keys(fragments[0]).slice(0, 2)).toEqual(['_id', 'splitEvent']);
    expect(Object.keys(fragments[0])).toEqual(
      expect.arrayContaining(['operationType', 'clusterTime', 'ns', 'documentKey', 'fullDocument']),
    );
    expect(Object.keys(fragments[1])).toEqual(['_id', 'splitEvent', 'fullDocumentBeforeChange']);
    expect(Object.keys(fragments[2])).toEqual(['_id', 'splitEvent', 'updateDescription']);
    expect(fragments[1].fullDocumentBeforeChange.largeField).toHaveLength(large);
    // Each fragment's token: the event's, plus the fragment number; they sort in order.
    const tokens = fragments.map((f) => f._id._data as string);
    expect([...tokens].sort()).toEqual(tokens);
    expect(new Set(tokens.map((t) => t.slice(0, 18))).size).toBe(1);

    // Resuming from a fragment gives the fragments after it; from the last, the next event.
    const fromFirst = coll.watch(pipeline, options({ resumeAfter: fragments[0]._id }));
    expect(((await fromFirst.next()) as Document).splitEvent).toEqual({ fragment: 2, of: 3 });
    expect(((await fromFirst.next()) as Document).splitEvent).toEqual({ fragment: 3, of: 3 });
    await fromFirst.close();
    const afterAll = coll.watch(
      [{ $changeStreamSplitLargeEvent: {} }],
      options({ resumeAfter: fragments[2]._id }),
    );
    expect(((await afterAll.next()) as Document).documentKey).toEqual({ _id: 1 });
    await afterAll.close();
  }, 60_000);

  it('without the stage, an event over 16 MB fails with BSONObjectTooLarge', async () => {
    const { coll, start } = await largeUpdate();
    const stream = coll.watch(
      [{ $match: { operationType: 'update' } }],
      options({ startAtOperationTime: start }),
    );
    const error = await streamError(stream.next());
    expect(error.code).toBe(10334);
    expect(error.codeName).toBe('BSONObjectTooLarge');
    await stream.close().catch(() => undefined);
  }, 60_000);

  it('must be the last stage and take an empty spec', async () => {
    const coll = freshDb().collection('x');
    const misplaced = await streamError(
      coll.watch([{ $changeStreamSplitLargeEvent: {} }, { $match: {} }]).tryNext(),
    );
    expect(misplaced.code).toBe(7182802);
    const withSpec = await streamError(coll.watch([{ $changeStreamSplitLargeEvent: { a: 1 } }]).tryNext());
    expect(withSpec.code).toBe(7182800);
  });

  it('is unknown to mongod 5.0', async () => {
    const old = await startEmulator({ version: '5.0' });
    const oldClient = new MongoClient(old.uri);
    try {
      const coll = oldClient.db('app').collection('x');
      const error = await streamError(coll.watch([{ $changeStreamSplitLargeEvent: {} }]).tryNext());
      expect(error.code).toBe(40324);
    } finally {
      await oldClient.close();
      await old.stop();
    }
  });
});
