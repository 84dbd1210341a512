// `npm run record-histories [scenario ...]`: records the sync workflow's event histories that
// test/e2e/workflows/sync.replay.test.ts replays, so a change to the workflow that would break a
// sync already running (one started by the previous release) fails a test instead of a customer.
//
// For each scenario: two fresh emulated clusters with a little sample data, a throw-away Temporal
// dev server and the service in this process (with shrunk tuning); a complete sync is driven
// through the REST API (or with signals), and once it has reached its last state every run of the
// workflow (every link of its continue-as-new chain) is written, as the JSON that
// `historyFromJSON` / `Worker.runReplayHistories` read, to
// test/e2e/workflows/histories/<scenario>-<n>.json (n: 1 for the first run). The old files of a
// scenario are replaced only once all the requested scenarios have been recorded.
//
// Re-run it whenever the workflow changes on purpose in a way old histories cannot replay (after
// a new release has drained the old syncs), and commit the fixtures with the change.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON, type History } from '@temporalio/common/lib/proto-utils';
import proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { Double, Int32, type Document } from 'mongodb';
import * as prettier from 'prettier';
import { parseStartRequest } from '../src/api/startRequest';
import { clusterFingerprint, syncWorkflowId, type ServiceConfig } from '../src/config';
import { startService, type RunningService } from '../src/main';
import type { SyncWorkflowInput } from '../src/workflows';
import type { SyncTuning } from '../src/workflows/state';
import { startTestCluster, stopTestCluster, type TestCluster } from '../test/e2e/helpers/clusters';
import { compareClusters } from '../test/e2e/helpers/compare';
import { SyncApi, testServiceConfig } from '../test/e2e/helpers/service';
import { startTestTemporal, type TestTemporal } from '../test/e2e/helpers/temporal';

const ROOT = path.join(__dirname, '..');
const OUTPUT_DIR = path.join(ROOT, 'test', 'e2e', 'workflows', 'histories');
const WAIT_MS = 120_000;

/** Small enough that a scenario takes seconds, not minutes, and its history stays small. */
const TUNING: Partial<SyncTuning> = {
  copyConcurrency: 2,
  targetPartitionBytes: 512 * 1024,
  applyBatchMs: 1500,
  pingIntervalMs: 10_000,
  errorRetryMs: 2000,
  idleBatchMs: 500,
};

/** Low enough that scenario continue-as-new's run continues as new several times. */
const CONTINUE_AS_NEW_AFTER_EVENTS = 40;

/** Scenario reset-at-continue-as-new: a committed run grows past this while its record check is held. */
const RESET_SUGGESTION_AFTER_EVENTS = 150;

// The scenarios recorded before the verifier existed ran without it; they keep doing so, and the
// verification scenario runs the same commands with it.
const START_BODY = {
  source: 'cluster0',
  destination: 'cluster1',
  reversible: true,
  enableUserWriteBlocking: true,
  verification: { enabled: false },
} as const;
const VERIFIED_START_BODY = { ...START_BODY, verification: { enabled: true } } as const;

interface Environment {
  cluster0: TestCluster;
  cluster1: TestCluster;
  config: ServiceConfig;
  api: SyncApi;
  client: Client;
  /** Records the histories of the sync's current execution (before a reset ends it). */
  keepExecution(): Promise<void>;
}

interface Scenario {
  name: string;
  description: string;
  dynamicConfig?: Record<string, unknown>;
  /** Tuning of this scenario's sync, over TUNING. */
  tuning?: Partial<SyncTuning>;
  drive(env: Environment): Promise<void>;
}

// ----- sample data and application writes -----

async function seed(cluster: TestCluster): Promise<void> {
  const shop = cluster.app.db('shop');
  await shop.collection('orders').createIndex({ customer: 1, total: -1 });
  await shop.collection<Document>('orders').insertMany(
    Array.from({ length: 3000 }, (_, n) => ({
      _id: n as never,
      customer: `c${n % 97}`,
      total: new Double((n % 500) + 0.25),
      qty: new Int32(n % 7),
      pad: 'p'.repeat(150),
    })),
  );
  await shop.collection('customers').createIndex({ email: 1 }, { unique: true });
  await shop
    .collection<Document>('customers')
    .insertMany(
      Array.from({ length: 500 }, (_, i) => ({ _id: `cust-${i}` as never, email: `c${i}@example.com` })),
    );
  await cluster.app
    .db('analytics')
    .collection<Document>('events')
    .insertMany(Array.from({ length: 1500 }, (_, n) => ({ kind: n % 4 === 0 ? 'click' : 'view', n })));
}

