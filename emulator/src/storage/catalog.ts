// Databases, their collections and views. Pure in-memory state with MongoDB's naming rules; the
// command layer records oplog entries and enforces write blocking around these calls.
import type { Document } from 'bson';
import { CommandError, ErrorCodes } from '../errors';
import { Collection } from './collection';

export interface ViewDefinition {
  db: string;
  name: string;
  viewOn: string;
  pipeline: Document[];
  options: Document;
}

export class Database {
  readonly collections = new Map<string, Collection>();
  readonly views = new Map<string, ViewDefinition>();
  constructor(readonly name: string) {}

  get isEmpty(): boolean {
    return this.collections.size === 0 && this.views.size === 0;
  }
}

const INVALID_DB_CHARS = /[/\\. "$*<>:|?\0]/;

export function validateDatabaseName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length >= 64 || INVALID_DB_CHARS.test(name)) {
    throw new CommandError(ErrorCodes.InvalidNamespace, `Invalid database name: '${String(name)}'`);
  }
  return name;
}

export function validateCollectionName(db: string, name: unknown): string {
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    name.includes('\0') ||
    name.startsWith('.') ||
    name.includes('$')
  ) {
    throw new CommandError(ErrorCodes.InvalidNamespace, `Invalid collection name: ${db}.${String(name)}`);
  }
  return name;
}

export class Catalog {
  readonly databases = new Map<string, Database>();

  database(name: string): Database | undefined {
    return this.databases.get(name);
  }

  ensureDatabase(name: string): Database {
    let db = this.databases.get(name);
    if (!db) {
      db = new Database(validateDatabaseName(name));
      this.databases.set(name, db);
    }
    return db;
  }

  collection(db: string, name: string): Collection | undefined {
    return this.databases.get(db)?.collections.get(name);
  }

  view(db: string, name: string): ViewDefinition | undefined {
    return this.databases.get(db)?.views.get(name);
  }

  /** Creates the collection; throws 48 NamespaceExists if a collection or view has the name. */
  createCollection(db: string, name: string, options: Document = {}): Collection {
    validateCollectionName(db, name);
    const database = this.ensureDatabase(db);
    if (database.collections.has(name) || database.views.has(name)) {
      throw new CommandError(ErrorCodes.NamespaceExists, `Collection ${db}.${name} already exists.`);
    }
    const collection = new Collection(db, name, options);
    database.collections.set(name, collection);
    return collection;
  }

  createView(
    db: string,
    name: string,
    viewOn: string,
    pipeline: Document[],
    options: Document,
  ): ViewDefinition {
    validateCollectionName(db, name);
    const database = this.ensureDatabase(db);
    if (database.collections.has(name) || database.views.has(name)) {
      throw new CommandError(ErrorCodes.NamespaceExists, `Collection ${db}.${name} already exists.`);
    }
    const view: ViewDefinition = { db, name, viewOn, pipeline, options };
    database.views.set(name, view);
    return view;
  }

  dropCollection(db: string, name: string): Collection | ViewDefinition | undefined {
    const database = this.databases.get(db);
    if (!database) return undefined;
    const collection = database.collections.get(name);
    if (collection) {
      database.collections.delete(name);
      this.dropIfEmpty(database);
      return collection;
    }
    const view = database.views.get(name);
    if (view) {
      database.views.delete(name);
      this.dropIfEmpty(database);
    }
    return view;
  }

  dropDatabase(name: string): Database | undefined {
    const database = this.databases.get(name);
    this.databases.delete(name);
    return database;
  }

  rename(collection: Collection, toDb: string, toName: string): void {
    validateCollectionName(toDb, toName);
    const from = this.databases.get(collection.db);
    from?.collections.delete(collection.name);
    const target = this.ensureDatabase(toDb);
    collection.db = toDb;
    collection.name = toName;
    target.collections.set(toName, collection);
    if (from && from !== target) this.dropIfEmpty(from);
  }

  /** Re-attach a dropped collection (transaction or failed-command rollback). */
  attach(collection: Collection): void {
    this.ensureDatabase(collection.db).collections.set(collection.name, collection);
  }

  private dropIfEmpty(database: Database): void {
    if (database.isEmpty) this.databases.delete(database.name);
  }
}
