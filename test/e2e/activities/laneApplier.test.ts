// The lane applier's duplicate-key replay, through applyChanges in Temporal's MockActivityEnvironment
// against two emulated clusters: when the destination keeps a unique index, events of different
// documents applied on parallel lanes can collide on it in an order the source never had; the stalled
// events are replayed in stream order and the destination ends in the source's state. And its flush
// policy: an event waits for company only a few milliseconds while no write runs.
import { EJSON } from 'bson';
import { MockActivityEnvironment } from '@temporalio/testing';
import {
  Int32,
  type CommandStartedEvent,
  type CommandSucceededEvent,
  type Collection,
  type Document,
} from 'mongodb';
import { ClusterClients, createActivities } from '../../../src/activities';
import { applyChanges } from '../../../src/activities/applyEvents';
import { EXACT_TYPES } from '../../../src/activities/bsonOptions';
import { laneOf, type CrudEvent } from '../../../src/activities/changeEvents';
import { HotDocuments, parseHotDocId } from '../../../src/activities/hotDocuments';
import { LaneApplier } from '../../../src/activities/laneApplier';
import type {
  ApplyChangesInput,
  ApplyChangesResult,
  Direction,
  OperationTime,
} from '../../../src/activities/contract';
import { currentOperationTime } from '../../../src/activities/operationTime';
import { SERVER_ERROR_CODES, serverErrorCode } from '../../../src/activities/serverErrors';
import { startTestCluster, stopTestCluster, type TestCluster } from '../helpers/clusters';

const direction: Direction = { source: 'cluster0', destination: 'cluster1' };
/** The applier's lane count (applyEvents.ts); ids are picked so each document has a lane of its own. */
const LANES = 8;

interface Person {
  _id: Int32;
  email: string;
  n: Int32;
}

async function contents(collection: Collection<Person>): Promise<string[]> {
  const documents = await collection.find({}, EXACT_TYPES).sort({ _id: 1 }).toArray();
  return documents.map((document) => EJSON.stringify(document, { relaxed: false }));
}

const laneOfId = (ns: string, id: Int32) => laneOf(ns, { _id: id }, LANES);

/** `count` Int32 ids whose documents land on pairwise different lanes of `ns`, in lane order. */
function idsOnDistinctLanes(ns: string, count: number): Int32[] {
  const ids: Int32[] = [];
  const lanes = new Set<number>();
  for (let n = 1; ids.length < count; n++) {
    const lane = laneOfId(ns, new Int32(n));
    if (lanes.has(lane)) continue;
    lanes.add(lane);
    ids.push(new Int32(n));
  }
  return ids.sort((x, y) => laneOfId(ns, x) - laneOfId(ns, y));
}

