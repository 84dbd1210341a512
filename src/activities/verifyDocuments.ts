// The verifier's document checks: a partition compared on both clusters on exact BSON, batch by
// batch in `_id` order (nothing held beyond one batch), and the recheck of suspects once the sync
// has applied past them, which confirms, repairs and re-confirms real mismatches.
import { EJSON } from 'bson';
import { BSON, type Collection, type Document, type MongoClient } from 'mongodb';
import type { ClusterClients } from './clusters';
import type {
  OperationTime,
  Partition,
  RecheckInput,
  RecheckResult,
  VerifyPartitionInput,
  VerifyPartitionResult,
} from './contract';
import { EXACT_TYPES } from './bsonOptions';
import { activityContext } from './context';
import { decodeBound, encodeBound, partitionIdCondition } from './idBounds';
import { currentOperationTime } from './operationTime';
import {
  documentKey,
  rawId,
  toTimestamp,
  versionHash,
  VerifierStore,
  type MismatchKind,
  type NamespacedId,
  type Suspect,
} from './verifierStore';

const BATCH_DOCUMENTS = 1000;

interface HashProgress {
  lastId: string | null;
  sourceDocuments: number;
  destinationDocuments: number;
  suspects: number;
}

function isHashProgress(value: unknown): value is HashProgress {
  return typeof value === 'object' && value !== null && 'sourceDocuments' in value;
}

function rangeCondition(lower: string | null, upper: string | null): Document | null {
  return partitionIdCondition(
    lower === null ? undefined : decodeBound(lower),
    upper === null ? undefined : decodeBound(upper),
  );
}

/** The `_id` range of a partition after `after` (exclusive) and up to `through` (inclusive, when given). */
function rangeFilter(partition: Partition, after: unknown, through: unknown): Document {
  if (partition.outsideOf !== undefined) {
    const ranges = partition.outsideOf
      .map(({ lower, upper }) => rangeCondition(lower, upper))
      .filter((condition): condition is Document => condition !== null);
    const range: Document = {};
    if (after !== undefined) range.$gt = after;
    if (through !== undefined) range.$lte = through;
    const parts: Document[] =
      ranges.length > 0 ? [{ $nor: ranges.map((condition) => ({ _id: condition })) }] : [];
    if (Object.keys(range).length > 0) parts.push({ _id: range });
    return parts.length === 0 ? {} : parts.length === 1 ? parts[0] : { $and: parts };
  }
  if (partition.naturalOrder) {
    const condition: Document = {};
    if (after !== undefined) condition.$gt = after;
    if (through !== undefined) condition.$lte = through;
    return Object.keys(condition).length > 0 ? { _id: condition } : {};
  }
  const lower = partition.lower === null ? undefined : decodeBound(partition.lower);
  const upper = partition.upper === null ? undefined : decodeBound(partition.upper);
  const condition = partitionIdCondition(lower, upper, after);
  if (condition === null) return through === undefined ? {} : { _id: { $lte: through } };
  return { _id: through === undefined ? condition : { ...condition, $lte: through } };
}

function keyedById(ns: string, documents: Uint8Array[]): Map<string, { id: unknown; bytes: Uint8Array }> {
  const byKey = new Map<string, { id: unknown; bytes: Uint8Array }>();
  for (const bytes of documents) {
    const id = rawId(bytes);
    byKey.set(documentKey(ns, id), { id, bytes });
  }
  return byKey;
}

