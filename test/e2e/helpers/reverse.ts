// Helpers of the reverse tests: tagged application writes whose arrival can be counted, the
// operation time of a cluster, and the change events a cluster recorded since a point.
import { Double, Int32, type Document, type MongoClient, type Timestamp } from 'mongodb';

export const LOG = { db: 'reverse', coll: 'log' } as const;

/** Inserts `count` documents tagged `tag`, updates some, deletes one and bumps a per-tag counter. */
export async function writeTagged(client: MongoClient, tag: string, count: number): Promise<void> {
  const log = client.db(LOG.db).collection<any>(LOG.coll);
  await log.insertMany(
    Array.from({ length: count }, (_, i) => ({ _id: `${tag}-${i}`, tag, i: new Int32(i), v: new Double(i) })),
  );
  await log.updateMany({ tag, i: { $lt: Math.ceil(count / 2) } }, { $set: { updated: true } });
  await log.deleteOne({ _id: `${tag}-${count - 1}` });
  await client
    .db(LOG.db)
    .collection<any>('counters')
    .updateOne({ _id: tag }, { $inc: { n: count } }, { upsert: true });
}

/** What `writeTagged(tag, count)` leaves: count - 1 documents, half updated, and the counter. */
export async function taggedState(client: MongoClient, tag: string) {
  const log = client.db(LOG.db).collection<any>(LOG.coll);
  const counter = await client.db(LOG.db).collection<any>('counters').findOne({ _id: tag });
  return {
    documents: await log.countDocuments({ tag }),
    updated: await log.countDocuments({ tag, updated: true }),
    counter: counter?.n as number | undefined,
  };
}

export function expectedTaggedState(count: number) {
  return { documents: count - 1, updated: Math.ceil(count / 2), counter: count };
}

/** The cluster's latest operation time (a write acknowledged before the call is not after it). */
export async function operationTime(client: MongoClient): Promise<Timestamp> {
  const reply = await client.db('admin').command({ hello: 1 });
  return reply.operationTime as Timestamp;
}

/** Every change event the cluster recorded after `since` (cluster-wide, DDL included). */
export async function changeEventsSince(client: MongoClient, since: Timestamp): Promise<Document[]> {
  const stream = client.watch([], {
    startAtOperationTime: since,
    showExpandedEvents: true,
    maxAwaitTimeMS: 300,
  });
  const events: Document[] = [];
  try {
    // Two empty polls in a row: the stream has caught up with the cluster.
    for (let empty = 0; empty < 2;) {
      const event = await stream.tryNext();
      if (!event) {
        empty += 1;
        continue;
      }
      empty = 0;
      if (((event as Document).clusterTime as Timestamp).compare(since) > 0) events.push(event);
    }
  } finally {
    await stream.close();
  }
  return events;
}

/** The index of `name` on a collection, as listIndexes reports it. */
export async function indexNamed(client: MongoClient, db: string, coll: string, name: string) {
  const indexes = await client.db(db).collection(coll).listIndexes().toArray();
  return indexes.find((index) => index.name === name);
}

/** Polls `read` until it deep-equals `expected` (JSON); returns the last value read either way. */
export async function eventually<T>(read: () => Promise<T>, expected: T, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (JSON.stringify(last) !== JSON.stringify(expected) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    last = await read();
  }
  return last;
}
