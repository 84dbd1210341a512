// Each emulated version refuses what mongod of that version refuses, with mongod's error, and
// accepts it from the release that introduced it.
import type { Db, Document } from 'mongodb';
import type { ServerVersion } from '../../emulator/src/version-gates';
import { serverFailure, startEmulatorWithClient, type EmulatorWithClient } from './helpers/emulator';

const VERSIONS: ServerVersion[] = ['5.0', '6.0', '7.0', '8.0'];
const servers = new Map<ServerVersion, EmulatorWithClient>();
let counter = 0;

beforeAll(async () => {
  for (const version of VERSIONS) servers.set(version, await startEmulatorWithClient({ version }));
});

afterAll(async () => {
  for (const server of servers.values()) await server.stop();
});

function dbOf(version: ServerVersion): Db {
  return servers.get(version)!.client.db('gates');
}

/** A collection name no other case uses. */
function fresh(): string {
  counter += 1;
  return `c${counter}`;
}

/** Opens a change stream with these options and reads until the first getMore has been answered. */
async function openStream(db: Db, pipeline: Document[], options: Document): Promise<void> {
  const coll = fresh();
  await db.createCollection(coll);
  const stream = db.collection(coll).watch(pipeline, options);
  try {
    await stream.tryNext();
  } finally {
    await stream.close();
  }
}

interface Gate {
  feature: string;
  since: ServerVersion;
  use(db: Db): Promise<unknown>;
  refusal: { code: number; message: RegExp };
}

