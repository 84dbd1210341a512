// `npm run demo`: the whole product on one machine. Starts two emulated clusters (auth on) with
// sample data, the sync service (Temporal dev server with its Web UI, a worker, the REST API on
// 27182), then walks mongosync's flow through the REST API exactly as a user would with curl:
// start → progress → commit → reverse. Leaves everything running until Ctrl-C.
//
// Every run is a new sync (sync id demo-<date>-<time>) on brand-new emulated clusters. The Temporal
// data under .data/demo outlives a run, so the sync workflows of earlier runs, whose clusters are
// gone, are terminated at start.
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Decimal128, Double, Int32, Long, MongoClient, ObjectId, type Document } from 'mongodb';
import { startEmulator, type RunningEmulator } from '../emulator';
import { parseServiceConfig, syncWorkflowId } from '../src/config';
import { startService, type RunningService } from '../src/main';
import { createLogger } from '../src/logger';
import { installTemporalRuntime } from '../src/worker/runtimeLogging';
import { isUserWritesBlocked } from '../src/activities/serverErrors';

const API_PORT = Number(process.env.DEMO_API_PORT ?? 27182);
const CLUSTER_PORTS = [
  Number(process.env.DEMO_CLUSTER0_PORT ?? 28017),
  Number(process.env.DEMO_CLUSTER1_PORT ?? 28018),
];
const ROOT = { user: 'syncer', password: 'demo-password' };
const APP = { username: 'app', password: 'app-password' };
const api = `http://127.0.0.1:${API_PORT}/api/v1`;
/** This run's sync: a new one every run, e.g. demo-20250102-150405 (local time). */
const SYNC_ID = `demo-${timestamp(new Date())}`;
/** The workflow ids of demo syncs, this run's and earlier runs' (see syncWorkflowId). */
const DEMO_WORKFLOW_PREFIX = 'mongosync-demo-';

function timestamp(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const day = `${date.getFullYear()}${two(date.getMonth() + 1)}${two(date.getDate())}`;
  return `${day}-${two(date.getHours())}${two(date.getMinutes())}${two(date.getSeconds())}`;
}

function say(message: string): void {
  console.log(`\n▶ ${message}`);
}

