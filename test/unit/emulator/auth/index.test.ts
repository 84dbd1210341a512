import { Binary, Int32, type Document } from 'bson';
import { AuthManager } from '../../../../emulator/src/auth';
import type { CommandContext, ConnectionState } from '../../../../emulator/src/commands/context';
import { CommandError } from '../../../../emulator/src/errors';
import type { ScramMechanism } from '../../../../emulator/src/auth/scram';
import { ScramTestClient } from './scram-client';

const FAST = { 'SCRAM-SHA-1': 4096, 'SCRAM-SHA-256': 4096 };

let nextConnectionId = 1;
function connection(): ConnectionState {
  return {
    id: nextConnectionId++,
    principals: [],
    authConversations: new Map(),
    remoteAddress: '127.0.0.1:1',
  };
}

function context(conn: ConnectionState, dbName: string, command: Document): CommandContext {
  return {
    engine: undefined as never,
    conn,
    dbName,
    command,
    commandName: Object.keys(command)[0],
    session: undefined,
    transaction: undefined,
  };
}

/** Authorizes and runs a command as the core would. */
async function run(
  auth: AuthManager,
  conn: ConnectionState,
  dbName: string,
  command: Document,
): Promise<Document> {
  const ctx = context(conn, dbName, command);
  auth.authorize(ctx);
  const handler = auth.commands[ctx.commandName];
  if (handler === undefined) return { ok: 1 };
  return handler(ctx);
}

function text(payload: Binary): string {
  return Buffer.from(payload.buffer.subarray(0, payload.position)).toString('utf8');
}

async function login(
  auth: AuthManager,
  conn: ConnectionState,
  user: string,
  password: string,
  db = 'admin',
  mechanism: ScramMechanism = 'SCRAM-SHA-256',
): Promise<void> {
  const client = new ScramTestClient(mechanism, user, password);
  const first = await run(auth, conn, db, {
    saslStart: new Int32(1),
    mechanism,
    payload: new Binary(Buffer.from(client.clientFirst())),
    autoAuthorize: new Int32(1),
    options: { skipEmptyExchange: true },
  });
  const final = await run(auth, conn, db, {
    saslContinue: new Int32(1),
    conversationId: new Int32(first.conversationId),
    payload: new Binary(Buffer.from(client.clientFinal(text(first.payload)))),
  });
  expect(final.done).toBe(true);
  expect(client.verifyServerFinal(text(final.payload))).toBe(true);
}

async function expectCode(promise: Promise<unknown> | (() => unknown), code: number): Promise<CommandError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).code).toBe(code);
    return error as CommandError;
  }
  throw new Error(`expected error ${code}`);
}

