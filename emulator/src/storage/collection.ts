// One collection's documents and indexes. Documents are kept as the exact BSON bytes the client
// wrote (so they read back byte-identical), in an `_id`-ordered B+ tree plus an insertion-ordered
// map for natural order. Unique indexes keep a key → `_id` map to enforce uniqueness.
import BTree from 'sorted-btree';
import { type Document, UUID } from 'bson';
import { deserializeExact, serialize } from '../bson';
import { CommandError, ErrorCodes } from '../errors';
import { compareValues, getPathValues, keyString, compileFilter, type Matcher } from '../query';
import type { TransactionState } from '../sessions';
import { startIndexUsage } from './index-usage';

export interface StoredDocument {
  readonly id: unknown;
  readonly raw: Buffer;
  /** Position in natural (insertion) order. */
  readonly recordId: number;
}

export interface IndexSpec extends Document {
  v: number;
  key: Document;
  name: string;
}

export interface IdOrderOptions {
  lower?: unknown;
  lowerInclusive?: boolean;
  descending?: boolean;
}

/** What readers need of a collection: the documents as one reader sees them. */
export interface DocumentSource {
  readonly count: number;
  getById(id: unknown): StoredDocument | undefined;
  naturalOrder(): Iterable<StoredDocument>;
  idOrder(options?: IdOrderOptions): Iterable<StoredDocument>;
}

/** A document changed by an uncommitted transaction: its owner and its committed version (if any). */
interface TransactionVersion {
  readonly owner: TransactionState;
  readonly committed: StoredDocument | undefined;
}

interface UniqueIndexState {
  spec: IndexSpec;
  keys: Map<string, unknown>; // keyString(index key) → _id
  partial: Matcher | undefined;
}

export class Collection {
  readonly uuid: UUID;
  options: Document;
  indexes: IndexSpec[];
  /** Emulator-only test hook: names of unique indexes marked as being in the legacy (≤ 4.2) key format. */
  readonly legacyFormatUniqueIndexes = new Set<string>();
  private readonly byId = new BTree<unknown, StoredDocument>(undefined, compareValues);
  private readonly natural = new Map<number, StoredDocument>();
  private unique: UniqueIndexState[] = [];
  private nextRecordId = 1;
  private dataBytes = 0;
  /**
   * Transactions write in place; the documents they changed keep their committed version here,
   * by `_id`, until the transaction ends, for every other reader. Empty when no transaction is open.
   */
  private readonly versions = new BTree<unknown, TransactionVersion>(undefined, compareValues);
  private readonly owners = new Set<TransactionState>();

  constructor(
    public db: string,
    public name: string,
    options: Document = {},
    uuid?: UUID,
  ) {
    this.uuid = uuid ?? new UUID();
    this.options = options;
    this.indexes = options.clustered ? [] : [{ v: 2, key: { _id: 1 }, name: '_id_' }];
    this.indexes.forEach(startIndexUsage);
  }

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  get count(): number {
    return this.natural.size;
  }

  get sizeBytes(): number {
    return this.dataBytes;
  }

  get isCapped(): boolean {
    return this.options.capped === true;
  }

  getById(id: unknown): StoredDocument | undefined {
    return this.byId.get(id);
  }

  /** All documents in natural (insertion) order. */
  naturalOrder(): IterableIterator<StoredDocument> {
    return this.natural.values();
  }

  /** The open transaction that changed this document, if any. */
  transactionOwner(id: unknown): TransactionState | undefined {
    if (this.versions.size === 0) return undefined;
    return this.versions.get(id)?.owner;
  }

  /**
   * Note a transaction's change to a document, keeping the version before its first change
   * (`undefined` when the transaction inserted it). Returns true when this is the transaction's
   * first change in this collection (the caller then arranges `releaseTransaction` at its end).
   */
  noteTransactionWrite(owner: TransactionState, id: unknown, committed: StoredDocument | undefined): boolean {
    if (!this.versions.has(id)) this.versions.set(id, { owner, committed });
    if (this.owners.has(owner)) return false;
    this.owners.add(owner);
    return true;
  }