describe('lane applier duplicate-key replay', () => {
  let source: TestCluster;
  let destination: TestCluster;
  let clusters: ClusterClients;
  const duplicateKeyReplies: Document[] = [];

  beforeAll(async () => {
    [source, destination] = await Promise.all([startTestCluster('laneSrc'), startTestCluster('laneDst')]);
    clusters = new ClusterClients(
      { cluster0: source.uri, cluster1: destination.uri },
      { monitorCommands: true },
    );
    clusters.get('cluster1').on('commandSucceeded', (event: CommandSucceededEvent) => {
      const writeErrors = ((event.reply as Document).writeErrors ?? []) as Document[];
      for (const writeError of writeErrors)
        if (serverErrorCode(writeError) === SERVER_ERROR_CODES.DuplicateKey)
          duplicateKeyReplies.push(writeError);
    });
  });

  afterAll(async () => {
    await clusters?.close();
    await Promise.all([stopTestCluster(source), stopTestCluster(destination)]);
  });

  async function applyUntil(stop: OperationTime, start: OperationTime) {
    const env = new MockActivityEnvironment({ attempt: 1 });
    const checkpoints: string[] = [];
    env.on('heartbeat', (details: { resumeToken: string }) => checkpoints.push(details.resumeToken));
    const input: ApplyChangesInput = {
      direction,
      resumeToken: null,
      startAtOperationTime: start,
      maxDurationMs: 10_000,
      maxEvents: 10_000,
      stopAfterOperationTime: stop,
    };
    const result = (await env.run(applyChanges, clusters, input)) as ApplyChangesResult;
    return { result, checkpoints };
  }

  // Whichever lane's write reaches the destination first collides on the unique index: the order
  // depends on the driver's connection pool. When several events collide, only replaying them in
  // stream order (b, then c, then a) succeeds. Two id layouts vary which lanes go first.
  it.each([
    ['people', 'in lane order', (ids: Int32[]) => ids],
    ['folks', 'in reverse lane order', (ids: Int32[]) => [ids[2], ids[1], ids[0], ids[3]]],
  ])(
    'replays colliding events in stream order and ends in the source state (%s: a, b, c %s)',
    async (coll, _layout, order) => {
      const ns = `app.${coll}`;
      const [a, b, c, d] = order(idsOnDistinctLanes(ns, 4));
      duplicateKeyReplies.length = 0;
      const sourcePeople = source.admin.db('app').collection<Person>(coll);
      const destinationPeople = destination.admin.db('app').collection<Person>(coll);
      const initial: Person[] = [
        { _id: a, email: 'a@x', n: new Int32(0) },
        { _id: b, email: 'b@x', n: new Int32(0) },
        { _id: c, email: 'c@x', n: new Int32(0) },
        { _id: d, email: 'd@x', n: new Int32(0) },
      ];
      for (const people of [sourcePeople, destinationPeople]) {
        await people.createIndex({ email: 1 }, { unique: true });
        await people.insertMany(initial.map((person) => ({ ...person })));
      }
      // Just after the initial inserts (startAtOperationTime is inclusive).
      const latest = await currentOperationTime(source.admin);
      const start = { t: latest.t, i: latest.i + 1 };

      // A rotation of unique emails, valid in this order only: a takes a temporary value, b takes a's,
      // c takes b's, a takes c's. On parallel lanes whichever document goes first collides.
      await sourcePeople.updateOne({ _id: a }, { $set: { email: 'tmp@x' }, $inc: { n: 1 } });
      await sourcePeople.updateOne({ _id: b }, { $set: { email: 'a@x' }, $inc: { n: 1 } });
      await sourcePeople.updateOne({ _id: c }, { $set: { email: 'b@x' }, $inc: { n: 1 } });
      await sourcePeople.updateOne({ _id: a }, { $set: { email: 'c@x' }, $inc: { n: 1 } });
      await sourcePeople.updateOne({ _id: d }, { $inc: { n: 5 } });
      await sourcePeople.deleteOne({ _id: d });
      const stop = await currentOperationTime(source.admin);

      const { result, checkpoints } = await applyUntil(stop, start);

      expect(result.reachedStopTime).toBe(true);
      expect(result.crudEventsApplied).toBe(6);
      expect(checkpoints.length).toBeGreaterThan(0);
      // The destination kept its unique index and refused an out-of-order write at least once ...
      expect(duplicateKeyReplies.length).toBeGreaterThan(0);
      // ... and still ends exactly in the source's state.
      const expected = [
        { _id: a, email: 'c@x', n: new Int32(2) },
        { _id: b, email: 'a@x', n: new Int32(1) },
        { _id: c, email: 'b@x', n: new Int32(1) },
      ].sort((x, y) => x._id.value - y._id.value);
      expect(await contents(sourcePeople)).toEqual(
        expected.map((person) => EJSON.stringify(person, { relaxed: false })),
      );
      expect(await contents(destinationPeople)).toEqual(await contents(sourcePeople));
      expect((await destinationPeople.indexes()).find((index) => index.name === 'email_1')?.unique).toBe(
        true,
      );
    },
  );
});

describe('lane applier flush policy', () => {
  let source: TestCluster;
  let destination: TestCluster;

  beforeAll(async () => {
    [source, destination] = await Promise.all([startTestCluster('flushSrc'), startTestCluster('flushDst')]);
  });

  afterAll(async () => {
    await Promise.all([stopTestCluster(source), stopTestCluster(destination)]);
  });

  const insert = (coll: string, n: number) =>
    ({
      operationType: 'insert',
      ns: { db: 'lanes', coll },
      documentKey: { _id: new Int32(n) },
      fullDocument: { _id: new Int32(n), n: new Int32(n) },
    }) as unknown as CrudEvent;
  const landed = (coll: string) => destination.admin.db('lanes').collection(coll).countDocuments();

  test('an event that waited the delay while no write ran is written without a flush', async () => {
    const applier = new LaneApplier(source.admin, destination.admin, LANES, 1000, 20);
    await applier.add(insert('timely', 1));
    await new Promise((resolve) => setTimeout(resolve, 40));
    await applier.add(insert('timely', 2));
    const deadline = Date.now() + 5000;
    while ((await landed('timely')) < 2 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await landed('timely')).toBe(2);
    await applier.flush();
  });

  test('without a delay, events wait for the threshold or a flush', async () => {
    const applier = new LaneApplier(source.admin, destination.admin, LANES, 1000);
    await applier.add(insert('batched', 1));
    await new Promise((resolve) => setTimeout(resolve, 40));
    await applier.add(insert('batched', 2));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await landed('batched')).toBe(0);
    await applier.flush();
    expect(await landed('batched')).toBe(2);
  });
});

