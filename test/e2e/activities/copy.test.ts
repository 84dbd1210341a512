// copyPartition inside Temporal's MockActivityEnvironment, through the real driver against two
// emulated clusters: a retry resumes from the heartbeat checkpoint of the attempt before it, and a
// cancelled copy stops mid-partition leaving a checkpoint a retry resumes from.
import { EJSON } from 'bson';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Decimal128, Double, Int32, Long, type Collection, type Document } from 'mongodb';
import { ClusterClients } from '../../../src/activities';
import { EXACT_TYPES } from '../../../src/activities/bsonOptions';
import type {
  CopyPartitionInput,
  CopyPartitionResult,
  Direction,
  Partition,
} from '../../../src/activities/contract';
import { copyPartition, type CopyProgress } from '../../../src/activities/copy';
import { decodeBound, encodeBound } from '../../../src/activities/idBounds';
import { startTestCluster, stopTestCluster, type TestCluster } from '../helpers/clusters';

const direction: Direction = { source: 'cluster0', destination: 'cluster1' };

/** The test's documents: Int32 `_id`s (the driver's default document type assumes ObjectId). */
type Item = Document & { _id: Int32 };

/** Runs one copy attempt in an environment (the environment's `run` does not infer the result type). */
function copyIn(
  env: MockActivityEnvironment,
  clusters: ClusterClients,
  input: CopyPartitionInput,
): Promise<CopyPartitionResult> {
  return env.run(copyPartition, clusters, input) as Promise<CopyPartitionResult>;
}

function sourceDocument(n: number): Item {
  return {
    _id: new Int32(n),
    name: `doc ${n}`,
    wholeDouble: new Double(n),
    long: Long.fromNumber(n * 1_000_000_007),
    price: Decimal128.fromString(`${n}.50`),
    nested: { list: [new Int32(n), 'x', null] },
  };
}

/** The collection's documents in `_id` order as canonical Extended JSON: exact types compared. */
async function contents(collection: Collection<Item>): Promise<string[]> {
  const documents = await collection.find({}, EXACT_TYPES).sort({ _id: 1 }).toArray();
  return documents.map((document) => EJSON.stringify(document, { relaxed: false }));
}

const canonical = (documents: Document[]) =>
  documents.map((document) => EJSON.stringify(document, { relaxed: false }));

/** BSON size of the source's documents in the range, as the copy counts them (raw reads). */
async function rawBytes(collection: Collection<Item>, filter: Document): Promise<number> {
  const raw = await collection.find(filter, { raw: true }).toArray();
  return raw.reduce((sum, bytes) => sum + (bytes as unknown as Uint8Array).length, 0);
}

function partitionOf(coll: string, lower: number | null, upper: number | null): Partition {
  return {
    id: `app.${coll}#0`,
    db: 'app',
    coll,
    lower: lower === null ? null : encodeBound(new Int32(lower)),
    upper: upper === null ? null : encodeBound(new Int32(upper)),
    naturalOrder: false,
    estimatedBytes: 0,
  };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, index) => from + index);
}

describe('copyPartition in a mock activity environment', () => {
  let source: TestCluster;
  let destination: TestCluster;
  let clusters: ClusterClients;

  beforeAll(async () => {
    [source, destination] = await Promise.all([startTestCluster('copySrc'), startTestCluster('copyDst')]);
    clusters = new ClusterClients({ cluster0: source.uri, cluster1: destination.uri });
  });

  afterAll(async () => {
    await clusters?.close();
    await Promise.all([stopTestCluster(source), stopTestCluster(destination)]);
  });

  it('resumes after the last copied _id of the previous attempt, copying none twice and losing none', async () => {
    const sourceItems = source.admin.db('app').collection<Item>('resumed');
    const destinationItems = destination.admin.db('app').collection<Item>('resumed');
    await sourceItems.insertMany(range(0, 100).map(sourceDocument));
    // The previous attempt copied [10, 30) before it died; since then those documents changed on
    // the source (change events bring that). A resumed copy must not read them again.
    const previouslyCopied: Item[] = range(10, 30).map((n) => ({ _id: new Int32(n), copiedBy: 'attempt 1' }));
    await destinationItems.insertMany(previouslyCopied);
    const checkpoint: CopyProgress = {
      lastId: encodeBound(new Int32(29)),
      documentsCopied: 20,
      bytesCopied: 1234,
    };

    const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: checkpoint });
    const heartbeats: CopyProgress[] = [];
    env.on('heartbeat', (details: CopyProgress) => heartbeats.push({ ...details }));
    const input: CopyPartitionInput = { direction, partition: partitionOf('resumed', 10, 80), batchSize: 10 };
    const result = await copyIn(env, clusters, input);

    expect(result).toEqual({
      partitionId: 'app.resumed#0',
      documentsCopied: 70,
      bytesCopied: 1234 + (await rawBytes(sourceItems, { _id: { $gte: 30, $lt: 80 } })),
    });
    expect(await contents(destinationItems)).toEqual([
      ...canonical(previouslyCopied),
      ...canonical(range(30, 80).map(sourceDocument)),
    ]);
    // One checkpoint per written batch, counting on from the previous attempt's.
    expect(heartbeats.map((beat) => beat.documentsCopied)).toEqual([30, 40, 50, 60, 70]);
    expect(heartbeats.map((beat) => Number(decodeBound(beat.lastId as string)))).toEqual([
      39, 49, 59, 69, 79,
    ]);
  });

  it('stops a cancelled copy mid-partition and leaves a checkpoint a retry resumes from', async () => {
    const sourceItems = source.admin.db('app').collection<Item>('cancelled');
    const destinationItems = destination.admin.db('app').collection<Item>('cancelled');
    const total = 300;
    await sourceItems.insertMany(range(0, total).map(sourceDocument));
    const input: CopyPartitionInput = {
      direction,
      partition: partitionOf('cancelled', 0, null),
      batchSize: 10,
    };

    const first = new MockActivityEnvironment({ attempt: 1 });
    const firstHeartbeats: CopyProgress[] = [];
    first.on('heartbeat', (details: CopyProgress) => {
      firstHeartbeats.push({ ...details });
      if (firstHeartbeats.length === 3) first.cancel();
    });
    await expect(copyIn(first, clusters, input)).rejects.toBeInstanceOf(CancelledFailure);

    // The last heartbeat is the checkpoint; everything written is in it, nothing beyond it.
    const checkpoint = firstHeartbeats[firstHeartbeats.length - 1];
    // Cancelled at the third checkpoint (30 documents): at most the batch already being written follows.
    expect(checkpoint.documentsCopied).toBeGreaterThanOrEqual(30);
    expect(checkpoint.documentsCopied).toBeLessThanOrEqual(50);
    const lastCopied = Number(decodeBound(checkpoint.lastId as string));
    expect(lastCopied).toBe(checkpoint.documentsCopied - 1);
    expect(await contents(destinationItems)).toEqual(canonical(range(0, lastCopied + 1).map(sourceDocument)));

    const retry = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: checkpoint });
    const retryHeartbeats: CopyProgress[] = [];
    retry.on('heartbeat', (details: CopyProgress) => retryHeartbeats.push({ ...details }));
    const result = await copyIn(retry, clusters, input);

    expect(result.documentsCopied).toBe(total);
    expect(result.bytesCopied).toBe(await rawBytes(sourceItems, {}));
    expect(retryHeartbeats[0].documentsCopied).toBe(checkpoint.documentsCopied + 10);
    expect(await contents(destinationItems)).toEqual(canonical(range(0, total).map(sourceDocument)));
  });
});