  /** Forget a transaction's versions (after its commit, or its abort has undone its writes). */
  releaseTransaction(owner: TransactionState): void {
    if (!this.owners.delete(owner)) return;
    const ids: unknown[] = [];
    for (const [id, version] of this.versions.entries()) if (version.owner === owner) ids.push(id);
    for (const id of ids) this.versions.delete(id);
  }

  /**
   * The documents as a reader sees them: its own transaction's changes, and for everything other
   * transactions changed, the committed version. The collection itself when no transaction is open.
   */
  readView(reader: TransactionState | undefined): DocumentSource {
    if (this.versions.size === 0) return this;
    const foreign = (id: unknown): TransactionVersion | undefined => {
      const version = this.versions.get(id);
      return version && version.owner !== reader ? version : undefined;
    };
    /** Committed versions of documents other transactions deleted (absent from storage). */
    const deleted = (): StoredDocument[] => {
      const out: StoredDocument[] = [];
      for (const [id, version] of this.versions.entries()) {
        if (version.owner === reader || !version.committed) continue;
        const current = this.byId.get(id);
        if (!current || current.recordId !== version.committed.recordId) out.push(version.committed);
      }
      return out;
    };
    /** Storage's document, or the committed version in its place, or nothing (uncommitted insert). */
    const resolve = (stored: StoredDocument): StoredDocument | undefined => {
      const version = foreign(stored.id);
      if (!version) return stored;
      return version.committed && version.committed.recordId === stored.recordId
        ? version.committed
        : undefined;
    };
    return {
      count: ((): number => {
        let count = this.natural.size;
        for (const [id, version] of this.versions.entries()) {
          if (version.owner === reader) continue;
          count += (version.committed ? 1 : 0) - (this.byId.has(id) ? 1 : 0);
        }
        return count;
      })(),
      getById: (id: unknown) => {
        const version = foreign(id);
        return version ? version.committed : this.byId.get(id);
      },
      naturalOrder: () => {
        const out: StoredDocument[] = [];
        for (const stored of this.natural.values()) {
          const visible = resolve(stored);
          if (visible) out.push(visible);
        }
        const removed = deleted();
        if (removed.length === 0) return out;
        return [...out, ...removed].sort((a, b) => a.recordId - b.recordId);
      },
      idOrder: (options: IdOrderOptions = {}) => {
        const out: StoredDocument[] = [];
        for (const stored of this.idOrder({ lower: options.lower, lowerInclusive: options.lowerInclusive })) {
          const visible = resolve(stored);
          if (visible) out.push(visible);
        }
        const removed = deleted().filter((stored) => {
          if (options.lower === undefined) return true;
          const order = compareValues(stored.id, options.lower);
          return order > 0 || (order === 0 && options.lowerInclusive !== false);
        });
        if (removed.length > 0) {
          out.push(...removed);
          out.sort((a, b) => compareValues(a.id, b.id));
        }
        if (options.descending) out.reverse();
        return out;
      },
    };
  }

  /** Documents in `_id` order, optionally from a lower bound, descending when asked. */
  *idOrder(options: IdOrderOptions = {}): Generator<StoredDocument> {
    if (options.descending) {
      for (const [, doc] of this.byId.entriesReversed()) yield doc;
      return;
    }
    const iterator = options.lower === undefined ? this.byId.entries() : this.byId.entries(options.lower);
    for (const [key, doc] of iterator) {
      if (
        options.lower !== undefined &&
        options.lowerInclusive === false &&
        compareValues(key, options.lower) === 0
      )
        continue;
      yield doc;
    }
  }

