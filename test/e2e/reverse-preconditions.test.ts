// Every refusal of POST /api/v1/reverse (and of a reversible /start), end to end: each answers with
// the contract's error name and a description naming what is wrong, and leaves the state as it was.
import type { Document } from 'mongodb';
import { parseServiceConfig } from '../../src/config';
import { startService, type RunningService } from '../../src/main';
import { replaceTestCluster, startTestCluster, stopTestCluster, type TestCluster } from './helpers/clusters';
import { compareClusters } from './helpers/compare';
import { seedSourceData, SyncApi, type ApiReply } from './helpers/service';
import { startTestTemporal, type TestTemporal } from './helpers/temporal';

jest.setTimeout(300_000);

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await startTestTemporal();
}, 120_000);
afterAll(() => temporal?.stop(), 60_000);

async function startSyncService(id: string, cluster0Uri: string, cluster1Uri: string) {
  const config = parseServiceConfig([
    '--cluster0',
    cluster0Uri,
    '--cluster1',
    cluster1Uri,
    '--port',
    '0',
    '--id',
    id,
    '--temporal-address',
    temporal.address,
    '--task-queue',
    `${id}-test`,
    '--verbosity',
    'ERROR',
  ]);
  const service = await startService(config, { tuning: { copyConcurrency: 2, applyBatchMs: 1000 } });
  return { service, api: new SyncApi(service.apiUrl) };
}

/** Asserts a refusal: status, error name, description matching every pattern, and the state unchanged. */
async function expectRefused(
  api: SyncApi,
  reply: ApiReply,
  error: string,
  patterns: RegExp[],
  state: string,
): Promise<void> {
  expect(reply.body).toMatchObject({ success: false, error });
  expect(reply.status).toBe(error === 'InvalidStateTransition' ? 409 : 400);
  for (const pattern of patterns) expect(reply.body.errorDescription).toMatch(pattern);
  expect((await api.progress()).state).toBe(state);
}

async function commit(api: SyncApi): Promise<void> {
  await api.waitFor((p) => p.state === 'RUNNING' && p.canCommit === true, 120_000, 'canCommit');
  expect((await api.post('commit')).body).toEqual({ success: true });
  await api.waitFor((p) => p.state === 'COMMITTED', 120_000, 'COMMITTED');
}

describe('a sync that is not reversible', () => {
  let cluster0: TestCluster;
  let cluster1: TestCluster;
  let service: RunningService;
  let api: SyncApi;

  beforeAll(async () => {
    [cluster0, cluster1] = await Promise.all([startTestCluster('rsPre0'), startTestCluster('rsPre1')]);
    await seedSourceData(cluster0.app, 500);
    ({ service, api } = await startSyncService('pre-plain', cluster0.uri, cluster1.uri));
  });

  afterAll(async () => {
    await service?.stop();
    await Promise.all([stopTestCluster(cluster0), stopTestCluster(cluster1)]);
  });

  test('reverse while IDLE: InvalidStateTransition', async () => {
    await expectRefused(api, await api.post('reverse', '{ }'), 'InvalidStateTransition', [/IDLE/], 'IDLE');
  });

  test('/start refuses reversible with anything but source-and-destination write blocking', async () => {
    const base = { source: 'cluster0', destination: 'cluster1', reversible: true };
    const refusals: [Document, RegExp][] = [
      [{ ...base }, /enableUserWriteBlocking/],
      [{ ...base, enableUserWriteBlocking: 'destinationOnly' }, /enableUserWriteBlocking/],
      [{ ...base, enableUserWriteBlocking: false }, /enableUserWriteBlocking/],
      [
        { ...base, enableUserWriteBlocking: true, includeNamespaces: [{ database: 'shop' }] },
        /includeNamespaces/,
      ],
      [
        { ...base, enableUserWriteBlocking: true, excludeNamespaces: [{ database: 'shop' }] },
        /excludeNamespaces/,
      ],
      [{ ...base, enableUserWriteBlocking: true, buildIndexes: 'never' }, /buildIndexes/],
      [
        {
          ...base,
          enableUserWriteBlocking: true,
          preExistingDestinationData: true,
          includeNamespaces: [{ database: 'shop' }],
        },
        /preExistingDestinationData/,
      ],
    ];
    for (const [request, pattern] of refusals) {
      await expectRefused(
        api,
        await api.post('start', request),
        'InvalidRequest',
        [/reversible/, pattern],
        'IDLE',
      );
    }
  });

  test('reverse while RUNNING: InvalidStateTransition', async () => {
    expect(
      (
        await api.post('start', {
          source: 'cluster0',
          destination: 'cluster1',
          enableUserWriteBlocking: 'sourceAndDestination',
        })
      ).body,
    ).toEqual({ success: true });
    // Past the start's setup (INITIALIZING refuses it too, naming that state).
    await api.waitFor((p) => p.state === 'RUNNING', 60_000, 'RUNNING');
    await expectRefused(
      api,
      await api.post('reverse', '{ }'),
      'InvalidStateTransition',
      [/RUNNING/],
      'RUNNING',
    );
  });

  test('committed without reversible: PreconditionFailed naming reversible', async () => {
    await commit(api);
    await expectRefused(
      api,
      await api.post('reverse', '{ }'),
      'PreconditionFailed',
      [/reversible: true/, /enableUserWriteBlocking/],
      'COMMITTED',
    );
  });
});

