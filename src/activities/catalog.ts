import { Binary, MongoServerError, type Db, type Document, type MongoClient } from 'mongodb';
import { ApplicationFailure } from '@temporalio/common';
import type { CatalogResult, CollectionPlan, SyncOptions } from './contract';
import { compileNamespaceFilter, type CompiledNamespaceFilter } from './namespaces';
import {
  indexBuildTime,
  indexRelaxationSteps,
  indexRestorationSteps,
  isIdIndex,
  relaxCollectionOptions,
  relaxIndexSpec,
  type IndexBuildTime,
  type IndexRelaxationStep,
} from './indexSpecs';
import { isNamespaceExists, isNamespaceNotFound } from './serverErrors';

/** One entry of a source `listCollections`, with the database it belongs to. */
export interface CatalogEntry {
  db: string;
  name: string;
  type: 'collection' | 'view' | 'timeseries';
  options: Document;
  uuid: string | null;
}

function uuidHex(info: Document | undefined): string | null {
  const uuid: unknown = info?.uuid;
  return uuid instanceof Binary ? uuid.toString('hex') : null;
}

export async function listDatabaseNames(client: MongoClient): Promise<string[]> {
  const reply = await client.db('admin').command({ listDatabases: 1, nameOnly: true });
  return (reply.databases as Document[]).map((entry) => entry.name as string);
}

export async function listCatalogEntries(db: Db, filter: Document = {}): Promise<CatalogEntry[]> {
  const infos = await db.listCollections(filter).toArray();
  return infos.map((info: Document) => ({
    db: db.databaseName,
    name: info.name as string,
    type: info.type as CatalogEntry['type'],
    options: (info.options ?? {}) as Document,
    uuid: uuidHex(info.info as Document | undefined),
  }));
}

/** Every synced collection, timeseries collection and view on the source. */
export async function listSyncedCatalog(
  client: MongoClient,
  namespaces: CompiledNamespaceFilter,
): Promise<CatalogEntry[]> {
  const entries: CatalogEntry[] = [];
  for (const dbName of await listDatabaseNames(client)) {
    if (!namespaces.mayIncludeDatabase(dbName)) continue;
    for (const entry of await listCatalogEntries(client.db(dbName))) {
      if (namespaces.includes(dbName, entry.name)) entries.push(entry);
    }
  }
  return entries;
}

/** Creates a collection or view on the destination with the source's options (relaxed); an existing one is kept. */
export async function createOnDestination(
  destination: MongoClient,
  entry: Pick<CatalogEntry, 'db' | 'name' | 'options'>,
) {
  try {
    await destination.db(entry.db).command({ create: entry.name, ...relaxCollectionOptions(entry.options) });
  } catch (error) {
    if (!isNamespaceExists(error)) throw error;
  }
}

export async function listIndexSpecs(db: Db, coll: string): Promise<Document[]> {
  try {
    return await db.collection(coll).listIndexes().toArray();
  } catch (error) {
    if (isNamespaceNotFound(error)) return [];
    throw error;
  }
}

/** Indexes per createIndexes command (mongosync's `--createIndexesBatchSize`); 0: all at once. */
export const DEFAULT_CREATE_INDEXES_BATCH_SIZE = 0;

/**
 * Builds relaxed copies of the given indexes, `batchSize` per createIndexes command (0: all in
 * one, one scan of the collection); building one that already exists is a no-op.
 */
export async function createRelaxedIndexes(
  db: Db,
  coll: string,
  specs: Document[],
  batchSize = DEFAULT_CREATE_INDEXES_BATCH_SIZE,
): Promise<number> {
  const toBuild = specs.filter((spec) => !isIdIndex(spec) && spec.clustered !== true).map(relaxIndexSpec);
  const size = batchSize > 0 ? batchSize : Math.max(1, toBuild.length);
  for (let start = 0; start < toBuild.length; start += size)
    await db.command({ createIndexes: coll, indexes: toBuild.slice(start, start + size) });
  return toBuild.length;
}

