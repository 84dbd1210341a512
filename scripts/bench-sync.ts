// `npm run bench`: the sync service against plain-driver baselines on the same emulated clusters,
// each ratio printed beside its aim (issue 11).
//   copy:  200k documents of ~1 KB in 4 collections. Baselines: naive = one cursor per collection
//          into insertMany batches of 1,000; strong = raw reads, 4 insertion workers per collection,
//          batches of 1,000. Service = /start until change event application, verifier off (a sync
//          of its own). CPU seconds per 100k documents of the worker (this process) and baselines.
//   verifier: the same copy with the verifier on, until initial hashing is done, against the
//          copy with it off; CPU seconds of the worker and of both emulators.
//   apply: a 40k-event backlog written while the sync is paused, from /resume until applied, with
//          the verifier off and on; baseline = watch() into bulkWrite.
//   lag:   2,000 and then 10,000 writes/s for 20 s each; lag in ms, each marker written among the
//          load timed until it can be read on the destination.
//   commit: /commit until COMMITTED, at zero lag with the verifier off, and after the loads with it on.
//   slow link: every command held 20 ms on both clusters (BENCH_SLOW_LINK=0 skips it).
// Emulators run in their own processes; the service (worker + API) runs in this one.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Double, MongoClient, type AnyBulkWriteOperation, type Collection, type Document } from 'mongodb';
import { parseServiceConfig } from '../src/config';
import { decodeDocument } from '../src/activities/rawDocuments';
import { startService } from '../src/main';
import { createLogger } from '../src/logger';
import { installTemporalRuntime } from '../src/worker/runtimeLogging';
import { startDevServer } from '../src/temporal/devServer';
import { Client, Connection } from '@temporalio/client';
import { syncWorkflowId, type ServiceConfig } from '../src/config';

/** BENCH_TRACE=1: each activity's duration from the workflow history (the longer ones), to see where time goes. */
async function printActivityTimeline(address: string, config: ServiceConfig, minMs = 0): Promise<void> {
  const connection = await Connection.connect({ address });
  const history = await new Client({ connection }).workflow.getHandle(syncWorkflowId(config)).fetchHistory();
  const scheduled = new Map<string, { type: string; at: number }>();
  const millis = (time: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
    Number(time?.seconds ?? 0) * 1000 + Math.floor((time?.nanos ?? 0) / 1e6);
  const start = millis(history.events?.[0]?.eventTime);
  for (const event of history.events ?? []) {
    const at = millis(event.eventTime) - start;
    const attributes = event.activityTaskScheduledEventAttributes;
    if (attributes) scheduled.set(String(event.eventId), { type: attributes.activityType?.name ?? '', at });
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed) {
      const entry = scheduled.get(String(completed.scheduledEventId));
      if (at - (entry?.at ?? 0) >= minMs) console.log(`  ${entry?.type} +${entry?.at} ms → +${at} ms`);
    }
  }
  await connection.close();
}

/** CPU seconds a process has used so far (Linux /proc; this process through Node). */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined || pid === process.pid) {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  }
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks
  } catch {
    return NaN;
  }
}

const COLLECTIONS = 4;
const DOCS_PER_COLLECTION = Number(process.env.BENCH_DOCS_PER_COLLECTION ?? 50_000);
const BACKLOG_EVENTS = Number(process.env.BENCH_BACKLOG ?? 40_000);
const LOAD_RATE = 2000;
const HIGH_LOAD_RATE = 10_000;
const LOAD_SECONDS = 20;
const root = path.join(__dirname, '..');

interface Emulator {
  uri: string;
  child: ChildProcess;
}

