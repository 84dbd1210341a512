// Change streams through the official driver: collection.watch(), db.watch(), client.watch().
import {
  type ChangeStreamDocument,
  type Document,
  Long,
  MongoClient,
  MongoServerError,
  Timestamp,
} from 'mongodb';
import { startEmulator, type RunningEmulator } from '../../emulator';

type Stream = ReturnType<MongoClient['watch']>;
/** Test documents use their own `_id`s. */
type TestDoc = { _id: number | string; [field: string]: unknown };

let emulator: RunningEmulator;
let client: MongoClient;
let dbCounter = 0;

beforeAll(async () => {
  emulator = await startEmulator({});
  client = new MongoClient(emulator.uri);
  await client.connect();
});

afterAll(async () => {
  await client?.close();
  await emulator?.stop();
});

/** A fresh database per test keeps streams independent. */
function freshDb(): ReturnType<MongoClient['db']> {
  dbCounter++;
  return client.db(`cs_${dbCounter}`);
}

/** Opens the stream on the server (the aggregate), so later writes are after its start. */
async function opened<T extends Stream>(stream: T): Promise<T> {
  await stream.tryNext();
  return stream;
}

async function nextEvents(stream: Stream, count: number): Promise<Document[]> {
  const events: Document[] = [];
  while (events.length < count) events.push((await stream.next()) as Document);
  return events;
}

