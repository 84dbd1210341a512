// Authentication and authorization through the official driver: SCRAM-SHA-256 and SHA-1 logins
// (with speculative authentication and mechanism negotiation), and what built-in and custom
// roles let a user do.
import type { Document } from 'bson';
import { MongoClient, MongoServerError } from 'mongodb';
import { startEmulator, type RunningEmulator } from '../../emulator';

describe('emulator authentication and authorization', () => {
  let emulator: RunningEmulator;
  let root: MongoClient;
  const clients: MongoClient[] = [];

  function uriFor(user: string, password: string, authSource = 'admin', mechanism?: string): string {
    const params = new URLSearchParams({ replicaSet: 'rs0', authSource, serverSelectionTimeoutMS: '5000' });
    if (mechanism) params.set('authMechanism', mechanism);
    return `mongodb://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${emulator.port}/?${params}`;
  }

  async function connect(
    user: string,
    password: string,
    authSource = 'admin',
    mechanism?: string,
  ): Promise<MongoClient> {
    const client = await MongoClient.connect(uriFor(user, password, authSource, mechanism));
    clients.push(client);
    return client;
  }

  async function failure(promise: Promise<unknown>): Promise<MongoServerError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MongoServerError);
    return error as MongoServerError;
  }

  beforeAll(async () => {
    emulator = await startEmulator({ auth: { rootUser: 'root', rootPassword: 'rootpw' } });
    root = await connect('root', 'rootpw');
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await emulator?.stop();
  });

  test.each(['SCRAM-SHA-256', 'SCRAM-SHA-1'])('root logs in with %s', async (mechanism) => {
    const client = await connect('root', 'rootpw', 'admin', mechanism);
    const status = await client.db('admin').command({ connectionStatus: 1 });
    expect(status.authInfo.authenticatedUsers).toEqual([{ user: 'root', db: 'admin' }]);
    expect(status.authInfo.authenticatedUserRoles).toEqual([{ role: 'root', db: 'admin' }]);
  });

  test('a wrong password fails with AuthenticationFailed', async () => {
    const error = await failure(MongoClient.connect(uriFor('root', 'wrong')));
    expect(error.code).toBe(18);
    expect(error.message).toContain('Authentication failed.');
  });

  test('unauthenticated clients may ping but not read', async () => {
    const anonymous = await MongoClient.connect(`mongodb://127.0.0.1:${emulator.port}/?replicaSet=rs0`);
    clients.push(anonymous);
    expect((await anonymous.db('admin').command({ ping: 1 })).ok).toBe(1);
    const error = await failure(anonymous.db('app').collection('c').findOne({}));
    expect(error.code).toBe(13);
    expect(error.message).toBe('Command find requires authentication');
  });

  test('the driver authenticates speculatively inside hello', async () => {
    const speculative = jest.spyOn(emulator.engine.auth, 'speculativeAuthenticate');
    const execute = jest.spyOn(emulator.engine, 'execute');
    try {
      const client = await connect('root', 'rootpw');
      await client.db('admin').command({ ping: 1 });
      const commands = execute.mock.calls.map(([, command]) => Object.keys(command as Document)[0]);
      expect(speculative.mock.results.some((result) => result.value !== undefined)).toBe(true);
      expect(commands).toContain('saslContinue');
      expect(commands).not.toContain('saslStart');
    } finally {
      speculative.mockRestore();
      execute.mockRestore();
    }
  });

  test('built-in roles bound what created users can do', async () => {
    const app = root.db('app');
    await app.collection('c').insertOne({ _id: 1 } as Document);
    await app.command({ createUser: 'reader', pwd: 'readerpw', roles: ['read'] });
    await app.command({ createUser: 'writer', pwd: 'writerpw', roles: [{ role: 'readWrite', db: 'app' }] });
    await root.db('admin').command({ createUser: 'monitor', pwd: 'monitorpw', roles: ['clusterMonitor'] });

    const reader = await connect('reader', 'readerpw', 'app');
    expect(
      await reader
        .db('app')
        .collection('c')
        .findOne({ _id: 1 } as Document),
    ).toEqual({ _id: 1 });
    const denied = await failure(
      reader
        .db('app')
        .collection('c')
        .insertOne({ _id: 2 } as Document),
    );
    expect(denied.code).toBe(13);
    expect(denied.message).toMatch(/^not authorized on app to execute command \{ insert: "c"/);
    expect((await failure(reader.db('other').collection('c').findOne({}))).code).toBe(13);

    const writer = await connect('writer', 'writerpw', 'app');
    await writer
      .db('app')
      .collection('c')
      .insertOne({ _id: 3 } as Document);
    expect(await writer.db('app').collection('c').countDocuments()).toBe(2);
    expect((await failure(writer.db('admin').command({ serverStatus: 1 }))).code).toBe(13);

    const monitor = await connect('monitor', 'monitorpw');
    expect((await monitor.db('admin').command({ serverStatus: 1 })).ok).toBe(1);
    expect(
      (
        await failure(
          monitor
            .db('app')
            .collection('c')
            .insertOne({ _id: 4 } as Document),
        )
      ).code,
    ).toBe(13);
  });

  test('a user with only SCRAM-SHA-1 credentials is negotiated through saslSupportedMechs', async () => {
    await root
      .db('admin')
      .command({ createUser: 'legacy', pwd: 'legacypw', roles: ['read'], mechanisms: ['SCRAM-SHA-1'] });
    const legacy = await connect('legacy', 'legacypw');
    const status = await legacy.db('admin').command({ connectionStatus: 1 });
    expect(status.authInfo.authenticatedUsers).toEqual([{ user: 'legacy', db: 'admin' }]);
  });

  test('a custom role granting write-blocking control shows in connectionStatus', async () => {
    const admin = root.db('admin');
    await admin.command({
      createRole: 'writeBlockControl',
      privileges: [
        { resource: { cluster: true }, actions: ['setUserWriteBlockMode', 'bypassWriteBlockingMode'] },
      ],
      roles: [],
    });
    await admin.command({ createUser: 'blocker', pwd: 'blockerpw', roles: ['writeBlockControl'] });
    const blocker = await connect('blocker', 'blockerpw');
    const status = await blocker.db('admin').command({ connectionStatus: 1, showPrivileges: true });
    expect(status.authInfo.authenticatedUserRoles).toEqual([{ role: 'writeBlockControl', db: 'admin' }]);
    expect(status.authInfo.authenticatedUserPrivileges).toEqual([
      { resource: { cluster: true }, actions: ['bypassWriteBlockingMode', 'setUserWriteBlockMode'] },
    ]);
    expect((await failure(blocker.db('app').collection('c').findOne({}))).code).toBe(13);

    const roles = await admin.command({ rolesInfo: 'writeBlockControl', showPrivileges: true });
    expect(roles.roles[0]).toMatchObject({ _id: 'admin.writeBlockControl', isBuiltin: false });
  });

  test('user management errors match mongod', async () => {
    const admin = root.db('admin');
    const duplicate = await failure(admin.command({ createUser: 'root', pwd: 'x', roles: [] }));
    expect(duplicate.code).toBe(51003);
    expect(duplicate.message).toBe('User "root@admin" already exists');
    expect((await failure(admin.command({ createUser: 'x', pwd: 'x', roles: ['noSuchRole'] }))).code).toBe(
      31,
    );
    expect((await failure(admin.command({ dropUser: 'ghost' }))).code).toBe(11);

    const users = await admin.command({ usersInfo: 'root' });
    expect(users.users).toEqual([
      expect.objectContaining({
        _id: 'admin.root',
        user: 'root',
        db: 'admin',
        mechanisms: ['SCRAM-SHA-1', 'SCRAM-SHA-256'],
      }),
    ]);
  });
});