function startEmulatorProcess(name: string): Promise<Emulator> {
  const child = spawn(
    process.execPath,
    [
      // BENCH_EMULATOR_PROFILE=<dir>: CPU profiles of the emulators, written there when they exit.
      ...(process.env.BENCH_EMULATOR_PROFILE
        ? ['--cpu-prof', `--cpu-prof-dir=${path.join(process.env.BENCH_EMULATOR_PROFILE, name)}`]
        : []),
      '--import',
      'tsx',
      path.join(root, 'emulator', 'cli.ts'),
      '--port',
      '0',
      '--replSet',
      name,
      '--oplog-size-mb',
      '2048',
      '--auth',
      '--root-user',
      'bench',
      '--root-password',
      'bench',
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /emulator ready: mongodb:\/\/[^@]*@(\S+)/.exec(out);
      if (match) resolve({ uri: `mongodb://bench:bench@${match[1]}`, child });
    });
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
  });
}

function doc(i: number): Document {
  return {
    _id: i,
    name: `customer-${i}`,
    amount: new Double(i * 1.5),
    tags: ['a', 'b', 'c'],
    at: new Date(),
    filler: 'x'.repeat(900),
  };
}

async function seed(
  client: MongoClient,
  collections = COLLECTIONS,
  docsPerCollection = DOCS_PER_COLLECTION,
): Promise<void> {
  for (let c = 0; c < collections; c++) {
    const coll = client.db('bench').collection<any>(`c${c}`);
    for (let i = 0; i < docsPerCollection; i += 1000) {
      await coll.insertMany(Array.from({ length: 1000 }, (_, j) => doc(i + j)));
    }
  }
}

async function dropUserData(client: MongoClient): Promise<void> {
  await client.db('bench').dropDatabase();
}

/** Seconds a baseline takes to copy every bench collection, each by `copyOne`, all at once. */
async function timedCopy(
  source: MongoClient,
  destination: MongoClient,
  collections: number,
  copyOne: (from: Collection, to: Collection) => Promise<void>,
): Promise<number> {
  const started = performance.now();
  await Promise.all(
    Array.from({ length: collections }, (_, c) =>
      copyOne(source.db('bench').collection(`c${c}`), destination.db('bench').collection(`c${c}`)),
    ),
  );
  return (performance.now() - started) / 1000;
}

/** The naive baseline: one cursor per collection into insertMany batches of 1,000. */
function baselineCopy(source: MongoClient, destination: MongoClient, collections = COLLECTIONS) {
  return timedCopy(source, destination, collections, async (from, to) => {
    let batch: Document[] = [];
    for await (const document of from.find({}, { batchSize: 1000, promoteValues: false })) {
      batch.push(document);
      if (batch.length === 1000) {
        await to.insertMany(batch, { ordered: false });
        batch = [];
      }
    }
    if (batch.length > 0) await to.insertMany(batch, { ordered: false });
  });
}

/**
 * The strong baseline: the best a hand-written script does on these clusters. Raw BSON reads, one
 * reader per collection feeding 4 insertion workers (as mongorestore's numInsertionWorkers), in
 * batches of 1,000.
 */
