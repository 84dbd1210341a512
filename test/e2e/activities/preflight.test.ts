// Preflight against every emulated server version, through the real driver: below 6.0 is refused
// naming the cluster, a destination older than its source is refused, a reversible sync needs one
// major version on both sides, and every other pair is accepted.
import { ApplicationFailure } from '@temporalio/common';
import type { ServerVersion } from '../../../emulator';
import { ClusterClients, createActivities } from '../../../src/activities';
import type { PreflightInput } from '../../../src/activities/contract';
import { startTestCluster, stopTestCluster, type TestCluster } from '../helpers/clusters';
import { syncOptions } from '../../helpers/syncOptions';

jest.setTimeout(120_000);

const VERSIONS: ServerVersion[] = ['5.0', '6.0', '7.0', '8.0'];
const options = syncOptions({ verificationEnabled: false });

const servers = new Map<ServerVersion, TestCluster>();

beforeAll(async () => {
  const started = await Promise.all(VERSIONS.map((version, n) => startTestCluster(`rsV${n}`, version)));
  VERSIONS.forEach((version, n) => servers.set(version, started[n]));
});

afterAll(async () => {
  await Promise.all([...servers.values()].map((cluster) => stopTestCluster(cluster)));
});

async function preflight(
  source: ServerVersion,
  destination: ServerVersion,
  overrides: Partial<PreflightInput> & { reversible?: boolean } = {},
): Promise<unknown> {
  const clusters = new ClusterClients({
    cluster0: servers.get(source)!.uri,
    cluster1: servers.get(destination)!.uri,
  });
  try {
    const { reversible = false, ...input } = overrides;
    return await createActivities(clusters).preflight({
      direction: { source: 'cluster0', destination: 'cluster1' },
      options: { ...options, reversible },
      purpose: 'start',
      ...input,
    });
  } finally {
    await clusters.close();
  }
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  expect((error as ApplicationFailure).type).toBe('PreconditionFailed');
  expect((error as ApplicationFailure).nonRetryable).toBe(true);
  return (error as ApplicationFailure).message;
}

const pairs = VERSIONS.flatMap((source) => VERSIONS.map((destination) => [source, destination] as const));
const rank = (version: ServerVersion) => VERSIONS.indexOf(version);

test.each(pairs)('a sync from %s to %s', async (source, destination) => {
  if (source === '5.0') {
    expect(await refusal(preflight(source, destination))).toMatch(
      /^cluster0 runs MongoDB 5\.0\.\d+; version 6\.0 or later is required/,
    );
  } else if (destination === '5.0') {
    expect(await refusal(preflight(source, destination))).toMatch(
      /^cluster1 runs MongoDB 5\.0\.\d+; version 6\.0 or later is required/,
    );
  } else if (rank(destination) < rank(source)) {
    expect(await refusal(preflight(source, destination))).toMatch(
      new RegExp(
        `cluster0 \\(MongoDB ${source}\\.\\d+\\) to the older cluster1 \\(MongoDB ${destination}\\.`,
      ),
    );
  } else {
    await expect(preflight(source, destination)).resolves.toEqual({
      sourceVersion: expect.stringMatching(new RegExp(`^${source}\\.`)),
      destinationVersion: expect.stringMatching(new RegExp(`^${destination}\\.`)),
    });
  }
});

test('a reversible sync needs the same major version on both clusters', async () => {
  expect(await refusal(preflight('6.0', '7.0', { reversible: true }))).toMatch(
    /reversible sync needs both clusters on the same major version.*cluster0 runs MongoDB 6\.0.*cluster1 runs MongoDB 7\.0/,
  );
  await expect(preflight('7.0', '7.0', { reversible: true })).resolves.toBeDefined();
});

test('reversing onto an older cluster is refused before anything is written', async () => {
  // The reverse swaps the roles: the 8.0 destination would become the source of a 7.0 cluster.
  expect(
    await refusal(
      preflight('7.0', '8.0', {
        direction: { source: 'cluster1', destination: 'cluster0' },
        purpose: 'reverse',
      }),
    ),
  ).toMatch(/cannot sync from cluster1 \(MongoDB 8\.0\.\d+\) to the older cluster0 \(MongoDB 7\.0/);
});

describe('the destination disk space check', () => {
  // The emulator's test hook gives the 8.0 server a data volume; the 7.0 server is the source.
  const destinationEngine = () => servers.get('8.0')!.emulator.engine;
  const MB = 1024 * 1024;

  beforeAll(async () => {
    const source = servers.get('7.0')!.admin.db('disk').collection('docs');
    await source.insertMany(Array.from({ length: 2000 }, (_, n) => ({ n, pad: 'x'.repeat(1000) })));
  });

  afterAll(async () => {
    destinationEngine().options.testFilesystemSizeBytes = undefined;
    await servers.get('7.0')!.admin.db('disk').dropDatabase();
  });

  /** Gives the destination a volume with `freeBytes` left beside what it holds. */
  async function setFreeSpace(freeBytes: number): Promise<void> {
    destinationEngine().options.testFilesystemSizeBytes = 1024 * MB;
    const stats = await servers.get('8.0')!.admin.db('admin').command({ dbStats: 1 });
    destinationEngine().options.testFilesystemSizeBytes = Number(stats.fsUsedSize) + freeBytes;
  }

  test('refuses a start whose destination has less room than the source data and indexes', async () => {
    await setFreeSpace(512 * 1024);
    const error = await preflight('7.0', '8.0').then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).type).toBe('InsufficientDestinationDiskSpace');
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect((error as ApplicationFailure).message).toMatch(
      /cluster1 has .* free on its data volume, but the data and indexes to sync from cluster0 take 2\.\d MB.*skipDiskSpaceCheck/,
    );
  });

  test('accepts enough room, and skipDiskSpaceCheck', async () => {
    await setFreeSpace(100 * MB);
    await expect(preflight('7.0', '8.0')).resolves.toMatchObject({ destinationVersion: expect.any(String) });
    await setFreeSpace(512 * 1024);
    await expect(
      preflight('7.0', '8.0', { options: { ...options, skipDiskSpaceCheck: true } }),
    ).resolves.toBeDefined();
  });

  test('a server that reports no volume size is not refused', async () => {
    destinationEngine().options.testFilesystemSizeBytes = undefined;
    await expect(preflight('7.0', '8.0')).resolves.toBeDefined();
  });
});