describe('collection.watch()', () => {
  it('reports insert, update, replace and delete', async () => {
    const coll = freshDb().collection<TestDoc>('users');
    await coll.insertOne({ _id: 0 });
    const stream = await opened(coll.watch([], { maxAwaitTimeMS: 200 }));
    await coll.insertOne({ _id: 1, name: 'ann', tags: ['a', 'b', 'c'] });
    const renameAndPopTag: Document = { $set: { name: 'bob' }, $pop: { tags: 1 } };
    await coll.updateOne({ _id: 1 }, renameAndPopTag);
    await coll.replaceOne({ _id: 1 }, { name: 'cy' });
    await coll.deleteOne({ _id: 1 });
    const [ins, upd, rep, del] = (await nextEvents(stream, 4)) as Document[];
    expect(ins).toMatchObject({
      operationType: 'insert',
      fullDocument: { _id: 1, name: 'ann' },
      ns: { db: coll.dbName, coll: 'users' },
      documentKey: { _id: 1 },
    });
    expect(ins.clusterTime).toBeInstanceOf(Timestamp);
    expect(ins.wallTime).toBeInstanceOf(Date);
    expect(ins._id._data).toMatch(/^82[0-9A-F]+$/);
    expect(upd).toMatchObject({
      operationType: 'update',
      documentKey: { _id: 1 },
      updateDescription: {
        updatedFields: { name: 'bob' },
        removedFields: [],
        truncatedArrays: [{ field: 'tags', newSize: 2 }],
      },
    });
    expect(upd.fullDocument).toBeUndefined();
    expect(rep).toMatchObject({ operationType: 'replace', fullDocument: { _id: 1, name: 'cy' } });
    expect(del).toMatchObject({ operationType: 'delete', documentKey: { _id: 1 } });
    expect(Object.keys(del)).toEqual([
      '_id',
      'operationType',
      'clusterTime',
      'wallTime',
      'ns',
      'documentKey',
    ]);
    await stream.close();
  });

  it('applies user stages and rejects a pipeline that removes _id', async () => {
    const coll = freshDb().collection<TestDoc>('items');
    const stream = await opened(
      coll.watch(
        [
          { $match: { operationType: 'insert', 'fullDocument.keep': true } },
          { $project: { fullDocument: 1 } },
        ],
        {
          maxAwaitTimeMS: 200,
        },
      ),
    );
    await coll.insertMany([
      { _id: 1, keep: false },
      { _id: 2, keep: true },
    ]);
    const event = (await stream.next()) as Document;
    expect(Object.keys(event)).toEqual(['_id', 'fullDocument']);
    expect(event.fullDocument).toEqual({ _id: 2, keep: true });
    await stream.close();

    const broken = await opened(coll.watch([{ $project: { _id: 0 } }], { maxAwaitTimeMS: 200 }));
    await coll.insertOne({ _id: 3 });
    await expect(broken.next()).rejects.toMatchObject({ code: 280 });
    await broken.close();
  });

  it('fullDocument updateLookup / whenAvailable / required and fullDocumentBeforeChange', async () => {
    const db = freshDb();
    const plain = await db.createCollection<TestDoc>('plain');
    const imaged = await db.createCollection<TestDoc>('imaged', {
      changeStreamPreAndPostImages: { enabled: true },
    });
    await plain.insertOne({ _id: 1, x: 0 });
    await imaged.insertOne({ _id: 1, x: 0 });

    const lookup = await opened(plain.watch([], { fullDocument: 'updateLookup', maxAwaitTimeMS: 200 }));
    const plainAvailable = await opened(
      plain.watch([], {
        fullDocument: 'whenAvailable',
        fullDocumentBeforeChange: 'whenAvailable',
        maxAwaitTimeMS: 200,
      }),
    );
    const plainRequired = await opened(
      plain.watch([], { fullDocumentBeforeChange: 'required', maxAwaitTimeMS: 200 }),
    );
    const imagedRequired = await opened(
      imaged.watch([], {
        fullDocument: 'required',
        fullDocumentBeforeChange: 'required',
        maxAwaitTimeMS: 200,
      }),
    );
    await plain.updateOne({ _id: 1 }, { $set: { x: 1 } });
    await imaged.updateOne({ _id: 1 }, { $set: { x: 1 } });

    expect(((await lookup.next()) as Document).fullDocument).toEqual({ _id: 1, x: 1 });
    const unavailable = (await plainAvailable.next()) as Document;
    expect(unavailable.fullDocument).toBeNull();
    expect(unavailable.fullDocumentBeforeChange).toBeNull();
    await expect(plainRequired.next()).rejects.toBeInstanceOf(MongoServerError);
    const images = (await imagedRequired.next()) as Document;
    expect(images.fullDocument).toEqual({ _id: 1, x: 1 });
    expect(images.fullDocumentBeforeChange).toEqual({ _id: 1, x: 0 });
    for (const s of [lookup, plainAvailable, plainRequired, imagedRequired]) await s.close();
  });

  it('ends with drop + invalidate, and startAfter the invalidate continues', async () => {
    const db = freshDb();
    const coll = db.collection<TestDoc>('doomed');
    await coll.insertOne({ _id: 1 });
    const stream = await opened(coll.watch([], { maxAwaitTimeMS: 200 }));
    await coll.drop();
    const drop = (await stream.next()) as Document;
    expect(drop).toMatchObject({ operationType: 'drop', ns: { db: db.databaseName, coll: 'doomed' } });
    const invalidate = (await stream.next()) as Document;
    expect(invalidate.operationType).toBe('invalidate');
    expect(stream.closed).toBe(true);

    await coll.insertOne({ _id: 2 });
    const after = coll.watch([], { startAfter: invalidate._id, maxAwaitTimeMS: 200 });
    expect(((await after.next()) as Document).documentKey).toEqual({ _id: 2 });
    await after.close();

    await expect(coll.watch([], { resumeAfter: invalidate._id }).next()).rejects.toMatchObject({ code: 260 });
  });

  it('a rename invalidates the collection stream', async () => {
    const db = freshDb();
    const coll = db.collection<TestDoc>('before');
    await coll.insertOne({ _id: 1 });
    const stream = await opened(coll.watch([], { maxAwaitTimeMS: 200 }));
    await coll.rename('after');
    const [rename, invalidate] = await nextEvents(stream, 2);
    expect(rename).toMatchObject({
      operationType: 'rename',
      ns: { coll: 'before' },
      to: { db: db.databaseName, coll: 'after' },
    });
    expect(invalidate.operationType).toBe('invalidate');
  });

  it('resumes with resumeAfter, startAfter and startAtOperationTime', async () => {
    const coll = freshDb().collection<TestDoc>('resume');
    const stream = await opened(coll.watch([], { maxAwaitTimeMS: 200 }));
    await coll.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }]);
    const events = await nextEvents(stream, 3);
    await stream.close();

    const ids = async (s: Stream, n: number) => (await nextEvents(s, n)).map((e) => e.documentKey._id);
    const resumed = coll.watch([], { resumeAfter: events[0]._id, maxAwaitTimeMS: 200 });
    expect(await ids(resumed, 2)).toEqual([2, 3]);
    const started = coll.watch([], { startAfter: events[1]._id, maxAwaitTimeMS: 200 });
    expect(await ids(started, 1)).toEqual([3]);
    const at = coll.watch([], { startAtOperationTime: events[1].clusterTime, maxAwaitTimeMS: 200 });
    expect(await ids(at, 2)).toEqual([2, 3]);
    for (const s of [resumed, started, at]) await s.close();
  });

  it('reports transaction identity', async () => {
    const coll = freshDb().collection<TestDoc>('txn');
    await coll.insertOne({ _id: 0 });
    const stream = await opened(coll.watch([], { maxAwaitTimeMS: 200, promoteLongs: false }));
    const session = client.startSession();
    try {
      await session.withTransaction(async () => {
        await coll.insertOne({ _id: 1 }, { session });
        await coll.insertOne({ _id: 2 }, { session });
      });
    } finally {
      await session.endSession();
    }
    const [a, b] = await nextEvents(stream, 2);
    expect(a.txnNumber).toBeInstanceOf(Long);
    expect(a.lsid.id).toBeDefined();
    expect(a.lsid.uid.buffer.length).toBe(32);
    expect(a.clusterTime.equals(b.clusterTime)).toBe(true);
    await stream.close();
  });

  it('shows DDL as expanded events only with showExpandedEvents', async () => {
    const db = freshDb();
    const dbStream = await opened(db.watch([], { showExpandedEvents: true, maxAwaitTimeMS: 200 }));
    const plainStream = await opened(db.watch([], { maxAwaitTimeMS: 200 }));
    const coll = await db.createCollection<TestDoc>('ddl');
    await coll.insertOne({ _id: 1, a: { '1': 1 } });
    await coll.createIndex({ x: 1 }, { name: 'x_1' });
    await coll.updateOne({ _id: 1 }, { $set: { 'a.1': 2 } });
    await db.command({ collMod: 'ddl', index: { name: 'x_1', hidden: true } });
    await coll.dropIndex('x_1');
    const events = await nextEvents(dbStream, 6);
    expect(events.map((e) => e.operationType)).toEqual([
      'create',
      'insert',
      'createIndexes',
      'update',
      'modify',
      'dropIndexes',
    ]);
    expect(events[0].collectionUUID).toBeDefined();
    expect(events[0].operationDescription).toBeDefined();
    expect(events[2].operationDescription.indexes[0]).toMatchObject({ key: { x: 1 }, name: 'x_1' });
    expect(events[3].updateDescription.disambiguatedPaths).toEqual({ 'a.1': ['a', '1'] });

    const plain = await nextEvents(plainStream, 2);
    expect(plain.map((e) => e.operationType)).toEqual(['insert', 'update']);
    expect(plain[0].collectionUUID).toBeUndefined();
    expect(plain[1].updateDescription.disambiguatedPaths).toBeUndefined();
    await dbStream.close();
    await plainStream.close();
  });
});

