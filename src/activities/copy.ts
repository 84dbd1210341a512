import { type AnyBulkWriteOperation, type Db, type Document } from 'mongodb';
import { timedWriteBatch } from '../metrics';
import type { ClusterClients } from './clusters';
import type { CopyPartitionInput, CopyPartitionResult, Partition } from './contract';
import { activityContext } from './context';
import { decodeBound, encodeBound, partitionIdCondition } from './idBounds';
import { decodeDocument, rawId } from './rawDocuments';
import { insertRawDocuments } from './rawInsert';
import { OrderedWrites } from './orderedWrites';
import { isDuplicateKey } from './serverErrors';

export const DEFAULT_BATCH_DOCUMENTS = 1000;
/** Leaves room under the server's 48000000-byte message limit and keeps each write well below it. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;
/**
 * Batches of one partition written at once. With the copy's partitions running side by side this
 * gives the destination as many writers as a mongorestore with several insertion workers.
 */
export const WRITES_IN_FLIGHT_PER_PARTITION = 2;

/** What a copy heartbeats after every written batch, so a retry resumes after the last written `_id`. */
export interface CopyProgress {
  lastId: string | null;
  documentsCopied: number;
  bytesCopied: number;
  /** Whose copy this is: the API counts running copies into /progress from their heartbeats. */
  ns?: string;
  partitionId?: string;
}

function isCopyProgress(value: unknown): value is CopyProgress {
  return typeof value === 'object' && value !== null && 'documentsCopied' in value && 'bytesCopied' in value;
}

export function partitionFilter(partition: Partition, resumeAfter: string | null): Document {
  const lower = partition.lower === null ? undefined : decodeBound(partition.lower);
  const upper = partition.upper === null ? undefined : decodeBound(partition.upper);
  const after = resumeAfter === null ? undefined : decodeBound(resumeAfter);
  const condition = partitionIdCondition(lower, upper, after);
  return condition === null ? {} : { _id: condition };
}

/**
 * Writes one batch, as the bytes it was read as, so that a retried partition neither duplicates nor
 * loses documents: documents that already exist (a previous attempt, or a change event) are
 * replaced by the copied version.
 */
async function writeBatch(destination: Db, coll: string, documents: Uint8Array[]): Promise<void> {
  const writeErrors = await timedWriteBatch('copy', () => insertRawDocuments(destination, coll, documents));
  if (writeErrors.length === 0) return;
  const unexpected = writeErrors.find((writeError) => !isDuplicateKey(writeError));
  if (unexpected) {
    throw new Error(
      `copy into ${destination.databaseName}.${coll} failed: ${unexpected.errmsg ?? 'write error'} (code ${unexpected.code})`,
    );
  }
  const replacements: AnyBulkWriteOperation[] = writeErrors.map((writeError) => {
    const document = decodeDocument(documents[writeError.index]);
    return { replaceOne: { filter: { _id: document._id }, replacement: document, upsert: true } };
  });
  await destination
    .collection(coll)
    .bulkWrite(replacements, { ordered: false, bypassDocumentValidation: true });
}

export async function copyPartition(
  clusters: ClusterClients,
  input: CopyPartitionInput,
): Promise<CopyPartitionResult> {
  const { partition, direction } = input;
  const context = activityContext();
  const previous = isCopyProgress(context.heartbeatDetails) ? context.heartbeatDetails : null;
  // Natural-order copies cannot seek, so a retried one starts over (its writes are idempotent).
  // A copy of the checkpoint: the attempt's info (heartbeat details included) is not ours to change.
  const progress: CopyProgress = {
    ...(previous && !partition.naturalOrder
      ? previous
      : { lastId: null, documentsCopied: 0, bytesCopied: 0 }),
    ns: `${partition.db}.${partition.coll}`,
    partitionId: partition.id,
  };
  const source = clusters.get(direction.source).db(partition.db).collection(partition.coll);
  const destination = clusters.get(direction.destination).db(partition.db);
  const batchDocuments = input.batchSize ?? DEFAULT_BATCH_DOCUMENTS;

  const cursor = partition.naturalOrder
    ? source.find({}, { raw: true, batchSize: batchDocuments })
    : source
        .find(partitionFilter(partition, progress.lastId), { raw: true, batchSize: batchDocuments })
        .sort({ _id: 1 })
        .hint({ _id: 1 });
  const closeOnCancel = () => void cursor.close().catch(() => undefined);
  context.cancellationSignal?.addEventListener('abort', closeOnCancel);

  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  // Several batches are written while the next is read: the source's reads and the destination's
  // writes overlap, and a distant destination's round trips too. The checkpoint only moves past a
  // batch once it and every batch before it are written.
  const writes = new OrderedWrites<{ documents: number; bytes: number; last: Uint8Array }>(
    WRITES_IN_FLIGHT_PER_PARTITION,
    ({ documents, bytes, last }) => {
      progress.documentsCopied += documents;
      progress.bytesCopied += bytes;
      if (!partition.naturalOrder) progress.lastId = encodeBound(rawId(last));
      context.heartbeat(progress);
    },
  );
  const flush = async () => {
    if (batch.length === 0) return;
    const documents = batch;
    const bytes = batchBytes;
    batch = [];
    batchBytes = 0;
    await writes.submit({ documents: documents.length, bytes, last: documents[documents.length - 1] }, () =>
      writeBatch(destination, partition.coll, documents),
    );
  };

  try {
    for await (const raw of cursor) {
      context.throwIfCancelled();
      // `raw: true` yields each document's BSON bytes: they are written as read, never decoded.
      const bytes = raw as unknown as Uint8Array;
      const size = bytes.length;
      if (batch.length > 0 && (batch.length >= batchDocuments || batchBytes + size > MAX_BATCH_BYTES))
        await flush();
      batch.push(bytes);
      batchBytes += size;
    }
    context.throwIfCancelled();
    await flush();
    await writes.drain();
  } catch (error) {
    context.throwIfCancelled();
    throw error;
  } finally {
    context.cancellationSignal?.removeEventListener('abort', closeOnCancel);
    // Never return (or retry) while a write of this attempt is still running.
    await writes.settle();
    await cursor.close();
  }
  return {
    partitionId: partition.id,
    documentsCopied: progress.documentsCopied,
    bytesCopied: progress.bytesCopied,
  };
}