/** Exactly what a reversible sync's user needs on each cluster, as a custom role (no built-in role). */
const REVERSE_ROLE = {
  role: 'mongosyncReverse',
  databaseActions: [
    'find',
    'insert',
    'update',
    'remove',
    'createCollection',
    'createIndex',
    'dropCollection',
    'dropIndex',
    'collMod',
    'renameCollectionSameDB',
    'bypassDocumentValidation',
    'listCollections',
    'listIndexes',
    'changeStream',
    'collStats',
    'validate',
    'dropDatabase',
  ],
  clusterActions: ['listDatabases', 'setUserWriteBlockMode', 'bypassWriteBlockingMode'],
};
const SYNC_USER = { username: 'mongosync', password: 'mongosync-password' };

function rolePrivileges(withoutClusterAction?: string): Document[] {
  return [
    { resource: { db: '', collection: '' }, actions: REVERSE_ROLE.databaseActions },
    {
      resource: { cluster: true },
      actions: REVERSE_ROLE.clusterActions.filter((action) => action !== withoutClusterAction),
    },
  ];
}

async function setRole(cluster: TestCluster, withoutClusterAction?: string): Promise<void> {
  await cluster.admin
    .db('admin')
    .command({ updateRole: REVERSE_ROLE.role, privileges: rolePrivileges(withoutClusterAction) });
}

async function createSyncUser(cluster: TestCluster, replSet: string): Promise<string> {
  const admin = cluster.admin.db('admin');
  await admin.command({ createRole: REVERSE_ROLE.role, privileges: rolePrivileges(), roles: [] });
  await admin.command({
    createUser: SYNC_USER.username,
    pwd: SYNC_USER.password,
    roles: [{ role: REVERSE_ROLE.role, db: 'admin' }],
  });
  return `mongodb://${SYNC_USER.username}:${SYNC_USER.password}@127.0.0.1:${cluster.emulator.port}/?replicaSet=${replSet}`;
}

