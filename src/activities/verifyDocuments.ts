// The verifier's document checks: a partition compared on both clusters on exact BSON, batch by
// batch in `_id` order (nothing held beyond one batch), and the recheck of suspects once the sync
// has applied past them, which confirms, repairs and re-confirms real mismatches.
import { EJSON } from 'bson';
import { type Collection, type Document, type MongoClient } from 'mongodb';
import type { ClusterClients } from './clusters';
import type {
  OperationTime,
  Partition,
  RecheckInput,
  RecheckResult,
  VerifyPartitionInput,
  VerifyPartitionResult,
} from './contract';
import { activityContext } from './context';
import { bracketOf, decodeBound, encodeBound, partitionIdCondition, TYPE_BRACKETS } from './idBounds';
import { currentOperationTime } from './operationTime';
import { decodeDocument, rawId } from './rawDocuments';
import {
  documentKey,
  toTimestamp,
  versionHash,
  VerifierStore,
  type MismatchKind,
  type NamespacedId,
  type Suspect,
} from './verifierStore';

const BATCH_DOCUMENTS = 1000;

interface HashProgress {
  /** Which of the partition's `_id` segments the walk is in, and the last `_id` compared there. */
  segment?: number;
  lastId: string | null;
  sourceDocuments: number;
  destinationDocuments: number;
  suspects: number;
}

function isHashProgress(value: unknown): value is HashProgress {
  return typeof value === 'object' && value !== null && 'sourceDocuments' in value;
}

/**
 * A partition as `_id` conditions that each stay inside one BSON type bracket, so a walk can move
 * on with `$gt` (range operators never cross brackets) and every one is an index range. A planned
 * partition is one segment; the check of what lies outside a collection's plan is its gaps: below
 * and between the planned ranges of each bracket, and the brackets the plan did not see.
 */
export function segmentsOf(partition: Partition): Document[] {
  const everyBracket = () => TYPE_BRACKETS.map((bracket) => ({ _id: { $type: [...bracket] } }));
  // A capped collection's partition (read in natural order by the copy) is walked bracket by bracket.
  if (partition.naturalOrder) return everyBracket();
  if (partition.outsideOf === undefined) {
    const lower = partition.lower === null ? undefined : decodeBound(partition.lower);
    const upper = partition.upper === null ? undefined : decodeBound(partition.upper);
    const condition = partitionIdCondition(lower, upper);
    return condition === null ? everyBracket() : [{ _id: condition }];
  }
  const ranges = partition.outsideOf.map(({ lower, upper }) => ({
    lower: lower === null ? undefined : decodeBound(lower),
    upper: upper === null ? undefined : decodeBound(upper),
    encoded: { lower, upper },
  }));
  if (ranges.some(({ lower, upper }) => lower === undefined && upper === undefined)) return [];
  const segments: Document[] = [];
  for (const bracket of TYPE_BRACKETS) {
    const types = [...bracket];
    // The plan lists a bracket's ranges in `_id` order, each starting where the previous ended.
    const inBracket = ranges.filter(({ lower, upper }) => bracketOf(lower ?? upper) === bracket);
    if (inBracket.length === 0) {
      segments.push({ $type: types });
      continue;
    }
    if (types[0] === 'minKey' || types[0] === 'maxKey') continue; // one possible value, planned
    const first = inBracket[0];
    if (first.lower !== undefined) segments.push({ $lt: first.lower, $type: types });
    inBracket.forEach((range, index) => {
      const next = inBracket[index + 1];
      if (range.upper === undefined) return;
      if (next === undefined) segments.push({ $gte: range.upper, $type: types });
      else if (next.encoded.lower !== range.encoded.upper)
        segments.push({ $gte: range.upper, $lt: next.lower, $type: types });
    });
  }
  return segments.map((condition) => ({ _id: condition }));
}

function segmentOfCheckpoint(segments: Document[], lastId: string | null): number {
  if (lastId === null) return 0;
  const bracket = bracketOf(decodeBound(lastId));
  const index = segments.findIndex((segment) => {
    const types = (segment._id as Document | undefined)?.$type as string[] | undefined;
    return types !== undefined && types[0] === bracket[0];
  });
  return Math.max(0, index);
}

/** A segment's documents after `after` (exclusive) and up to `through` (inclusive, when given). */
function segmentFilter(segment: Document, after: unknown, through: unknown): Document {
  const condition: Document = { ...((segment._id as Document | undefined) ?? {}) };
  if (after !== undefined) {
    delete condition.$gte;
    condition.$gt = after;
  }
  if (through !== undefined) condition.$lte = through;
  return Object.keys(condition).length > 0 ? { _id: condition } : {};
}

function keyedById(ns: string, documents: Uint8Array[]): Map<string, { id: unknown; bytes: Uint8Array }> {
  const byKey = new Map<string, { id: unknown; bytes: Uint8Array }>();
  for (const bytes of documents) {
    const id = rawId(bytes);
    byKey.set(documentKey(ns, id), { id, bytes });
  }
  return byKey;
}