function sameVersion(a: Uint8Array | null, b: Uint8Array | null): boolean {
  return a !== null && b !== null ? sameBytes(a, b) : a === b;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

async function readRaw(collection: Collection, filter: Document): Promise<Uint8Array[]> {
  const documents = await collection.find(filter, { raw: true }).sort({ _id: 1 }).toArray();
  return documents as unknown as Uint8Array[];
}

/**
 * Compares one partition on both clusters. Differences are only suspects: the sync may not have
 * applied the source's latest changes yet, so each is rechecked once it has applied past the time
 * the comparison began.
 */
export async function verifyPartition(
  clusters: ClusterClients,
  input: VerifyPartitionInput,
): Promise<VerifyPartitionResult> {
  const { partition, direction } = input;
  const ns = `${partition.db}.${partition.coll}`;
  const context = activityContext();
  const previous = isHashProgress(context.heartbeatDetails) ? context.heartbeatDetails : null;
  const progress: HashProgress = previous
    ? { ...previous }
    : { lastId: null, sourceDocuments: 0, destinationDocuments: 0, suspects: 0 };
  const sourceClient = clusters.get(direction.source);
  const destinationClient = clusters.get(direction.destination);
  const store = new VerifierStore(destinationClient);
  await store.countPartitionRead(partition.id);
  const observedAt = await currentOperationTime(sourceClient);
  const source = sourceClient.db(partition.db).collection(partition.coll);
  const destination = destinationClient.db(partition.db).collection(partition.coll);

  let after: unknown = progress.lastId === null ? undefined : decodeBound(progress.lastId);
  const compare = async (batch: Uint8Array[], last: boolean) => {
    const through = last || batch.length === 0 ? undefined : rawId(batch[batch.length - 1]);
    const onDestination = keyedById(ns, await readRaw(destination, rangeFilter(partition, after, through)));
    const suspects: NamespacedId[] = [];
    for (const [key, { id, bytes }] of keyedById(ns, batch)) {
      const copy = onDestination.get(key);
      if (copy === undefined || !sameBytes(copy.bytes, bytes)) suspects.push({ ns, id });
      onDestination.delete(key);
    }
    for (const { id } of onDestination.values()) suspects.push({ ns, id });
    await store.addSuspects(suspects, observedAt);
    progress.sourceDocuments += batch.length;
    progress.destinationDocuments += batch.length - suspects.length + onDestination.size * 2;
    progress.suspects += suspects.length;
    if (through !== undefined) {
      after = through;
      progress.lastId = encodeBound(through);
    }
    context.heartbeat(progress);
  };

  const cursor = source
    .find(rangeFilter(partition, after, undefined), { raw: true, batchSize: BATCH_DOCUMENTS })
    .sort({ _id: 1 });
  let batch: Uint8Array[] = [];
  try {
    for await (const raw of cursor) {
      context.throwIfCancelled();
      batch.push(raw as unknown as Uint8Array);
      if (batch.length >= BATCH_DOCUMENTS) {
        await compare(batch, false);
        batch = [];
      }
    }
    await compare(batch, true);
  } finally {
    await cursor.close().catch(() => undefined);
  }
  return {
    sourceDocuments: progress.sourceDocuments,
    destinationDocuments: Math.max(0, progress.destinationDocuments),
    suspects: progress.suspects,
  };
}

async function readVersions(
  client: MongoClient,
  ns: string,
  ids: unknown[],
): Promise<Map<string, Uint8Array>> {
  const dot = ns.indexOf('.');
  const collection = client.db(ns.slice(0, dot)).collection(ns.slice(dot + 1));
  const found = (await collection
    .find({ _id: { $in: ids } } as Document, { raw: true })
    .toArray()) as unknown as Uint8Array[];
  const byKey = new Map<string, Uint8Array>();
  for (const bytes of found) byKey.set(documentKey(ns, rawId(bytes)), bytes);
  return byKey;
}

function kindOf(source: Uint8Array | null, destination: Uint8Array | null): MismatchKind {
  if (destination === null) return 'missing';
  if (source === null) return 'extra';
  return 'content';
}

/** Copies the document (or its absence) again from the source. */
async function repair(
  destination: MongoClient,
  suspect: Suspect,
  source: Uint8Array | null,
  kind: MismatchKind,
): Promise<void> {
  const dot = suspect.ns.indexOf('.');
  const collection = destination.db(suspect.ns.slice(0, dot)).collection(suspect.ns.slice(dot + 1));
  if (source === null) {
    await collection.deleteOne({ _id: suspect.id } as Document);
  } else {
    const document = BSON.deserialize(source, EXACT_TYPES);
    await collection.replaceOne({ _id: suspect.id } as Document, document, {
      upsert: true,
      bypassDocumentValidation: true,
    });
  }
  const id = EJSON.stringify(suspect.id, { relaxed: false });
  activityContext().warn(`verifier: repaired a ${kind} mismatch in ${suspect.ns} _id ${id}`, {
    namespace: suspect.ns,
    _id: id,
    kind,
  });
}

function groupByNamespace(suspects: Suspect[]): Map<string, Suspect[]> {
  const groups = new Map<string, Suspect[]>();
  for (const suspect of suspects) {
    const group = groups.get(suspect.ns) ?? [];
    group.push(suspect);
    groups.set(suspect.ns, group);
  }
  return groups;
}

/**
 * Rechecks the suspects the sync has applied past. A difference is confirmed only when the source
 * has not changed since the previous recheck (so nothing is left for the sync to apply); it is then
 * repaired and rechecked. In the final pass (the source blocked and drained) nothing can still be
 * in flight: a difference is confirmed at once, repaired, and checked again on the spot.
 */
export async function recheckSuspects(clusters: ClusterClients, input: RecheckInput): Promise<RecheckResult> {
  const { direction, final } = input;
  const sourceClient = clusters.get(direction.source);
  const destinationClient = clusters.get(direction.destination);
  const store = new VerifierStore(destinationClient);
  const context = activityContext();
  const now: OperationTime = await currentOperationTime(sourceClient);
  const appliedThrough = final ? null : input.appliedThrough;
  let rechecked = 0;
  let repaired = 0;
  const limit = input.batchSize ?? BATCH_DOCUMENTS;
  // A running pass takes the oldest batch the sync has applied past; the final pass takes every
  // suspect once, in key order.
  let afterKey = '';
  const deadline = Date.now() + (input.maxDurationMs ?? 5000);
  for (;;) {
    if (!final && appliedThrough === null) break;
    const batch = final ? await store.page(afterKey, limit) : await store.due(appliedThrough, limit);
    if (batch.length === 0) break;
    afterKey = batch[batch.length - 1]._id;
    for (const [ns, group] of groupByNamespace(batch)) {
      const ids = group.map((suspect) => suspect.id);
      const [sources, destinations] = await Promise.all([
        readVersions(sourceClient, ns, ids),
        readVersions(destinationClient, ns, ids),
      ]);
      // Most suspects agree (the sync applied them): settled together, in one write each kind.
      const agreeing: Suspect[] = [];
      const moved: Array<{ suspect: Suspect; changes: Partial<Suspect> }> = [];
      for (const suspect of group) {
        rechecked++;
        const source = sources.get(suspect._id) ?? null;
        const destination = destinations.get(suspect._id) ?? null;
        if (sameVersion(source, destination)) {
          agreeing.push(suspect);
          continue;
        }
        const hash = versionHash(source);
        const sourceUnchanged = suspect.sourceHash === hash;
        const seen = { observedAt: toTimestamp(now), sourceHash: hash };
        if (suspect.state === 'suspect' && !final) {
          moved.push({ suspect, changes: { ...seen, state: 'differs' } });
        } else if (suspect.state === 'suspect' || suspect.state === 'differs') {
          if (!final && !sourceUnchanged) {
            moved.push({ suspect, changes: seen });
            continue;
          }
          await store.logMismatch(suspect, kindOf(source, destination), true);
          await repair(destinationClient, suspect, source, kindOf(source, destination));
          repaired++;
          await store.update(suspect, { ...seen, state: 'repaired' });
          if (final)
            await confirmRepair(store, sourceClient, destinationClient, { ...suspect, state: 'repaired' });
        } else if (final) {
          // Repaired before and different again: one more repair, then it must hold.
          await repair(destinationClient, suspect, source, kindOf(source, destination));
          repaired++;
          await confirmRepair(store, sourceClient, destinationClient, suspect);
        } else if (sourceUnchanged) {
          await store.update(suspect, { ...seen, state: 'persists' });
          await store.markPersists(suspect);
        } else {
          moved.push({ suspect, changes: { ...seen, state: 'differs' } });
        }
      }
      await store.resolveAll(agreeing);
      await store.updateAll(moved);
      context.heartbeat({ rechecked });
    }
    // A running pass works through what is due for as long as it may; the final one through everything.
    if (!final && (batch.length < limit || Date.now() > deadline)) break;
  }
  const counts = await store.counts();
  return { rechecked, repairedNow: repaired, ...counts, now };
}

/** Checks a repaired document again at once (the final pass: the source cannot have moved). */
async function confirmRepair(
  store: VerifierStore,
  source: MongoClient,
  destination: MongoClient,
  suspect: Suspect,
): Promise<void> {
  const [sources, destinations] = await Promise.all([
    readVersions(source, suspect.ns, [suspect.id]),
    readVersions(destination, suspect.ns, [suspect.id]),
  ]);
  const a = sources.get(suspect._id) ?? null;
  const b = destinations.get(suspect._id) ?? null;
  if (sameVersion(a, b)) {
    await store.resolve({ ...suspect, state: 'repaired' });
    return;
  }
  await store.update(suspect, { state: 'persists', sourceHash: versionHash(a) });
  await store.markPersists(suspect);
}