function strongBaselineCopy(source: MongoClient, destination: MongoClient, collections = COLLECTIONS) {
  return timedCopy(source, destination, collections, async (from, to) => {
    // A bounded hand-off from the reader to the insertion workers.
    const queue: Document[][] = [];
    const waiting: Array<() => void> = [];
    let reading = true;
    const signal = () => waiting.splice(0).forEach((resolve) => resolve());
    const changed = () => new Promise<void>((resolve) => waiting.push(resolve));
    const workers = Array.from({ length: 4 }, async () => {
      for (;;) {
        const batch = queue.shift();
        if (batch) {
          signal();
          await to.insertMany(batch, { ordered: false });
        } else if (!reading) return;
        else await changed();
      }
    });
    const push = async (batch: Document[]) => {
      while (queue.length >= 8) await changed();
      queue.push(batch);
      signal();
    };
    let batch: Document[] = [];
    for await (const raw of from.find({}, { batchSize: 1000, raw: true })) {
      batch.push(decodeDocument(raw as unknown as Uint8Array));
      if (batch.length === 1000) {
        await push(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await push(batch);
    reading = false;
    signal();
    await Promise.all(workers);
  });
}

async function writeBacklog(client: MongoClient, round: number): Promise<void> {
  const coll = client.db('bench').collection<any>('c0');
  for (let i = 0; i < BACKLOG_EVENTS / 2; i += 1000) {
    await coll.insertMany(Array.from({ length: 1000 }, (_, j) => ({ ...doc(1_000_000 * round + i + j) })));
  }
  for (let i = 0; i < BACKLOG_EVENTS / 2; i++) {
    // Existing documents only, whatever the bench's size: each update is one change event.
    await coll.updateOne(
      { _id: i % DOCS_PER_COLLECTION },
      { $set: { amount: new Double(round + i) }, $inc: { updates: 1 } },
    );
  }
}

/** Inserts of the unverified sync's backlog: their own `_id` range, removed before the verified sync. */
const UNVERIFIED_ROUND = 3;

interface BenchClient {
  post(endpoint: string, body?: unknown): Promise<unknown>;
  waitFor(predicate: (p: Document) => boolean, timeoutMs?: number, pollMs?: number): Promise<Document>;
}

/** The service's apply: a backlog written while the sync is paused, from /resume until it is applied. */
async function measureApply(sync: BenchClient, source: MongoClient, round: number): Promise<number> {
  await sync.waitFor((p) => p.canCommit === true);
  await sync.post('pause');
  const before = await sync.waitFor((p) => p.state === 'PAUSED');
  await writeBacklog(source, round);
  const started = performance.now();
  await sync.post('resume');
  await sync.waitFor(
    (p) =>
      p.state === 'RUNNING' &&
      Number(p.totalEventsApplied) - Number(before.totalEventsApplied) >= BACKLOG_EVENTS,
  );
  return (performance.now() - started) / 1000;
}

/** The baseline apply: a change stream from `startAt` into bulkWrite, until `events` are applied. */
async function baselineApply(
  source: MongoClient,
  destination: MongoClient,
  startAt: Document,
  events: number,
): Promise<number> {
  const started = performance.now();
  const stream = source.watch([], {
    startAtOperationTime: startAt as never,
    batchSize: 1000,
    maxAwaitTimeMS: 200,
  });
  let applied = 0;
  let pending: Map<string, AnyBulkWriteOperation<Document>[]> = new Map();
  const flush = async () => {
    for (const [ns, ops] of pending) {
      const [db, coll] = ns.split('.');
      await destination.db(db).collection(coll).bulkWrite(ops, { ordered: true });
    }
    pending = new Map();
  };
  while (applied < events) {
    const event = (await stream.tryNext()) as Document | null;
    if (!event) {
      await flush();
      continue;
    }
    const ns = `${event.ns.db}.${event.ns.coll}`;
    const ops = pending.get(ns) ?? [];
    if (event.operationType === 'insert' || event.operationType === 'replace') {
      ops.push({
        replaceOne: { filter: { _id: event.documentKey._id }, replacement: event.fullDocument, upsert: true },
      });
    } else if (event.operationType === 'update') {
      const set = event.updateDescription.updatedFields;
      const unset = Object.fromEntries(
        (event.updateDescription.removedFields as string[]).map((field) => [field, '']),
      );
      ops.push({
        updateOne: {
          filter: { _id: event.documentKey._id },
          update: {
            ...(Object.keys(set).length ? { $set: set } : {}),
            ...(Object.keys(unset).length ? { $unset: unset } : {}),
          },
        },
      });
    } else if (event.operationType === 'delete') {
      ops.push({ deleteOne: { filter: { _id: event.documentKey._id } } });
    }
    pending.set(ns, ops);
    applied++;
    if (ops.length >= 1000) await flush();
  }
  await flush();
  await stream.close();
  return (performance.now() - started) / 1000;
}

/** A service of the bench: API on a free port, errors only in the log. */
function benchServiceConfig(cluster0: string, cluster1: string, id: string, temporalAddress: string) {
  return parseServiceConfig([
    ...['--cluster0', cluster0, '--cluster1', cluster1, '--port', '0', '--id', id],
    ...['--temporal-address', temporalAddress, '--verbosity', 'ERROR'],
  ]);
}

/** Every command a copy sends, held on the server as a distant cluster would hold it (mongod's failCommand). */
const HELD_COMMANDS = [
  'find',
  'getMore',
  'killCursors',
  'insert',
  'update',
  'delete',
  'aggregate',
  'count',
  'distinct',
  'listDatabases',
  'listCollections',
  'listIndexes',
  'create',
  'createIndexes',
  'collMod',
  'drop',
  'dropDatabase',
  'setUserWriteBlockMode',
  'ping',
  'endSessions',
];

async function holdEveryCommand(client: MongoClient, ms: number): Promise<void> {
  await client.db('admin').command({
    configureFailPoint: 'failCommand',
    mode: ms > 0 ? 'alwaysOn' : 'off',
    data: { failCommands: HELD_COMMANDS, blockConnection: true, blockTimeMS: ms },
  });
}

/**
 * The copy over a slow link: every command held 20 ms on both clusters, the naive one-cursor-per-
 * collection copy against the service's (default tuning, verifier off), on clusters of their own.
 */
async function slowLinkCopy(temporalAddress: string, collections: number, docsPerCollection: number) {
  const [slow0, slow1] = await Promise.all([startEmulatorProcess('slow0'), startEmulatorProcess('slow1')]);
  const source = await MongoClient.connect(slow0.uri);
  const destination = await MongoClient.connect(slow1.uri);
  let service: Awaited<ReturnType<typeof startService>> | undefined;
  try {
    await seed(source, collections, docsPerCollection);
    await Promise.all([holdEveryCommand(source, 20), holdEveryCommand(destination, 20)]);
    const naiveSeconds = await baselineCopy(source, destination, collections);
    await dropUserData(destination);
    // The machine's floor: the strong baseline with no latency at all (after the naive copy, so the
    // emulators are warm). Where the emulators are CPU-bound, no copy over the slow link beats it.
    await Promise.all([holdEveryCommand(source, 0), holdEveryCommand(destination, 0)]);
    const floorSeconds = await strongBaselineCopy(source, destination, collections);
    await dropUserData(destination);
    await Promise.all([holdEveryCommand(source, 20), holdEveryCommand(destination, 20)]);
    const id = `bench-slow-${collections}`;
    const config = benchServiceConfig(slow0.uri, slow1.uri, id, temporalAddress);
    service = await startService(config);
    const api = service.apiUrl;
    const started = performance.now();
    await fetch(`${api}/api/v1/start`, {
      method: 'POST',
      body: JSON.stringify({ source: 'cluster0', destination: 'cluster1', verification: { enabled: false } }),
    });
    for (;;) {
      const { progress } = (await (await fetch(`${api}/api/v1/progress`)).json()) as { progress: Document };
      if (progress.info === 'change event application') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const serviceSeconds = (performance.now() - started) / 1000;
    if (process.env.BENCH_TRACE) await printActivityTimeline(temporalAddress, config);
    const connection = await Connection.connect({ address: temporalAddress });
    await new Client({ connection }).workflow.getHandle(syncWorkflowId(config)).terminate('bench: measured');
    await connection.close();
    const megabytes = Math.round((collections * docsPerCollection) / 1000);
    return (
      `copy over a slow link (20 ms on every command), ${collections} × ${megabytes / collections} MB: ` +
      `service ${serviceSeconds.toFixed(1)} s vs naive ${naiveSeconds.toFixed(1)} s: ` +
      `${(naiveSeconds / serviceSeconds).toFixed(2)}x (aim >= 4x); floor: the strong baseline with no latency ` +
      `${floorSeconds.toFixed(1)} s, so at most ${(naiveSeconds / floorSeconds).toFixed(2)}x is reachable here`
    );
  } finally {
    await service?.stop();
    await Promise.allSettled([source.close(), destination.close()]);
    slow0.child.kill('SIGTERM');
    slow1.child.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  installTemporalRuntime(createLogger({ mongosyncID: 'bench', verbosity: 'ERROR', logPath: null }), 'ERROR');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mongosync-bench-'));
  // The apply baseline writes to a cluster of its own: the sync's destination is the sync's (its
  // verifier repairs anything else written there).
  const [cluster0, cluster1, scratchCluster] = await Promise.all([
    startEmulatorProcess('bench0'),
    startEmulatorProcess('bench1'),
    startEmulatorProcess('bench2'),
  ]);
  const temporal = await startDevServer({ dataDir, headless: true });
  const source = await MongoClient.connect(cluster0.uri);
  const destination = await MongoClient.connect(cluster1.uri);
  const totalDocs = COLLECTIONS * DOCS_PER_COLLECTION;
  const lines: string[] = [];
  const report = (line: string) => {
    lines.push(line);
    console.log(line);
  };
  let service: Awaited<ReturnType<typeof startService>> | undefined;
  try {
    if (process.env.BENCH_SLOW_LINK_ONLY) {
      // BENCH_SLOW_LINK_ONLY=1: the slow-link copies alone.
      report(await slowLinkCopy(temporal.address, 4, 25_000));
      report(await slowLinkCopy(temporal.address, 1, 100_000));
      return;
    }
    console.log(`seeding ${totalDocs} documents of ~1 KB in ${COLLECTIONS} collections…`);
    await seed(source);

    // Both baselines run in this process, so their CPU seconds compare with the worker's.
    const cpu = () => [process.pid, cluster0.child.pid, cluster1.child.pid].map(cpuSeconds);
    const cpuSince = (before: number[]) => {
      const [worker, source, destination] = cpu().map((now, index) => now - before[index]);
      return {
        worker,
        text: `CPU s: worker ${worker.toFixed(1)}, source ${source.toFixed(1)}, destination ${destination.toFixed(1)}`,
      };
    };
    let cpuBefore = cpu();
    const baselineCopySeconds = await baselineCopy(source, destination);
    const naiveCpu = cpuSince(cpuBefore);
    await dropUserData(destination);
    cpuBefore = cpu();
    const strongCopySeconds = await strongBaselineCopy(source, destination);
    const strongCpu = cpuSince(cpuBefore);
    await dropUserData(destination);
    const per100k = (seconds: number) => ((seconds * 100_000) / totalDocs).toFixed(1);

    const serviceConfig = (id: string) =>
      benchServiceConfig(cluster0.uri, cluster1.uri, id, temporal.address);
    // The service as users get it; BENCH_PARTITION_MB and BENCH_COPY_CONCURRENCY override its tuning.
    const startBenchService = (id: string) =>
      startService(serviceConfig(id), {
        tuning: {
          ...(process.env.BENCH_PARTITION_MB
            ? { targetPartitionBytes: Number(process.env.BENCH_PARTITION_MB) * 1024 * 1024 }
            : {}),
          ...(process.env.BENCH_COPY_CONCURRENCY
            ? { copyConcurrency: Number(process.env.BENCH_COPY_CONCURRENCY) }
            : {}),
        },
      });
    const client = (running: Awaited<ReturnType<typeof startService>>) => {
      const api = running.apiUrl;
      const post = async (endpoint: string, body: unknown = {}) =>
        (await fetch(`${api}/api/v1/${endpoint}`, { method: 'POST', body: JSON.stringify(body) })).json();
      const progress = async () =>
        ((await (await fetch(`${api}/api/v1/progress`)).json()) as { progress: Document }).progress;
      const waitFor = async (predicate: (p: Document) => boolean, timeoutMs = 1_800_000, pollMs = 100) => {
        const deadline = Date.now() + timeoutMs;
        let lastShown = 0;
        for (;;) {
          const p = await progress();
          if (Date.now() - lastShown > 10_000) {
            lastShown = Date.now();
            console.log(
              `  … state=${p.state} info=${p.info} lag=${p.lagTimeSeconds} events=${p.totalEventsApplied} canCommit=${p.canCommit}`,
            );
          }
          if (predicate(p)) return p;
          if (Date.now() > deadline) throw new Error(`timed out; last progress ${JSON.stringify(p)}`);
          await new Promise((resolve) => setTimeout(resolve, pollMs));
        }
      };
      return { post, progress, waitFor };
    };
    const startBody = (verification: boolean) => ({
      source: 'cluster0',
      destination: 'cluster1',
      enableUserWriteBlocking: 'sourceAndDestination',
      verification: { enabled: verification },
    });

    // The worker runs in this process: its resident memory, sampled through the whole run.
    let peakRss = process.memoryUsage().rss;
    const memorySampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
    memorySampler.unref();

    // The copy without the verifier: a sync of its own, measured, then ended and cleared away.
    service = await startBenchService('bench-unverified');
    // BENCH_TRACE: monotonic marks (µs, the clock of --cpu-prof profiles) to cut a profile to one phase.
    const mark = (name: string) =>
      process.env.BENCH_TRACE && console.log(`mark ${name} ${process.hrtime.bigint() / 1000n}`);
    mark('unverified-copy-start');
    cpuBefore = cpu();
    let started = performance.now();
    const unverified = client(service);
    await unverified.post('start', startBody(false));
    await unverified.waitFor((p) => p.info === 'change event application');
    const serviceCopySeconds = (performance.now() - started) / 1000;
    const unverifiedCpu = cpuSince(cpuBefore);
    mark('unverified-copy-end');
    if (process.env.BENCH_TRACE)
      await printActivityTimeline(temporal.address, serviceConfig('bench-unverified'));
    // Its apply over a backlog written while it is paused, then its commit at zero lag.
    const unverifiedApplySeconds = await measureApply(unverified, source, UNVERIFIED_ROUND);
    await unverified.waitFor((p) => Number(p.lagTimeSeconds) === 0 && p.canCommit === true);
    await new Promise((resolve) => setTimeout(resolve, 2000)); // an apply batch is in flight on the idle stream
    started = performance.now();
    await unverified.post('commit');
    await unverified.waitFor((p) => p.state === 'COMMITTED', 300_000, 20);
    const unverifiedCommitSeconds = (performance.now() - started) / 1000;
    await service.stop();
    service = undefined;
    {
      const connection = await Connection.connect({ address: temporal.address });
      await new Client({ connection }).workflow
        .getHandle(syncWorkflowId(serviceConfig('bench-unverified')))
        .terminate('bench: the unverified sync is measured');
      await connection.close();
    }
    // Both clusters as they were: the commit left the source blocked; the backlog's inserts go.
    for (const cluster of [source, destination])
      await cluster.db('admin').command({ setUserWriteBlockMode: 1, global: false });
    await source
      .db('bench')
      .collection<any>('c0')
      .deleteMany({ _id: { $gte: 1_000_000 * UNVERIFIED_ROUND, $lt: 1_000_000 * (UNVERIFIED_ROUND + 1) } });
    await dropUserData(destination);
    await destination.db('mongosync_reserved_for_internal_use').dropDatabase();

    // With the embedded verifier, as users get it by default.
    service = await startBenchService('bench');
    const { post, waitFor } = client(service);
    cpuBefore = cpu();
    started = performance.now();
    await post('start', startBody(true));
    await waitFor((p) => p.info === 'change event application');
    const verifiedCopySeconds = (performance.now() - started) / 1000;
    const hashed = await waitFor((p) => p.verification?.source?.phase === 'stream hashing');
    const verifiedSeconds = (performance.now() - started) / 1000;
    const verifiedCpu = cpuSince(cpuBefore);
    if (process.env.BENCH_TRACE) await printActivityTimeline(temporal.address, serviceConfig('bench'));
    const docsPerSecond = (seconds: number) =>
      `${Math.round(totalDocs / seconds)} docs/s (${seconds.toFixed(1)} s)`;
    report(
      `copy: service ${docsPerSecond(serviceCopySeconds)}, verifier off, /start until change event application; ` +
        `vs strong baseline ${docsPerSecond(strongCopySeconds)}: ${(strongCopySeconds / serviceCopySeconds).toFixed(2)}x (aim >= 1.1x); ` +
        `vs naive ${docsPerSecond(baselineCopySeconds)}: ${(baselineCopySeconds / serviceCopySeconds).toFixed(2)}x (aim >= 2x)`,
    );
    report(
      `copy CPU s per 100k documents: worker ${per100k(unverifiedCpu.worker)} vs strong baseline ${per100k(strongCpu.worker)} (aim <=), naive ${per100k(naiveCpu.worker)}; ` +
        `service ${unverifiedCpu.text}; strong ${strongCpu.text}; naive ${naiveCpu.text}`,
    );
    report(
      `verifier: copy and initial hashing done after ${verifiedSeconds.toFixed(1)} s = ${(verifiedSeconds / serviceCopySeconds).toFixed(2)}x the copy with the verifier off (aim <= 1.3x; the copy itself ended after ${verifiedCopySeconds.toFixed(1)} s); ` +
        `hashing ${Math.round(Number(hashed.verification.source.hashedDocumentCount) / verifiedSeconds)} docs/s per side over the whole run ` +
        `(${hashed.verification.source.hashedDocumentCount} source, ${hashed.verification.destination.hashedDocumentCount} destination documents); ${verifiedCpu.text}`,
    );

    const memoryLine = () =>
      `worker (this process) peak resident memory: ${Math.round(peakRss / 1048576)} MB for ${totalDocs} documents`;
    if (process.env.BENCH_COPY_ONLY) {
      // BENCH_COPY_ONLY=1: the copy figures only (profiling, memory at several sizes)
      report(memoryLine());
      return;
    }
    // Apply throughput over the same backlog: the service with the verifier on (paused while the
    // backlog is written) …
    mark('apply-start');
    const serviceApplySeconds = await measureApply({ post, waitFor }, source, 1);
    mark('apply-end');
    // … then the baseline over an identical backlog into the scratch cluster, which first gets the
    // source's documents, as the sync's destination has them: the backlog's updates then modify
    // documents there too, instead of matching none.
    const scratch = await MongoClient.connect(scratchCluster.uri);
    await dropUserData(scratch);
    await strongBaselineCopy(source, scratch, 1);
    const baselineStart = (await source.db('admin').command({ ping: 1 })).operationTime;
    await writeBacklog(source, 2);
    const baselineApplySeconds = await baselineApply(source, scratch, baselineStart, BACKLOG_EVENTS);
    await scratch.close();
    const eventsPerSecond = (seconds: number) => `${Math.round(BACKLOG_EVENTS / seconds)} events/s`;
    report(
      `apply ${BACKLOG_EVENTS} events: service ${eventsPerSecond(unverifiedApplySeconds)} verifier off, ` +
        `${eventsPerSecond(serviceApplySeconds)} verifier on, vs watch() → bulkWrite baseline ${eventsPerSecond(baselineApplySeconds)}: ` +
        `${(baselineApplySeconds / unverifiedApplySeconds).toFixed(2)}x off, ${(baselineApplySeconds / serviceApplySeconds).toFixed(2)}x on (aim >= 1.5x)`,
    );

    // Lag under a steady load, in milliseconds: markers written to the source among the load, each
    // timed until it can be read on the destination.
    const steadyLoad = async (rate: number, aimMs: number) => {
      await waitFor((p) => Number(p.lagTimeSeconds) <= 1);
      const coll = source.db('bench').collection<any>('c1');
      const landed = destination.db('bench').collection<any>('c1');
      const lagsMs: number[] = [];
      const markers = new Map<string, number>();
      let loading = true;
      const watcher = (async () => {
        while (loading || markers.size > 0) {
          const ids = [...markers.keys()];
          if (ids.length > 0) {
            for (const { _id } of await landed
              .find({ _id: { $in: ids } }, { projection: { _id: 1 } })
              .toArray()) {
              lagsMs.push(performance.now() - markers.get(_id)!);
              markers.delete(_id);
            }
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      const loadStart = performance.now();
      let writes = 0;
      let marker = 0;
      while (performance.now() - loadStart < LOAD_SECONDS * 1000) {
        const due = Math.floor(((performance.now() - loadStart) / 1000) * rate);
        const ops: AnyBulkWriteOperation<any>[] = [];
        for (; writes < due; writes++) {
          ops.push(
            writes % 2 === 0
              ? { insertOne: { document: { _id: `load-${rate}-${writes}`, v: writes } } }
              : {
                  updateOne: { filter: { _id: writes % DOCS_PER_COLLECTION }, update: { $inc: { hits: 1 } } },
                },
          );
        }
        if (ops.length > 0) {
          const id = `lag-${rate}-${marker++}`;
          ops.push({ insertOne: { document: { _id: id } } });
          const written = coll.bulkWrite(ops, { ordered: false });
          await written;
          markers.set(id, performance.now());
        } else await new Promise((resolve) => setTimeout(resolve, 5));
      }
      loading = false;
      const achieved = writes / ((performance.now() - loadStart) / 1000);
      const deadline = Date.now() + 120_000;
      while (markers.size > 0 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
      if (markers.size > 0) throw new Error(`${markers.size} lag markers never reached the destination`);
      loading = false;
      await watcher;
      lagsMs.sort((x, y) => x - y);
      report(
        `lag under ${Math.round(achieved)} writes/s for ${LOAD_SECONDS} s: max ${Math.round(lagsMs[lagsMs.length - 1])} ms, ` +
          `median ${Math.round(lagsMs[Math.floor(lagsMs.length / 2)])} ms over ${lagsMs.length} markers (aim < ${aimMs} ms)`,
      );
    };
    await steadyLoad(LOAD_RATE, 1000);
    await steadyLoad(HIGH_LOAD_RATE, 5000);

    await waitFor((p) => Number(p.lagTimeSeconds) <= 1 && p.canCommit === true);
    started = performance.now();
    mark('commit-start');
    await post('commit');
    await waitFor((p) => p.state === 'COMMITTED');
    mark('commit-end');
    report(
      `commit, /commit to COMMITTED: ${unverifiedCommitSeconds.toFixed(2)} s verifier off at zero lag (aim <= 1.0 s); ` +
        `${((performance.now() - started) / 1000).toFixed(2)} s verifier on, after the loads above (its final pass reads what its streams have not)`,
    );
    if (process.env.BENCH_TRACE) await printActivityTimeline(temporal.address, serviceConfig('bench'), 1000);
    clearInterval(memorySampler);
    report(memoryLine());
    // Over a slow link: four 25 MB collections, then one of 100 MB (BENCH_SLOW_LINK=0 skips it).
    if (process.env.BENCH_SLOW_LINK !== '0') {
      report(await slowLinkCopy(temporal.address, 4, 25_000));
      report(await slowLinkCopy(temporal.address, 1, 100_000));
    }
    console.log('\nsummary\n' + lines.join('\n'));
  } finally {
    await service?.stop();
    await Promise.allSettled([source.close(), destination.close()]);
    await temporal.stop();
    cluster0.child.kill('SIGTERM');
    cluster1.child.kill('SIGTERM');
    scratchCluster.child.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