describe('a reversible sync run by users with a custom role', () => {
  let cluster0: TestCluster;
  let cluster1: TestCluster;
  let service: RunningService;
  let api: SyncApi;

  beforeAll(async () => {
    [cluster0, cluster1] = await Promise.all([startTestCluster('rsRole0'), startTestCluster('rsRole1')]);
    const [uri0, uri1] = await Promise.all([
      createSyncUser(cluster0, 'rsRole0'),
      createSyncUser(cluster1, 'rsRole1'),
    ]);
    await seedSourceData(cluster0.app, 500);
    ({ service, api } = await startSyncService('pre-roles', uri0, uri1));
    expect(
      (
        await api.post('start', {
          source: 'cluster0',
          destination: 'cluster1',
          reversible: true,
          enableUserWriteBlocking: true,
        })
      ).body,
    ).toEqual({ success: true });
    await commit(api);
    expect(await compareClusters(cluster0.admin, cluster1.admin)).toEqual([]);
  });

  afterAll(async () => {
    await service?.stop();
    await Promise.all([stopTestCluster(cluster0), stopTestCluster(cluster1)]);
  });

  test('a unique index on the original source in the legacy key format: PreconditionFailed', async () => {
    await cluster0.admin.db('shop').command({ emulatorMarkLegacyUniqueIndex: 'customers', index: 'email_1' });
    const reply = await api.post('reverse', '{ }');
    await expectRefused(
      api,
      reply,
      'PreconditionFailed',
      [/cluster0/, /shop\.customers/, /email_1/, /legacy/, /[Rr]esync/],
      'COMMITTED',
    );
    expect(String(reply.body.errorDescription).match(/shop\.customers index email_1/g)).toHaveLength(1);
    await cluster0.admin
      .db('shop')
      .command({ emulatorMarkLegacyUniqueIndex: 'customers', index: 'email_1', legacy: false });
  });

  test('missing write-blocking privileges on both clusters: PreconditionFailed listing them per cluster', async () => {
    await setRole(cluster0, 'setUserWriteBlockMode');
    await setRole(cluster1, 'bypassWriteBlockingMode');
    const reply = await api.post('reverse', '{ }');
    await setRole(cluster0);
    await setRole(cluster1);
    await expectRefused(
      api,
      reply,
      'PreconditionFailed',
      [/cluster0[^;]*setUserWriteBlockMode/, /cluster1[^;]*bypassWriteBlockingMode/],
      'COMMITTED',
    );
    expect(reply.body.errorDescription).not.toMatch(/cluster0[^;]*bypassWriteBlockingMode/);
  });

  test('one action type revoked on one cluster: refused, naming that action type and cluster', async () => {
    await setRole(cluster1, 'setUserWriteBlockMode');
    const reply = await api.post('reverse', '{ }');
    await setRole(cluster1);
    await expectRefused(api, reply, 'PreconditionFailed', [/cluster1/, /setUserWriteBlockMode/], 'COMMITTED');
    expect(reply.body.errorDescription).not.toMatch(/cluster0/);
  });

  test('the custom role granting exactly what is needed: reverse, commit, equal clusters', async () => {
    expect(await api.post('reverse', '{ }')).toEqual({ status: 200, body: { success: true } });
    const running = await api.waitFor((p) => p.state === 'RUNNING', 60_000, 'RUNNING after reverse');
    expect(running.directionMapping.Source).toMatch(/^cluster1: /);
    await cluster1.app
      .db('shop')
      .collection<Document>('orders')
      .insertOne({ _id: 'after-reverse' as never });
    await commit(api);
    expect(await compareClusters(cluster0.admin, cluster1.admin)).toEqual([]);
    const progress = await api.progress();
    const warnings = (progress.warnings ?? []) as string[];
    expect(warnings.filter((warning) => /authoriz|privilege|unauthorized/i.test(warning))).toEqual([]);
  });
});

describe('a cluster older than MongoDB 6.0', () => {
  let cluster0: TestCluster;
  let cluster1: TestCluster;
  let service: RunningService;
  let api: SyncApi;

  beforeAll(async () => {
    [cluster0, cluster1] = await Promise.all([startTestCluster('rsOld0'), startTestCluster('rsOld1')]);
    await seedSourceData(cluster0.app, 200);
    ({ service, api } = await startSyncService('pre-version', cluster0.uri, cluster1.uri));
  });

  afterAll(async () => {
    await service?.stop();
    await Promise.all([stopTestCluster(cluster0), stopTestCluster(cluster1)]);
  });

  test('cluster0 replaced by a 5.0 server after the commit: PreconditionFailed naming it and its version', async () => {
    expect(
      (
        await api.post('start', {
          source: 'cluster0',
          destination: 'cluster1',
          reversible: true,
          enableUserWriteBlocking: 'sourceAndDestination',
        })
      ).body,
    ).toEqual({ success: true });
    await commit(api);
    cluster0 = await replaceTestCluster(cluster0, 'rsOld0', '5.0');
    await expectRefused(
      api,
      await api.post('reverse', '{ }'),
      'PreconditionFailed',
      [/cluster0/, /5\.0/, /6\.0/],
      'COMMITTED',
    );
  });
});
