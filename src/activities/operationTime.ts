import type { Document, MongoClient, Timestamp } from 'mongodb';
import type { OperationTime } from './contract';
import { compareOperationTimes, toOperationTime } from './changeEvents';

/**
 * The cluster's latest operation time: the primary's last applied write (`hello.lastWrite`),
 * and at least the reply's `operationTime`, so it is ≥ every write acknowledged before the call.
 */
export async function currentOperationTime(client: MongoClient): Promise<OperationTime> {
  const reply: Document = await client.db('admin').command({ hello: 1 });
  const candidates: OperationTime[] = [];
  const lastWrite = (reply.lastWrite as Document | undefined)?.opTime as Document | undefined;
  if (lastWrite?.ts) candidates.push(toOperationTime(lastWrite.ts as Timestamp));
  if (reply.operationTime) candidates.push(toOperationTime(reply.operationTime as Timestamp));
  if (candidates.length === 0)
    throw new Error('the cluster reported no operation time (is it a replica set?)');
  return candidates.reduce((latest, candidate) =>
    compareOperationTimes(candidate, latest) > 0 ? candidate : latest,
  );
}

/** Round-trip time of a `ping`, or -1 when the cluster does not answer in time. */
export async function pingLatencyMs(client: MongoClient, timeoutMs = 5000): Promise<number> {
  const started = performance.now();
  try {
    await client.db('admin').command({ ping: 1 }, { timeoutMS: timeoutMs });
    return Math.round((performance.now() - started) * 10) / 10;
  } catch {
    return -1;
  }
}