/** The source's indexes of a collection, split by when the destination builds them. */
async function indexesByBuildTime(
  source: MongoClient,
  entry: CatalogEntry,
  options: SyncOptions,
): Promise<Record<IndexBuildTime, Document[]>> {
  const byTime: Record<IndexBuildTime, Document[]> = { beforeCopy: [], afterCopy: [], never: [] };
  if (entry.type !== 'collection') return byTime;
  for (const spec of await listIndexSpecs(source.db(entry.db), entry.name))
    byTime[indexBuildTime(spec, options.buildIndexes)].push(spec);
  return byTime;
}

/** Namespaces prepared at once: a distant cluster costs a few round trips per wave, not per collection. */
const CATALOG_CONCURRENCY = 8;

async function mapInWaves<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += CATALOG_CONCURRENCY)
    results.push(...(await Promise.all(items.slice(start, start + CATALOG_CONCURRENCY).map(work))));
  return results;
}

/** Estimated size from storage statistics, falling back to the document count when they are unavailable. */
export async function estimateCollectionSize(
  db: Db,
  coll: string,
): Promise<{ bytes: number; documents: number }> {
  try {
    const [stats] = await db
      .collection(coll)
      .aggregate([{ $collStats: { storageStats: {} } }])
      .toArray();
    const storage = (stats?.storageStats ?? {}) as Document;
    if (storage.count !== undefined)
      return { bytes: Number(storage.size ?? 0), documents: Number(storage.count) };
  } catch {
    // Not every server (or privilege set) allows $collStats; counting still gives a usable plan.
  }
  const documents = await db.collection(coll).estimatedDocumentCount();
  return { bytes: documents * 1024, documents };
}

export async function prepareCatalog(
  source: MongoClient,
  destination: MongoClient,
  options: SyncOptions,
  createIndexesBatchSize = DEFAULT_CREATE_INDEXES_BATCH_SIZE,
): Promise<CatalogResult> {
  const entries = await listSyncedCatalog(source, compileNamespaceFilter(options));
  const prepared = await mapInWaves(entries, async (entry) => {
    await createOnDestination(destination, entry);
    if (entry.type === 'view') return null;
    const [indexes, size] = await Promise.all([
      indexesByBuildTime(source, entry, options),
      estimateCollectionSize(source.db(entry.db), entry.name),
    ]);
    await createRelaxedIndexes(
      destination.db(entry.db),
      entry.name,
      indexes.beforeCopy,
      createIndexesBatchSize,
    );
    const plan: CollectionPlan = {
      db: entry.db,
      coll: entry.name,
      uuid: entry.uuid,
      // Timeseries collections have no _id index to split on, so they are read in one natural-order pass.
      capped: entry.options.capped === true || entry.type === 'timeseries',
      estimatedBytes: size.bytes,
      estimatedDocuments: size.documents,
    };
    return { plan, indexesAfterCopy: indexes.afterCopy.length };
  });
  const collections = prepared.flatMap((entry) => (entry ? [entry.plan] : []));
  return {
    collections,
    views: prepared.filter((entry) => entry === null).length,
    indexesToBuildAfterCopy: prepared.reduce((sum, entry) => sum + (entry?.indexesAfterCopy ?? 0), 0),
  };
}

export async function buildIndexesAfterCopy(
  source: MongoClient,
  destination: MongoClient,
  options: SyncOptions,
  createIndexesBatchSize = DEFAULT_CREATE_INDEXES_BATCH_SIZE,
): Promise<{ indexesBuilt: number }> {
  const entries = await listSyncedCatalog(source, compileNamespaceFilter(options));
  const built = await mapInWaves(entries, async (entry) => {
    const { afterCopy } = await indexesByBuildTime(source, entry, options);
    return createRelaxedIndexes(destination.db(entry.db), entry.name, afterCopy, createIndexesBatchSize);
  });
  return { indexesBuilt: built.reduce((sum, count) => sum + count, 0) };
}

