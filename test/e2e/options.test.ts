// /start options through the real service (real Temporal dev server, worker and activities, two
// emulated clusters with auth): buildIndexes modes, namespace filters, write blocking "none" and
// preExistingDestinationData. Each scenario starts a fresh pair of clusters, syncs, commits and
// checks the destination exactly.
import { Client, Connection } from '@temporalio/client';
import { Double, Int32, UUID, type Document, type MongoClient } from 'mongodb';
import type { Partition } from '../../src/activities/contract';
import { syncWorkflowId, type ServiceConfig } from '../../src/config';
import { startService, type RunningService } from '../../src/main';
import {
  refusesApplicationWrites,
  startTestCluster,
  stopTestCluster,
  type TestCluster,
} from './helpers/clusters';
import { compareClusters, snapshotCluster } from './helpers/compare';
import { SyncApi, testServiceConfig } from './helpers/service';
import { startTestTemporal, type TestTemporal } from './helpers/temporal';

jest.setTimeout(300_000);

interface Scenario {
  cluster0: TestCluster;
  cluster1: TestCluster;
  service: RunningService;
  api: SyncApi;
  config: ServiceConfig;
}

let temporal: TestTemporal;

beforeAll(async () => {
  temporal = await startTestTemporal();
});

afterAll(async () => {
  await temporal?.stop();
});

/** Fresh clusters, seeded by `seed`, and a service for them (sync id `id`), still IDLE. */
async function startScenario(
  id: string,
  seed: (source: MongoClient, destination: MongoClient) => Promise<void>,
): Promise<Scenario> {
  const [cluster0, cluster1] = await Promise.all([startTestCluster(`${id}0`), startTestCluster(`${id}1`)]);
  await seed(cluster0.app, cluster1.app);
  const config = testServiceConfig({
    cluster0: cluster0.uri,
    cluster1: cluster1.uri,
    id: id,
    temporalAddress: temporal.address,
  });
  const service = await startService(config, {
    tuning: { targetPartitionBytes: 512 * 1024, copyConcurrency: 4, applyBatchMs: 1000 },
  });
  return { cluster0, cluster1, service, api: new SyncApi(service.apiUrl), config };
}

async function stopScenario(scenario: Scenario | undefined): Promise<void> {
  if (!scenario) return;
  await scenario.service.stop();
  await Promise.all([stopTestCluster(scenario.cluster0), stopTestCluster(scenario.cluster1)]);
}

async function startSync(api: SyncApi, body: Document): Promise<void> {
  expect(await api.post('start', { source: 'cluster0', destination: 'cluster1', ...body })).toEqual({
    status: 200,
    body: { success: true },
  });
}

const inCea = (api: SyncApi) =>
  api.waitFor((p) => p.info === 'change event application', 120_000, 'change event application');

async function commit(api: SyncApi): Promise<Document> {
  await api.waitFor((p) => p.canCommit === true, 120_000, 'canCommit');
  expect((await api.post('commit')).body).toEqual({ success: true });
  return api.waitFor((p) => p.state === 'COMMITTED', 120_000, 'COMMITTED');
}

async function indexNames(client: MongoClient, db: string, coll: string): Promise<string[]> {
  const indexes = await client.db(db).collection(coll).listIndexes().toArray();
  return indexes.map((index) => index.name as string).sort();
}

/** Every namespace on a cluster with its index names (the never-synced databases left out). */
async function indexesByNamespace(client: MongoClient): Promise<Record<string, string[]>> {
  const snapshot = await snapshotCluster(client);
  return Object.fromEntries(
    Object.entries(snapshot.namespaces).map(([ns, entry]) => [
      ns,
      entry.indexes.map((index) => (JSON.parse(index) as { name: string }).name).sort(),
    ]),
  );
}

async function seedShop(client: MongoClient): Promise<void> {
  const shop = client.db('shop');
  await shop.collection<any>('orders').insertMany(
    Array.from({ length: 3000 }, (_, n) => ({
      _id: n,
      customer: `c${n % 97}`,
      total: new Double(n + 0.25),
      pad: 'p'.repeat(300),
    })),
  );
  await shop.collection('orders').createIndex({ customer: 1 });
  await shop.collection('customers').createIndex({ email: 1 }, { unique: true });
  await shop.collection('customers').createIndex({ tier: 1 }, { hidden: true });
  await shop
    .collection<any>('customers')
    .insertMany(Array.from({ length: 200 }, (_, i) => ({ _id: i, email: `c${i}@x.org`, tier: i % 3 })));
  await shop.collection('sessions').createIndex({ seen: 1 }, { expireAfterSeconds: 3600 });
  await shop.collection<any>('sessions').insertMany([{ seen: new Date() }, { seen: new Date() }]);
}