describe('AuthManager', () => {
  let auth: AuthManager;
  let root: ConnectionState;

  beforeEach(async () => {
    auth = new AuthManager({ enabled: true, rootUser: 'admin', rootPassword: 'pw', scramIterations: FAST });
    root = connection();
    await login(auth, root, 'admin', 'pw');
  });

  it('authenticates root with SCRAM-SHA-256 and SCRAM-SHA-1', async () => {
    expect(root.principals).toEqual([{ user: 'admin', db: 'admin' }]);
    const sha1 = connection();
    await login(auth, sha1, 'admin', 'pw', 'admin', 'SCRAM-SHA-1');
    expect(sha1.principals).toEqual([{ user: 'admin', db: 'admin' }]);
    expect(auth.supportedMechanisms('admin.admin')).toEqual(['SCRAM-SHA-1', 'SCRAM-SHA-256']);
    expect(auth.supportedMechanisms('admin.nobody')).toBeUndefined();
  });

  it('fails wrong passwords and unknown users with 18', async () => {
    const conn = connection();
    const error = await expectCode(login(auth, conn, 'admin', 'nope'), 18);
    expect(error.message).toBe('Authentication failed.');
    await expectCode(login(auth, conn, 'ghost', 'pw'), 18);
    expect(conn.principals).toEqual([]);
  });

  it('finishes with an empty exchange when the client does not skip it', async () => {
    const conn = connection();
    const client = new ScramTestClient('SCRAM-SHA-256', 'admin', 'pw');
    const first = await run(auth, conn, 'admin', {
      saslStart: 1,
      mechanism: 'SCRAM-SHA-256',
      payload: new Binary(Buffer.from(client.clientFirst())),
    });
    const second = await run(auth, conn, 'admin', {
      saslContinue: 1,
      conversationId: first.conversationId,
      payload: new Binary(Buffer.from(client.clientFinal(text(first.payload)))),
    });
    expect(second.done).toBe(false);
    expect(conn.principals).toEqual([]);
    const third = await run(auth, conn, 'admin', {
      saslContinue: 1,
      conversationId: first.conversationId,
      payload: new Binary(),
    });
    expect(third.done).toBe(true);
    expect(conn.principals).toEqual([{ user: 'admin', db: 'admin' }]);
  });

  it('answers speculative authentication from hello', async () => {
    const conn = connection();
    const client = new ScramTestClient('SCRAM-SHA-256', 'admin', 'pw');
    const reply = auth.speculativeAuthenticate(conn, {
      saslStart: 1,
      mechanism: 'SCRAM-SHA-256',
      payload: new Binary(Buffer.from(client.clientFirst())),
      options: { skipEmptyExchange: true },
      db: 'admin',
    });
    expect(reply).toMatchObject({ done: false, ok: 1 });
    const final = await run(auth, conn, 'admin', {
      saslContinue: 1,
      conversationId: reply!.conversationId,
      payload: new Binary(Buffer.from(client.clientFinal(text(reply!.payload)))),
    });
    expect(client.verifyServerFinal(text(final.payload))).toBe(true);
    expect(conn.principals).toHaveLength(1);
    expect(
      auth.speculativeAuthenticate(connection(), {
        saslStart: 1,
        mechanism: 'SCRAM-SHA-256',
        payload: new Binary(Buffer.from('n,,n=ghost,r=abc')),
        db: 'admin',
      }),
    ).toBeUndefined();
  });

  it('lets unauthenticated connections run only the handshake commands', async () => {
    const conn = connection();
    for (const name of ['hello', 'ping', 'buildInfo', 'saslStart', 'connectionStatus', 'endSessions']) {
      expect(() => auth.authorize(context(conn, 'admin', { [name]: 1 }))).not.toThrow();
    }
    const error = await expectCode(() => auth.authorize(context(conn, 'app', { find: 'c' })), 13);
    expect(error.message).toBe('Command find requires authentication');
    expect((await run(auth, conn, 'admin', { connectionStatus: 1 })).authInfo).toEqual({
      authenticatedUsers: [],
      authenticatedUserRoles: [],
    });
  });

  it('creates users whose built-in roles bound what they can do', async () => {
    await run(auth, root, 'app', { createUser: 'reader', pwd: 'r', roles: ['read'] });
    await run(auth, root, 'app', {
      createUser: 'writer',
      pwd: 'w',
      roles: [{ role: 'readWrite', db: 'app' }],
    });
    await run(auth, root, 'admin', { createUser: 'monitor', pwd: 'm', roles: ['clusterMonitor'] });

    const reader = connection();
    await login(auth, reader, 'reader', 'r', 'app');
    expect(() => auth.authorize(context(reader, 'app', { find: 'c' }))).not.toThrow();
    const denied = await expectCode(
      () => auth.authorize(context(reader, 'app', { insert: 'c', ordered: true })),
      13,
    );
    expect(denied.message).toBe(
      'not authorized on app to execute command { insert: "c", ordered: true, $db: "app" }',
    );
    await expectCode(() => auth.authorize(context(reader, 'other', { find: 'c' })), 13);

    const writer = connection();
    await login(auth, writer, 'writer', 'w', 'app', 'SCRAM-SHA-1');
    expect(() => auth.authorize(context(writer, 'app', { insert: 'c' }))).not.toThrow();
    await expectCode(() => auth.authorize(context(writer, 'admin', { serverStatus: 1 })), 13);
    expect(auth.visibleDatabases(writer, ['admin', 'app', 'other'])).toEqual(['app']);
    expect(auth.hasClusterAction(writer, 'bypassWriteBlockingMode')).toBe(false);

    const monitor = connection();
    await login(auth, monitor, 'monitor', 'm');
    expect(() => auth.authorize(context(monitor, 'admin', { serverStatus: 1 }))).not.toThrow();
    await expectCode(() => auth.authorize(context(monitor, 'app', { insert: 'c' })), 13);
    expect(auth.visibleDatabases(monitor, ['admin', 'app'])).toBeUndefined();

    expect(auth.hasClusterAction(root, 'bypassWriteBlockingMode')).toBe(true);
    expect(() => auth.authorize(context(root, 'admin', { configureFailPoint: 'failCommand' }))).not.toThrow();
    await expectCode(
      () => auth.authorize(context(monitor, 'admin', { configureFailPoint: 'failCommand' })),
      13,
    );
  });

  it('reports duplicate users, unknown roles and unknown users', async () => {
    await run(auth, root, 'app', { createUser: 'u', pwd: 'p', roles: [] });
    const duplicate = await expectCode(
      run(auth, root, 'app', { createUser: 'u', pwd: 'p', roles: [] }),
      51003,
    );
    expect(duplicate.message).toBe('User "u@app" already exists');
    await expectCode(run(auth, root, 'app', { createUser: 'v', pwd: 'p', roles: ['nope'] }), 31);
    await expectCode(
      run(auth, root, 'app', { createUser: 'v', pwd: 'p', roles: [{ role: 'root', db: 'app' }] }),
      31,
    );
    await expectCode(run(auth, root, 'app', { dropUser: 'ghost' }), 11);
    await expectCode(run(auth, root, 'app', { grantRolesToUser: 'ghost', roles: ['read'] }), 11);
  });

  it('resolves custom roles with inheritance and shows them in connectionStatus', async () => {
    await run(auth, root, 'admin', {
      createRole: 'writeBlocker',
      privileges: [
        { resource: { cluster: true }, actions: ['setUserWriteBlockMode', 'bypassWriteBlockingMode'] },
      ],
      roles: [],
    });
    await run(auth, root, 'admin', {
      createRole: 'syncer',
      privileges: [],
      roles: ['writeBlocker', { role: 'read', db: 'app' }],
    });
    await run(auth, root, 'admin', { createUser: 'sync', pwd: 's', roles: ['syncer'] });
    const conn = connection();
    await login(auth, conn, 'sync', 's');

    const status = await run(auth, conn, 'admin', { connectionStatus: 1, showPrivileges: true });
    expect(status.authInfo.authenticatedUsers).toEqual([{ user: 'sync', db: 'admin' }]);
    expect(status.authInfo.authenticatedUserRoles).toEqual([
      { role: 'syncer', db: 'admin' },
      { role: 'writeBlocker', db: 'admin' },
      { role: 'read', db: 'app' },
    ]);
    expect(status.authInfo.authenticatedUserPrivileges).toContainEqual({
      resource: { cluster: true },
      actions: ['bypassWriteBlockingMode', 'setUserWriteBlockMode'],
    });
    expect(auth.hasClusterAction(conn, 'setUserWriteBlockMode')).toBe(true);
    expect(() => auth.authorize(context(conn, 'app', { find: 'c' }))).not.toThrow();

    await run(auth, root, 'admin', { revokeRolesFromRole: 'syncer', roles: ['writeBlocker'] });
    expect(auth.hasClusterAction(conn, 'setUserWriteBlockMode')).toBe(false);
    await expectCode(
      run(auth, root, 'admin', { grantRolesToRole: 'writeBlocker', roles: ['syncer'] }).then(() =>
        run(auth, root, 'admin', { grantRolesToRole: 'syncer', roles: ['writeBlocker'] }),
      ),
      2,
    );
  });

  it('refuses privileges outside a non-admin role database', async () => {
    await expectCode(
      run(auth, root, 'app', {
        createRole: 'bad',
        privileges: [{ resource: { cluster: true }, actions: ['serverStatus'] }],
        roles: [],
      }),
      2,
    );
  });

  it('describes users and roles like mongod', async () => {
    await run(auth, root, 'app', {
      createUser: 'u',
      pwd: 'p',
      roles: ['readWrite'],
      mechanisms: ['SCRAM-SHA-256'],
    });
    const single = await run(auth, root, 'app', { usersInfo: 'u' });
    expect(single.users).toHaveLength(1);
    expect(single.users[0]).toMatchObject({
      _id: 'app.u',
      user: 'u',
      db: 'app',
      roles: [{ role: 'readWrite', db: 'app' }],
      mechanisms: ['SCRAM-SHA-256'],
    });
    expect(single.users[0].userId.sub_type).toBe(4);
    expect(
      (await run(auth, root, 'admin', { usersInfo: { forAllDBs: true } })).users.map((u: Document) => u._id),
    ).toEqual(['admin.admin', 'app.u']);
    const withPrivileges = await run(auth, root, 'app', {
      usersInfo: { user: 'u', db: 'app' },
      showPrivileges: true,
    });
    expect(withPrivileges.users[0].inheritedPrivileges.length).toBeGreaterThan(0);

    const roles = await run(auth, root, 'app', { rolesInfo: 'readWrite', showPrivileges: true });
    expect(roles.roles[0]).toMatchObject({
      _id: 'app.readWrite',
      role: 'readWrite',
      db: 'app',
      isBuiltin: true,
    });
    expect(roles.roles[0].privileges.length).toBeGreaterThan(0);
    const builtins = await run(auth, root, 'app', { rolesInfo: 1, showBuiltinRoles: true });
    expect(builtins.roles.map((r: Document) => r.role)).toEqual([
      'dbAdmin',
      'dbOwner',
      'read',
      'readWrite',
      'userAdmin',
    ]);

    // A user may look at itself without viewUser.
    const self = connection();
    await login(auth, self, 'u', 'p', 'app');
    expect((await run(auth, self, 'app', { usersInfo: 'u' })).users).toHaveLength(1);
    await expectCode(run(auth, self, 'app', { usersInfo: 1 }), 13);
  });

  it('drops users and applies updated passwords and roles', async () => {
    await run(auth, root, 'app', { createUser: 'u', pwd: 'old', roles: ['read'] });
    await run(auth, root, 'app', { updateUser: 'u', pwd: 'new', roles: ['readWrite'] });
    const conn = connection();
    await expectCode(login(auth, conn, 'u', 'old', 'app'), 18);
    await login(auth, conn, 'u', 'new', 'app');
    expect(() => auth.authorize(context(conn, 'app', { insert: 'c' }))).not.toThrow();
    await run(auth, root, 'app', { dropUser: 'u' });
    await expectCode(() => auth.authorize(context(conn, 'app', { find: 'c' })), 13);
    expect((await run(auth, root, 'app', { usersInfo: 1 })).users).toEqual([]);
  });

  it('is a no-op when disabled', () => {
    const open = new AuthManager({ enabled: false });
    const conn = connection();
    expect(() => open.authorize(context(conn, 'app', { insert: 'c' }))).not.toThrow();
    expect(open.hasClusterAction(conn, 'bypassWriteBlockingMode')).toBe(true);
    expect(open.visibleDatabases(conn, ['a'])).toBeUndefined();
  });
});