  /** Insert a document (already validated, with `_id`). Throws E11000 on a duplicate key. */
  insert(doc: Document, raw: Buffer = serialize(doc)): StoredDocument {
    const id = doc._id;
    if (this.byId.has(id))
      throw this.duplicateKeyError(this.indexes[0] ?? { v: 2, key: { _id: 1 }, name: '_id_' }, { _id: id });
    this.checkUnique(doc, undefined);
    const stored: StoredDocument = { id, raw, recordId: this.nextRecordId++ };
    this.byId.set(id, stored);
    this.natural.set(stored.recordId, stored);
    this.addUniqueKeys(doc);
    this.dataBytes += raw.length;
    return stored;
  }

  /** Replace a stored document by a new version with the same `_id`. */
  replace(
    previous: StoredDocument,
    before: Document,
    after: Document,
    raw: Buffer = serialize(after),
  ): StoredDocument {
    this.checkUnique(after, previous.id);
    this.removeUniqueKeys(before);
    const stored: StoredDocument = { id: previous.id, raw, recordId: previous.recordId };
    this.byId.set(previous.id, stored);
    this.natural.set(stored.recordId, stored);
    this.addUniqueKeys(after);
    this.dataBytes += raw.length - previous.raw.length;
    return stored;
  }

  remove(previous: StoredDocument, before: Document): void {
    this.byId.delete(previous.id);
    this.natural.delete(previous.recordId);
    this.removeUniqueKeys(before);
    this.dataBytes -= previous.raw.length;
  }

  /** Re-insert a removed document (transaction rollback); it moves to the end of natural order. */
  restore(stored: StoredDocument, doc: Document): void {
    this.byId.set(stored.id, stored);
    this.natural.set(stored.recordId, stored);
    this.addUniqueKeys(doc);
    this.dataBytes += stored.raw.length;
  }

  findIndex(nameOrKey: string | Document): IndexSpec | undefined {
    if (typeof nameOrKey === 'string') return this.indexes.find((index) => index.name === nameOrKey);
    return this.indexes.find((index) => compareValues(index.key, nameOrKey) === 0);
  }

  /** Add an index; builds unique state from the existing documents (E11000 if they violate it). */
  addIndex(spec: IndexSpec): void {
    this.indexes.push(spec);
    startIndexUsage(spec);
    try {
      this.rebuildUniqueState();
    } catch (error) {
      this.indexes.pop();
      this.rebuildUniqueState();
      throw error;
    }
  }

  dropIndex(name: string): IndexSpec {
    const index = this.indexes.findIndex((spec) => spec.name === name);
    if (index < 0) throw new CommandError(ErrorCodes.IndexNotFound, `index not found with name [${name}]`);
    const [removed] = this.indexes.splice(index, 1);
    this.legacyFormatUniqueIndexes.delete(name);
    this.rebuildUniqueState();
    return removed;
  }

  /** Called after an index's options changed (collMod unique/prepareUnique). */
  rebuildUniqueState(): void {
    // prepareUnique indexes refuse new duplicates but tolerate existing ones (collMod's first step).
    this.unique = this.indexes
      .filter((spec) => (spec.unique === true || spec.prepareUnique === true) && spec.name !== '_id_')
      .map((spec) => ({
        spec,
        keys: new Map<string, unknown>(),
        partial: spec.partialFilterExpression
          ? compileFilter(spec.partialFilterExpression as Document)
          : undefined,
      }));
    if (this.unique.length === 0) return;
    const enforced = this.unique.filter((state) => state.spec.unique === true);
    for (const stored of this.natural.values()) {
      const doc = deserializeExact(stored.raw);
      if (enforced.length > 0) this.checkUnique(doc, undefined, enforced);
      this.addUniqueKeys(doc);
    }
  }