describe('db.watch() and client.watch()', () => {
  it('a database stream sees all its collections and ends after dropDatabase', async () => {
    const db = freshDb();
    const other = freshDb();
    const stream = await opened(db.watch([], { maxAwaitTimeMS: 200 }));
    await db.collection<TestDoc>('a').insertOne({ _id: 1 });
    await other.collection<TestDoc>('a').insertOne({ _id: 99 });
    await db.collection<TestDoc>('b').insertOne({ _id: 2 });
    const [a, b] = await nextEvents(stream, 2);
    expect([a.ns.coll, b.ns.coll]).toEqual(['a', 'b']);
    await db.dropDatabase();
    const rest: Document[] = [];
    while (!stream.closed) {
      const event = await stream.tryNext();
      if (event) rest.push(event);
    }
    const types = rest.map((e) => e.operationType);
    expect(types.slice(-2)).toEqual(['dropDatabase', 'invalidate']);
    expect(types.filter((t) => t === 'drop')).toHaveLength(2);
    expect(rest[rest.length - 2].ns).toEqual({ db: db.databaseName });
  });

  it('a cluster stream sees every user database but not admin/config/local', async () => {
    const first = freshDb();
    const second = freshDb();
    const stream = await opened(client.watch([], { maxAwaitTimeMS: 200 }));
    await client.db('config').collection<TestDoc>('x').insertOne({ _id: 'hidden' });
    await first.collection<TestDoc>('c').insertOne({ _id: 1 });
    await second.collection<TestDoc>('c').insertOne({ _id: 2 });
    const events = await nextEvents(stream, 2);
    expect(events.map((e) => e.ns.db)).toEqual([first.databaseName, second.databaseName]);
    await stream.close();
  });

  it('refuses streams on admin (without allChangesForCluster), config and local', async () => {
    await expect(client.db('admin').watch().tryNext()).rejects.toMatchObject({ code: 73 });
    await expect(client.db('local').watch().tryNext()).rejects.toMatchObject({ code: 73 });
    await expect(client.db('config').collection<TestDoc>('x').watch().tryNext()).rejects.toMatchObject({
      code: 73,
    });
    await expect(freshDb().collection<TestDoc>('system.views').watch().tryNext()).rejects.toMatchObject({
      code: 73,
    });
  });

  it('rejects conflicting or unknown options', async () => {
    const coll = freshDb().collection<TestDoc>('opts');
    await coll.insertOne({ _id: 1 });
    const stream = await opened(coll.watch([], { maxAwaitTimeMS: 100 }));
    await coll.insertOne({ _id: 2 });
    const token = ((await stream.next()) as Document)._id;
    await stream.close();
    const aggregate = (spec: Document) => coll.aggregate([{ $changeStream: spec }]).toArray();
    await expect(aggregate({ resumeAfter: token, startAfter: token })).rejects.toMatchObject({ code: 50865 });
    await expect(
      aggregate({ resumeAfter: token, startAtOperationTime: new Timestamp({ t: 1, i: 1 }) }),
    ).rejects.toMatchObject({
      code: 40674,
    });
    await expect(aggregate({ nope: true })).rejects.toMatchObject({ code: 40415 });
    await expect(aggregate({ fullDocument: 'always' })).rejects.toMatchObject({ code: 2 });
    await expect(coll.watch([{ $unsupported: 'foo' }]).tryNext()).rejects.toMatchObject({ code: 40324 });
  });
});