async function call(method: 'GET' | 'POST', endpoint: string, body?: unknown): Promise<Document> {
  const shown = body === undefined ? '' : ` --data '${JSON.stringify(body)}'`;
  console.log(`  $ curl localhost:${API_PORT}/api/v1/${endpoint} -X${method}${shown}`);
  const response = await fetch(`${api}/${endpoint}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const reply = (await response.json()) as Document;
  return reply;
}

async function progress(): Promise<Document> {
  const response = await fetch(`${api}/progress`);
  const reply = (await response.json()) as { progress: Document };
  return reply.progress;
}

function summary(p: Document): string {
  const copy = p.collectionCopy as Document | null;
  const copied = copy
    ? `${Math.round((100 * Number(copy.estimatedCopiedBytes)) / Math.max(1, Number(copy.estimatedTotalBytes)))}% copied`
    : '';
  return `state=${p.state} info=${p.info} canCommit=${p.canCommit} canWrite=${p.canWrite} lag=${p.lagTimeSeconds === null ? 'n/a' : `${p.lagTimeSeconds}s`} events=${p.totalEventsApplied} ${copied}`;
}

async function waitFor(
  label: string,
  predicate: (p: Document) => boolean,
  timeoutMs = 600_000,
): Promise<Document> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const p = await progress();
    const line = summary(p);
    if (line !== last) console.log(`  ${line}`);
    last = line;
    if (predicate(p)) return p;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/**
 * Terminates the sync workflows that earlier demo runs left Running: their worker and their emulated
 * clusters are gone. This run's workflow (another id, on another task queue) is left alone.
 */
async function endEarlierDemoSyncs(
  temporalAddress: string,
  namespace: string,
  current: string,
): Promise<void> {
  const connection = await Connection.connect({ address: temporalAddress });
  try {
    const client = new Client({ connection, namespace });
    const stale: { workflowId: string; runId: string }[] = [];
    // Filtered here rather than with STARTS_WITH, which not every visibility store supports.
    for await (const execution of client.workflow.list({ query: 'ExecutionStatus="Running"' })) {
      if (execution.workflowId.startsWith(DEMO_WORKFLOW_PREFIX) && execution.workflowId !== current) {
        stale.push({ workflowId: execution.workflowId, runId: execution.runId });
      }
    }
    if (stale.length === 0) {
      console.log('  no sync of an earlier demo run is still running');
      return;
    }
    console.log(
      `  terminating ${stale.length} sync workflow${stale.length === 1 ? '' : 's'} left Running by earlier demo runs (their clusters are gone):`,
    );
    for (const { workflowId, runId } of stale) {
      await client.workflow
        .getHandle(workflowId, runId)
        .terminate(`superseded by demo run ${SYNC_ID}: the emulated clusters of this sync are gone`);
      console.log(`    ${workflowId}: terminated`);
    }
  } finally {
    await connection.close();
  }
}

async function loadSampleData(client: MongoClient): Promise<void> {
  const shop = client.db('shop');
  await shop.createCollection('orders');
  await shop.collection('customers').createIndex({ email: 1 }, { unique: true });
  await shop.collection('sessions').createIndex({ lastSeen: 1 }, { expireAfterSeconds: 3600 });
  await shop.createCollection('audit', { capped: true, size: 1 << 20 });
  await shop.createCollection('bigOrders', {
    viewOn: 'orders',
    pipeline: [{ $match: { total: { $gte: 500 } } }],
  });
  const customers = Array.from({ length: 2000 }, (_, i) => ({
    _id: new ObjectId(),
    email: `customer${i}@example.com`,
    since: new Date(2020, 0, 1 + i),
  }));
  await shop.collection('customers').insertMany(customers);
  for (let batch = 0; batch < 20; batch++) {
    await shop.collection<any>('orders').insertMany(
      Array.from({ length: 1000 }, (_, j) => {
        const i = batch * 1000 + j;
        return {
          _id: i,
          customer: customers[i % customers.length]._id,
          total: new Double(((i * 37) % 1000) + 0.5),
          quantity: new Int32(1 + (i % 5)),
          sku: Long.fromNumber(1_000_000 + i),
          price: Decimal128.fromString(`${(i % 100) + 0.99}`),
          items: [{ sku: `A${i % 17}`, qty: 1 }],
          createdAt: new Date(Date.UTC(2024, 0, 1) + i * 60_000),
        };
      }),
    );
  }
  await shop
    .collection('sessions')
    .insertMany(Array.from({ length: 500 }, (_, i) => ({ user: i, lastSeen: new Date() })));
  await shop
    .collection('audit')
    .insertMany(Array.from({ length: 100 }, (_, i) => ({ event: 'login', n: i })));
  await client
    .db('analytics')
    .collection('pageviews')
    .insertMany(Array.from({ length: 5000 }, (_, i) => ({ page: `/p/${i % 50}`, at: new Date() })));
}

async function main(): Promise<void> {
  const emulators: RunningEmulator[] = [];
  let service: RunningService | undefined;
  const clients: MongoClient[] = [];
  const step = async (what: string, action: () => Promise<unknown>, done = 'stopped') => {
    const started = Date.now();
    process.stdout.write(`  ${what}… `);
    try {
      await action();
      console.log(`${done} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (error) {
      console.log(`failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  let stoppingSince: number | null = null;
  const shutdown = async (code: number, why: string) => {
    if (stoppingSince !== null) {
      // One Ctrl-C can arrive twice at once: from the terminal's process group and relayed by
      // the npm/tsx wrappers. Only a later one is the user's second Ctrl-C.
      if (Date.now() - stoppingSince < 1000) return;
      console.log('\nstopping at once');
      process.exit(1);
    }
    stoppingSince = Date.now();
    say(`Stopping (${why}), in this order:`);
    await step(
      "the demo's MongoDB connections",
      () => Promise.allSettled(clients.map((c) => c.close())),
      'closed',
    );
    // startService's own order: what uses Temporal first, the server last.
    const running = service;
    if (running)
      await step('the sync service: the REST API, the worker, then the Temporal dev server', () =>
        running.stop(),
      );
    await step('the two emulated clusters', () => Promise.allSettled(emulators.map((e) => e.stop())));
    console.log(`  done. The next \`npm run demo\` starts a new sync; this one was ${SYNC_ID}.`);
    process.exit(code);
  };
  // A second Ctrl-C while stopping ends the process at once (the dev server still stops with it).
  process.on('SIGINT', () => void shutdown(0, 'Ctrl-C'));
  process.on('SIGTERM', () => void shutdown(0, 'SIGTERM'));
  try {
    say('Starting two emulated MongoDB 8.0 replica sets (auth on)');
    for (const [index, port] of CLUSTER_PORTS.entries()) {
      const emulator = await startEmulator({
        port,
        replSet: `rs${index}`,
        version: '8.0',
        auth: { rootUser: ROOT.user, rootPassword: ROOT.password },
      });
      emulators.push(emulator);
      const admin = await MongoClient.connect(emulator.uri);
      clients.push(admin);
      await admin
        .db('admin')
        .command({ createUser: APP.username, pwd: APP.password, roles: ['readWriteAnyDatabase'] });
      console.log(`  cluster${index}: mongodb://${ROOT.user}:****@127.0.0.1:${port}/?replicaSet=rs${index}`);
    }
    const [source, destination] = clients;

    say(
      'Loading sample data into cluster0 (shop: orders, customers, sessions, a capped audit log, a view; analytics)',
    );
    await loadSampleData(source);

    say('Starting the sync service (Temporal dev server + worker + REST API)');
    const config = parseServiceConfig([
      '--cluster0',
      emulators[0].uri,
      '--cluster1',
      emulators[1].uri,
      '--port',
      String(API_PORT),
      '--id',
      SYNC_ID,
      '--data-dir',
      path.join(__dirname, '..', '.data', 'demo'),
      '--verbosity',
      'WARN',
    ]);
    const logger = createLogger({
      mongosyncID: config.id,
      verbosity: config.verbosity,
      logPath: config.logPath,
    });
    installTemporalRuntime(logger); // the SDK's own logs at WARN and above, as JSON lines
    service = await startService(config, { logger });
    console.log(`  REST API: ${service.apiUrl}   Temporal Web UI: ${service.temporalUiUrl ?? '(external)'}`);
    const workflowId = syncWorkflowId(config);
    const workflowUrl = service.temporalUiUrl
      ? `${service.temporalUiUrl}/namespaces/${config.temporalNamespace}/workflows/${encodeURIComponent(workflowId)}`
      : null;
    console.log(`  this run's sync: id ${SYNC_ID}, Temporal workflow ${workflowId}`);
    if (workflowUrl) console.log(`  its history in the Web UI (once started): ${workflowUrl}`);

    say('Ending the syncs of earlier demo runs');
    await endEarlierDemoSyncs(service.temporalAddress, config.temporalNamespace, workflowId).catch(
      (error: unknown) =>
        console.log(
          `  could not end them (${error instanceof Error ? error.message : String(error)}); they have no worker and do no harm`,
        ),
    );

    say('Current state');
    console.log(`  ${summary(await progress())}`);

    say('Start a reversible sync from cluster0 to cluster1');
    console.log(
      ' ',
      JSON.stringify(
        await call('POST', 'start', {
          source: 'cluster0',
          destination: 'cluster1',
          reversible: true,
          enableUserWriteBlocking: true,
        }),
      ),
    );

    say('The application keeps writing to cluster0 during the copy');
    const appSource = await MongoClient.connect(`mongodb://127.0.0.1:${CLUSTER_PORTS[0]}/?replicaSet=rs0`, {
      auth: APP,
    });
    clients.push(appSource);
    for (let i = 0; i < 200; i++)
      await appSource
        .db('shop')
        .collection<any>('orders')
        .insertOne({ _id: 100_000 + i, total: new Double(42.5), live: true });
    await appSource
      .db('shop')
      .collection<any>('orders')
      .updateMany({ _id: { $lt: 100 } }, { $set: { status: 'shipped' } });

    say('Watching progress until the sync can commit');
    await waitFor('canCommit', (p) => p.canCommit === true);

    say('Commit: block writes on cluster0, drain, restore indexes, unblock cluster1');
    console.log(' ', JSON.stringify(await call('POST', 'commit', {})));
    const committed = await waitFor('COMMITTED', (p) => p.state === 'COMMITTED');
    console.log(`  directionMapping: ${JSON.stringify(committed.directionMapping)}`);
    const [sourceCount, destinationCount] = await Promise.all([
      source.db('shop').collection<any>('orders').countDocuments(),
      destination.db('shop').collection<any>('orders').countDocuments(),
    ]);
    console.log(`  shop.orders: ${sourceCount} documents on cluster0, ${destinationCount} on cluster1`);

    say('The application moves to cluster1 (cluster0 now refuses user writes)');
    const appDestination = await MongoClient.connect(
      `mongodb://127.0.0.1:${CLUSTER_PORTS[1]}/?replicaSet=rs1`,
      { auth: APP },
    );
    clients.push(appDestination);
    await appDestination
      .db('shop')
      .collection<any>('orders')
      .insertOne({ _id: 'after-commit', total: new Double(1.5) });
    const refused = await appSource
      .db('shop')
      .collection<any>('orders')
      .insertOne({ _id: 'refused' })
      .catch((error: { code?: number }) => error);
    console.log(
      `  write to cluster0: ${isUserWritesBlocked(refused) ? 'refused with 371 UserWritesBlocked' : 'accepted (unexpected)'}`,
    );

    say('Reverse: cluster1 becomes the source, cluster0 the destination, no new copy');
    console.log(' ', JSON.stringify(await call('POST', 'reverse', {})));
    const reversed = await waitFor(
      'RUNNING after reverse',
      (p) => p.state === 'RUNNING' && p.info === 'change event application',
    );
    console.log(`  directionMapping: ${JSON.stringify(reversed.directionMapping)}`);
    await waitFor(
      'the write made on cluster1 to reach cluster0',
      (p) => p.lagTimeSeconds !== null && Number(p.lagTimeSeconds) < 5,
    );
    for (let i = 0; i < 30; i++) {
      if (
        await source
          .db('shop')
          .collection<any>('orders')
          .findOne({ _id: 'after-commit' as never })
      )
        break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const arrived = await source
      .db('shop')
      .collection<any>('orders')
      .findOne({ _id: 'after-commit' as never });
    console.log(
      `  the order written on cluster1 after commit is on cluster0: ${arrived ? 'yes' : 'not yet'}`,
    );

    say('The service and the Temporal Web UI stay up. Try:');
    console.log(`  curl localhost:${API_PORT}/api/v1/progress -XGET`);
    console.log(`  curl localhost:${API_PORT}/api/v1/commit -XPOST --data '{ }'`);
    console.log(`  open ${workflowUrl ?? 'the Temporal UI'} to see the history of sync ${SYNC_ID}`);
    console.log('  Ctrl-C stops everything.');
  } catch (error) {
    console.error('demo failed:', error instanceof Error ? error.message : error);
    await shutdown(1, 'the demo failed');
  }
}

void main();