/** Restores, from the source's current catalog, every index constraint and TTL that was relaxed during sync. */
export async function finalizeIndexes(
  source: MongoClient,
  destination: MongoClient,
  options: SyncOptions,
): Promise<{ indexesFinalized: number }> {
  const failures: string[] = [];
  let indexesFinalized = 0;
  const recordFailure = (what: string, error: unknown) => {
    if (!(error instanceof MongoServerError)) throw error;
    failures.push(`${what}: ${error.message}`);
  };
  for (const entry of await listSyncedCatalog(source, compileNamespaceFilter(options))) {
    if (entry.type === 'view') continue;
    const destinationDb = destination.db(entry.db);
    const ns = `${entry.db}.${entry.name}`;
    if (entry.options.expireAfterSeconds !== undefined) {
      try {
        await destinationDb.command({
          collMod: entry.name,
          expireAfterSeconds: entry.options.expireAfterSeconds,
        });
      } catch (error) {
        recordFailure(`collection ${ns} expireAfterSeconds`, error);
      }
    }
    if (entry.type !== 'collection') continue;
    const destinationSpecs = new Map(
      (await listIndexSpecs(destinationDb, entry.name)).map((spec) => [spec.name as string, spec]),
    );
    for (const sourceSpec of await listIndexSpecs(source.db(entry.db), entry.name)) {
      const destinationSpec = destinationSpecs.get(sourceSpec.name as string);
      if (!destinationSpec || isIdIndex(sourceSpec)) continue;
      const steps = indexRestorationSteps(sourceSpec, destinationSpec);
      if (steps.length === 0) continue;
      try {
        for (const index of steps) await destinationDb.command({ collMod: entry.name, index });
        indexesFinalized += 1;
      } catch (error) {
        recordFailure(`index ${String(sourceSpec.name)} on ${ns}`, error);
      }
    }
  }
  if (failures.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `could not finalize ${failures.length} index(es) on the destination: ${failures.join('; ')}`,
      'IndexFinalizationFailed',
    );
  }
  return { indexesFinalized };
}

async function runRelaxationStep(db: Db, coll: string, step: IndexRelaxationStep): Promise<void> {
  if ('dropIndex' in step) await db.command({ dropIndexes: coll, index: step.dropIndex });
  else if ('createIndex' in step) await db.command({ createIndexes: coll, indexes: [step.createIndex] });
  else await db.command({ collMod: coll, index: step.collModIndex });
}

/**
 * Relaxes, on a destination that holds the source's indexes with their constraints (the old source
 * of a reversed sync), what a sync relaxes (see `indexRelaxationSteps`). The source's catalog names
 * the indexes, so a retry after a crash between a drop and its rebuild still rebuilds.
 */
export async function relaxDestinationIndexes(
  source: MongoClient,
  destination: MongoClient,
  options: SyncOptions,
): Promise<{ indexesRelaxed: number }> {
  let indexesRelaxed = 0;
  for (const entry of await listSyncedCatalog(source, compileNamespaceFilter(options))) {
    if (entry.type !== 'collection') continue;
    const destinationDb = destination.db(entry.db);
    const destinationSpecs = await listIndexSpecs(destinationDb, entry.name);
    // A collection created on the source since the commit arrives (relaxed) with its change events.
    if (destinationSpecs.length === 0) continue;
    const byName = new Map(destinationSpecs.map((spec) => [spec.name as string, spec]));
    for (const sourceSpec of await listIndexSpecs(source.db(entry.db), entry.name)) {
      const steps = indexRelaxationSteps(sourceSpec, byName.get(sourceSpec.name as string));
      for (const step of steps) await runRelaxationStep(destinationDb, entry.name, step);
      if (steps.length > 0) indexesRelaxed += 1;
    }
  }
  return { indexesRelaxed };
}