/** Inserts, updates, a delete and a new collection with an index: CRUD and DDL events. */
async function applicationWrites(cluster: TestCluster, round: string): Promise<void> {
  const orders = cluster.app.db('shop').collection<Document>('orders');
  await orders.insertMany(
    Array.from({ length: 20 }, (_, i) => ({ _id: `${round}-${i}` as never, round, total: new Double(i) })),
  );
  await orders.updateMany({ round }, { $set: { status: 'shipped' } });
  await orders.deleteOne({ _id: `${round}-0` as never });
  const created = cluster.app.db('scratch').collection<Document>(`created-${round}`);
  await created.insertOne({ round });
  await created.createIndex({ round: 1 });
}

// ----- waiting and commands -----

async function post(api: SyncApi, endpoint: string, body: unknown = {}): Promise<void> {
  const reply = await api.post(endpoint, body);
  if (reply.body.success !== true)
    throw new Error(`/${endpoint} failed (${reply.status}): ${JSON.stringify(reply.body)}`);
}

const committable = (p: Document) => p.state === 'RUNNING' && p.canCommit === true;
const sourceIs = (cluster: string) => (p: Document) =>
  String((p.directionMapping as Document | null)?.Source ?? '').startsWith(`${cluster}:`);

async function expectEqualClusters(env: Environment, label: string): Promise<void> {
  const differences = await compareClusters(env.cluster0.admin, env.cluster1.admin);
  if (differences.length > 0)
    throw new Error(`the clusters differ after ${label}:\n  ${differences.join('\n  ')}`);
}

/** Drops the destination's user data and write blocking, as an operator starting over would. */
async function emptyDestination(cluster: TestCluster): Promise<void> {
  await cluster.admin.db('admin').command({ setUserWriteBlockMode: 1, global: false });
  const { databases } = await cluster.admin.db('admin').command({ listDatabases: 1, nameOnly: true });
  for (const { name } of databases as { name: string }[]) {
    if (!['admin', 'config', 'local'].includes(name)) await cluster.admin.db(name).dropDatabase();
  }
}

// ----- scenarios -----

/** start → canCommit → pause → resume → commit → COMMITTED (scenario updates' first part). */
async function firstSyncThroughTheApi(env: Environment, body: object = START_BODY): Promise<void> {
  const { api } = env;
  await post(api, 'start', body);
  await applicationWrites(env.cluster0, 'during-copy');
  await api.waitFor(committable, WAIT_MS, 'canCommit');
  await post(api, 'pause');
  await api.waitFor((p) => p.state === 'PAUSED', WAIT_MS, 'PAUSED');
  await post(api, 'resume');
  await api.waitFor(committable, WAIT_MS, 'canCommit after resume');
  await post(api, 'commit');
  await api.waitFor((p) => p.state === 'COMMITTED', WAIT_MS, 'COMMITTED');
  await expectEqualClusters(env, 'the first commit');
}

/** Writes on the new source, reverse → canCommit → commit → COMMITTED, both clusters equal. */
async function reverseAndCommit(env: Environment): Promise<void> {
  const { api } = env;
  await applicationWrites(env.cluster1, 'after-commit-1');
  await post(api, 'reverse');
  await api.waitFor((p) => committable(p) && sourceIs('cluster1')(p), WAIT_MS, 'canCommit after reverse');
  await post(api, 'commit');
  await api.waitFor((p) => p.state === 'COMMITTED', WAIT_MS, 'COMMITTED after reverse');
  await expectEqualClusters(env, 'the commit after reverse');
}