describe('getMore behaviour', () => {
  it('waits up to maxAwaitTimeMS and advances postBatchResumeToken on an idle stream', async () => {
    const db = freshDb();
    const coll = db.collection<TestDoc>('idle');
    const stream = await opened(coll.watch([], { maxAwaitTimeMS: 300 }));
    const initial = stream.resumeToken as Document;
    expect(initial._data).toMatch(/^82/);

    const started = Date.now();
    expect(await stream.tryNext()).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);

    // Writes elsewhere move the high-water mark forward without events.
    await db.collection<TestDoc>('elsewhere').insertOne({ _id: 1 });
    expect(await stream.tryNext()).toBeNull();
    const advanced = stream.resumeToken as Document;
    expect(advanced._data > initial._data).toBe(true);

    // A getMore in progress returns as soon as an event arrives.
    const pending = stream.next();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await coll.insertOne({ _id: 7 });
    expect(((await pending) as Document).documentKey).toEqual({ _id: 7 });
    expect((stream.resumeToken as Document)._data > advanced._data).toBe(true);
    await stream.close();
  });
});

/** A client that records the change-stream commands it sends, to see that nothing is retried. */
function monitoredClient(uri: string): { client: MongoClient; commands: string[] } {
  const monitored = new MongoClient(uri, { monitorCommands: true });
  const commands: string[] = [];
  monitored.on('commandSucceeded', (event) => {
    if (event.commandName === 'aggregate' || event.commandName === 'getMore')
      commands.push(`${event.commandName} ok`);
  });
  monitored.on('commandFailed', (event) => {
    if (event.commandName === 'aggregate' || event.commandName === 'getMore') {
      const code = (event.failure as MongoServerError).code;
      commands.push(`${event.commandName} ${String(code)}`);
    }
  });
  return { client: monitored, commands };
}

