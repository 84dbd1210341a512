// The sync service end to end: the real Temporal dev server, the real worker and activities, two
// emulated clusters with auth on, driven through mongosync's REST API only.
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MetricSample } from '../../src/metrics';
import { startService, type RunningService } from '../../src/main';
import { startTestCluster, stopTestCluster, type TestCluster } from './helpers/clusters';
import { compareClusters } from './helpers/compare';
import { applyMixedWrites, seedSourceData, SyncApi, testServiceConfig } from './helpers/service';
import { startTestTemporal, type TestTemporal } from './helpers/temporal';

const run = promisify(execFile);
jest.setTimeout(600_000);

describe('sync from cluster0 to cluster1', () => {
  let temporal: TestTemporal;
  let cluster0: TestCluster;
  let cluster1: TestCluster;
  let service: RunningService;
  let api: SyncApi;
  let port: number;
  const metricsLog = join(mkdtempSync(join(tmpdir(), 'flow-metrics-')), 'mongosync-metrics.log');

  beforeAll(async () => {
    [temporal, cluster0, cluster1] = await Promise.all([
      startTestTemporal(),
      startTestCluster('rsA'),
      startTestCluster('rsB'),
    ]);
    await seedSourceData(cluster0.app);
    const config = testServiceConfig({
      cluster0: cluster0.uri,
      cluster1: cluster1.uri,
      id: 'flow',
      temporalAddress: temporal.address,
      taskQueue: 'flow-test',
      metricsLoggingFilepath: metricsLog,
    });
    service = await startService(config, {
      tuning: { targetPartitionBytes: 2 * 1024 * 1024, copyConcurrency: 4, applyBatchMs: 1000 },
      metricsLogIntervalMs: 250,
    });
    api = new SyncApi(service.apiUrl);
    port = Number(new URL(service.apiUrl).port);
  });

  afterAll(async () => {
    await service?.stop();
    await Promise.all([stopTestCluster(cluster0), stopTestCluster(cluster1), temporal?.stop()]);
  });

  test('IDLE before start: every field null but state and canCommit', async () => {
    const progress = await api.progress();
    expect(progress.state).toBe('IDLE');
    expect(progress.canCommit).toBe(false);
    for (const [key, value] of Object.entries(progress))
      if (key !== 'state' && key !== 'canCommit') expect(value).toBeNull();
  });

  test('invalid requests are refused with InvalidRequest and change nothing', async () => {
    const badJson = await api.post('start', '{ "source": ');
    expect(badJson.status).toBe(400);
    expect(badJson.body).toMatchObject({ success: false, error: 'InvalidRequest' });
    const unknownField = await api.post('start', {
      source: 'cluster0',
      destination: 'cluster1',
      colour: 'blue',
    });
    expect(unknownField.body.error).toBe('InvalidRequest');
    expect(unknownField.body.errorDescription).toMatch(/colour/);
    const same = await api.post('start', { source: 'cluster0', destination: 'cluster0' });
    expect(same.body.error).toBe('InvalidRequest');
    const reversibleWithoutBlocking = await api.post('start', {
      source: 'cluster0',
      destination: 'cluster1',
      reversible: true,
    });
    expect(reversibleWithoutBlocking.body.error).toBe('InvalidRequest');
    expect((await api.post('commit')).body.error).toBe('InvalidStateTransition');
    expect((await api.post('pause')).body.error).toBe('InvalidStateTransition');
    expect((await api.post('reverse')).body.error).toBe('InvalidStateTransition');
    expect((await api.progress()).state).toBe('IDLE');
  });

  test('start with curl exactly as the mongosync docs write it', async () => {
    const { stdout } = await run('curl', [
      `localhost:${port}/api/v1/start`,
      '-XPOST',
      '--data',
      '{ "source": "cluster0", "destination": "cluster1", "reversible": true, "enableUserWriteBlocking": "sourceAndDestination" }',
    ]);
    expect(JSON.parse(stdout)).toEqual({ success: true });
    // The accepted start's setup shows mongosync's INITIALIZING, then the copy RUNNING.
    const progress = await api.progress();
    expect(['INITIALIZING', 'RUNNING']).toContain(progress.state);
    expect(progress.directionMapping).toEqual({
      Source: `cluster0: 127.0.0.1:${cluster0.emulator.port}`,
      Destination: `cluster1: 127.0.0.1:${cluster1.emulator.port}`,
    });
    expect(JSON.stringify(progress)).not.toContain('syncer-password');
    expect((await api.post('start', { source: 'cluster0', destination: 'cluster1' })).body.error).toBe(
      'InvalidStateTransition',
    );
    expect((await api.post('resume')).body.error).toBe('InvalidStateTransition');
  });

  test('the destination refuses application writes during the sync', async () => {
    const error = await cluster1.app
      .db('shop')
      .collection('blocked')
      .insertOne({ x: 1 })
      .catch((e: { code?: number }) => e);
    expect(error).toMatchObject({ code: 371 });
  });

  test('writes during the copy, then change event application, then pause and resume', async () => {
    await applyMixedWrites(cluster0.app, 1);
    const cea = await api.waitFor(
      (p) => p.info === 'change event application',
      300_000,
      'change event application',
    );
    expect(cea.collectionCopy.estimatedCopiedBytes).toBe(cea.collectionCopy.estimatedTotalBytes);
    // mongosync 1.19-1.22 fields, read from the source's oplog and the workflow.
    expect(['collection copy drain', 'steady state']).toContain(cea.ceaStage);
    const withOplog = await api.waitFor(
      (p) => typeof p.estimatedOplogTimeRemaining === 'string',
      30_000,
      'estimatedOplogTimeRemaining',
    );
    expect(withOplog.estimatedOplogTimeRemaining).toMatch(/^(\d+h)?(\d+m)?\d+s$/);
    await applyMixedWrites(cluster0.app, 2);

    expect(await api.post('pause')).toEqual({ status: 200, body: { success: true } });
    const paused = await api.waitFor((p) => p.state === 'PAUSED', 30_000, 'PAUSED');
    expect(paused.canCommit).toBe(false);
    expect((await api.post('commit')).body.error).toBe('InvalidStateTransition');
    expect((await api.post('pause')).body.error).toBe('InvalidStateTransition');
    await applyMixedWrites(cluster0.app, 3); // written while paused: must arrive after resume
    expect((await api.post('resume')).body).toEqual({ success: true });
    await api.waitFor(
      (p) => p.state === 'RUNNING' && p.canCommit === true && p.totalEventsApplied > 0,
      120_000,
      'canCommit',
    );
  });

  test('commit: the destination equals the source, write blocking moves, canWrite', async () => {
    await applyMixedWrites(cluster0.app, 4);
    const { stdout } = await run('curl', [`localhost:${port}/api/v1/commit`, '-XPOST', '--data', '{ }']);
    expect(JSON.parse(stdout)).toEqual({ success: true });
    const committed = await api.waitFor((p) => p.state === 'COMMITTED', 120_000, 'COMMITTED');
    expect(committed).toMatchObject({ canWrite: true, info: 'commit completed', lagTimeSeconds: 0 });
    expect(await compareClusters(cluster0.admin, cluster1.admin)).toEqual([]);

    const refused = await cluster0.app
      .db('shop')
      .collection('orders')
      .insertOne({ late: true })
      .catch((e: { code?: number }) => e);
    expect(refused).toMatchObject({ code: 371 });
    await cluster1.app.db('shop').collection<any>('orders').insertOne({ _id: 'after-commit' });
    // The comparison sees a single differing document: the check above could have failed.
    expect(await compareClusters(cluster0.admin, cluster1.admin)).toEqual([
      expect.stringContaining('shop.orders:'),
    ]);
    expect((await api.post('commit')).body.error).toBe('InvalidStateTransition');
    expect((await api.post('pause')).body.error).toBe('InvalidStateTransition');
  });

  test('GET /metrics: Prometheus text whose figures are the sync’s own', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const families = new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
    const progress = await api.progress();
    const samples = (name: string) => families.get(name)?.metrics ?? [];
    const value = (name: string, label: string, key: string) =>
      Number(samples(name).find((s) => s.labels?.[label] === key)?.value);

    expect(value('mongosync_state', 'state', 'COMMITTED')).toBe(1);
    expect(samples('mongosync_state').filter((s) => Number(s.value) === 1)).toHaveLength(1);
    expect(
      value('mongosync_events_applied', 'kind', 'crud') + value('mongosync_events_applied', 'kind', 'ddl'),
    ).toBe(progress.totalEventsApplied);
    expect(value('mongosync_events_applied', 'kind', 'crud')).toBeGreaterThan(0);
    expect(value('mongosync_lag_seconds', 'kind', 'overall')).toBe(progress.lag.overallLagSeconds);
    const namespaces = progress.collectionCopy.namespaces as {
      namespace: string;
      estimatedCopiedBytes: number;
      copiedDocuments: number;
    }[];
    expect(namespaces.length).toBeGreaterThan(0);
    for (const ns of namespaces) {
      expect(value('mongosync_copied_bytes', 'namespace', ns.namespace)).toBe(ns.estimatedCopiedBytes);
      expect(value('mongosync_copied_documents', 'namespace', ns.namespace)).toBe(ns.copiedDocuments);
    }
    // The parser keeps histograms' types but not their labelled counts: those are read off the text.
    expect(families.get('mongosync_activity_duration_seconds')?.type).toBe('HISTOGRAM');
    expect(families.get('mongosync_write_batch_duration_seconds')?.type).toBe('HISTOGRAM');
    const count = (pattern: RegExp) => Number(pattern.exec(text)?.[1]);
    expect(
      count(
        /^mongosync_activity_duration_seconds_count\{activity="copyPartition",outcome="completed"\} (\d+)$/m,
      ),
    ).toBeGreaterThan(0);
    expect(count(/^mongosync_write_batch_duration_seconds_count\{kind="copy"\} (\d+)$/m)).toBeGreaterThan(0);
    expect(count(/^mongosync_write_batch_duration_seconds_count\{kind="apply"\} (\d+)$/m)).toBeGreaterThan(0);
    // Never a credential, in any label or help text.
    expect(text).not.toContain('syncer-password');
  });

  test('--metricsLoggingFilepath: JSON lines of the same metrics, the last ones the sync’s own', async () => {
    const progress = await api.progress();
    type Line = { time: string; metrics: Record<string, MetricSample[]> };
    const read = () =>
      readFileSync(metricsLog, 'utf8')
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as Line);
    const stateOf = (line: Line) => line.metrics.mongosync_state.find((s) => s.value === 1)?.labels.state;
    const deadline = Date.now() + 10_000;
    while (stateOf(read().at(-1)!) !== 'COMMITTED' && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    const lines = read();
    // Logged all along: the sync was seen running, then committed.
    expect(lines.map(stateOf)).toContain('RUNNING');
    const last = lines.at(-1)!;
    expect(stateOf(last)).toBe('COMMITTED');
    const value = (name: string, label: string, key: string) =>
      last.metrics[name].find((s) => s.labels[label] === key)?.value;
    for (const ns of progress.collectionCopy.namespaces as { namespace: string; copiedDocuments: number }[])
      expect(value('mongosync_copied_documents', 'namespace', ns.namespace)).toBe(ns.copiedDocuments);
    expect(
      value('mongosync_events_applied', 'kind', 'crud')! + value('mongosync_events_applied', 'kind', 'ddl')!,
    ).toBe(progress.totalEventsApplied);
    expect(readFileSync(metricsLog, 'utf8')).not.toContain('syncer-password');
  });

  test('unique, TTL and hidden index options are restored on the destination at commit', async () => {
    const indexes = await cluster1.admin.db('shop').collection('customers').listIndexes().toArray();
    expect(indexes.find((index) => index.name === 'email_1')).toMatchObject({ unique: true });
    expect(indexes.find((index) => index.name === 'tier_1')).toMatchObject({ hidden: true });
    const ttl = await cluster1.admin.db('shop').collection('sessions').listIndexes().toArray();
    expect(ttl.find((index) => index.name === 'seen_1')).toMatchObject({ expireAfterSeconds: 7200 });
  });
  test('a sync belongs to its clusters: other clusters with the same id are refused, a new pair is IDLE', async () => {
    const stranger = await startTestCluster('rsX');
    const fresh = await startTestCluster('rsY');
    try {
      const serviceArgs = (c0: string, c1: string) =>
        testServiceConfig({ cluster0: c0, cluster1: c1, id: 'flow', temporalAddress: temporal.address });
      // cluster1 still holds the record of the sync "flow" between cluster0 and cluster1.
      await expect(startService(serviceArgs(stranger.uri, cluster1.uri))).rejects.toThrow(
        /cluster1 \(127\.0\.0\.1:\d+\) holds the sync "flow" between cluster0 127\.0\.0\.1:\d+ and cluster1/,
      );
      const other = await startService(serviceArgs(stranger.uri, fresh.uri));
      try {
        expect((await new SyncApi(other.apiUrl).progress()).state).toBe('IDLE');
      } finally {
        await other.stop();
      }
    } finally {
      await Promise.all([stopTestCluster(stranger), stopTestCluster(fresh)]);
    }
  });
});