const SCENARIOS: Scenario[] = [
  {
    name: 'verification',
    description: 'with the embedded verifier: start, pause, resume, commit, reverse, commit',
    async drive(env) {
      await firstSyncThroughTheApi(env, VERIFIED_START_BODY);
      await reverseAndCommit(env);
    },
  },
  {
    name: 'updates',
    description: 'the REST API (updates): start, pause, resume, commit, reverse, commit',
    async drive(env) {
      // One collection copied in natural order (patch natural-order-copy at the start).
      await firstSyncThroughTheApi(env, {
        ...START_BODY,
        copyInNaturalOrder: [{ database: 'analytics', collections: ['events'] }],
      });
      await reverseAndCommit(env);
      await applicationWrites(env.cluster0, 'after-commit-2');
    },
  },
  {
    name: 'signals',
    description: 'the same commands as signals, one of them rejected (commit before canCommit)',
    async drive(env) {
      // Sent by name, as an older client would: the names are the contract, whatever the code calls them.
      const { api, client, config } = env;
      const workflowId = syncWorkflowId(config);
      const input: SyncWorkflowInput = {
        syncId: config.id,
        clusterFingerprint: clusterFingerprint(config.cluster0, config.cluster1),
        tuning: TUNING,
      };
      await client.workflow.signalWithStart('syncWorkflow', {
        workflowId,
        taskQueue: config.taskQueue,
        args: [input],
        signal: 'start',
        signalArgs: [parseStartRequest(START_BODY)],
      });
      const handle = client.workflow.getHandle(workflowId);
      await api.waitFor((p) => p.state === 'RUNNING', WAIT_MS, 'RUNNING after the start signal');
      // Rejected: the copy has not finished, so canCommit is false; the workflow records a warning.
      await handle.signal('commit');
      await api
        .waitFor(
          (p) => ((p.warnings as string[] | undefined) ?? []).some((w) => /commit/i.test(w)),
          15_000,
          'the early commit signal to be rejected',
        )
        .catch(() => console.log('  note: no warning about the rejected commit signal appeared'));
      await applicationWrites(env.cluster0, 'during-copy');
      await api.waitFor(committable, WAIT_MS, 'canCommit');
      await handle.signal('pause');
      await api.waitFor((p) => p.state === 'PAUSED', WAIT_MS, 'PAUSED');
      await handle.signal('resume');
      await api.waitFor(committable, WAIT_MS, 'canCommit after resume');
      await handle.signal('commit');
      await api.waitFor((p) => p.state === 'COMMITTED', WAIT_MS, 'COMMITTED');
      await expectEqualClusters(env, 'the first commit');
      await applicationWrites(env.cluster1, 'after-commit-1');
      await handle.signal('reverse');
      await api.waitFor((p) => committable(p) && sourceIs('cluster1')(p), WAIT_MS, 'canCommit after reverse');
      await handle.signal('commit');
      await api.waitFor((p) => p.state === 'COMMITTED', WAIT_MS, 'COMMITTED after reverse');
      await expectEqualClusters(env, 'the commit after reverse');
      await applicationWrites(env.cluster0, 'after-commit-2');
    },
  },
  {
    name: 'reset',
    description:
      'reset a committed sync; a new sync whose destination loses its record halts, /start is refused, reset; a third sync commits',
    async drive(env) {
      const { api, cluster1 } = env;
      await post(api, 'start', START_BODY);
      await api.waitFor(committable, WAIT_MS, 'canCommit');
      await post(api, 'commit');
      await api.waitFor((p) => p.state === 'COMMITTED', WAIT_MS, 'COMMITTED');
      await post(api, 'reset');
      await api.waitFor((p) => p.state === 'IDLE', WAIT_MS, 'IDLE after reset');
      await env.keepExecution();

      await emptyDestination(cluster1);
      await post(api, 'start', { source: 'cluster0', destination: 'cluster1' });
      await api.waitFor(committable, WAIT_MS, 'canCommit of the second sync');
      // The destination is rebuilt behind the same host name: its record is gone.
      await cluster1.admin.db('mongosync_reserved_for_internal_use').dropDatabase();
      await api.waitFor((p) => String(p.info).includes('SyncRecordMismatch'), WAIT_MS, 'the halt');
      const refused = await api.post('start', START_BODY);
      if (refused.status !== 409) throw new Error(`/start was not refused: ${JSON.stringify(refused.body)}`);
      await post(api, 'reset');
      await api.waitFor((p) => p.state === 'IDLE', WAIT_MS, 'IDLE after the second reset');
      await env.keepExecution();

      await emptyDestination(cluster1);
      await post(api, 'start', START_BODY);
      await api.waitFor(committable, WAIT_MS, 'canCommit of the third sync');
      await post(api, 'commit');
      await api.waitFor((p) => p.state === 'COMMITTED', WAIT_MS, 'COMMITTED of the third sync');
      await expectEqualClusters(env, 'the third commit');
    },
  },
  {
    name: 'continue-as-new',
    description: `start, pause, resume, commit with continue-as-new suggested after ${CONTINUE_AS_NEW_AFTER_EVENTS} events`,
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': CONTINUE_AS_NEW_AFTER_EVENTS },
    async drive(env) {
      await firstSyncThroughTheApi(env);
    },
  },
  {
    name: 'reset-at-continue-as-new',
    description: `reset a committed sync while its record check is held and continue-as-new is suggested (after ${RESET_SUGGESTION_AFTER_EVENTS} events)`,
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': RESET_SUGGESTION_AFTER_EVENTS },
    tuning: { recordCheckMs: 500 },
    async drive(env) {
      const { api, client, config, cluster1 } = env;
      await post(api, 'start', START_BODY);
      await api.waitFor(committable, WAIT_MS, 'canCommit');
      await post(api, 'commit');
      await api.waitFor((p) => p.state === 'COMMITTED', WAIT_MS, 'COMMITTED');
      // The next record check (a find on the destination) is held 10 s: the loop waits in it …
      await cluster1.admin.db('admin').command({
        configureFailPoint: 'failCommand',
        mode: { times: 1 },
        data: { failCommands: ['find'], blockConnection: true, blockTimeMS: 10_000 },
      });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      // … while rejected signals grow the run's history past the suggestion …
      const handle = client.workflow.getHandle(syncWorkflowId(config));
      while ((await handle.describe()).historyLength <= RESET_SUGGESTION_AFTER_EVENTS + 10)
        await handle.signal('pause');
      // … and the reset waits for the loop, which runs it once the check returns.
      await post(api, 'reset');
      await api.waitFor((p) => p.state === 'IDLE', WAIT_MS, 'IDLE after reset');
    },
  },
];

