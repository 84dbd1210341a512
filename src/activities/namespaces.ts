import type { NamespaceFilter, RegexFilter } from './contract';

/** The database where the sync service keeps its own state; never copied, never watched. */
export const METADATA_DATABASE = 'mongosync_reserved_for_internal_use';

const SYSTEM_DATABASES = new Set(['admin', 'config', 'local']);

export function isNeverSyncedDatabase(db: string): boolean {
  return SYSTEM_DATABASES.has(db) || db.startsWith('__mdb_internal') || db === METADATA_DATABASE;
}

/** Namespaces that are never synced whatever the filters say. */
export function isNeverSynced(db: string, coll?: string): boolean {
  if (isNeverSyncedDatabase(db)) return true;
  return coll !== undefined && coll.startsWith('system.');
}

export interface NamespaceFilters {
  includeNamespaces: NamespaceFilter[];
  excludeNamespaces: NamespaceFilter[];
}

function regexMatches(filter: RegexFilter, value: string): boolean {
  return new RegExp(filter.pattern, filter.options ?? '').test(value);
}

function filterMatchesDatabase(filter: NamespaceFilter, db: string): boolean {
  if (filter.database !== undefined && filter.database !== db) return false;
  if (filter.databaseRegex && !regexMatches(filter.databaseRegex, db)) return false;
  return filter.database !== undefined || filter.databaseRegex !== undefined;
}

function filterMatches(filter: NamespaceFilter, db: string, coll: string): boolean {
  if (!filterMatchesDatabase(filter, db)) return false;
  const hasCollectionTerms = filter.collections !== undefined || filter.collectionsRegex !== undefined;
  if (!hasCollectionTerms) return true;
  if (filter.collections?.includes(coll)) return true;
  return filter.collectionsRegex !== undefined && regexMatches(filter.collectionsRegex, coll);
}

/** Contract semantics: never-synced first, then include (none = everything), then exclude. */
export function isSyncedNamespace(db: string, coll: string, filters?: NamespaceFilters): boolean {
  if (isNeverSynced(db, coll)) return false;
  if (!filters) return true;
  const { includeNamespaces, excludeNamespaces } = filters;
  if (includeNamespaces.length > 0 && !includeNamespaces.some((f) => filterMatches(f, db, coll)))
    return false;
  return !excludeNamespaces.some((f) => filterMatches(f, db, coll));
}

/** Whether any collection of a database may be synced (a database-wide exclude rules it out). */
export function mayHaveSyncedCollections(db: string, filters?: NamespaceFilters): boolean {
  if (isNeverSyncedDatabase(db)) return false;
  if (!filters) return true;
  const { includeNamespaces, excludeNamespaces } = filters;
  if (includeNamespaces.length > 0 && !includeNamespaces.some((f) => filterMatchesDatabase(f, db)))
    return false;
  const excludesWholeDatabase = (f: NamespaceFilter) =>
    filterMatchesDatabase(f, db) && f.collections === undefined && f.collectionsRegex === undefined;
  return !excludeNamespaces.some(excludesWholeDatabase);
}
