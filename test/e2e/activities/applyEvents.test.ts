// How quickly an apply batch hands back to the workflow on an idle stream, through applyChanges in
// Temporal's MockActivityEnvironment against two emulated clusters. A commit waits for both: the
// running batch must end once cancelled (a worker learns of a cancellation only in the answer to
// a heartbeat, so an idle batch heartbeats often), and the drain must return once the stream's
// high-water mark has passed the commit point, without waiting out an idle getMore.
import { MockActivityEnvironment } from '@temporalio/testing';
import { CancelledFailure } from '@temporalio/common';
import { ClusterClients } from '../../../src/activities';
import { applyChanges } from '../../../src/activities/applyEvents';
import type { ApplyChangesInput, ApplyChangesResult, Direction } from '../../../src/activities/contract';
import { currentOperationTime } from '../../../src/activities/operationTime';
import { startTestCluster, stopTestCluster, type TestCluster } from '../helpers/clusters';

const direction: Direction = { source: 'cluster0', destination: 'cluster1' };
/** Well under the 500 ms an idle getMore used to wait before a batch could notice anything. */
const PROMPT_MS = 400;

let source: TestCluster;
let destination: TestCluster;
let clusters: ClusterClients;
let resumeToken: string | null = null;

beforeAll(async () => {
  [source, destination] = await Promise.all([startTestCluster('applySrc'), startTestCluster('applyDst')]);
  clusters = new ClusterClients({ cluster0: source.uri, cluster1: destination.uri });
  await source.app.db('app').collection('items').insertOne({ n: 1 });
  // A first batch from before the insert: the stream is caught up and idle afterwards.
  const start = await currentOperationTime(source.admin);
  const first = (await new MockActivityEnvironment().run(applyChanges, clusters, {
    direction,
    resumeToken: null,
    startAtOperationTime: { t: start.t - 5, i: 0 },
    maxDurationMs: 5000,
    maxEvents: 1000,
    stopAfterOperationTime: start,
  } satisfies ApplyChangesInput)) as ApplyChangesResult;
  resumeToken = first.resumeToken;
});

afterAll(async () => {
  await clusters?.close();
  await Promise.all([stopTestCluster(source), stopTestCluster(destination)]);
});

function idleBatch(overrides: Partial<ApplyChangesInput>): ApplyChangesInput {
  return {
    direction,
    resumeToken,
    startAtOperationTime: null,
    maxDurationMs: 30_000,
    maxEvents: 1000,
    stopAfterOperationTime: null,
    ...overrides,
  };
}

test('a drain on a caught-up stream returns as soon as the commit point is passed', async () => {
  expect(resumeToken).not.toBeNull();
  for (let attempt = 0; attempt < 3; attempt++) {
    const commitPoint = await currentOperationTime(source.admin);
    const started = performance.now();
    const result = (await new MockActivityEnvironment().run(
      applyChanges,
      clusters,
      idleBatch({ stopAfterOperationTime: commitPoint }),
    )) as ApplyChangesResult;
    expect(result.reachedStopTime).toBe(true);
    expect(result.eventsApplied).toBe(0);
    expect(performance.now() - started).toBeLessThan(PROMPT_MS);
  }
});

test('an idle batch heartbeats often, so a cancellation reaches it at once', async () => {
  const env = new MockActivityEnvironment();
  const beats: number[] = [];
  env.on('heartbeat', () => beats.push(performance.now()));
  await env.run(applyChanges, clusters, idleBatch({ maxDurationMs: 1500 }));
  const gaps = beats.slice(1).map((at, index) => at - beats[index]);
  expect(gaps.length).toBeGreaterThan(5);
  expect(Math.max(...gaps)).toBeLessThan(PROMPT_MS / 2);
});

test('a cancelled batch on an idle stream ends at once', async () => {
  for (const delayMs of [150, 230, 310]) {
    const env = new MockActivityEnvironment();
    const running = env.run(applyChanges, clusters, idleBatch({}));
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    const cancelledAt = performance.now();
    env.cancel();
    await expect(running).rejects.toBeInstanceOf(CancelledFailure);
    expect(performance.now() - cancelledAt).toBeLessThan(PROMPT_MS / 2);
  }
});