describe('buildIndexes "beforeDataCopy" with enableUserWriteBlocking false', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await startScenario('before', (source) => seedShop(source));
  });
  afterAll(() => stopScenario(s));

  test('indexes are built before the copy, the destination takes writes, and equals the source', async () => {
    await startSync(s.api, { buildIndexes: 'beforeDataCopy', enableUserWriteBlocking: false });
    // "none": application writes to the destination are accepted during the sync.
    expect(await refusesApplicationWrites(s.cluster1)).toBe(false);
    const cea = await inCea(s.api);
    // Nothing was left to build after the copy: every index already existed before it.
    expect(cea.indexBuilding).toMatchObject({ indexesBuilt: 0, totalIndexesToBuild: 0 });
    expect(await indexNames(s.cluster1.admin, 'shop', 'orders')).toEqual(['_id_', 'customer_1']);
    await s.cluster0.app.db('shop').collection('orders').createIndex({ total: -1 });
    await s.cluster0.app
      .db('shop')
      .collection<any>('orders')
      .updateMany({ _id: { $lt: 100 } }, { $set: { late: true } });
    const committed = await commit(s.api);
    expect(committed).toMatchObject({ canWrite: true, info: 'commit completed' });
    // The application's own write on the destination is the only difference.
    expect(await compareClusters(s.cluster0.admin, s.cluster1.admin)).toEqual([
      'probe.blocked: only on the destination',
    ]);
    expect(
      await compareClusters(s.cluster0.admin, s.cluster1.admin, {
        namespaces: (ns) => ns !== 'probe.blocked',
      }),
    ).toEqual([]);
    // Neither cluster was ever write-blocked.
    expect(await refusesApplicationWrites(s.cluster0)).toBe(false);
    expect(await refusesApplicationWrites(s.cluster1)).toBe(false);
  });
});

describe('buildIndexes "never"', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await startScenario('never', (source) => seedShop(source));
  });
  afterAll(() => stopScenario(s));

  test('only _id indexes on the destination, also for indexes created during the sync', async () => {
    await startSync(s.api, { buildIndexes: 'never' });
    await inCea(s.api);
    await s.cluster0.app.db('shop').collection('orders').createIndex({ total: -1 });
    await s.cluster0.app
      .db('fresh')
      .collection<any>('made')
      .insertMany([{ k: 1 }, { k: 2 }]);
    await s.cluster0.app.db('fresh').collection('made').createIndex({ k: 1 }, { unique: true });
    await commit(s.api);

    const source = await indexesByNamespace(s.cluster0.admin);
    expect(source['shop.orders']).toEqual(['_id_', 'customer_1', 'total_-1']);
    expect(source['fresh.made']).toEqual(['_id_', 'k_1']);
    const destination = await indexesByNamespace(s.cluster1.admin);
    expect(Object.keys(destination).sort()).toEqual(Object.keys(source).sort());
    for (const indexes of Object.values(destination)) expect(indexes).toEqual(['_id_']);
    expect(await compareClusters(s.cluster0.admin, s.cluster1.admin, { indexes: false })).toEqual([]);
  });
});

describe('buildIndexes "excludeHashed"', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await startScenario('hashed', async (source) => {
      const places = source.db('geo').collection<any>('places');
      await places.insertMany(
        Array.from({ length: 1000 }, (_, i) => ({
          _id: i,
          region: `r${i % 17}`,
          name: `n${i}`,
          owner: i % 5,
        })),
      );
      await places.createIndex({ region: 'hashed' });
      await places.createIndex({ name: 1 });
    });
  });
  afterAll(() => stopScenario(s));

  test('hashed indexes are left out, before and during the sync; the rest is equal', async () => {
    await startSync(s.api, { buildIndexes: 'excludeHashed' });
    await inCea(s.api);
    const places = s.cluster0.app.db('geo').collection<any>('places');
    await places.createIndex({ owner: 'hashed' });
    await places.createIndex({ owner: 1 });
    await places.insertOne({ _id: 'late', region: 'r1', name: 'late', owner: 1 });
    await commit(s.api);

    expect(await indexNames(s.cluster0.admin, 'geo', 'places')).toEqual([
      '_id_',
      'name_1',
      'owner_1',
      'owner_hashed',
      'region_hashed',
    ]);
    expect(await indexNames(s.cluster1.admin, 'geo', 'places')).toEqual(['_id_', 'name_1', 'owner_1']);
    expect(await compareClusters(s.cluster0.admin, s.cluster1.admin, { indexes: false })).toEqual([]);
  });
});