// ----- histories -----

type HistoryJson = { events: Document[] };

/**
 * `historyToJSON`, or the very same conversion done with the protobufjs copy of @temporalio/proto
 * when the install holds several copies of protobufjs 8 (npm nests one under each @temporalio
 * package while another major version is hoisted): proto-utils' own copy then refuses the
 * proto package's types with "type must be a Type".
 */
function historyToJson(history: History): HistoryJson {
  try {
    return JSON.parse(historyToJSON(history)) as HistoryJson;
  } catch (err) {
    if (!/must be a Type/.test((err as Error).message)) throw err;
  }
  const protoDir = path.dirname(require.resolve('@temporalio/proto/package.json'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const protojson = require(require.resolve('protobufjs/ext/protojson', { paths: [protoDir] })) as {
    toJson(type: unknown, message: unknown): unknown;
  };
  const historyType = (
    patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }
  ).lookupType('temporal.api.history.v1.History');
  return protojson.toJson(
    historyType,
    proto.temporal.api.history.v1.History.fromObject(history),
  ) as HistoryJson;
}

async function historyOf(client: Client, workflowId: string, runId: string): Promise<HistoryJson> {
  return historyToJson(await client.workflow.getHandle(workflowId, runId).fetchHistory());
}

/** Every run of the workflow, first run first, by following continuedExecutionRunId back from the latest. */
async function chainOf(client: Client, workflowId: string): Promise<HistoryJson[]> {
  const latest = await client.workflow.getHandle(workflowId).describe();
  const runs: HistoryJson[] = [];
  for (let runId: string | undefined = latest.runId; runId;) {
    const history = await historyOf(client, workflowId, runId);
    runs.unshift(history);
    const started = history.events[0]?.workflowExecutionStartedEventAttributes as Document | undefined;
    if (!started) throw new Error(`run ${runId} of ${workflowId} has no WorkflowExecutionStarted event`);
    runId = (started.continuedExecutionRunId as string | undefined) || undefined;
  }
  return runs;
}

/**
 * The chain once nothing more happens in it: the latest run waits for a command with no workflow
 * task and no activity pending, and no event was added for a second.
 */
async function settledChain(client: Client, workflowId: string): Promise<HistoryJson[]> {
  const deadline = Date.now() + 60_000;
  let previous = '';
  for (;;) {
    const { raw } = await client.workflow.getHandle(workflowId).describe();
    const idle = !raw.pendingWorkflowTask && (raw.pendingActivities ?? []).length === 0;
    const chain = await chainOf(client, workflowId);
    const shape = chain.map((h) => h.events.length).join(',');
    if (idle && shape === previous) return chain;
    if (Date.now() > deadline) throw new Error(`the history of ${workflowId} does not settle (${shape})`);
    previous = idle ? shape : '';
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/**
 * Drops what names this machine, which replay ignores: worker and client identities, sticky task
 * queues (`pid@host`) and failures' stack traces (file paths).
 */
function scrubbed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrubbed);
  if (!value || typeof value !== 'object') return value;
  const entries = Object.entries(value).map(([key, v]) => [
    key,
    key === 'identity' ? 'recorder' : key === 'stackTrace' ? '' : scrubbed(v),
  ]);
  const object = Object.fromEntries(entries) as Document;
  if (object.kind === 'TASK_QUEUE_KIND_STICKY' && typeof object.name === 'string')
    object.name = 'recorder-sticky';
  return object;
}

// ----- running a scenario -----

async function record(scenario: Scenario): Promise<HistoryJson[]> {
  let temporal: TestTemporal | undefined;
  let cluster0: TestCluster | undefined;
  let cluster1: TestCluster | undefined;
  let service: RunningService | undefined;
  let connection: Connection | undefined;
  try {
    [temporal, cluster0, cluster1] = await Promise.all([
      startTestTemporal(scenario.dynamicConfig),
      startTestCluster('rsRecord0'),
      startTestCluster('rsRecord1'),
    ]);
    await seed(cluster0);
    const config = testServiceConfig({
      cluster0: cluster0.uri,
      cluster1: cluster1.uri,
      id: `replay-${scenario.name}`,
      temporalAddress: temporal.address,
      taskQueue: `replay-${scenario.name}`,
    });
    service = await startService(config, { tuning: { ...TUNING, ...scenario.tuning } });
    connection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection, namespace: config.temporalNamespace });
    const kept: HistoryJson[] = [];
    const keepExecution = async () => {
      kept.push(...(await settledChain(client, syncWorkflowId(config))));
    };
    await scenario.drive({
      cluster0,
      cluster1,
      config,
      api: new SyncApi(service.apiUrl),
      client,
      keepExecution,
    });
    return [...kept, ...(await settledChain(client, syncWorkflowId(config)))];
  } finally {
    await service?.stop();
    await connection?.close();
    await Promise.all([stopTestCluster(cluster0), stopTestCluster(cluster1), temporal?.stop()]);
  }
}