/** The error a stream fails with, which must be a server error (not a driver timeout or retry). */
async function streamError(stream: Stream, read: (s: Stream) => Promise<unknown>): Promise<MongoServerError> {
  try {
    await read(stream);
  } catch (error) {
    await stream.close();
    if (error instanceof MongoServerError) return error;
    throw error;
  }
  await stream.close();
  throw new Error('expected the change stream to fail');
}

function expectNonResumable(error: MongoServerError, code: number, codeName: string): void {
  expect(error.code).toBe(code);
  expect(error.codeName).toBe(codeName);
  expect(error.hasErrorLabel('NonResumableChangeStreamError')).toBe(true);
  expect(error.hasErrorLabel('ResumableChangeStreamError')).toBe(false);
}

/**
 * A v1 event token as mongod spells one (KeyString: 82 timestamp, 2B02 version 1, 2C0100 event
 * type 128, the txnOpIndex, 6E fromInvalidate false, 04 end), without UUID or documentKey.
 */
function eventToken(ts: Timestamp, op: number): Document {
  const hex = (value: number, width: number) => value.toString(16).toUpperCase().padStart(width, '0');
  if (op < 0 || op > 127) throw new Error('eventToken: txnOpIndex out of range for this helper');
  const txnOpIndex = op === 0 ? '29' : `2B${hex(op * 2, 2)}`;
  return { _data: `82${hex(ts.high, 8)}${hex(ts.low, 8)}2B022C0100${txnOpIndex}6E04` };
}