describe('namespace filters', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await startScenario('filters', async (source) => {
      const many = (n: number, tag: string) =>
        Array.from({ length: n }, (_, i) => ({ _id: i, tag, v: new Int32(i), pad: 'x'.repeat(200) }));
      await source.db('keep').collection<any>('a').insertMany(many(2000, 'keep.a'));
      await source.db('keep').collection<any>('secret').insertMany(many(100, 'keep.secret'));
      await source.db('mixed').collection<any>('in_1').insertMany(many(500, 'mixed.in_1'));
      await source.db('mixed').collection<any>('out_1').insertMany(many(500, 'mixed.out_1'));
      await source.db('other').collection<any>('x').insertMany(many(300, 'other.x'));
      await source.db('keep').collection('a').createIndex({ v: 1 });
    });
  });
  afterAll(() => stopScenario(s));

  test('only the selected namespaces arrive, including collections created during the sync', async () => {
    await startSync(s.api, {
      includeNamespaces: [{ database: 'keep' }, { database: 'mixed', collectionsRegex: { pattern: '^in_' } }],
      excludeNamespaces: [{ database: 'keep', collections: ['secret'] }],
    });
    await inCea(s.api);
    const src = s.cluster0.app;
    await src
      .db('keep')
      .collection<any>('a')
      .updateMany({ _id: { $lt: 50 } }, { $set: { changed: true } });
    await src
      .db('keep')
      .collection<any>('a')
      .deleteMany({ _id: { $gte: 1900 } });
    await src.db('keep').collection<any>('secret').insertOne({ _id: 'during', secret: true });
    await src
      .db('keep')
      .collection<any>('fresh')
      .insertMany([{ _id: 1 }, { _id: 2 }]);
    await src.db('keep').collection('fresh').createIndex({ z: 1 });
    await src.db('mixed').collection<any>('in_fresh').insertOne({ _id: 1, during: true });
    await src.db('mixed').collection<any>('out_fresh').insertOne({ _id: 1, during: true });
    await src.db('mixed').collection('out_1').createIndex({ v: -1 });
    await src.db('mixed').collection<any>('out_1').deleteMany({});
    await src.db('other').collection<any>('fresh').insertOne({ _id: 1 });
    await src
      .db('other')
      .collection<any>('x')
      .updateMany({}, { $set: { touched: true } });
    const committed = await commit(s.api);
    expect(committed.totalEventsApplied).toBeGreaterThan(0);

    const selected = ['keep.a', 'keep.fresh', 'mixed.in_1', 'mixed.in_fresh'];
    const destination = await snapshotCluster(s.cluster1.admin);
    expect(Object.keys(destination.namespaces).sort()).toEqual(selected);
    expect(
      await compareClusters(s.cluster0.admin, s.cluster1.admin, {
        namespaces: (ns) => selected.includes(ns),
      }),
    ).toEqual([]);
    expect(await s.cluster1.admin.db('keep').collection('a').countDocuments({ changed: true })).toBe(50);
    expect(await s.cluster1.admin.db('keep').collection('a').countDocuments()).toBe(1900);
  });
});

