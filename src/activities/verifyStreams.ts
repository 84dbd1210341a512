// What changed since the verifier last looked, on both clusters: every document a source change
// event or a destination write (the sync's, or anyone's behind its back) touched becomes a suspect,
// rechecked once the sync has applied past it. Collection changes mark the metadata for a recheck.
import { EJSON } from 'bson';
import {
  Timestamp,
  type ChangeStreamDocument,
  type Document,
  type MongoClient,
  type ResumeToken,
} from 'mongodb';
import type { ClusterClients } from './clusters';
import type { CollectChangesInput, CollectChangesResult, StreamPosition } from './contract';
import { EXACT_TYPES } from './bsonOptions';
import { activityContext } from './context';
import { isCrudEvent, toOperationTime } from './changeEvents';
import { compileNamespaceFilter, METADATA_DATABASE, type CompiledNamespaceFilter } from './namespaces';
import { currentOperationTime } from './operationTime';
import { VerifierStore, type NamespacedId } from './verifierStore';

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
  const stream = client.watch([{ $match: { 'ns.db': { $ne: METADATA_DATABASE } } }], {
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
      if (pending.length >= 500) {
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
 * Reads both clusters' change streams from their positions, for at most `maxDurationMs`. Source
 * changes are suspects from their own time; destination writes from the source's time now (the
 * sync has caught up with them once it has applied past it).
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
  const fromSource = await collect(source, input.source, filter, deadline, (documents) =>
    store.addSuspects(documents, sourceNow),
  );
  const fromDestination = await collect(destination, input.destination, filter, deadline, (documents) =>
    store.addSuspects(
      documents.map(({ ns, id }) => ({ ns, id })),
      sourceNow,
    ),
  );
  return {
    source: fromSource.position,
    destination: fromDestination.position,
    sourceEvents: fromSource.events,
    destinationEvents: fromDestination.events,
    sourceNow,
  };
}
