// setUserWriteBlockMode as mongod does it: users without bypassWriteBlockingMode get 371 for
// CRUD (as write errors) and DDL (as command errors); internal databases are exempt; with auth
// off every client bypasses.
import { MongoBulkWriteError, MongoClient, MongoServerError } from 'mongodb';
import { startEmulator, type RunningEmulator } from '../../emulator';

describe('user write blocking', () => {
  let emulator: RunningEmulator;
  let root: MongoClient;
  let app: MongoClient;
  let syncUser: MongoClient;

  beforeAll(async () => {
    emulator = await startEmulator({ auth: { rootUser: 'root', rootPassword: 'rootpw' } });
    root = await MongoClient.connect(emulator.uri);
    const admin = root.db('admin');
    await admin.command({ createUser: 'app', pwd: 'apppw', roles: ['readWriteAnyDatabase'] });
    await admin.command({
      createUser: 'sync',
      pwd: 'syncpw',
      roles: ['readWriteAnyDatabase', 'restore', 'clusterManager'],
    });
    const base = `mongodb://127.0.0.1:${emulator.port}/?replicaSet=rs0`;
    app = await MongoClient.connect(base, { auth: { username: 'app', password: 'apppw' } });
    syncUser = await MongoClient.connect(base, { auth: { username: 'sync', password: 'syncpw' } });
    await root.db('admin').command({ setUserWriteBlockMode: 1, global: true });
  });

  afterAll(async () => {
    await Promise.all([app?.close(), syncUser?.close(), root?.close()]);
    await emulator?.stop();
  });

  test('CRUD by a user without bypass fails with 371 in writeErrors', async () => {
    const error = await app
      .db('shop')
      .collection<any>('orders')
      .insertMany([{ a: 1 }, { a: 2 }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoBulkWriteError);
    expect((error as MongoBulkWriteError).writeErrors).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: 371 })]),
    );
    const update = await app
      .db('shop')
      .collection<any>('orders')
      .updateOne({}, { $set: { a: 1 } }, { upsert: true })
      .catch((e: unknown) => e);
    expect((update as MongoServerError).code).toBe(371);
  });

  test('DDL by a user without bypass fails as a command error 371', async () => {
    const error = await app
      .db('shop')
      .createCollection('new')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(371);
    expect((error as MongoServerError).codeName).toBe('UserWritesBlocked');
  });

  test('a user holding bypassWriteBlockingMode writes normally; reads are never blocked', async () => {
    await syncUser.db('shop').collection<any>('orders').insertOne({ by: 'sync' });
    expect(await app.db('shop').collection<any>('orders').countDocuments()).toBe(1);
  });

  test('turning it off lets users write again', async () => {
    await root.db('admin').command({ setUserWriteBlockMode: 1, global: false });
    await app.db('shop').collection<any>('orders').insertOne({ by: 'app' });
    await root.db('admin').command({ setUserWriteBlockMode: 1, global: true });
  });

  test('with auth off every client bypasses, as mongod', async () => {
    const open = await startEmulator({});
    const client = await MongoClient.connect(open.uri);
    try {
      await client.db('admin').command({ setUserWriteBlockMode: 1, global: true });
      await client.db('x').collection<any>('y').insertOne({ ok: true });
      expect(await client.db('x').collection<any>('y').countDocuments()).toBe(1);
    } finally {
      await client.close();
      await open.stop();
    }
  });
});