describe('preExistingDestinationData', () => {
  let s: Scenario;
  const preExisting = Array.from({ length: 20 }, (_, i) => ({ _id: i, report: `day ${i}` }));
  beforeAll(async () => {
    s = await startScenario('preexisting', async (source, destination) => {
      await source
        .db('sales')
        .collection<any>('deals')
        .insertMany(Array.from({ length: 1500 }, (_, i) => ({ _id: i, amount: new Double(i * 1.5) })));
      await source.db('sales').collection('deals').createIndex({ amount: 1 });
      // A database of the same name as the destination's own one, not selected by the filter.
      await source.db('reports').collection<any>('daily').insertOne({ _id: 'source-only' });
      await destination.db('reports').collection<any>('daily').insertMany(preExisting);
    });
  });
  afterAll(() => stopScenario(s));

  test('refused without a filter, refused on a non-empty destination without the flag', async () => {
    const withoutFilter = await s.api.post('start', {
      source: 'cluster0',
      destination: 'cluster1',
      preExistingDestinationData: true,
    });
    expect(withoutFilter.status).toBe(400);
    expect(withoutFilter.body).toMatchObject({ success: false, error: 'InvalidRequest' });
    expect(withoutFilter.body.errorDescription).toMatch(/preExistingDestinationData requires/);
    const withoutFlag = await s.api.post('start', {
      source: 'cluster0',
      destination: 'cluster1',
      includeNamespaces: [{ database: 'sales' }],
    });
    expect(withoutFlag.body).toMatchObject({ success: false, error: 'PreconditionFailed' });
    expect(withoutFlag.body.errorDescription).toMatch(/reports\.daily/);
    expect((await s.api.progress()).state).toBe('IDLE');
  });

  test('with a filter the sync runs; the destination keeps its own data', async () => {
    await startSync(s.api, { includeNamespaces: [{ database: 'sales' }], preExistingDestinationData: true });
    await inCea(s.api);
    const deals = s.cluster0.app.db('sales').collection<any>('deals');
    await deals.insertOne({ _id: 'during', amount: new Double(1) });
    await deals.deleteOne({ _id: 3 });
    // Writes to an unselected namespace the destination also holds are not applied there.
    const sourceReports = s.cluster0.app.db('reports').collection<any>('daily');
    await sourceReports.insertOne({ _id: 0, report: 'from the source' });
    await sourceReports.updateMany({}, { $set: { touched: true } });
    // Dropping the unselected source database must not touch the destination's database of that name.
    await s.cluster0.admin.db('reports').dropDatabase();
    await s.cluster0.app.db('sales').collection<any>('notes').insertOne({ _id: 1 });
    await commit(s.api);

    expect(
      await compareClusters(s.cluster0.admin, s.cluster1.admin, {
        namespaces: (ns) => ns.startsWith('sales.'),
      }),
    ).toEqual([]);
    const destination = await snapshotCluster(s.cluster1.admin);
    expect(Object.keys(destination.namespaces).sort()).toEqual([
      'reports.daily',
      'sales.deals',
      'sales.notes',
    ]);
    expect(
      await s.cluster1.admin.db('reports').collection('daily').find().sort({ _id: 1 }).toArray(),
    ).toEqual(preExisting);
  });
});

/** The partitions planPartitions returned in the sync's history (each run's, continued runs too). */
async function plannedPartitions(workflowId: string): Promise<Partition[]> {
  const connection = await Connection.connect({ address: temporal.address });
  try {
    const handle = new Client({ connection }).workflow.getHandle(workflowId);
    const history = await handle.fetchHistory();
    const planned = new Set<string>();
    const partitions: Partition[] = [];
    for (const event of history.events ?? []) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled?.activityType?.name === 'planPartitions') planned.add(String(event.eventId));
      const completed = event.activityTaskCompletedEventAttributes;
      if (completed && planned.has(String(completed.scheduledEventId))) {
        const data = completed.result?.payloads?.[0]?.data;
        partitions.push(...(JSON.parse(Buffer.from(data!).toString('utf8')) as Partition[]));
      }
    }
    return partitions;
  } finally {
    await connection.close();
  }
}

describe('copyInNaturalOrder and detectRandomId', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await startScenario('natural', async (source) => {
      await seedShop(source);
      // Random _ids, more than one partition's worth (the scenario's target is 512 KB).
      await source
        .db('shop')
        .collection<{ _id: UUID; pad: string }>('events')
        .insertMany(Array.from({ length: 4000 }, () => ({ _id: new UUID(), pad: 'e'.repeat(300) })));
    });
  });
  afterAll(() => stopScenario(s));

  test('listed collections and random-_id collections are copied whole in natural order', async () => {
    await startSync(s.api, { copyInNaturalOrder: [{ database: 'shop', collections: ['orders'] }] });
    await inCea(s.api);
    const progress = await s.api.progress();
    expect(progress.warnings ?? []).not.toContainEqual(expect.stringContaining('copyInNaturalOrder'));
    await s.cluster0.app.db('shop').collection<any>('orders').insertOne({ _id: -1, during: true });
    const committed = await commit(s.api);
    expect(committed.state).toBe('COMMITTED');
    expect(await compareClusters(s.cluster0.admin, s.cluster1.admin)).toEqual([]);

    const partitions = await plannedPartitions(syncWorkflowId(s.config));
    const of = (coll: string) => partitions.filter((p) => p.db === 'shop' && p.coll === coll);
    expect(of('orders')).toEqual([expect.objectContaining({ naturalOrder: true })]);
    expect(of('events')).toEqual([expect.objectContaining({ naturalOrder: true })]);
    expect(of('customers').every((p) => !p.naturalOrder)).toBe(true);
  });
});
