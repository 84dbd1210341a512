// Drives the sync service as a client would: its REST API over HTTP, plus helpers to wait for
// progress conditions and to seed the sample data the end-to-end tests check.
import { parseServiceConfig, type ServiceConfig } from '../../../src/config';
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
  ObjectId,
  Timestamp,
  UUID,
  type Document,
  type MongoClient,
} from 'mongodb';

export interface ApiReply {
  status: number;
  body: Document;
}

export class SyncApi {
  constructor(readonly baseUrl: string) {}

  async post(
    endpoint: string,
    body: unknown = {},
    contentType = 'application/x-www-form-urlencoded',
  ): Promise<ApiReply> {
    const response = await fetch(`${this.baseUrl}/api/v1/${endpoint}`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Document };
  }

  async progress(): Promise<Document> {
    const response = await fetch(`${this.baseUrl}/api/v1/progress`);
    const reply = (await response.json()) as Document;
    if (!reply.success) throw new Error(`progress failed: ${JSON.stringify(reply)}`);
    return reply.progress as Document;
  }

  /** Polls /progress until the predicate holds; fails with the last progress seen. */
  async waitFor(
    predicate: (progress: Document) => boolean,
    timeoutMs = 120_000,
    label = 'condition',
  ): Promise<Document> {
    const deadline = Date.now() + timeoutMs;
    let last: Document | undefined;
    while (Date.now() < deadline) {
      try {
        last = await this.progress();
        if (predicate(last)) return last;
      } catch {
        // the service may be restarting
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`timed out waiting for ${label}; last progress: ${JSON.stringify(last)}`);
  }
}

/** One document with every BSON type, nested documents and arrays. */
export function everyTypeDocument(i: number): Document {
  return {
    _id: new ObjectId(),
    i: new Int32(i),
    long: Long.fromString(`${9_007_199_254_740_993n + BigInt(i)}`),
    double: new Double(i + 0.5),
    wholeDouble: new Double(1),
    decimal: Decimal128.fromString(`${i}.125`),
    string: `value ${i} – ünïcödé`,
    date: new Date(Date.UTC(2024, 0, 1, 0, 0, i % 60)),
    binary: new Binary(Buffer.from([i % 256, 1, 2, 3])),
    uuid: new UUID(),
    regex: new BSONRegExp(`^v${i}`, 'i'),
    timestamp: new Timestamp({ t: 1_700_000_000 + i, i: 1 }),
    code: new Code('function () { return 1; }'),
    minKey: new MinKey(),
    maxKey: new MaxKey(),
    bool: i % 2 === 0,
    nothing: null,
    nested: {
      level1: { level2: { values: [1, new Int32(2), new Double(3), 'four', { five: 5 }] } },
      after: 'order kept',
    },
    array: [i, [i + 1, [i + 2]], { inArray: true }],
  };
}

/** The source data of the copy tests: several databases, options, a view, indexes, 50k+ documents. */
export async function seedSourceData(client: MongoClient, bulkDocuments = 50_000): Promise<void> {
  const shop = client.db('shop');
  const orders = shop.collection<any>('orders');
  for (let start = 0; start < bulkDocuments; start += 5000) {
    await orders.insertMany(
      Array.from({ length: Math.min(5000, bulkDocuments - start) }, (_, j) => {
        const n = start + j;
        return {
          _id: n,
          customer: `c${n % 997}`,
          total: new Double((n % 1000) + 0.25),
          qty: new Int32(n % 7),
          items: [{ sku: `s${n % 13}`, n }],
          pad: 'p'.repeat(200),
        };
      }),
    );
  }
  await orders.createIndex({ customer: 1, total: -1 });
  await shop.collection('customers').createIndex({ email: 1 }, { unique: true });
  await shop.collection('customers').createIndex({ tier: 1 }, { hidden: true });
  await shop
    .collection<any>('customers')
    .insertMany(
      Array.from({ length: 500 }, (_, i) => ({ _id: `cust-${i}`, email: `c${i}@example.com`, tier: i % 3 })),
    );
  await shop.collection('sessions').createIndex({ seen: 1 }, { expireAfterSeconds: 7200 });
  await shop
    .collection<any>('sessions')
    .insertMany(Array.from({ length: 200 }, (_, i) => ({ user: i, seen: new Date() })));
  await shop
    .collection('reviews')
    .createIndex({ rating: 1 }, { partialFilterExpression: { rating: { $gte: 4 } }, name: 'good_reviews' });
  await shop
    .collection<any>('reviews')
    .insertMany(Array.from({ length: 300 }, (_, i) => ({ rating: new Int32(i % 5), text: `review ${i}` })));
  await shop.createCollection('audit', { capped: true, size: 256 * 1024, max: 1000 });
  await shop
    .collection<any>('audit')
    .insertMany(Array.from({ length: 1200 }, (_, i) => ({ n: i, at: new Date(i) })));
  await shop.createCollection('expensive', {
    viewOn: 'orders',
    pipeline: [{ $match: { total: { $gte: 900 } } }],
  });
  await shop.createCollection('validated', {
    validator: { qty: { $type: 'int' } },
    validationLevel: 'moderate',
    validationAction: 'error',
  });
  await shop.collection<any>('validated').insertOne({ qty: new Int32(1) });

  const types = client.db('types');
  await types.collection<any>('all').insertMany(Array.from({ length: 200 }, (_, i) => everyTypeDocument(i)));
  const mixedIds: unknown[] = [
    new ObjectId(),
    'text-id',
    42,
    new Double(4.5),
    Long.fromNumber(7),
    { compound: 1, id: 'x' },
    new Date(5),
    true,
    new MinKey(),
    new MaxKey(),
    new Binary(Buffer.from('bin')),
  ];
  await types.collection<any>('mixedIds').insertMany(mixedIds.map((id, n) => ({ _id: id as never, n })));
  await types.createCollection('images', { changeStreamPreAndPostImages: { enabled: true } });
  await types.collection<any>('images').insertOne({ _id: 1, v: 1 });
  await client
    .db('analytics')
    .collection<any>('events')
    .insertMany(Array.from({ length: 3000 }, (_, i) => ({ kind: i % 4 === 0 ? 'click' : 'view', n: i })));
}

/** Writes of every kind an application makes: CRUD with array changes and DDL. */
export async function applyMixedWrites(client: MongoClient, round: number): Promise<void> {
  const shop = client.db('shop');
  const orders = shop.collection<any>('orders');
  await orders.insertMany(
    Array.from({ length: 100 }, (_, i) => ({
      _id: `r${round}-${i}`,
      round,
      total: new Double(i + 0.5),
      tags: ['new'],
    })),
  );
  await orders.updateMany(
    { _id: { $gte: round * 100, $lt: round * 100 + 50 } },
    { $set: { status: 'shipped', 'items.0.shipped': true }, $inc: { qty: 1 } },
  );
  await orders.updateOne({ _id: round * 100 + 60 }, { $push: { items: { sku: 'extra', n: -1 } } as never });
  await orders.updateOne({ _id: round * 100 + 61 }, { $pop: { items: 1 } });
  await orders.updateOne({ _id: round * 100 + 62 }, { $unset: { pad: '' } });
  await orders.updateOne({ _id: `r${round}-1` }, { $set: { tags: ['a', 'b', 'c'] } });
  await orders.updateOne({ _id: `r${round}-1` }, { $set: { tags: ['a'] } });
  await orders.replaceOne({ _id: round * 100 + 70 }, { replaced: true, round });
  await orders.deleteMany({ _id: { $gte: round * 100 + 80, $lt: round * 100 + 90 } });
  await shop
    .collection<any>('customers')
    .updateOne({ _id: 'cust-1' }, { $set: { email: `moved${round}@example.com` } });
  await client
    .db('types')
    .collection<any>('images')
    .updateOne({ _id: 1 }, { $inc: { v: 1 } });
  const scratch = client.db('scratch');
  await scratch.collection<any>(`created${round}`).insertMany([{ a: 1 }, { a: 2 }]);
  await scratch.collection(`created${round}`).createIndex({ a: 1 }, { name: 'a_idx' });
  await scratch.collection<any>(`temp${round}`).insertOne({ doomed: true });
  await scratch.collection(`temp${round}`).drop();
  await scratch.collection<any>(`toRename${round}`).insertOne({ renamed: true });
  await client
    .db('admin')
    .command({ renameCollection: `scratch.toRename${round}`, to: `scratch.renamed${round}` });
  await scratch.collection<any>(`indexed${round}`).insertOne({ b: 1 });
  await scratch.collection(`indexed${round}`).createIndex({ b: 1 });
  await scratch.collection(`indexed${round}`).dropIndex('b_1');
}

/** The service's configuration as the end-to-end tests run it in process: API on a free port, quiet logs. */
export function testServiceConfig(options: {
  cluster0: string;
  cluster1: string;
  id: string;
  temporalAddress: string;
  taskQueue?: string;
  /** Without it the service writes no metrics log. */
  metricsLoggingFilepath?: string;
}): ServiceConfig {
  return parseServiceConfig([
    '--cluster0',
    options.cluster0,
    '--cluster1',
    options.cluster1,
    '--port',
    '0',
    '--id',
    options.id,
    '--temporal-address',
    options.temporalAddress,
    ...(options.taskQueue ? ['--task-queue', options.taskQueue] : []),
    ...(options.metricsLoggingFilepath
      ? ['--metricsLoggingFilepath', options.metricsLoggingFilepath]
      : ['--disableMetricsLogging']),
    '--verbosity',
    'ERROR',
  ]);
}