  /** Documents that would violate a unique index with this key pattern (for collMod prepareUnique → unique). */
  findDuplicateKeys(spec: IndexSpec): Array<{ ids: unknown[]; keyValue: Document }> {
    const seen = new Map<string, { ids: unknown[]; keyValue: Document }>();
    const partial = spec.partialFilterExpression
      ? compileFilter(spec.partialFilterExpression as Document)
      : undefined;
    for (const stored of this.natural.values()) {
      const doc = deserializeExact(stored.raw);
      if (partial && !partial(doc)) continue;
      if (spec.sparse === true && !this.hasAnyKeyField(spec, doc)) continue;
      for (const key of indexKeys(spec.key, doc)) {
        const entry = seen.get(key.string) ?? { ids: [], keyValue: key.value };
        if (!entry.ids.some((id) => compareValues(id, doc._id) === 0)) entry.ids.push(doc._id);
        seen.set(key.string, entry);
      }
    }
    return [...seen.values()].filter((entry) => entry.ids.length > 1);
  }

  private hasAnyKeyField(spec: IndexSpec, doc: Document): boolean {
    return Object.keys(spec.key).some((field) => getPathValues(doc, field).length > 0);
  }

  private checkUnique(doc: Document, ownId: unknown, states: UniqueIndexState[] = this.unique): void {
    for (const state of states) {
      if (state.partial && !state.partial(doc)) continue;
      if (state.spec.sparse === true && !this.hasAnyKeyField(state.spec, doc)) continue;
      for (const key of indexKeys(state.spec.key, doc)) {
        const holder = state.keys.get(key.string);
        if (holder !== undefined && (ownId === undefined || compareValues(holder, ownId) !== 0)) {
          throw this.duplicateKeyError(state.spec, key.value);
        }
      }
    }
  }

  private addUniqueKeys(doc: Document): void {
    for (const state of this.unique) {
      if (state.partial && !state.partial(doc)) continue;
      if (state.spec.sparse === true && !this.hasAnyKeyField(state.spec, doc)) continue;
      for (const key of indexKeys(state.spec.key, doc)) state.keys.set(key.string, doc._id);
    }
  }

  private removeUniqueKeys(doc: Document): void {
    for (const state of this.unique) {
      for (const key of indexKeys(state.spec.key, doc)) {
        const holder = state.keys.get(key.string);
        if (holder !== undefined && compareValues(holder, doc._id) === 0) state.keys.delete(key.string);
      }
    }
  }

  duplicateKeyError(spec: IndexSpec, keyValue: Document): CommandError {
    const shown = Object.entries(keyValue)
      .map(([field, value]) => `${field}: ${formatKeyValue(value)}`)
      .join(', ');
    return new CommandError(
      ErrorCodes.DuplicateKey,
      `E11000 duplicate key error collection: ${this.ns} index: ${spec.name} dup key: { ${shown} }`,
      { codeName: 'DuplicateKey', extra: { keyPattern: spec.key, keyValue } },
    );
  }
}

/** The index keys of a document for a key pattern (one per element when a key field is an array). */
export function indexKeys(pattern: Document, doc: Document): Array<{ string: string; value: Document }> {
  const fields = Object.keys(pattern);
  let combos: unknown[][] = [[]];
  for (const field of fields) {
    const values = getPathValues(doc, field);
    const choices = values.length === 0 ? [null] : values;
    const next: unknown[][] = [];
    for (const combo of combos) for (const value of choices) next.push([...combo, value]);
    combos = next;
  }
  const seen = new Set<string>();
  const keys: Array<{ string: string; value: Document }> = [];
  for (const combo of combos) {
    const string = combo.map((value) => keyString(value)).join('\u0000');
    if (seen.has(string)) continue;
    seen.add(string);
    const value: Document = {};
    fields.forEach((field, i) => (value[field] = combo[i]));
    keys.push({ string, value });
  }
  return keys;
}

function formatKeyValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return 'null';
  if (value instanceof Date) return `new Date(${value.getTime()})`;
  const maybe = value as { toHexString?: () => string; _bsontype?: string; valueOf?: () => unknown };
  if (maybe._bsontype === 'ObjectId' && maybe.toHexString) return `ObjectId('${maybe.toHexString()}')`;
  if (maybe._bsontype === 'Int32' || maybe._bsontype === 'Double') return String(maybe.valueOf?.());
  if (maybe._bsontype === 'Long') return String(value);
  return JSON.stringify(value) ?? String(value);
}