describe('resume points the history cannot serve', () => {
  let small: RunningEmulator;
  let smallClient: MongoClient;

  beforeAll(async () => {
    small = await startEmulator({ oplogSizeMB: 0.01 });
    smallClient = new MongoClient(small.uri);
    await smallClient.connect();
  });

  afterAll(async () => {
    await smallClient?.close();
    await small?.stop();
  });

  it('fails with ChangeStreamHistoryLost once the start point fell off the oplog', async () => {
    const coll = smallClient.db('h').collection<TestDoc>('c');
    const stream = await opened(coll.watch([], { maxAwaitTimeMS: 100 }));
    await coll.insertOne({ _id: 0 });
    const first = (await stream.next()) as ChangeStreamDocument<TestDoc> & { clusterTime: Timestamp };
    for (let batch = 0; batch < 10; batch++) {
      await coll.insertMany(
        Array.from({ length: 20 }, (_, k) => ({ _id: 1 + batch * 20 + k, pad: 'x'.repeat(200) })),
      );
    }
    const { client: monitored, commands } = monitoredClient(small.uri);
    try {
      const mcoll = monitored.db('h').collection<TestDoc>('c');
      for (const options of [
        { startAtOperationTime: first.clusterTime },
        { resumeAfter: first._id },
        { startAfter: first._id },
      ]) {
        const lost = await streamError(mcoll.watch([], options), (s) => s.tryNext());
        expectNonResumable(lost, 286, 'ChangeStreamHistoryLost');
        expect(lost.message).toBe(
          'Resume of change stream was not possible, as the resume point may no longer be in the oplog.',
        );
      }
      // Each failed in its aggregate, once: the driver did not try to resume.
      expect(commands).toEqual(['aggregate 286', 'aggregate 286', 'aggregate 286']);
      // With an empty first batch (`batchSize: 0`, which the driver's watch() does not send) the
      // check comes with the first getMore.
      const opened0 = await monitored.db('h').command({
        aggregate: 'c',
        pipeline: [{ $changeStream: { startAtOperationTime: first.clusterTime } }],
        cursor: { batchSize: 0 },
      });
      expect(opened0.cursor.firstBatch).toEqual([]);
      const cursorId = Long.fromValue(opened0.cursor.id as number | Long);
      const getMore = monitored.db('h').command({ getMore: cursorId, collection: 'c' });
      await expect(getMore).rejects.toMatchObject({ code: 286, codeName: 'ChangeStreamHistoryLost' });
    } finally {
      await monitored.close();
    }
    // The open stream fell behind too.
    await expect(stream.next()).rejects.toMatchObject({ code: 286 });
    await stream.close();
  });

  it('fails with ChangeStreamFatalError for an event token the history does not hold', async () => {
    const db = freshDb();
    const coll = db.collection<TestDoc>('fabricated');
    const stream = await opened(coll.watch([], { maxAwaitTimeMS: 100 }));
    await coll.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }]);
    const events = (await nextEvents(stream, 3)) as Array<Document & { clusterTime: Timestamp }>;
    await stream.close();
    // The time of the second insert, an index within a transaction no entry has.
    const fabricated = eventToken(events[1].clusterTime, 7);
    const { client: monitored, commands } = monitoredClient(emulator.uri);
    try {
      const mcoll = monitored.db(db.databaseName).collection<TestDoc>('fabricated');
      for (const options of [{ resumeAfter: fabricated }, { startAfter: fabricated }]) {
        const fatal = await streamError(mcoll.watch([], options), (s) => s.tryNext());
        expectNonResumable(fatal, 280, 'ChangeStreamFatalError');
        // mongod names the first event past the missing token.
        expect(fatal.message).toBe(
          `cannot resume stream; the resume token was not found. {_data: "${events[2]._id._data}"}`,
        );
      }
      expect(commands).toEqual(['aggregate 280', 'aggregate 280']);
    } finally {
      await monitored.close();
    }
    // The real token of the same event still resumes.
    const resumed = coll.watch([], { resumeAfter: events[1]._id, maxAwaitTimeMS: 100 });
    expect(((await resumed.next()) as Document).documentKey).toEqual({ _id: 3 });
    await resumed.close();
  });

  it('fails with ChangeStreamFatalError for a token of an earlier emulator on the same port', async () => {
    // The first cluster: two collections, an event token from each.
    const before = await startEmulator({});
    const port = before.port;
    const beforeClient = new MongoClient(before.uri);
    const tokens: Record<string, Document> = {};
    let lastTime = new Timestamp({ t: 0, i: 0 });
    try {
      for (const name of ['busy', 'quiet']) {
        const coll = beforeClient.db('rebuilt').collection<TestDoc>(name);
        const stream = await opened(coll.watch([], { maxAwaitTimeMS: 100 }));
        await coll.insertOne({ _id: 1 });
        const event = (await stream.next()) as Document & { clusterTime: Timestamp };
        tokens[name] = event._id;
        lastTime = event.clusterTime;
        await stream.close();
      }
    } finally {
      await beforeClient.close();
      await before.stop();
    }
    // The cluster is rebuilt behind the same address, its history starting afresh; the emulator
    // keeps time in seconds, so its writes come after the old ones once the second has passed.
    while (Math.floor(Date.now() / 1000) <= lastTime.high) await new Promise((r) => setTimeout(r, 50));
    const after = await startEmulator({ port });
    const { client: monitored, commands } = monitoredClient(after.uri);
    try {
      const db = monitored.db('rebuilt');
      await db.collection<TestDoc>('busy').insertOne({ _id: 1 });

      // Events after the old token exist: the aggregate fails at once.
      const busy = db.collection<TestDoc>('busy').watch([], { resumeAfter: tokens.busy });
      expectNonResumable(await streamError(busy, (s) => s.tryNext()), 280, 'ChangeStreamFatalError');
      expect(commands).toEqual(['aggregate 280']);

      // No event of that collection yet: the stream waits (as mongod's does), then fails with the
      // getMore that meets the first one, without resuming.
      commands.length = 0;
      const quiet = db
        .collection<TestDoc>('quiet')
        .watch([], { resumeAfter: tokens.quiet, maxAwaitTimeMS: 100 });
      expect(await quiet.tryNext()).toBeNull();
      expect(quiet.resumeToken).toEqual(tokens.quiet);
      await db.collection<TestDoc>('quiet').insertOne({ _id: 2 });
      expectNonResumable(await streamError(quiet, (s) => s.next()), 280, 'ChangeStreamFatalError');
      expect(commands[0]).toBe('aggregate ok');
      expect(commands.filter((c) => c.startsWith('aggregate'))).toEqual(['aggregate ok']);
      expect(commands[commands.length - 1]).toBe('getMore 280');
    } finally {
      await monitored.close();
      await after.stop();
    }
  });
});
