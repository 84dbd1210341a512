// Calls the sync activities directly (no Temporal) against two emulated replica sets: copy, change
// event application and index finalization must leave the destination identical to the source.
import { EJSON } from 'bson';
import {
  Binary,
  BSONRegExp,
  BSONSymbol,
  Code,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  type Document,
  type MongoClient,
} from 'mongodb';
import { startEmulator, type RunningEmulator, type ServerVersion } from '../../emulator';
import { ClusterClients, createActivities } from '../../src/activities';
import { EXACT_TYPES } from '../../src/activities/bsonOptions';
import type { Direction, OperationTime, SyncActivities } from '../../src/activities/contract';
import { isSyncedNamespace } from '../../src/activities/namespaces';
import { syncOptions } from '../helpers/syncOptions';

/** Documents whose `_id` may be of any BSON type. */
type AnyId =
  | Int32
  | Double
  | Long
  | Decimal128
  | string
  | Document
  | Binary
  | ObjectId
  | boolean
  | Date
  | Timestamp
  | null;
type AnyDocument = Document & { _id: AnyId };

const direction: Direction = { source: 'cluster0', destination: 'cluster1' };
const options = syncOptions({ verificationEnabled: false });

function everyBsonType(n: number): Document {
  return {
    double: new Double(n + 0.5),
    wholeDouble: new Double(1),
    int: new Int32(n),
    long: Long.fromNumber(n * 1_000_000_000_000),
    decimal: Decimal128.fromString(`${n}.10`),
    string: `s${n}`,
    symbol: new BSONSymbol('sym'),
    object: { a: { b: [new Int32(1), 'two', { c: null }] } },
    array: [new Int32(1), new Double(2), 'three'],
    binary: new Binary(Buffer.from([1, 2, n % 256]), 0),
    uuid: new Binary(Buffer.from('0123456789abcdef0123456789abcdef', 'hex'), 4),
    objectId: new ObjectId(),
    bool: n % 2 === 0,
    date: new Date(1_700_000_000_000 + n),
    nullValue: null,
    regex: new BSONRegExp('^a.c$', 'i'),
    code: new Code('function () { return 1; }'),
    timestamp: new Timestamp({ t: 1000 + n, i: 1 }),
    minKey: new MinKey(),
    maxKey: new MaxKey(),
  };
}

async function dump(client: MongoClient): Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = {};
  const { databases } = await client.db('admin').command({ listDatabases: 1, nameOnly: true });
  for (const { name: dbName } of databases as { name: string }[]) {
    const db = client.db(dbName);
    for (const info of await db.listCollections().toArray()) {
      if (!isSyncedNamespace(dbName, info.name)) continue;
      const ns = `${dbName}.${info.name}`;
      const entry: Document = { type: info.type, options: (info as Document).options };
      if (info.type === 'collection') {
        const documents = await db.collection(info.name).find({}, EXACT_TYPES).sort({ _id: 1 }).toArray();
        entry.documents = documents.map((document) => EJSON.stringify(document, { relaxed: false }));
        const indexes = await db.collection(info.name).listIndexes().toArray();
        entry.indexes = indexes
          .map(({ v: _v, ns: _ns, ...spec }: Document) => spec)
          .sort((a, b) => String(a.name).localeCompare(String(b.name)));
      }
      result[ns] = entry;
    }
  }
  return result;
}

/** The release pairs a sync supports: the same version, and an upgrade. */
const VERSION_PAIRS: Array<[ServerVersion, ServerVersion]> = [
  ['8.0', '8.0'],
  ['7.0', '7.0'],
  ['6.0', '6.0'],
  ['6.0', '8.0'],
];

