// The production build: `npm run build` compiles to dist/, and the built service, run with plain
// node (no tsx), carries a whole sync from /start to COMMITTED between two emulated clusters.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { findFreePort } from '../../src/temporal/freePort';
import { startTestCluster, stopTestCluster, type TestCluster } from './helpers/clusters';
import { compareClusters } from './helpers/compare';
import { ServiceProcess } from './helpers/process';
import { SyncApi } from './helpers/service';
import { startTestTemporal, type TestTemporal } from './helpers/temporal';

jest.setTimeout(300_000);

const root = path.join(__dirname, '..', '..');
let temporal: TestTemporal;
let cluster0: TestCluster;
let cluster1: TestCluster;
let service: ServiceProcess;
let api: SyncApi;
const metricsLog = path.join(mkdtempSync(path.join(tmpdir(), 'dist-metrics-')), 'metrics.log');

beforeAll(async () => {
  const tsc = require.resolve('typescript/bin/tsc');
  const build = promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root });
  [temporal, cluster0, cluster1] = await Promise.all([
    startTestTemporal(),
    startTestCluster('rsDist0'),
    startTestCluster('rsDist1'),
    build,
  ]);
  await cluster0.app
    .db('shop')
    .collection('orders')
    .insertMany(Array.from({ length: 500 }, (_, n) => ({ n, item: `item-${n}` })));
  const port = await findFreePort();
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    bin: Record<string, string>;
  };
  service = new ServiceProcess(
    [
      ...['--cluster0', cluster0.uri, '--cluster1', cluster1.uri, '--port', String(port)],
      ...['--temporal-address', temporal.address, '--id', 'dist', '--verbosity', 'WARN'],
      ...['--metricsLoggingFilepath', metricsLog],
      // Beyond loopback: the service warns that its API has no authentication.
      ...['--bind', '0.0.0.0'],
    ],
    [path.join(root, manifest.bin['mongosync-temporal'])],
  );
  api = new SyncApi(`http://127.0.0.1:${port}`);
  await service.start(api);
});

afterAll(async () => {
  await service?.stop();
  await Promise.all([stopTestCluster(cluster0), stopTestCluster(cluster1), temporal?.stop()]);
});

test('the built service syncs and commits, with plain node', async () => {
  const body = { source: 'cluster0', destination: 'cluster1', enableUserWriteBlocking: true };
  expect((await api.post('start', body)).body).toEqual({ success: true });
  await api.waitFor((p) => p.canCommit === true, 120_000, 'canCommit');
  await cluster0.app.db('shop').collection('orders').insertOne({ n: 'during the sync' });
  expect((await api.post('commit')).body).toEqual({ success: true });
  await api.waitFor((p) => p.state === 'COMMITTED', 120_000, 'COMMITTED');
  expect(await compareClusters(cluster0.admin, cluster1.admin)).toEqual([]);
  const openApi = (await (await fetch(`${api.baseUrl}/api/v1/openapi.json`)).json()) as {
    info: { version: string };
  };
  expect(openApi.info.version).toBe(
    JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version,
  );
  expect(service.output).not.toMatch(/tsx/);
  expect(service.output).toMatch(/listens on 0\.0\.0\.0.*no authentication/);
  // Its metrics log has its first line, written when the service started.
  const [first] = readFileSync(metricsLog, 'utf8').split('\n');
  expect(Object.keys((JSON.parse(first) as { metrics: object }).metrics)).toContain('mongosync_state');
});
