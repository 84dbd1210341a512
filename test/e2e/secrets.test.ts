// Nothing that leaves the service carries a cluster's password or a connection string as given:
// not the Temporal history of any run (continued-as-new runs too, with memos and search
// attributes), not the logs at TRACE, not /progress, /metrics or the metrics log, not the errors
// of a cluster that cannot be reached.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { findFreePort } from '../../src/temporal/freePort';
import { startTestCluster, stopTestCluster, APP_USER, type TestCluster } from './helpers/clusters';
import { ServiceProcess } from './helpers/process';
import { applyMixedWrites, seedSourceData, SyncApi } from './helpers/service';
import { startTestTemporal, type TestTemporal } from './helpers/temporal';

jest.setTimeout(600_000);

const SECRETS = ['syncer-password', APP_USER.password];

/** Every base64 `data` of a Temporal payload, decoded, beside the JSON it sits in. */
function withDecodedPayloads(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) withDecodedPayloads(item, out);
  else if (value && typeof value === 'object') {
    for (const [key, field] of Object.entries(value)) {
      if (key === 'data' && typeof field === 'string')
        out.push(Buffer.from(field, 'base64').toString('utf8'));
      else if (field instanceof Uint8Array) out.push(Buffer.from(field).toString('utf8'));
      else withDecodedPayloads(field, out);
    }
  }
  return out;
}

describe('secrets never leave the service', () => {
  let temporal: TestTemporal;
  let cluster0: TestCluster;
  let cluster1: TestCluster;
  let service: ServiceProcess | undefined;
  const outDir = mkdtempSync(join(tmpdir(), 'secrets-'));
  const gathered: { where: string; text: string }[] = [];

  beforeAll(async () => {
    // Small histories: the sync continues as new several times.
    [temporal, cluster0, cluster1] = await Promise.all([
      startTestTemporal({ 'limit.historyCount.suggestContinueAsNew': 100 }),
      startTestCluster('rsSecret0'),
      startTestCluster('rsSecret1'),
    ]);
    await seedSourceData(cluster0.app, 2_000);
  });

  afterAll(async () => {
    await service?.stop();
    await Promise.all([stopTestCluster(cluster0), stopTestCluster(cluster1), temporal?.stop()]);
  });

  /** The service in its own process, as an operator runs it, logging at TRACE to `logDir`. */
  async function serviceFor(id: string, cluster1Uri: string, logDir: string): Promise<SyncApi> {
    const port = await findFreePort();
    service = new ServiceProcess([
      ...['--cluster0', cluster0.uri, '--cluster1', cluster1Uri, '--port', String(port), '--id', id],
      ...['--temporal-address', temporal.address, '--verbosity', 'TRACE', '--logPath', logDir],
      ...['--metricsLoggingFilepath', join(logDir, 'metrics.log')],
    ]);
    const api = new SyncApi(`http://127.0.0.1:${port}`);
    await service.start(api);
    return api;
  }

  async function gatherApi(api: SyncApi, label: string): Promise<void> {
    for (const path of ['/api/v1/progress', '/metrics', '/api/v1/verification']) {
      const response = await fetch(`${api.baseUrl}${path}`);
      gathered.push({ where: `${label} ${path}`, text: await response.text() });
    }
  }

  test('a whole sync, and one whose destination cannot be reached', async () => {
    const logDir = join(outDir, 'sync');
    const api = await serviceFor('secrets', cluster1.uri, logDir);
    const body = {
      source: 'cluster0',
      destination: 'cluster1',
      reversible: true,
      enableUserWriteBlocking: true,
    };
    gathered.push({ where: '/start', text: JSON.stringify((await api.post('start', body)).body) });
    const watcher = (async () => {
      for (let n = 0; n < 400; n++) {
        await gatherApi(api, 'during').catch(() => undefined);
        const progress = await api.progress().catch(() => null);
        if (progress?.state === 'COMMITTED') return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    await api.waitFor((p) => p.canCommit === true, 180_000, 'canCommit');
    for (let round = 0; round < 3; round++) await applyMixedWrites(cluster0.app, round);
    gathered.push({ where: '/commit', text: JSON.stringify((await api.post('commit')).body) });
    await api.waitFor((p) => p.state === 'COMMITTED', 180_000, 'COMMITTED');
    await watcher;
    await gatherApi(api, 'committed');
    gathered.push({ where: 'service output', text: service!.output });
    await service!.stop();
    service = undefined;

    // A destination that refuses connections, with the password in its connection string.
    const unreachable = `mongodb://syncer:syncer-password@127.0.0.1:1/?replicaSet=rsNone&serverSelectionTimeoutMS=1000`;
    const failedDir = join(outDir, 'failed');
    const failedApi = await serviceFor('secrets-unreachable', unreachable, failedDir);
    const refused = await failedApi.post('start', body);
    gathered.push({ where: 'unreachable /start', text: JSON.stringify(refused.body) });
    expect(refused.body.success).toBe(false);
    await gatherApi(failedApi, 'unreachable');
    gathered.push({ where: 'unreachable service output', text: service!.output });
    await service!.stop();
    service = undefined;

    for (const dir of [logDir, failedDir])
      for (const name of readdirSync(dir))
        gathered.push({ where: join(dir, name), text: readFileSync(join(dir, name), 'utf8') });

    // Every run of every workflow: histories (inputs, results, failures, memos, search attributes).
    const connection = await Connection.connect({ address: temporal.address });
    try {
      const client = new Client({ connection });
      let runs = 0;
      for await (const execution of client.workflow.list()) {
        runs += 1;
        const handle = client.workflow.getHandle(execution.workflowId, execution.runId);
        const history = await handle.fetchHistory();
        const described = await handle.describe();
        const raw = JSON.stringify({ history, memo: described.memo, search: described.searchAttributes });
        gathered.push({ where: `history ${execution.workflowId}/${execution.runId}`, text: raw });
        for (const decoded of withDecodedPayloads(JSON.parse(raw)))
          gathered.push({ where: `payload of ${execution.workflowId}/${execution.runId}`, text: decoded });
      }
      // The sync continued as new at least once; the unreachable one is a run of its own.
      expect(runs).toBeGreaterThanOrEqual(3);
    } finally {
      await connection.close();
    }

    // What was gathered is real: the logs hold TRACE lines, the unreachable start names its cause.
    const all = gathered.map((g) => g.text).join('\n');
    expect(all).toMatch(/"level":"trace"/);
    expect(all).toContain('127.0.0.1:1');
    expect(gathered.length).toBeGreaterThan(50);
    const leaks = gathered.filter(
      ({ text }) =>
        SECRETS.some((secret) => text.includes(secret)) || /mongodb:\/\/[^/\s"]*:[^/\s"@]*@/.test(text),
    );
    expect(
      leaks.map(
        ({ where, text }) =>
          `${where}: ${text.slice(Math.max(0, text.search(/password|mongodb:\/\//) - 100), 300)}`,
      ),
    ).toEqual([]);
  });
});
