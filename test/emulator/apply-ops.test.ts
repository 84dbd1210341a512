// applyOps through the driver: create with a given UUID, CRUD entries ($v: 2 diffs, replacements,
// legacy modifiers), all-or-nothing CRUD batches, change events for what it applies.
import { UUID, type Document, type MongoClient } from 'mongodb';
import { serverFailure, startEmulatorWithClient } from './helpers/emulator';

type Loose = { _id: number | string; [key: string]: unknown };

describe('applyOps', () => {
  let client: MongoClient;
  let stop: (() => Promise<void>) | undefined;
  const failure = serverFailure;

  beforeAll(async () => {
    ({ client, stop } = await startEmulatorWithClient({ version: '8.0', replSet: 'rsApply' }));
  });

  afterAll(() => stop?.());

  const admin = (): ReturnType<MongoClient['db']> => client.db('admin');

  test('create keeps the given collection UUID', async () => {
    const ui = new UUID();
    const reply = await admin().command({
      applyOps: [
        {
          op: 'c',
          ns: 'applyCreate.$cmd',
          ui,
          o: { create: 'c', idIndex: { v: 2, key: { _id: 1 }, name: '_id_' } },
        },
      ],
    });
    expect(reply).toMatchObject({ applied: 1, results: [true], ok: 1 });
    const [info] = (await client.db('applyCreate').listCollections({ name: 'c' }).toArray()) as Document[];
    expect((info.info.uuid as UUID).equals(ui)).toBe(true);
    expect(info.options).toEqual({});
    const again = await failure(
      admin().command({ applyOps: [{ op: 'c', ns: 'applyCreate.$cmd', ui, o: { create: 'd' } }] }),
    );
    expect(again.code).toBe(48);
  });

  test('CRUD entries apply and produce change events', async () => {
    const db = client.db('applyCrud');
    await db.createCollection('c');
    const coll = db.collection<Loose>('c');
    const stream = coll.watch();
    await stream.tryNext();
    const reply = await admin().command({
      applyOps: [
        { op: 'i', ns: 'applyCrud.c', o: { _id: 1, a: 1, n: { x: 1 } }, o2: { _id: 1 } },
        { op: 'i', ns: 'applyCrud.c', o: { _id: 2, a: 2 } },
        {
          op: 'u',
          ns: 'applyCrud.c',
          o: { $v: 2, diff: { u: { a: 5 }, sn: { i: { y: 2 } } } },
          o2: { _id: 1 },
        },
        { op: 'u', ns: 'applyCrud.c', o: { $set: { b: 1 } }, o2: { _id: 2 } },
        { op: 'u', ns: 'applyCrud.c', o: { _id: 2, replaced: true }, o2: { _id: 2 } },
        { op: 'd', ns: 'applyCrud.c', o: { _id: 3 } },
        { op: 'n', ns: '', o: { msg: 'noop' } },
      ],
    });
    expect(reply).toMatchObject({ applied: 6, results: [true, true, true, true, true, true], ok: 1 });
    expect(await coll.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, a: 5, n: { x: 1, y: 2 } },
      { _id: 2, replaced: true },
    ]);
    const events: string[] = [];
    while (events.length < 5) {
      const event = await stream.next();
      events.push(event.operationType);
    }
    expect(events).toEqual(['insert', 'insert', 'update', 'update', 'replace']);
    await stream.close();
  });

  test('a CRUD batch with a failing entry applies nothing', async () => {
    const coll = client.db('applyAtomic').collection<Loose>('c');
    await coll.insertOne({ _id: 1 });
    const error = await failure(
      admin().command({
        applyOps: [
          { op: 'i', ns: 'applyAtomic.c', o: { _id: 2 } },
          { op: 'u', ns: 'applyAtomic.c', o: { $v: 2, diff: { u: { a: 1 } } }, o2: { _id: 99 } },
        ],
      }),
    );
    expect(error.code).toBe(218);
    expect(error.codeName).toBe('UpdateOperationFailed');
    expect(await coll.find().toArray()).toEqual([{ _id: 1 }]);
    const missing = await failure(
      admin().command({ applyOps: [{ op: 'i', ns: 'applyAtomic.nope', o: { _id: 1 } }] }),
    );
    expect(missing.code).toBe(26);
  });

  test('ui must name the collection of ns', async () => {
    const coll = client.db('applyUi').collection<Loose>('c');
    await coll.insertOne({ _id: 1 });
    const error = await failure(
      admin().command({ applyOps: [{ op: 'i', ns: 'applyUi.c', ui: new UUID(), o: { _id: 2 } }] }),
    );
    expect(error.code).toBe(3318200);
  });

  test('oplog entries replay onto another server', async () => {
    const source = client.db('applySource');
    await source.createCollection('c');
    await source.collection<Loose>('c').insertMany([{ _id: 1, v: [1, 2, 3] }, { _id: 2 }]);
    await source.collection<Loose>('c').updateOne({ _id: 1 }, { $set: { 'v.1': 9, w: 1 } });
    await source.collection<Loose>('c').deleteOne({ _id: 2 });
    const entries = await client.db('local').collection('oplog.rs').find({ ns: 'applySource.c' }).toArray();
    const other = await startEmulatorWithClient({ version: '8.0', replSet: 'rsApply2' });
    const otherClient = other.client;
    try {
      await otherClient.db('applySource').createCollection('c');
      const ops = entries.map(({ op, ns, o, o2 }) => (o2 ? { op, ns, o, o2 } : { op, ns, o }));
      const reply = await otherClient.db('admin').command({ applyOps: ops });
      expect(reply.applied).toBe(entries.length);
      expect(await otherClient.db('applySource').collection('c').find().toArray()).toEqual(
        await source.collection('c').find().toArray(),
      );
    } finally {
      await other.stop();
    }
  });
});
