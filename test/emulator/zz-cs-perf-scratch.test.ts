import { MongoClient, Long } from 'mongodb';
import { startEmulator } from '../../emulator';
it('throughput', async () => {
  const emu = await startEmulator({});
  const client = new MongoClient(emu.uri);
  const db = client.db('p');
  const coll = db.collection<{ _id: number; pad: string }>('c');
  const first = await db.command({ aggregate: 'c', pipeline: [{ $changeStream: {} }], cursor: {} });
  const id = first.cursor.id as Long;
  for (let b = 0; b < 20; b++) await coll.insertMany(Array.from({ length: 1000 }, (_, k) => ({ _id: b * 1000 + k, pad: 'x'.repeat(500) })));
  const t1 = Date.now();
  let n = 0;
  while (n < 20000) { const r = await db.command({ getMore: id, collection: 'c', maxTimeMS: 200 }); n += r.cursor.nextBatch.length; }
  const t2 = Date.now();
  console.log(`raw getMore read ${t2 - t1} ms => ${Math.round(20000 / ((t2 - t1) / 1000))} ev/s`);
  const stream = coll.watch([], { startAtOperationTime: first.operationTime, maxAwaitTimeMS: 200 });
  const t3 = Date.now();
  n = 0;
  while (n < 20000) { await stream.next(); n++; }
  const t4 = Date.now();
  console.log(`watch read ${t4 - t3} ms => ${Math.round(20000 / ((t4 - t3) / 1000))} ev/s`);
  await stream.close(); await client.close(); await emu.stop();
});
