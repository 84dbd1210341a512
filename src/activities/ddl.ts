import type {
  Binary,
  ChangeStreamCreateDocument,
  ChangeStreamRenameDocument,
  Document,
  MongoClient,
} from 'mongodb';
import { ApplicationFailure } from '@temporalio/common';
import type { BuildIndexesMode } from './contract';
import { createOnDestination, createRelaxedIndexes, listCatalogEntries } from './catalog';
import { eventNamespace, operationDescriptionOf, type DdlEvent } from './changeEvents';
import { buildsIndexesFromEvents } from './indexSpecs';
import { isNeverSyncedDatabase, type CompiledNamespaceFilter } from './namespaces';
import { isIndexNotFound, isNamespaceNotFound } from './serverErrors';

/** Collection modifications replayed as they are; index changes stay relaxed until commit. */
const REPLAYED_COLLMOD_FIELDS = [
  'validator',
  'validationLevel',
  'validationAction',
  'changeStreamPreAndPostImages',
  'viewOn',
  'pipeline',
  'cappedSize',
  'cappedMax',
];

export interface DdlContext {
  source: MongoClient;
  destination: MongoClient;
  namespaces: CompiledNamespaceFilter;
  buildIndexes: BuildIndexesMode;
}

/** Runs a DDL step that may already have been applied: errors saying so (the predicates) are ignored. */
async function ignoring(
  alreadyApplied: ((error: unknown) => boolean)[],
  run: () => Promise<unknown>,
): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (!alreadyApplied.some((predicate) => predicate(error))) throw error;
  }
}

/**
 * A created collection gets the source's options: from the source's catalog while it still holds
 * the same collection, otherwise from what the event recorded.
 */
async function applyCreate(context: DdlContext, db: string, coll: string, event: ChangeStreamCreateDocument) {
  const [current] = await listCatalogEntries(context.source.db(db), { name: coll });
  // Optional despite the driver's type: not every server version records it on every event.
  const eventUuid = (event.collectionUUID as Binary | undefined)?.toString('hex');
  if (current && (eventUuid === undefined || current.uuid === null || current.uuid === eventUuid)) {
    await createOnDestination(context.destination, current);
    return;
  }
  const options: Document = { ...operationDescriptionOf(event) };
  delete options.idIndex;
  await createOnDestination(context.destination, { db, name: coll, options });
}

async function applyRename(context: DdlContext, db: string, coll: string, event: ChangeStreamRenameDocument) {
  // Optional despite the driver's type: expanded events also carry it in operationDescription.
  const to = ((event.to as ChangeStreamRenameDocument['to'] | undefined) ??
    operationDescriptionOf(event).to) as ChangeStreamRenameDocument['to'];
  const fromSynced = context.namespaces.includes(db, coll);
  const toSynced = context.namespaces.includes(to.db, to.coll);
  if (fromSynced && toSynced) {
    await ignoring([isNamespaceNotFound], () =>
      context.destination
        .db('admin')
        .command({ renameCollection: `${db}.${coll}`, to: `${to.db}.${to.coll}`, dropTarget: true }),
    );
  } else if (fromSynced) {
    await ignoring([isNamespaceNotFound], () => context.destination.db(db).command({ drop: coll }));
  } else if (toSynced) {
    throw ApplicationFailure.nonRetryable(
      `collection ${db}.${coll} was renamed into the synced namespace ${to.db}.${to.coll}; its documents were never copied`,
      'UnsupportedRename',
    );
  }
}

/**
 * A dropped source database. With namespace filters the destination's database of that name may
 * hold what the sync does not own (pre-existing data, excluded collections): only the synced
 * collections are dropped (the source's per-collection drop events precede this one; dropping
 * again is harmless).
 */
async function applyDropDatabase(context: DdlContext, db: string): Promise<void> {
  if (isNeverSyncedDatabase(db)) return;
  if (!context.namespaces.restricts) {
    await context.destination.db(db).dropDatabase();
    return;
  }
  if (!context.namespaces.mayIncludeDatabase(db)) return;
  for (const entry of await listCatalogEntries(context.destination.db(db))) {
    if (!context.namespaces.includes(db, entry.name)) continue;
    await ignoring([isNamespaceNotFound], () => context.destination.db(db).command({ drop: entry.name }));
  }
}

/** Applies one DDL event to the destination; every step tolerates having been applied before. */
export async function applyDdlEvent(context: DdlContext, event: DdlEvent): Promise<void> {
  const ns = eventNamespace(event) ?? ({} as { db: string; coll?: string });
  if (event.operationType === 'dropDatabase') return applyDropDatabase(context, ns.db);
  const coll = ns.coll as string;
  if (event.operationType === 'rename') return applyRename(context, ns.db, coll, event);
  if (!context.namespaces.includes(ns.db, coll)) return;
  const destinationDb = context.destination.db(ns.db);
  const description = operationDescriptionOf(event);
  switch (event.operationType) {
    case 'create':
      return applyCreate(context, ns.db, coll, event);
    case 'drop':
      return ignoring([isNamespaceNotFound], () => destinationDb.command({ drop: coll }));
    case 'createIndexes': {
      const specs = ((description.indexes ?? []) as Document[]).filter((spec) =>
        buildsIndexesFromEvents(spec, context.buildIndexes),
      );
      await createRelaxedIndexes(destinationDb, coll, specs);
      return;
    }
    case 'dropIndexes':
      for (const spec of (description.indexes ?? []) as Document[]) {
        await ignoring([isNamespaceNotFound, isIndexNotFound], () =>
          destinationDb.command({ dropIndexes: coll, index: spec.name as string }),
        );
      }
      return;
    case 'modify': {
      const changes = Object.fromEntries(
        REPLAYED_COLLMOD_FIELDS.filter((field) => description[field] !== undefined).map((field) => [
          field,
          description[field],
        ]),
      );
      if (Object.keys(changes).length > 0) await destinationDb.command({ collMod: coll, ...changes });
      return;
    }
  }
}