const GATES: Gate[] = [
  {
    feature: 'create with changeStreamPreAndPostImages',
    since: '6.0',
    use: (db) => db.createCollection(fresh(), { changeStreamPreAndPostImages: { enabled: true } }),
    refusal: { code: 40415, message: /BSON field 'create.changeStreamPreAndPostImages' is an unknown field/ },
  },
  {
    feature: 'collMod changeStreamPreAndPostImages',
    since: '6.0',
    use: async (db) => {
      const coll = fresh();
      await db.createCollection(coll);
      return db.command({ collMod: coll, changeStreamPreAndPostImages: { enabled: true } });
    },
    refusal: { code: 40415, message: /collMod.changeStreamPreAndPostImages/ },
  },
  {
    feature: 'a change stream with fullDocumentBeforeChange',
    since: '6.0',
    use: (db) => openStream(db, [], { fullDocumentBeforeChange: 'whenAvailable' }),
    refusal: { code: 40415, message: /\$changeStream.fullDocumentBeforeChange' is an unknown field/ },
  },
  {
    feature: "a change stream with fullDocument 'required'",
    since: '6.0',
    use: (db) => openStream(db, [], { fullDocument: 'required' }),
    refusal: { code: 2, message: /Enumeration value 'required' for field '\$changeStream.fullDocument'/ },
  },
  {
    feature: 'create with clusteredIndex',
    since: '6.0',
    use: (db) => db.createCollection(fresh(), { clusteredIndex: { key: { _id: 1 }, unique: true } }),
    refusal: { code: 40415, message: /create.clusteredIndex/ },
  },
  {
    feature: 'a change stream with showExpandedEvents',
    since: '6.0',
    use: (db) => openStream(db, [], { showExpandedEvents: true }),
    refusal: { code: 40415, message: /\$changeStream.showExpandedEvents' is an unknown field/ },
  },
  {
    feature: '$documents',
    since: '6.0',
    use: (db) => db.aggregate([{ $documents: [{ a: 1 }] }]).toArray(),
    refusal: { code: 40324, message: /Unrecognized pipeline stage name: '\$documents'/ },
  },
  {
    feature: '$documents inside $lookup',
    since: '6.0',
    use: async (db) => {
      const coll = fresh();
      await db.collection(coll).insertOne({ a: 1 });
      return db
        .collection(coll)
        .aggregate([{ $lookup: { as: 'joined', pipeline: [{ $documents: [{ b: 1 }] }] } }])
        .toArray();
    },
    refusal: { code: 40324, message: /'\$documents'/ },
  },
  {
    feature: 'the $topN accumulator',
    since: '6.0',
    use: (db) =>
      db
        .collection(fresh())
        .aggregate([{ $group: { _id: null, top: { $topN: { n: 2, sortBy: { a: 1 }, output: '$a' } } } }])
        .toArray(),
    refusal: { code: 15952, message: /unknown group operator '\$topN'/ },
  },
  {
    feature: 'the $firstN expression',
    since: '6.0',
    use: (db) =>
      db
        .collection(fresh())
        .aggregate([{ $project: { first: { $firstN: { n: 1, input: [1, 2] } } } }])
        .toArray(),
    refusal: { code: 168, message: /Unrecognized expression '\$firstN'/ },
  },
  {
    feature: 'setUserWriteBlockMode',
    since: '6.0',
    use: async (db) => {
      const admin = db.client.db('admin');
      await admin.command({ setUserWriteBlockMode: 1, global: true });
      await admin.command({ setUserWriteBlockMode: 1, global: false });
    },
    refusal: { code: 59, message: /no such command: 'setUserWriteBlockMode'/ },
  },
  {
    feature: 'an index with prepareUnique',
    since: '6.0',
    // The driver's createIndex passes only the options it knows: the command is sent as is.
    use: (db) =>
      db.command({ createIndexes: fresh(), indexes: [{ key: { a: 1 }, name: 'a_1', prepareUnique: true }] }),
    refusal: { code: 197, message: /The field 'prepareUnique' is not valid for an index specification/ },
  },
  {
    feature: 'collMod converting an index to unique',
    since: '6.0',
    use: async (db) => {
      const coll = fresh();
      await db.collection(coll).createIndex({ a: 1 });
      await db.command({ collMod: coll, index: { keyPattern: { a: 1 }, prepareUnique: true } });
      return db.command({ collMod: coll, index: { keyPattern: { a: 1 }, unique: true } });
    },
    refusal: { code: 40415, message: /collMod.index.prepareUnique' is an unknown field/ },
  },
  {
    feature: 'drop of a namespace that does not exist',
    since: '7.0',
    use: (db) => db.command({ drop: fresh() }),
    refusal: { code: 26, message: /ns not found/ },
  },
  {
    feature: 'create of an existing collection with identical options',
    since: '7.0',
    use: async (db) => {
      const coll = fresh();
      await db.command({ create: coll });
      return db.command({ create: coll });
    },
    refusal: { code: 48, message: /already exists/ },
  },
  {
    feature: 'the bulkWrite command',
    since: '8.0',
    use: (db) =>
      db.client.db('admin').command({
        bulkWrite: 1,
        ops: [{ insert: 0, document: { _id: 1 } }],
        nsInfo: [{ ns: `gates.${fresh()}` }],
      }),
    refusal: { code: 59, message: /no such command: 'bulkWrite'/ },
  },
  {
    feature: 'an update statement with a sort',
    since: '8.0',
    use: async (db) => {
      const coll = fresh();
      await db.collection(coll).insertMany([{ a: 2 }, { a: 1 }]);
      return db.command({ update: coll, updates: [{ q: {}, u: { $set: { b: 1 } }, sort: { a: 1 } }] });
    },
    refusal: { code: 40415, message: /BSON field 'update.updates.sort' is an unknown field/ },
  },
];

const ORDER = VERSIONS;
const cases = GATES.flatMap((gate) => VERSIONS.map((version) => [gate.feature, version, gate] as const));

test.each(cases)('%s on %s', async (_feature, version, gate) => {
  const db = dbOf(version);
  if (ORDER.indexOf(version) >= ORDER.indexOf(gate.since)) {
    await expect(gate.use(db)).resolves.not.toThrow();
  } else {
    const error = await serverFailure(gate.use(db));
    expect(error.code).toBe(gate.refusal.code);
    expect(error.message).toMatch(gate.refusal.message);
  }
});

test('a refused feature leaves nothing behind', async () => {
  const db = dbOf('5.0');
  const coll = fresh();
  await serverFailure(db.createCollection(coll, { clusteredIndex: { key: { _id: 1 }, unique: true } }));
  const names = (await db.listCollections({ name: coll }).toArray()).map((entry) => entry.name);
  expect(names).toEqual([]);
});

test('buildInfo and hello report the emulated version', async () => {
  for (const version of VERSIONS) {
    const info = await servers.get(version)!.client.db('admin').command({ buildInfo: 1 });
    expect(String(info.version).startsWith(`${version}.`)).toBe(true);
  }
});
