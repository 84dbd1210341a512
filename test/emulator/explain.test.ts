// explain through the driver (cursor.explain(), collection.aggregate().explain()): the
// queryPlanner shape mongod answers with, and the stage names of the plans it would choose.
import { MongoClient, type Collection, type Document } from 'mongodb';
import { startEmulator, type RunningEmulator } from '../../emulator';

type Loose = { _id: number | string; [key: string]: unknown };

function stages(plan: Document): string[] {
  const out: string[] = [];
  for (let stage: Document | undefined = plan; stage; stage = stage.inputStage as Document | undefined)
    out.push(stage.stage as string);
  return out;
}

describe('emulator explain', () => {
  let emulator: RunningEmulator;
  let client: MongoClient;
  const coll = (): Collection<Loose> => client.db('explainDb').collection<Loose>('c');

  beforeAll(async () => {
    emulator = await startEmulator({ version: '8.0', replSet: 'rsExplain' });
    client = await MongoClient.connect(emulator.uri, { serverSelectionTimeoutMS: 5000 });
    const c = client.db('explainDb').collection<Loose>('c');
    await c.insertMany([1, 2, 3, 4, 5].map((n) => ({ _id: n, a: n, b: n % 2, s: `x${n}` })));
    await c.createIndex({ a: 1 });
  });

  afterAll(async () => {
    await client?.close();
    await emulator?.stop();
  });

  test('find without a usable index is a COLLSCAN with the parsed filter', async () => {
    const explained = await coll().find({ b: 1 }).explain('queryPlanner');
    expect(explained.explainVersion).toBe('1');
    expect(explained.queryPlanner.namespace).toBe('explainDb.c');
    expect(explained.queryPlanner.parsedQuery).toEqual({ b: { $eq: 1 } });
    expect(explained.queryPlanner.winningPlan).toMatchObject({
      stage: 'COLLSCAN',
      filter: { b: { $eq: 1 } },
      direction: 'forward',
    });
    expect(explained.queryPlanner.rejectedPlans).toEqual([]);
    expect(explained.serverInfo.port).toBe(emulator.port);
    expect(explained.command).toMatchObject({ find: 'c', filter: { b: 1 }, $db: 'explainDb' });
  });

  test('an indexed field gives FETCH over IXSCAN with bounds; other predicates stay on FETCH', async () => {
    const explained = await coll()
      .find({ a: { $gte: 2 }, b: 0 })
      .explain('queryPlanner');
    const plan = explained.queryPlanner.winningPlan;
    expect(stages(plan)).toEqual(['FETCH', 'IXSCAN']);
    expect(plan.filter).toEqual({ b: { $eq: 0 } });
    expect(plan.inputStage).toMatchObject({
      keyPattern: { a: 1 },
      indexName: 'a_1',
      direction: 'forward',
      indexBounds: { a: ['[2, inf.0]'] },
    });
    expect(explained.queryPlanner.parsedQuery).toEqual({ $and: [{ a: { $gte: 2 } }, { b: { $eq: 0 } }] });
  });

  test('_id equality is EXPRESS_IXSCAN on 8.0; sort, skip, limit and projection add their stages', async () => {
    const byId = await coll().find({ _id: 3 }).explain('queryPlanner');
    expect(byId.queryPlanner.winningPlan.stage).toBe('EXPRESS_IXSCAN');
    const shaped = await coll().find({ b: 1 }).sort({ s: -1 }).skip(1).limit(2).project({ s: 1 }).explain();
    expect(stages(shaped.queryPlanner.winningPlan)).toEqual([
      'PROJECTION_SIMPLE',
      'SKIP',
      'SORT',
      'COLLSCAN',
    ]);
    const sortByIndex = await coll().find().sort({ a: -1 }).explain('queryPlanner');
    expect(stages(sortByIndex.queryPlanner.winningPlan)).toEqual(['FETCH', 'IXSCAN']);
    expect(sortByIndex.queryPlanner.winningPlan.inputStage.direction).toBe('backward');
  });

  test('executionStats counts what the query returns', async () => {
    const explained = await coll().find({ b: 1 }).explain('executionStats');
    expect(explained.executionStats).toMatchObject({
      executionSuccess: true,
      nReturned: 3,
      totalDocsExamined: 5,
    });
  });

  test('aggregate explain: a pushed-down pipeline, then $cursor with later stages', async () => {
    const simple = await coll()
      .aggregate([{ $match: { a: 2 } }])
      .explain('queryPlanner');
    expect(stages(simple.queryPlanner.winningPlan)).toEqual(['FETCH', 'IXSCAN']);
    const grouped = (await coll()
      .aggregate([{ $match: { b: 1 } }, { $group: { _id: '$b', n: { $sum: 1 } } }])
      .explain('queryPlanner')) as Document;
    expect(grouped.stages[0].$cursor.queryPlanner).toMatchObject({
      namespace: 'explainDb.c',
      winningPlan: { stage: 'COLLSCAN' },
    });
    expect(grouped.stages[1]).toEqual({ $group: { _id: '$b', n: { $sum: 1 } } });
    const viaOption = await client
      .db('explainDb')
      .command({ aggregate: 'c', pipeline: [{ $match: { a: 1 } }], explain: true });
    expect(viaOption.queryPlanner.winningPlan.stage).toBe('FETCH');
  });
});
