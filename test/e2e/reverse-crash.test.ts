// A reverse interrupted by a crash: the service (its own process) is killed with SIGKILL right
// after POST /reverse answered, while the sync is REVERSING, and started again with the same
// flags. The reverse completes; every write made on cluster1 after the commit — before the
// reverse, while no service ran and after the restart — reaches cluster0 exactly once.
import { Client, Connection } from '@temporalio/client';
import type { Document, Timestamp } from 'mongodb';
import { parseServiceConfig, syncWorkflowId } from '../../src/config';
import { PROGRESS_MEMO_KEY, type WorkflowProgress } from '../../src/workflows/messages';
import { findFreePort } from '../../src/temporal/freePort';
import {
  refusesApplicationWrites,
  startTestCluster,
  stopTestCluster,
  type TestCluster,
} from './helpers/clusters';
import { compareClusters } from './helpers/compare';
import { ServiceProcess } from './helpers/process';
import {
  LOG,
  changeEventsSince,
  eventually,
  expectedTaggedState,
  operationTime,
  taggedState,
  writeTagged,
} from './helpers/reverse';
import { seedSourceData, SyncApi } from './helpers/service';
import { startTestTemporal, type TestTemporal } from './helpers/temporal';

jest.setTimeout(300_000);

describe('crash while REVERSING', () => {
  let temporal: TestTemporal;
  let cluster0: TestCluster;
  let cluster1: TestCluster;
  let service: ServiceProcess;
  let api: SyncApi;
  let beforeReverse: Timestamp;
  let serviceArgs: string[];
  const written: [string, number][] = [];

  beforeAll(async () => {
    [temporal, cluster0, cluster1] = await Promise.all([
      startTestTemporal(),
      startTestCluster('rsRevC0'),
      startTestCluster('rsRevC1'),
    ]);
    await seedSourceData(cluster0.app, 2000);
    const apiPort = await findFreePort();
    api = new SyncApi(`http://127.0.0.1:${apiPort}`);
    serviceArgs = [
      '--cluster0',
      cluster0.uri,
      '--cluster1',
      cluster1.uri,
      '--port',
      String(apiPort),
      '--id',
      'reverse-crash',
      '--temporal-address',
      temporal.address,
      '--task-queue',
      'reverse-crash-test',
      '--verbosity',
      'WARN',
    ];
    service = new ServiceProcess(serviceArgs);
    await service.start(api);
  });

  afterAll(async () => {
    await service?.stop();
    await Promise.all([stopTestCluster(cluster0), stopTestCluster(cluster1), temporal?.stop()]);
  });

  /** The progress the workflow last published (its memo), readable while no service runs. */
  async function workflowProgress(): Promise<WorkflowProgress> {
    const connection = await Connection.connect({ address: temporal.address });
    try {
      const client = new Client({ connection });
      const description = await client.workflow
        .getHandle(syncWorkflowId(parseServiceConfig(serviceArgs)))
        .describe();
      return description.memo?.[PROGRESS_MEMO_KEY] as WorkflowProgress;
    } finally {
      await connection.close();
    }
  }

  test('a reversible sync commits', async () => {
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
    await writeTagged(cluster0.app, 'firstSync', 30);
    await api.waitFor((p) => p.state === 'RUNNING' && p.canCommit === true, 120_000, 'canCommit');
    expect((await api.post('commit')).body).toEqual({ success: true });
    await api.waitFor((p) => p.state === 'COMMITTED', 120_000, 'COMMITTED');
    expect(await compareClusters(cluster0.admin, cluster1.admin)).toEqual([]);
  });

  test('SIGKILL right after POST /reverse: the restarted service completes the reverse', async () => {
    await writeTagged(cluster1.app, 'beforeReverse', 40);
    written.push(['beforeReverse', 40]);
    beforeReverse = await operationTime(cluster0.admin);
    // cluster0's first index rebuild of the reverse hangs for a while, so the kill lands in REVERSING
    // with an activity in flight (and between an index drop and its rebuild).
    await cluster0.admin.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: { times: 1 },
      data: { failCommands: ['dropIndexes'], blockConnection: true, blockTimeMS: 3000 },
    });
    expect(await api.post('reverse', '{ }')).toEqual({ status: 200, body: { success: true } });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await service.kill();
    expect((await workflowProgress()).state).toBe('REVERSING');

    await writeTagged(cluster1.app, 'whileDown', 30); // the source still takes writes
    written.push(['whileDown', 30]);
    await service.start(api);
    const running = await api.waitFor((p) => p.state === 'RUNNING', 120_000, 'RUNNING after the restart');
    expect(running.directionMapping.Source).toBe(`cluster1: 127.0.0.1:${cluster1.emulator.port}`);
    expect(running.directionMapping.Destination).toBe(`cluster0: 127.0.0.1:${cluster0.emulator.port}`);
    expect(await refusesApplicationWrites(cluster0)).toBe(true);
    await writeTagged(cluster1.app, 'afterRestart', 25);
    written.push(['afterRestart', 25]);
    for (const [tag, count] of written) {
      expect(await eventually(() => taggedState(cluster0.admin, tag), expectedTaggedState(count))).toEqual(
        expectedTaggedState(count),
      );
    }
  });

  test('commit: the clusters are equal and every write of cluster1 reached cluster0 exactly once', async () => {
    await api.waitFor((p) => p.state === 'RUNNING' && p.canCommit === true, 120_000, 'canCommit');
    expect((await api.post('commit')).body).toEqual({ success: true });
    await api.waitFor((p) => p.state === 'COMMITTED', 120_000, 'COMMITTED');
    expect(await compareClusters(cluster0.admin, cluster1.admin)).toEqual([]);
    expect(await refusesApplicationWrites(cluster0)).toBe(false);
    expect(await refusesApplicationWrites(cluster1)).toBe(true);

    const events = await changeEventsSince(cluster0.admin, beforeReverse);
    const logEvents = events.filter((e: Document) => e.ns?.db === LOG.db && e.ns?.coll === LOG.coll);
    // Nothing from before the writable point is replayed onto cluster0.
    expect(logEvents.filter((e) => String(e.documentKey?._id).startsWith('firstSync-'))).toEqual([]);
    for (const [tag, count] of written) {
      const inserts = logEvents.filter(
        (e) => e.operationType === 'insert' && String(e.documentKey?._id).startsWith(`${tag}-`),
      );
      const perDocument = new Map<string, number>();
      for (const e of inserts) {
        const id = String(e.documentKey._id);
        perDocument.set(id, (perDocument.get(id) ?? 0) + 1);
      }
      expect(perDocument.size).toBe(count);
      expect([...perDocument.values()].every((n) => n === 1)).toBe(true);
    }
  });
});