describe.each(VERSION_PAIRS)('sync activities from MongoDB %s to %s', (sourceVersion, destinationVersion) => {
  let emulators: RunningEmulator[];
  let clusters: ClusterClients;
  let activities: SyncActivities;
  let source: MongoClient;
  let destination: MongoClient;

  beforeAll(async () => {
    emulators = await Promise.all([
      startEmulator({ replSet: 'src', version: sourceVersion }),
      startEmulator({ replSet: 'dst', version: destinationVersion }),
    ]);
    clusters = new ClusterClients({ cluster0: emulators[0].uri, cluster1: emulators[1].uri });
    activities = createActivities(clusters);
    source = clusters.get('cluster0');
    destination = clusters.get('cluster1');
  });

  afterAll(async () => {
    await clusters?.close();
    await Promise.all((emulators ?? []).map((emulator) => emulator.stop()));
  });

  async function drainTo(stop: OperationTime, resumeToken: string | null, start: OperationTime | null) {
    let token = resumeToken;
    let startAt = start;
    for (let attempt = 0; attempt < 40; attempt++) {
      const result = await activities.applyChanges({
        direction,
        resumeToken: token,
        startAtOperationTime: token ? null : startAt,
        maxDurationMs: 3000,
        maxEvents: 10_000,
        stopAfterOperationTime: stop,
        options,
      });
      token = result.resumeToken;
      startAt = result.appliedThrough;
      if (result.reachedStopTime) return result;
    }
    throw new Error('change event application never reached the stop time');
  }

  it('copies, applies change events and finalizes to an identical destination', async () => {
    const app = source.db('app');
    await app.createCollection('capped', { capped: true, size: 1 << 20, max: 100 });
    await app.createCollection('validated', {
      validator: { $jsonSchema: { required: ['name'] } },
      validationLevel: 'moderate',
      collation: { locale: 'simple' },
    });
    const mixedIds: unknown[] = [
      new Int32(1),
      new Double(2.5),
      Long.fromNumber(3),
      Decimal128.fromString('4'),
      'a',
      'b',
      { k: new Int32(1) },
      new Binary(Buffer.from([9]), 0),
      new ObjectId(),
      false,
      new Date(5),
      new Timestamp({ t: 1, i: 1 }),
      new MinKey(),
      new MaxKey(),
    ];
    const idTypeBrackets = 10; // numbers and strings share a bracket each
    await app
      .collection<AnyDocument>('mixed')
      .insertMany(mixedIds.map((_id, n) => ({ ...everyBsonType(n), _id: _id as AnyId })));
    await app.collection<AnyDocument>('users').insertMany(
      Array.from({ length: 300 }, (_, n) => ({
        _id: new Int32(n),
        email: `u${n}@x`,
        tags: ['a', 'b', 'c'],
        n: new Int32(n),
      })),
    );
    await app.collection<AnyDocument>('users').createIndex({ email: 1 }, { unique: true });
    await app.collection<AnyDocument>('users').createIndex({ createdAt: 1 }, { expireAfterSeconds: 3600 });
    await app.collection<AnyDocument>('users').createIndex({ n: 1 }, { hidden: true });
    await app.collection('capped').insertMany(Array.from({ length: 10 }, (_, n) => ({ n: new Int32(n) })));
    await app.collection<AnyDocument>('validated').insertOne({ _id: new Int32(1), name: 'ok' });
    await source
      .db('other')
      .collection<AnyDocument>('items')
      .insertMany([{ _id: 'x', v: new Long(1) }, { _id: 'y' }]);
    await app.createCollection('userEmails', { viewOn: 'users', pipeline: [{ $project: { email: 1 } }] });
    await source.db('admin').collection('ignored').insertOne({ never: true });

    const preflight = await activities.preflight({ direction, options, purpose: 'start' });
    expect(preflight.sourceVersion.startsWith(`${sourceVersion}.`)).toBe(true);
    expect(preflight.destinationVersion.startsWith(`${destinationVersion}.`)).toBe(true);

    const startTime = await activities.currentOperationTime({ cluster: 'cluster0' });
    // Written after the start time but before the copy: the copy reads the newer state, so replaying
    // the first update (a path through what is now a scalar) must fall back to the source's document.
    await app
      .collection<AnyDocument>('users')
      .updateOne({ _id: new Int32(7) }, { $set: { 'p.q': new Int32(1) } });
    await app
      .collection<AnyDocument>('users')
      .updateOne({ _id: new Int32(7) }, { $set: { p: new Int32(5) } });
    await app
      .collection<AnyDocument>('users')
      .updateOne({ _id: new Int32(8) }, { $set: { p: 'later removed' } });
    await app.collection<AnyDocument>('users').deleteOne({ _id: new Int32(8) });
    const catalog = await activities.prepareCatalog({ direction, options });
    expect(catalog.views).toBe(1);
    expect(catalog.collections.map((c) => `${c.db}.${c.coll}`).sort()).toEqual([
      'app.capped',
      'app.mixed',
      'app.users',
      'app.validated',
      'other.items',
    ]);
    for (const collection of catalog.collections) {
      const partitions = await activities.planPartitions({
        direction,
        collection,
        targetPartitionBytes: 2000,
      });
      if (collection.coll === 'mixed') expect(partitions.length).toBeGreaterThanOrEqual(idTypeBrackets);
      if (collection.coll === 'users') expect(partitions.length).toBeGreaterThan(1);
      for (const partition of partitions)
        await activities.copyPartition({ direction, partition, batchSize: 50 });
      // A retried partition neither duplicates nor loses documents.
      if (partitions.length > 0) await activities.copyPartition({ direction, partition: partitions[0] });
    }
    const built = await activities.buildIndexesAfterCopy({ direction, options });
    expect(built.indexesBuilt).toBe(3);
    const relaxed = await destination.db('app').collection('users').indexes();
    expect(relaxed.find((index) => index.name === 'email_1')?.unique).toBeUndefined();

    // Writes during change event application.
    const users = app.collection<AnyDocument>('users');
    await users.insertOne({ _id: new Int32(1000), email: 'new@x', tags: [], n: new Double(1) });
    await users.updateOne(
      { _id: new Int32(1) },
      { $set: { 'profile.age': new Int32(30), n: new Double(7) }, $unset: { email: '' } },
    );
    await users.updateOne({ _id: new Int32(2) }, { $pop: { tags: 1 } });
    await users.updateOne({ _id: new Int32(3) }, { $set: { 'tags.0': 'z' } });
    await users.replaceOne({ _id: new Int32(4) }, { email: 'replaced@x', long: Long.fromNumber(5) });
    await users.deleteOne({ _id: new Int32(5) });
    await users.updateOne({ _id: new Int32(6) }, [{ $set: { tags: { $slice: ['$tags', 1] } } }]);
    await app.collection<AnyDocument>('mixed').updateOne({ _id: 'a' } as Document, {
      $set: { 'object.a.b.2.c': Decimal128.fromString('1') } as Document,
    });
    await users.createIndex({ 'profile.age': 1 }, { name: 'age_1' });
    await users.dropIndex('n_1');
    await app.createCollection('created', { capped: true, size: 4096 });
    await app.collection<AnyDocument>('created').insertOne({ _id: new Int32(1) });
    await app.collection<AnyDocument>('validated').rename('renamed');
    await source.db('other').collection<AnyDocument>('items').drop();
    await app.collection<AnyDocument>('late').insertOne({ _id: new ObjectId(), when: new Date() });

    const stopTime = await activities.currentOperationTime({ cluster: 'cluster0' });
    const applied = await drainTo(stopTime, null, startTime);
    expect(applied.eventsApplied).toBeGreaterThan(0);
    expect(applied.lagSeconds).toBeGreaterThanOrEqual(0);

    // Idle: a batch with no events still advances the checkpoint.
    const idle = await activities.applyChanges({
      direction,
      resumeToken: applied.resumeToken,
      startAtOperationTime: null,
      maxDurationMs: 1200,
      maxEvents: 100,
      stopAfterOperationTime: null,
      options,
    });
    expect(idle.resumeToken).not.toBeNull();
    expect(idle.eventsApplied).toBe(0);

    const finalized = await activities.finalizeIndexes({ direction, options });
    expect(finalized.indexesFinalized).toBe(2);

    const [expected, actual] = await Promise.all([dump(source), dump(destination)]);
    expect((expected['app.users'] as Document).documents).toHaveLength(299);
    expect((expected['app.renamed'] as Document).options.validationLevel).toBe('moderate');
    expect((expected['app.created'] as Document).options.capped).toBe(true);
    expect(expected['other.items']).toBeUndefined();
    expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
    for (const ns of Object.keys(expected))
      expect({ ns, ...(actual[ns] as Document) }).toEqual({ ns, ...(expected[ns] as Document) });
    expect(await destination.db('admin').collection('ignored').countDocuments()).toBe(0);

    // The commit's write blocking, on both sides (a reversal blocks the other one).
    for (const cluster of ['cluster0', 'cluster1'] as const) {
      await activities.setUserWriteBlocking({ cluster, enabled: true });
      await activities.setUserWriteBlocking({ cluster, enabled: false });
    }

    const latencies = await activities.pingClusters({ clusters: ['cluster0', 'cluster1'] });
    expect(latencies.every((latency) => latency.pingLatencyMs >= 0)).toBe(true);
  });
});
