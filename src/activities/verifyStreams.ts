// What changed since the verifier last looked, on both clusters: every document a source change
// event or a destination write (the sync's, or anyone's behind its back) touched is compared on
// both clusters as it is read. The same on both sides settles it (any later change is a later
// event); a difference makes it a suspect, rechecked once the sync has applied past it.
import { EJSON } from 'bson';
import {
  Timestamp,
  type ChangeStreamDocument,
  type Document,
  type MongoClient,
  type ResumeToken,
} from 'mongodb';
import type { ClusterClients } from './clusters';
import type { CollectChangesInput, CollectChangesResult, OperationTime, StreamPosition } from './contract';
import { EXACT_TYPES } from './bsonOptions';
import { activityContext } from './context';
import { compareOperationTimes, isCrudEvent, toOperationTime } from './changeEvents';
import { compileNamespaceFilter, METADATA_DATABASE, type CompiledNamespaceFilter } from './namespaces';
import { currentOperationTime } from './operationTime';
import { groupByNamespace, readVersions, sameVersion } from './verifyDocuments';
import { documentKey, VerifierStore, type NamespacedId } from './verifierStore';

const MAX_EVENTS_PER_PASS = 20_000;

interface Collected {
  position: StreamPosition;
  events: number;
}

async function collect(
  client: MongoClient,
  position: StreamPosition,
  filter: CompiledNamespaceFilter,
  deadline: number,
  record: (documents: NamespacedId[]) => Promise<void>,
): Promise<Collected> {
  const context = activityContext();
  const resumeAfter = position.token === null ? undefined : (EJSON.parse(position.token) as ResumeToken);
  // Only which document an event touched, and when: the documents themselves are compared later,
  // so a full document or update description would be read and decoded for nothing.
  const pipeline = [
    { $match: { 'ns.db': { $ne: METADATA_DATABASE } } },
    { $project: { operationType: 1, ns: 1, documentKey: 1, clusterTime: 1 } },
  ];
  const stream = client.watch(pipeline, {
    ...EXACT_TYPES,
    ...(resumeAfter !== undefined
      ? { resumeAfter }
      : position.startAt !== null
        ? { startAtOperationTime: new Timestamp(position.startAt) }
        : {}),
    maxAwaitTimeMS: 200,
    batchSize: 1000,
  });
  let events = 0;
  let token: string | null = position.token;
  let pending: NamespacedId[] = [];
  const flush = async () => {
    await record(pending);
    pending = [];
  };
  try {
    while (Date.now() < deadline && events < MAX_EVENTS_PER_PASS) {
      context.throwIfCancelled();
      const event: ChangeStreamDocument | null = await stream.tryNext();
      if (stream.resumeToken) token = EJSON.stringify(stream.resumeToken as Document, { relaxed: false });
      if (event === null) break;
      events++;
      if (!isCrudEvent(event)) continue;
      const { db, coll } = event.ns;
      if (!filter.includes(db, coll)) continue;
      const ns = `${db}.${coll}`;
      pending.push({ ns, id: (event.documentKey as Document)._id, at: toOperationTime(event.clusterTime!) });
      if (pending.length >= 1000) {
        await flush();
        context.heartbeat({ events });
      }
    }
    await flush();
  } finally {
    await stream.close().catch(() => undefined);
  }
  return { position: { token, startAt: token === null ? position.startAt : null }, events };
}

/**
 * Compares the documents some events touched on both clusters now, each once. Those that differ
 * become suspects: from their event's time for a source change, and from the source's time now for
 * a destination write (the sync has caught up with it once it has applied past that time).
 */
async function compareTouched(
  source: MongoClient,
  destination: MongoClient,
  store: VerifierStore,
  touched: NamespacedId[],
  sourceNow: OperationTime,
): Promise<void> {
  const latest = new Map<string, NamespacedId & { key: string }>();
  for (const document of touched) {
    const key = documentKey(document.ns, document.id);
    const seen = latest.get(key);
    const at = document.at ?? sourceNow;
    if (!seen || compareOperationTimes(at, seen.at ?? sourceNow) > 0)
      latest.set(key, { ...document, at, key });
  }
  const differing: NamespacedId[] = [];
  for (const [ns, group] of groupByNamespace([...latest.values()])) {
    const ids = group.map((document) => document.id);
    const [onSource, onDestination] = await Promise.all([
      readVersions(source, ns, ids),
      readVersions(destination, ns, ids),
    ]);
    for (const { key, ...document } of group) {
      if (!sameVersion(onSource.get(key) ?? null, onDestination.get(key) ?? null)) differing.push(document);
    }
  }
  await store.addSuspects(differing, sourceNow);
}

/**
 * Reads both clusters' change streams from their positions, for at most `maxDurationMs`, and
 * compares what their events touched (differences become suspects).
 */
export async function collectChanges(
  clusters: ClusterClients,
  input: CollectChangesInput,
): Promise<CollectChangesResult> {
  const { direction, options } = input;
  const source = clusters.get(direction.source);
  const destination = clusters.get(direction.destination);
  const store = new VerifierStore(destination);
  const filter = compileNamespaceFilter(options);
  const deadline = Date.now() + input.maxDurationMs;
  const sourceNow = await currentOperationTime(source);
  const compare = (touched: NamespacedId[]) => compareTouched(source, destination, store, touched, sourceNow);
  // Both at once, each for the whole time: a busy source stream must not starve the destination's.
  const [fromSource, fromDestination] = await Promise.all([
    collect(source, input.source, filter, deadline, compare),
    collect(destination, input.destination, filter, deadline, (documents) =>
      compare(documents.map(({ ns, id }) => ({ ns, id }))),
    ),
  ]);
  return {
    source: fromSource.position,
    destination: fromDestination.position,
    sourceEvents: fromSource.events,
    destinationEvents: fromDestination.events,
    sourceNow,
  };
}
