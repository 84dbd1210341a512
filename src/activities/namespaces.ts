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

/** The sync's namespace filters, compiled once (regexes built once) and asked for every namespace. */
export interface CompiledNamespaceFilter {
  /** Whether the filters restrict anything (some include or exclude filter is given). */
  readonly restricts: boolean;
  /** Contract semantics: never-synced first, then include (none = everything), then exclude. */
  includes(db: string, coll: string): boolean;
  /** Whether any collection of a database may be synced (a database-wide exclude rules it out). */
  mayIncludeDatabase(db: string): boolean;
}

interface CompiledRule {
  database: string | undefined;
  databaseRegex: RegExp | undefined;
  collections: readonly string[] | undefined;
  collectionsRegex: RegExp | undefined;
}

/** A shared RegExp must not keep state between tests, so `g` and `y` are dropped (the API accepts neither). */
function compileRegex(filter: RegexFilter | undefined): RegExp | undefined {
  if (filter === undefined) return undefined;
  return new RegExp(filter.pattern, (filter.options ?? '').replace(/[gy]/g, ''));
}

function compileRule(filter: NamespaceFilter): CompiledRule {
  return {
    database: filter.database,
    databaseRegex: compileRegex(filter.databaseRegex),
    collections: filter.collections,
    collectionsRegex: compileRegex(filter.collectionsRegex),
  };
}

function ruleMatchesDatabase(rule: CompiledRule, db: string): boolean {
  if (rule.database !== undefined && rule.database !== db) return false;
  if (rule.databaseRegex && !rule.databaseRegex.test(db)) return false;
  return rule.database !== undefined || rule.databaseRegex !== undefined;
}

function hasCollectionTerms(rule: CompiledRule): boolean {
  return rule.collections !== undefined || rule.collectionsRegex !== undefined;
}

function ruleMatches(rule: CompiledRule, db: string, coll: string): boolean {
  if (!ruleMatchesDatabase(rule, db)) return false;
  if (!hasCollectionTerms(rule)) return true;
  if (rule.collections?.includes(coll)) return true;
  return rule.collectionsRegex !== undefined && rule.collectionsRegex.test(coll);
}

/** Compiles the sync's filters (absent: every namespace that is not never-synced is included). */
export function compileNamespaceFilter(filters?: NamespaceFilters): CompiledNamespaceFilter {
  const include = (filters?.includeNamespaces ?? []).map(compileRule);
  const exclude = (filters?.excludeNamespaces ?? []).map(compileRule);
  return {
    restricts: include.length > 0 || exclude.length > 0,
    includes(db, coll) {
      if (isNeverSynced(db, coll)) return false;
      if (include.length > 0 && !include.some((rule) => ruleMatches(rule, db, coll))) return false;
      return !exclude.some((rule) => ruleMatches(rule, db, coll));
    },
    mayIncludeDatabase(db) {
      if (isNeverSyncedDatabase(db)) return false;
      if (include.length > 0 && !include.some((rule) => ruleMatchesDatabase(rule, db))) return false;
      return !exclude.some((rule) => ruleMatchesDatabase(rule, db) && !hasCollectionTerms(rule));
    },
  };
}

/** One-off check of one namespace (tests, scripts); activities compile their filter once instead. */
export function isSyncedNamespace(db: string, coll: string, filters?: NamespaceFilters): boolean {
  return compileNamespaceFilter(filters).includes(db, coll);
}