export function sameVersion(a: Uint8Array | null, b: Uint8Array | null): boolean {
  return a !== null && b !== null ? sameBytes(a, b) : a === b;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

/** Both sides list the same documents in the same (`_id`) order: the common case, needing no `_id` decoded. */
function identical(source: Uint8Array[], destination: Uint8Array[]): boolean {
  return (
    source.length === destination.length &&
    source.every((bytes, index) => sameBytes(bytes, destination[index]))
  );
}

/** The `_id`s that differ between one batch of each side (missing, extra or not the same bytes). */
function differences(ns: string, source: Uint8Array[], destination: Uint8Array[]): NamespacedId[] {
  if (identical(source, destination)) return [];
  const onDestination = keyedById(ns, destination);
  const suspects: NamespacedId[] = [];
  for (const [key, { id, bytes }] of keyedById(ns, source)) {
    const copy = onDestination.get(key);
    if (copy === undefined || !sameBytes(copy.bytes, bytes)) suspects.push({ ns, id });
    onDestination.delete(key);
  }
  for (const { id } of onDestination.values()) suspects.push({ ns, id });
  return suspects;
}

async function readRaw(collection: Collection, filter: Document): Promise<Uint8Array[]> {
  // One batch (of the source batch's size) answers the range, not a first batch of 101 and a getMore.
  const documents = await collection
    .find(filter, { raw: true, batchSize: BATCH_DOCUMENTS + 1 })
    .sort({ _id: 1 })
    .toArray();
  return documents as unknown as Uint8Array[];
}

/**
 * Compares one partition on both clusters. Differences are only suspects: the sync may not have
 * applied the source's latest changes yet, so each is rechecked once it has applied past the time
 * the comparison began. The source is read by one cursor; each of its batches is compared with
 * the destination's documents of the same `_id` range, read while the source's next batch comes.
 */
export async function verifyPartition(
  clusters: ClusterClients,
  input: VerifyPartitionInput,
): Promise<VerifyPartitionResult> {
  const { partition, direction } = input;
  const ns = `${partition.db}.${partition.coll}`;
  const context = activityContext();
  const previous = isHashProgress(context.heartbeatDetails) ? context.heartbeatDetails : null;
  const segments = segmentsOf(partition);
  // A checkpoint without a segment predates segments: a planned partition's resumes in the segment
  // of its last `_id`'s bracket; a check outside the plan starts again.
  const resumable =
    previous !== null && (previous.segment !== undefined || partition.outsideOf === undefined);
  const progress: HashProgress = resumable
    ? { ...previous, segment: previous.segment ?? segmentOfCheckpoint(segments, previous.lastId) }
    : { segment: 0, lastId: null, sourceDocuments: 0, destinationDocuments: 0, suspects: 0 };
  const sourceClient = clusters.get(direction.source);
  const destinationClient = clusters.get(direction.destination);
  const store = new VerifierStore(destinationClient);
  await store.countPartitionRead(partition.id);
  const observedAt = await currentOperationTime(sourceClient);
  const source = sourceClient.db(partition.db).collection(partition.coll);
  const destination = destinationClient.db(partition.db).collection(partition.coll);

  for (let segment = progress.segment ?? 0; segment < segments.length; segment++) {
    let after: unknown =
      segment === progress.segment && progress.lastId !== null ? decodeBound(progress.lastId) : undefined;
    let comparing: Promise<void> = Promise.resolve();
    // Starts comparing one source batch; the returned promise settles once it is recorded (in order).
    const compare = (batch: Uint8Array[], last: boolean): Promise<void> => {
      const through = last || batch.length === 0 ? undefined : rawId(batch[batch.length - 1]);
      const reading = readRaw(destination, segmentFilter(segments[segment], after, through));
      if (through !== undefined) after = through;
      const earlier = comparing;
      return (comparing = (async () => {
        const onDestination = await reading;
        await earlier;
        const suspects = differences(ns, batch, onDestination);
        await store.addSuspects(suspects, observedAt);
        progress.sourceDocuments += batch.length;
        progress.destinationDocuments += onDestination.length;
        progress.suspects += suspects.length;
        progress.segment = segment;
        if (through !== undefined) progress.lastId = encodeBound(through);
        context.heartbeat(progress);
      })());
    };
    const cursor = source
      .find(segmentFilter(segments[segment], after, undefined), { raw: true, batchSize: BATCH_DOCUMENTS })
      .sort({ _id: 1 });
    let batch: Uint8Array[] = [];
    try {
      for await (const raw of cursor) {
        context.throwIfCancelled();
        batch.push(raw as unknown as Uint8Array);
        if (batch.length >= BATCH_DOCUMENTS) {
          // Observed at once so a failure is not unhandled; awaited (and thrown) by the next compare.
          compare(batch, false).catch(() => undefined);
          batch = [];
        }
      }
      await compare(batch, true);
    } finally {
      await comparing.catch(() => undefined);
      await cursor.close().catch(() => undefined);
    }
    progress.segment = segment + 1;
    progress.lastId = null;
  }
  await store.countPartitionHashed(partition.id);
  return {
    sourceDocuments: progress.sourceDocuments,
    destinationDocuments: progress.destinationDocuments,
    suspects: progress.suspects,
  };
}

/** The current versions of some documents of one namespace, by document key. */
export async function readVersions(
  client: MongoClient,
  ns: string,
  ids: unknown[],
): Promise<Map<string, Uint8Array>> {
  const dot = ns.indexOf('.');
  const collection = client.db(ns.slice(0, dot)).collection(ns.slice(dot + 1));
  const found = (await collection
    .find({ _id: { $in: ids } } as Document, { raw: true, batchSize: ids.length + 1 })
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
    const document = decodeDocument(source);
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

export function groupByNamespace<T extends { ns: string }>(suspects: T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
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