function gitStatusOfWorkflowCode(): string {
  try {
    return execFileSync('git', ['status', '--porcelain', '--', 'src/workflows', 'src/domain.ts'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return '';
  }
}

async function main(): Promise<void> {
  const requested = process.argv.slice(2);
  const unknown = requested.filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length > 0) {
    console.error(
      `unknown scenario(s) ${unknown.join(', ')}; choose from ${SCENARIOS.map((s) => s.name).join(', ')}`,
    );
    process.exit(2);
  }
  const scenarios = requested.length > 0 ? SCENARIOS.filter((s) => requested.includes(s.name)) : SCENARIOS;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const uncommitted = gitStatusOfWorkflowCode();
  if (uncommitted) {
    console.log(`note: recording with uncommitted workflow code:\n${uncommitted.replace(/^/gm, '  ')}`);
  }

  const recorded: { scenario: Scenario; runs: HistoryJson[]; seconds: number }[] = [];
  for (const scenario of scenarios) {
    console.log(`recording ${scenario.name}: ${scenario.description}`);
    const began = Date.now();
    const runs = await record(scenario);
    recorded.push({ scenario, runs, seconds: (Date.now() - began) / 1000 });
  }

  mkdirSync(OUTPUT_DIR, { recursive: true });
  const prettierOptions = (await prettier.resolveConfig(path.join(OUTPUT_DIR, 'x.json'))) ?? {};
  let totalBytes = 0;
  for (const { scenario, runs, seconds } of recorded) {
    const prefix = `${scenario.name}-`;
    for (const file of readdirSync(OUTPUT_DIR)) {
      if (file.startsWith(prefix) && /^\d+\.json$/.test(file.slice(prefix.length)))
        rmSync(path.join(OUTPUT_DIR, file));
    }
    console.log(`${scenario.name}: ${runs.length} run(s) in ${seconds.toFixed(1)} s`);
    for (const [i, history] of runs.entries()) {
      const file = path.join(OUTPUT_DIR, `${prefix}${i + 1}.json`);
      // Formatted as the repository's prettier check wants it.
      const text = await prettier.format(JSON.stringify(scrubbed(history)), {
        ...prettierOptions,
        parser: 'json',
      });
      writeFileSync(file, text);
      const bytes = statSync(file).size;
      totalBytes += bytes;
      const last = String(history.events.at(-1)?.eventType ?? '').replace('EVENT_TYPE_', '');
      console.log(
        `  wrote ${path.relative(ROOT, file)}: ${history.events.length} events, last ${last}, ${(bytes / 1024).toFixed(1)} KB`,
      );
    }
  }
  console.log(`total ${(totalBytes / 1024).toFixed(1)} KB written`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
