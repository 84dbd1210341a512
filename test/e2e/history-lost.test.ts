// When the source's change-stream history no longer reaches the sync's resume point (the oplog
// rolled over while the sync was paused), nothing is silently skipped: the sync stays RUNNING,
// cannot commit, and /progress names the error. Pause and resume then recover without dropping
// the destination: every namespace is recopied from a new start point over what it holds, and the
// verifier removes what the source no longer has; the commit leaves both clusters identical.
import { startService, type RunningService } from '../../src/main';
import { startTestCluster, stopTestCluster, type TestCluster } from './helpers/clusters';
import { compareClusters } from './helpers/compare';
import { SyncApi, testServiceConfig } from './helpers/service';
import { startTestTemporal, type TestTemporal } from './helpers/temporal';

jest.setTimeout(300_000);

describe('change-stream history lost while paused', () => {
  let temporal: TestTemporal;
  let cluster0: TestCluster;
  let cluster1: TestCluster;
  let service: RunningService;
  let api: SyncApi;

  beforeAll(async () => {
    // A source whose history holds only about 256 KB of changes.
    [temporal, cluster0, cluster1] = await Promise.all([
      startTestTemporal(),
      startTestCluster('rsH0', '8.0', 0.25),
      startTestCluster('rsH1'),
    ]);
    await cluster0.app
      .db('app')
      .collection<any>('items')
      .insertMany(Array.from({ length: 100 }, (_, i) => ({ _id: i, v: 0 })));
    const config = testServiceConfig({
      cluster0: cluster0.uri,
      cluster1: cluster1.uri,
      id: 'history',
      temporalAddress: temporal.address,
    });
    service = await startService(config, { tuning: { applyBatchMs: 500 } });
    api = new SyncApi(service.apiUrl);
  });

  afterAll(async () => {
    await service?.stop();
    await Promise.all([stopTestCluster(cluster0), stopTestCluster(cluster1), temporal?.stop()]);
  });

  test('the error is visible, the sync cannot commit, and nothing is skipped silently', async () => {
    expect((await api.post('start', { source: 'cluster0', destination: 'cluster1' })).body).toEqual({
      success: true,
    });
    await api.waitFor((p) => p.canCommit === true, 120_000, 'canCommit');
    expect((await api.post('pause')).body).toEqual({ success: true });
    await api.waitFor((p) => p.state === 'PAUSED', 30_000, 'PAUSED');

    // About 1 MB of changes: the events after the sync's checkpoint fall off the history.
    const items = cluster0.app.db('app').collection<any>('items');
    for (let round = 0; round < 10; round++) {
      await items.updateMany({}, { $set: { v: round, pad: 'x'.repeat(1000) } });
    }
    // Deletions whose events are lost too: only the verifier can remove them from the destination.
    await items.deleteMany({ _id: { $lt: 10 } });

    expect((await api.post('resume')).body).toEqual({ success: true });
    const failed = await api.waitFor(
      (p) => typeof p.info === 'string' && p.info.includes('ChangeStreamHistoryLost'),
      120_000,
      'the history-lost error in /progress',
    );
    expect(failed.state).toBe('RUNNING');
    expect(failed.canCommit).toBe(false);
    expect(failed.warnings.join(' ')).toMatch(/ChangeStreamHistoryLost/);
    expect((await api.post('commit')).body.error).toBe('NotCommittable');
  });

  test('pause and resume recover: a recopy from a new start point, then a commit to identical clusters', async () => {
    expect((await api.post('pause')).body).toEqual({ success: true });
    await api.waitFor((p) => p.state === 'PAUSED', 30_000, 'PAUSED');
    expect((await api.post('resume')).body).toEqual({ success: true });
    const recovering = await api.waitFor((p) => p.state === 'RUNNING', 30_000, 'RUNNING again');
    expect(String(recovering.info)).not.toMatch(/ChangeStreamHistoryLost/);
    await cluster0.app.db('app').collection<any>('items').insertOne({ _id: 1000, v: 'after recovery' });
    await api.waitFor((p) => p.canCommit === true, 120_000, 'canCommit after the recovery');
    expect((await api.post('commit')).body).toEqual({ success: true });
    const committed = await api.waitFor((p) => p.state === 'COMMITTED', 120_000, 'COMMITTED');
    expect(committed.verification.mismatchesRepaired).toBeGreaterThanOrEqual(10);
    expect(
      await compareClusters(cluster0.admin, cluster1.admin, { namespaces: (ns) => ns.startsWith('app.') }),
    ).toEqual([]);
  });
});
