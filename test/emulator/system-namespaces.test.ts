// Server-state namespaces read as collections through the driver: admin.system.users,
// admin.system.roles and admin.system.version (with mongod's privilege rules), and
// local.oplog.rs (filters, $natural order, tailable/awaitData cursors, collStats, applyOps).
import { Binary, Int32, Long, MongoClient, MongoServerError, Timestamp, UUID, type Document } from 'mongodb';
import { startEmulator, type RunningEmulator } from '../../emulator';

type Loose = { _id: number | string; [key: string]: unknown };

async function failure(promise: Promise<unknown>): Promise<MongoServerError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MongoServerError);
  return error as MongoServerError;
}

describe('admin.system.users, system.roles and system.version', () => {
  let emulator: RunningEmulator;
  let root: MongoClient;
  const clients: MongoClient[] = [];

  async function connect(user: string, password: string, authSource = 'admin'): Promise<MongoClient> {
    const uri = `mongodb://${user}:${password}@127.0.0.1:${emulator.port}/?replicaSet=rs0&authSource=${authSource}`;
    const client = await MongoClient.connect(uri, { serverSelectionTimeoutMS: 5000 });
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    emulator = await startEmulator({ auth: { rootUser: 'root', rootPassword: 'rootpw' } });
    root = await connect('root', 'rootpw');
    const admin = root.db('admin');
    await admin.command({ createUser: 'useradmin', pwd: 'pw', roles: ['userAdminAnyDatabase'] });
    await admin.command({ createUser: 'writer', pwd: 'pw', roles: ['readWriteAnyDatabase'] });
    await root.db('app').command({
      createUser: 'appUser',
      pwd: 'pw',
      roles: [{ role: 'readWrite', db: 'app' }],
      customData: { team: 'x' },
      mechanisms: ['SCRAM-SHA-256'],
    });
    await admin.command({
      createRole: 'reader',
      privileges: [{ resource: { db: 'app', collection: 'c' }, actions: ['find'] }],
      roles: [{ role: 'read', db: 'app' }],
    });
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await emulator?.stop();
  });

  test('system.users documents are shaped as mongod stores them', async () => {
    const users = await root
      .db('admin')
      .collection('system.users')
      .find({}, { promoteValues: false })
      .sort({ _id: 1 })
      .toArray();
    expect(users.map((user) => user._id.toString())).toEqual([
      'admin.root',
      'admin.useradmin',
      'admin.writer',
      'app.appUser',
    ]);
    const rootUser = users[0];
    expect(Object.keys(rootUser)).toEqual(['_id', 'userId', 'user', 'db', 'credentials', 'roles']);
    expect(rootUser.userId).toBeInstanceOf(Binary);
    expect((rootUser.userId as Binary).sub_type).toBe(4);
    expect(Object.keys(rootUser.credentials)).toEqual(['SCRAM-SHA-1', 'SCRAM-SHA-256']);
    const sha256 = rootUser.credentials['SCRAM-SHA-256'];
    expect(sha256.iterationCount).toEqual(new Int32(15000));
    expect(rootUser.credentials['SCRAM-SHA-1'].iterationCount).toEqual(new Int32(10000));
    for (const field of ['salt', 'storedKey', 'serverKey'])
      expect(typeof sha256[field].valueOf()).toBe('string');
    const appUser = await root.db('admin').collection('system.users').findOne({ user: 'appUser' });
    expect(appUser).toMatchObject({
      _id: 'app.appUser',
      db: 'app',
      roles: [{ role: 'readWrite', db: 'app' }],
      customData: { team: 'x' },
    });
    expect(appUser?.userId).toBeInstanceOf(UUID);
    expect(Object.keys(appUser?.credentials)).toEqual(['SCRAM-SHA-256']);
  });

  test('aggregate reads them too', async () => {
    const [counted] = await root
      .db('admin')
      .collection('system.users')
      .aggregate([{ $match: { db: 'admin' } }, { $count: 'n' }])
      .toArray();
    expect(counted).toEqual({ n: 3 });
  });

  test('system.roles holds custom roles', async () => {
    const roles = await root.db('admin').collection('system.roles').find().toArray();
    expect(roles).toEqual([
      {
        _id: 'admin.reader',
        role: 'reader',
        db: 'admin',
        privileges: [{ resource: { db: 'app', collection: 'c' }, actions: ['find'] }],
        roles: [{ role: 'read', db: 'app' }],
      },
    ]);
  });

  test('system.version holds the FCV and authSchema documents', async () => {
    const docs = await root
      .db('admin')
      .collection('system.version')
      .find({}, { promoteValues: false })
      .toArray();
    expect(docs).toEqual([
      { _id: 'featureCompatibilityVersion', version: '8.0' },
      { _id: 'authSchema', currentVersion: new Int32(5) },
    ]);
  });

  test('userAdminAnyDatabase may read system.users; readWriteAnyDatabase may not', async () => {
    const userAdmin = await connect('useradmin', 'pw');
    expect(await userAdmin.db('admin').collection('system.users').countDocuments()).toBe(4);
    const writer = await connect('writer', 'pw');
    const error = await failure(writer.db('admin').collection('system.users').find().toArray());
    expect(error.code).toBe(13);
  });

  test('dataSize needs find on the namespace', async () => {
    const writer = await connect('writer', 'pw');
    await writer.db('app').collection('c').insertOne({ x: 1 });
    expect((await writer.db('app').command({ dataSize: 'app.c' })).numObjects).toBe(1);
    const appUser = await connect('appUser', 'pw', 'app');
    const error = await failure(appUser.db('app').command({ dataSize: 'other.c' }));
    expect(error.code).toBe(13);
  });
});

