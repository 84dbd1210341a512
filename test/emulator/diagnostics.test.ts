// Diagnostic commands through the driver: dbHash (md5 as dbhash.cpp computes it), dataSize,
// currentOp and killOp.
import { createHash } from 'node:crypto';
import { BSON, MongoClient, MongoServerError, UUID, type Document } from 'mongodb';
import type { RunningEmulator } from '../../emulator';
import { serverFailure, startEmulatorWithClient } from './helpers/emulator';

type Loose = { _id: number | string; [key: string]: unknown };

function md5(...parts: Array<Buffer | string>): string {
  const hash = createHash('md5');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

describe('emulator diagnostic commands', () => {
  let emulator: RunningEmulator;
  let client: MongoClient;
  let stop: (() => Promise<void>) | undefined;
  const failure = serverFailure;

  beforeAll(async () => {
    ({ emulator, client, stop } = await startEmulatorWithClient({ version: '8.0', replSet: 'rsDiag' }));
  });

  afterAll(() => stop?.());

  test('dbHash: md5 of documents in _id order per collection, md5 of the hashes overall', async () => {
    const db = client.db('hashA');
    const docs: Loose[] = [
      { _id: 3, z: 'c' },
      { _id: 1, a: 1 },
      { _id: 2, b: [1, 2] },
    ];
    await db.collection<Loose>('b').insertMany(docs);
    await db.collection<Loose>('a').insertOne({ _id: 'x' });
    await db.createCollection('capped', { capped: true, size: 4096 });
    const reply = await db.command({ dbHash: 1 });
    const inOrder = [...docs].sort((x, y) => Number(x._id) - Number(y._id));
    const hashB = md5(...inOrder.map((doc) => Buffer.from(BSON.serialize(doc))));
    const hashA = md5(Buffer.from(BSON.serialize({ _id: 'x' })));
    const hashCapped = md5();
    expect(reply.collections).toEqual({ a: hashA, b: hashB, capped: hashCapped });
    expect(reply.md5).toBe(md5(hashA, hashB, hashCapped));
    expect(reply.capped).toEqual(['capped']);
    expect(reply.uuids.a).toBeInstanceOf(UUID);
    expect(reply.host).toBe(`127.0.0.1:${emulator.port}`);

    // The same documents inserted in another order hash the same.
    const other = client.db('hashB');
    for (const doc of inOrder.reverse()) await other.collection<Loose>('b').insertOne(doc);
    const otherReply = await other.command({ dbHash: 1, collections: ['b'] });
    expect(otherReply.collections).toEqual({ b: hashB });
  });

  test('dataSize counts bytes and documents, optionally of a key range', async () => {
    const coll = client.db('sizeDb').collection<Loose>('c');
    const docs: Loose[] = [
      { _id: 1, s: 'a' },
      { _id: 2, s: 'bb' },
      { _id: 3, s: 'ccc' },
    ];
    await coll.insertMany(docs);
    const bytes = docs.map((doc) => BSON.calculateObjectSize(doc));
    const all = await client.db('sizeDb').command({ dataSize: 'sizeDb.c' });
    expect(all).toMatchObject({ size: bytes[0] + bytes[1] + bytes[2], numObjects: 3, ok: 1 });
    const range = await client
      .db('sizeDb')
      .command({ dataSize: 'sizeDb.c', keyPattern: { _id: 1 }, min: { _id: 2 }, max: { _id: 3 } });
    expect(range).toMatchObject({ size: bytes[1], numObjects: 1 });
    const missing = await client.db('sizeDb').command({ dataSize: 'sizeDb.none' });
    expect(missing).toMatchObject({ size: 0, numObjects: 0 });
  });

  test('currentOp lists operations in progress, itself included', async () => {
    const reply = await client.db('admin').command({ currentOp: 1 });
    const self = (reply.inprog as Document[]).find((op) => op.command?.currentOp === 1);
    expect(self).toMatchObject({ type: 'op', active: true, op: 'command', ns: 'admin.$cmd' });
    expect(typeof self?.opid).toBe('number');
    const filtered = await client.db('admin').command({ currentOp: 1, ns: 'no.such' });
    expect(filtered.inprog).toEqual([]);
  });

  test('killOp interrupts a waiting tailable getMore', async () => {
    const coll = client.db('killDb').collection<Loose>('c');
    await coll.insertOne({ _id: 1 });
    const [newest] = await client
      .db('local')
      .collection('oplog.rs')
      .find()
      .sort({ $natural: -1 })
      .limit(1)
      .toArray();
    const cursor = client
      .db('local')
      .collection('oplog.rs')
      .find({ ts: { $gt: newest.ts } }, { tailable: true, awaitData: true, maxAwaitTimeMS: 20_000 });
    const waiting = cursor.tryNext().then(
      () => undefined,
      (error: unknown) => error,
    );
    let opid: number | undefined;
    for (let i = 0; i < 50 && opid === undefined; i++) {
      const { inprog } = await client.db('admin').command({ currentOp: 1, op: 'getmore' });
      opid = (inprog as Document[])[0]?.opid;
      if (opid === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(opid).toBeDefined();
    const reply = await client.db('admin').command({ killOp: 1, op: opid });
    expect(reply.info).toBe('attempting to kill op');
    const error = (await waiting) as MongoServerError | undefined;
    expect(error?.code).toBe(11601);
    await cursor.close().catch(() => undefined);
    const notAdmin = await failure(client.db('killDb').command({ killOp: 1, op: 1 }));
    expect(notAdmin.code).toBe(13);
  });
});