describe('lane applier hot documents (--hotDocIDs)', () => {
  let source: TestCluster;
  let destination: TestCluster;
  let clusters: ClusterClients;
  /** The `_id`s of each update statement the destination received, one entry per command. */
  const updateCommands: unknown[][] = [];
  const HOT = 'hits';

  beforeAll(async () => {
    [source, destination] = await Promise.all([startTestCluster('hotSrc'), startTestCluster('hotDst')]);
    clusters = new ClusterClients(
      { cluster0: source.uri, cluster1: destination.uri },
      { monitorCommands: true },
    );
    clusters.get('cluster1').on('commandStarted', (event: CommandStartedEvent) => {
      if (event.commandName !== 'update' || event.databaseName !== 'hot') return;
      updateCommands.push((event.command.updates as { q: { _id: unknown } }[]).map((u) => u.q._id));
    });
  });

  afterAll(async () => {
    await clusters?.close();
    await Promise.all([stopTestCluster(source), stopTestCluster(destination)]);
  });

  it('writes a hot document on a lane of its own, through the activities a worker runs', async () => {
    const ns = 'hot.counters';
    const cold = Array.from({ length: 24 }, (_, n) => new Int32(n + 1));
    // Without a lane of its own the hot document would share a write with these.
    expect(cold.some((id) => laneOf(ns, { _id: id }, LANES) === laneOf(ns, { _id: HOT }, LANES))).toBe(true);
    const initial: Document[] = [
      { _id: HOT, n: new Int32(0) },
      ...cold.map((id) => ({ _id: id, n: new Int32(0) })),
    ];
    for (const cluster of [source, destination])
      await cluster.admin
        .db('hot')
        .collection('counters')
        .insertMany(initial.map((d) => ({ ...d })));
    const latest = await currentOperationTime(source.admin);
    const counters = source.admin.db('hot').collection<{ _id: string | Int32; n: Int32 }>('counters');
    for (let round = 0; round < 20; round++) {
      await counters.updateOne({ _id: HOT }, { $inc: { n: 1 } });
      await counters.updateOne({ _id: cold[round % cold.length] }, { $inc: { n: 1 } });
    }
    const stop = await currentOperationTime(source.admin);
    const activities = createActivities(clusters, { hotDocIds: [parseHotDocId(HOT)] });
    const input: ApplyChangesInput = {
      direction,
      resumeToken: null,
      startAtOperationTime: { t: latest.t, i: latest.i + 1 },
      maxDurationMs: 10_000,
      maxEvents: 10_000,
      stopAfterOperationTime: stop,
    };
    updateCommands.length = 0;
    const result = (await new MockActivityEnvironment({ attempt: 1 }).run(
      activities.applyChanges,
      input,
    )) as ApplyChangesResult;
    expect(result.crudEventsApplied).toBe(40);
    const withHot = updateCommands.filter((ids) => ids.includes(HOT));
    expect(withHot.length).toBeGreaterThan(0);
    for (const ids of withHot) expect(ids.every((id) => id === HOT)).toBe(true);
    const all = (cluster: TestCluster) =>
      cluster.admin.db('hot').collection('counters').find({}, EXACT_TYPES).sort({ _id: 1 }).toArray();
    expect(EJSON.stringify(await all(destination))).toBe(EJSON.stringify(await all(source)));
  });

  it('drops waiting events of a hot document that a replace or delete overwrites', async () => {
    const applier = new LaneApplier(
      clusters.get('cluster0'),
      clusters.get('cluster1'),
      LANES,
      10_000,
      Number.POSITIVE_INFINITY,
      new HotDocuments([parseHotDocId(HOT)]),
    );
    const ns = { db: 'hot', coll: 'superseded' };
    const event = (operationType: string, id: unknown, extra: Document = {}) =>
      ({ operationType, ns, documentKey: { _id: id }, ...extra }) as unknown as CrudEvent;
    const update = (id: unknown, n: number) =>
      event('update', id, { updateDescription: { updatedFields: { n: new Int32(n) }, removedFields: [] } });
    const full = (id: unknown, n: number) => ({ _id: id, n: new Int32(n) });
    updateCommands.length = 0;
    await applier.add(event('insert', HOT, { fullDocument: full(HOT, 0) }));
    await applier.add(event('insert', new Int32(1), { fullDocument: full(new Int32(1), 0) }));
    for (let n = 1; n <= 50; n++) {
      await applier.add(update(HOT, n));
      await applier.add(update(new Int32(1), n));
    }
    await applier.add(
      event('replace', HOT, { fullDocument: { _id: HOT, n: new Int32(100), replaced: true } }),
    );
    await applier.add(update(HOT, 101));
    await applier.flush();
    // The insert and 50 updates before the replace were overwritten by it; the cold document's
    // events are all written.
    expect(applier.superseded).toBe(51);
    const hotStatements = updateCommands.flat().filter((id) => id === HOT).length;
    expect(hotStatements).toBe(2);
    const collection = destination.admin.db('hot').collection('superseded');
    expect(await collection.findOne({ _id: HOT as unknown as Int32 }, EXACT_TYPES)).toEqual({
      _id: HOT,
      n: new Int32(101),
      replaced: true,
    });
    expect(await collection.findOne({ _id: new Int32(1) }, EXACT_TYPES)).toEqual(full(new Int32(1), 50));

    await applier.add(update(HOT, 102));
    await applier.add(event('delete', HOT));
    await applier.flush();
    expect(applier.superseded).toBe(52);
    expect(await collection.countDocuments({ _id: HOT as unknown as Int32 })).toBe(0);
  });
});