describe('local.oplog.rs', () => {
  let emulator: RunningEmulator;
  let client: MongoClient;

  beforeAll(async () => {
    emulator = await startEmulator({ version: '8.0', replSet: 'rsOplog' });
    client = await MongoClient.connect(emulator.uri, { serverSelectionTimeoutMS: 5000 });
  });

  afterAll(async () => {
    await client?.close();
    await emulator?.stop();
  });

  const oplog = (): ReturnType<MongoClient['db']>['collection'] extends (n: string) => infer C ? C : never =>
    client.db('local').collection('oplog.rs');

  test('CRUD and DDL entries are shaped as mongod logs them', async () => {
    const db = client.db('oplogShape');
    await db.createCollection('c');
    const coll = db.collection<Loose>('c');
    const [info] = (await db.listCollections({ name: 'c' }).toArray()) as Document[];
    const uuid = info.info.uuid as UUID;
    await coll.insertOne({ _id: 1, a: 1, nested: { x: 1 }, arr: [1, 2, 3] });
    await coll.updateOne({ _id: 1 }, { $set: { a: 2, b: 1, 'nested.y': 2 }, $unset: { 'nested.x': 1 } });
    await coll.updateOne({ _id: 1 }, { $set: { 'arr.1': 9 } });
    await coll.replaceOne({ _id: 1 }, { _id: 1, replaced: true });
    await coll.deleteOne({ _id: 1 });
    const entries = await oplog()
      .find({ ns: { $in: ['oplogShape.c', 'oplogShape.$cmd'] } }, { promoteLongs: false })
      .toArray();
    expect(entries.map((entry) => entry.op)).toEqual(['c', 'i', 'u', 'u', 'u', 'd']);
    const [create, insert, update, arrayUpdate, replace, remove] = entries;
    expect(create).toMatchObject({ ns: 'oplogShape.$cmd', ui: uuid, o: { create: 'c' } });
    expect(Object.keys(insert)).toEqual(['op', 'ns', 'ui', 'o', 'o2', 'ts', 't', 'v', 'wall']);
    expect(insert.ts).toBeInstanceOf(Timestamp);
    expect(insert.t).toEqual(Long.fromNumber(1));
    expect(insert.v).toEqual(Long.fromNumber(2));
    expect(insert.wall).toBeInstanceOf(Date);
    expect(insert.o).toEqual({ _id: 1, a: 1, nested: { x: 1 }, arr: [1, 2, 3] });
    expect(insert.o2).toEqual({ _id: 1 });
    expect(update.o).toEqual({
      $v: 2,
      diff: { u: { a: 2 }, i: { b: 1 }, snested: { d: { x: false }, i: { y: 2 } } },
    });
    expect(arrayUpdate.o).toEqual({ $v: 2, diff: { sarr: { a: true, u1: 9 } } });
    expect(replace.o).toEqual({ _id: 1, replaced: true });
    expect(remove).toMatchObject({ op: 'd', ui: uuid, o: { _id: 1 } });
    expect(remove.o2).toBeUndefined();
  });

  test('ts filters and {$natural: -1}', async () => {
    const coll = client.db('oplogOrder').collection('c');
    await coll.insertMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const forward = await oplog().find({ ns: 'oplogOrder.c' }).toArray();
    const backward = await oplog().find({ ns: 'oplogOrder.c' }).sort({ $natural: -1 }).toArray();
    expect(backward.map((entry) => entry.o.n)).toEqual([3, 2, 1]);
    expect(forward.map((entry) => entry.o.n)).toEqual([1, 2, 3]);
    const after = await oplog()
      .find({ ts: { $gt: forward[0].ts }, ns: 'oplogOrder.c' })
      .toArray();
    expect(after.map((entry) => entry.o.n)).toEqual([2, 3]);
    const [newest] = await oplog().find().sort({ $natural: -1 }).limit(1).toArray();
    expect(newest.ts).toEqual(forward[2].ts);
  });

  test('a tailable awaitData cursor returns entries as they are written', async () => {
    const [newest] = await oplog().find().sort({ $natural: -1 }).limit(1).toArray();
    const cursor = oplog().find(
      { ts: { $gt: newest.ts }, ns: 'oplogTail.c' },
      { tailable: true, awaitData: true, maxAwaitTimeMS: 2000 },
    );
    const coll = client.db('oplogTail').collection('c');
    setTimeout(() => void coll.insertOne({ tailed: 1 }), 100);
    const first = await cursor.next();
    expect(first?.o.tailed).toBe(1);
    setTimeout(() => void coll.insertOne({ tailed: 2 }), 100);
    const second = await cursor.next();
    expect(second?.o.tailed).toBe(2);
    await cursor.close();
  });

  test('tailable needs a capped collection', async () => {
    const error = await failure(
      client.db('admin').collection('system.version').find({}, { tailable: true }).toArray(),
    );
    expect(error.code).toBe(2);
  });

  test('collStats reports a capped collection of the history size', async () => {
    expect(await oplog().estimatedDocumentCount()).toBeGreaterThan(0);
    expect(await client.db('admin').collection('system.version').estimatedDocumentCount()).toBe(1);
    const stats = await client.db('local').command({ collStats: 'oplog.rs' });
    expect(stats.capped).toBe(true);
    expect(stats.maxSize).toBeGreaterThan(0);
    expect(stats.count).toBeGreaterThan(0);
    expect(stats.ns).toBe('local.oplog.rs');
  });

  test('a transaction is one applyOps entry with lsid, txnNumber and prevOpTime', async () => {
    const coll = client.db('oplogTxn').collection<Loose>('c');
    await coll.insertOne({ _id: 'setup' });
    const session = client.startSession();
    await session.withTransaction(async () => {
      await coll.insertOne({ _id: 'a' }, { session });
      await coll.updateOne({ _id: 'a' }, { $set: { x: 1 } }, { session });
    });
    await session.endSession();
    const [entry] = await oplog().find({ 'o.applyOps.ns': 'oplogTxn.c' }, { promoteLongs: false }).toArray();
    expect(entry).toBeDefined();
    expect(Object.keys(entry)).toEqual([
      'lsid',
      'txnNumber',
      'op',
      'ns',
      'o',
      'ts',
      't',
      'v',
      'wall',
      'prevOpTime',
    ]);
    expect(entry.op).toBe('c');
    expect(entry.ns).toBe('admin.$cmd');
    expect(entry.lsid.id).toBeInstanceOf(Binary);
    expect(entry.txnNumber).toBeInstanceOf(Long);
    expect(entry.prevOpTime).toEqual({ ts: new Timestamp({ t: 0, i: 0 }), t: Long.fromNumber(-1) });
    const ops = entry.o.applyOps as Document[];
    expect(ops.map((op) => op.op)).toEqual(['i', 'u']);
    expect(ops[0]).toMatchObject({ ns: 'oplogTxn.c', o: { _id: 'a' }, o2: { _id: 'a' } });
    expect(ops[1].o).toEqual({ $v: 2, diff: { i: { x: 1 } } });
  });
});
