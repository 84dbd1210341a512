// Document-level mutations shared by insert, update, delete, findAndModify and bulkWrite: each
// validates, changes storage, records the oplog entry and registers an undo for transactions.
import { type Document, ObjectId } from 'bson';
import { deserializeExact, receivedBytesOf, serialize } from '../bson';
import { computeUpdateDescription } from '../changestream';
import { CommandError, ErrorCodes } from '../errors';
import { markCreatedInTransaction } from '../transaction-catalog';
import {
  applyReplacement,
  applyUpdate,
  compileFilter,
  compileSort,
  resolveCollation,
  isOperatorUpdate,
  upsertSeedFromQuery,
  validateStorableDocument,
  valuesEqual,
} from '../query';
import { runPipeline } from '../query/aggregate';
import { TransactionWait } from '../sessions';
import type { Collection, StoredDocument } from '../storage/collection';
import type { CommandContext } from './context';
import { scanCollection } from './scan';

/**
 * A write to a document an open transaction changed: inside another transaction it is a
 * WriteConflict (the client retries the transaction); outside any, the write waits for the owner.
 */
export function checkWriteConflict(ctx: CommandContext, collection: Collection, id: unknown): void {
  const owner = collection.transactionOwner(id);
  if (!owner || owner === ctx.transaction) return;
  if (ctx.transaction) {
    throw new CommandError(
      ErrorCodes.WriteConflict,
      'Write conflict during plan execution and yielding is disabled. :: Please retry your operation or multi-document transaction.',
      { errorLabels: ['TransientTransactionError'] },
    );
  }
  throw new TransactionWait(owner);
}

/** Inside a transaction, remember the committed version of a document it is about to change. */
function noteTransactionWrite(
  ctx: CommandContext,
  collection: Collection,
  id: unknown,
  committed: StoredDocument | undefined,
): void {
  const txn = ctx.transaction;
  if (!txn) return;
  if (collection.noteTransactionWrite(txn, id, committed))
    txn.onEnd.push(() => collection.releaseTransaction(txn));
}

export function resolveCollectionForWrite(ctx: CommandContext, db: string, name: string): Collection {
  const existing = ctx.engine.catalog.collection(db, name);
  if (existing) return existing;
  if (ctx.engine.catalog.view(db, name)) {
    throw new CommandError(
      ErrorCodes.CommandNotSupportedOnView,
      `Namespace ${db}.${name} is a view, not a collection`,
    );
  }
  return createCollectionRecorded(ctx, db, name, {});
}

/** Create a collection and record the `create` event (implicit creation by a write, or `create`). */
export function createCollectionRecorded(
  ctx: CommandContext,
  db: string,
  name: string,
  options: Document,
): Collection {
  if (
    name.startsWith('system.') &&
    !['system.js', 'system.views', 'system.profile'].includes(name) &&
    db !== 'admin' &&
    db !== 'config' &&
    db !== 'local'
  ) {
    throw new CommandError(ErrorCodes.InvalidNamespace, `Invalid system namespace: ${db}.${name}`);
  }
  const collection = ctx.engine.catalog.createCollection(db, name, options);
  markCreatedInTransaction(collection, ctx.transaction);
  ctx.engine.recordWrite(
    ctx,
    {
      op: 'create',
      db,
      coll: name,
      uuid: collection.uuid,
      operationDescription: { idIndex: { v: 2, key: { _id: 1 }, name: '_id_' }, ...options },
      size: 128,
    },
    () => ctx.engine.catalog.dropCollection(db, name),
  );
  return collection;
}

interface ImageBytes {
  preImageBytes?: Buffer;
  postImageBytes?: Buffer;
  decodedPre?: Document;
  decodedPost?: Document;
}

/** Entries read their images through these prototype getters: decoded once, on first use. */
const lazyImages: object = Object.create(Object.prototype, {
  preImage: {
    get(this: ImageBytes) {
      if (this.preImageBytes === undefined) return undefined;
      return (this.decodedPre ??= deserializeExact(this.preImageBytes));
    },
  },
  postImage: {
    get(this: ImageBytes) {
      if (this.postImageBytes === undefined) return undefined;
      return (this.decodedPost ??= deserializeExact(this.postImageBytes));
    },
  },
});

/**
 * Attach document images to an oplog entry as BSON bytes decoded on demand: the history keeps the
 * compact bytes (shared with storage) and only change streams that need an image decode it.
 */
function withImages<T extends object>(entry: T, images: { pre?: Buffer; post?: Buffer }): T {
  return Object.assign(Object.create(lazyImages) as T, entry, {
    preImageBytes: images.pre,
    postImageBytes: images.post,
  });
}

function prePostImages(collection: Collection): boolean {
  const setting = collection.options.changeStreamPreAndPostImages as Document | undefined;
  return setting?.enabled === true;
}

function checkValidator(
  ctx: CommandContext,
  collection: Collection,
  doc: Document,
  previous?: Document,
): void {
  const validator = collection.options.validator as Document | undefined;
  if (!validator || ctx.command.bypassDocumentValidation === true) return;
  if (collection.options.validationLevel === 'off' || collection.options.validationAction === 'warn') return;
  const matches = compileFilter(validator);
  if (matches(doc)) return;
  // "moderate": updates to documents that already failed validation are allowed.
  if (previous && collection.options.validationLevel === 'moderate' && !matches(previous)) return;
  throw new CommandError(ErrorCodes.DocumentValidationFailure, 'Document failed validation', {
    extra: {
      errInfo: {
        failingDocumentId: doc._id,
        details: { operatorName: '$and', specifiedAs: validator, reason: 'validation failed' },
      },
    },
  });
}

/** `_id` first: a document without one gets a new ObjectId, an `_id` elsewhere moves to the front. */
export function withIdFirst(doc: Document): Document {
  if (Object.keys(doc)[0] === '_id') return doc;
  const id = doc._id === undefined ? new ObjectId() : doc._id;
  const ordered: Document = { _id: id };
  for (const [key, value] of Object.entries(doc)) if (key !== '_id') ordered[key] = value;
  return ordered;
}

export function insertDocument(ctx: CommandContext, collection: Collection, input: Document): StoredDocument {
  const doc = withIdFirst(input);
  validateStorableDocument(doc);
  checkValidator(ctx, collection, doc);
  // A document that arrived with `_id` first is stored as the very bytes the client sent.
  const raw = (doc === input ? receivedBytesOf(input) : undefined) ?? serialize(doc);
  if (raw.length > 16 * 1024 * 1024 + 16 * 1024) {
    throw new CommandError(
      ErrorCodes.BadValue,
      `object to insert too large. size in bytes: ${raw.length}, max size: 16777216`,
    );
  }
  checkWriteConflict(ctx, collection, doc._id);
  const stored = collection.insert(doc, raw);
  noteTransactionWrite(ctx, collection, doc._id, undefined);
  ctx.engine.recordWrite(
    ctx,
    withImages(
      {
        op: 'insert' as const,
        db: collection.db,
        coll: collection.name,
        uuid: collection.uuid,
        documentKey: { _id: doc._id },
        prePostImagesEnabled: prePostImages(collection),
        size: raw.length + 64,
      },
      { post: raw },
    ),
    () => collection.remove(stored, doc),
  );
  if (collection.isCapped) trimCapped(collection);
  return stored;
}

function trimCapped(collection: Collection): void {
  const maxBytes = Number(collection.options.size ?? Infinity);
  const maxDocs = collection.options.max !== undefined ? Number(collection.options.max) : Infinity;
  for (const stored of collection.naturalOrder()) {
    if (collection.sizeBytes <= maxBytes && collection.count <= maxDocs) break;
    if (collection.count <= 1) break;
    collection.remove(stored, deserializeExact(stored.raw));
  }
}

/** Replace a stored document by a new version, recording an update or replace event. */
export function writeNewVersion(
  ctx: CommandContext,
  collection: Collection,
  stored: StoredDocument,
  before: Document,
  after: Document,
  kind: 'update' | 'replace',
): StoredDocument {
  checkWriteConflict(ctx, collection, stored.id);
  validateStorableDocument(after);
  checkValidator(ctx, collection, after, before);
  const raw = serialize(after);
  const next = collection.replace(stored, before, after, raw);
  noteTransactionWrite(ctx, collection, stored.id, stored);
  ctx.engine.recordWrite(
    ctx,
    withImages(
      {
        op: kind,
        db: collection.db,
        coll: collection.name,
        uuid: collection.uuid,
        documentKey: { _id: after._id },
        updateDescription: kind === 'update' ? computeUpdateDescription(before, after) : undefined,
        prePostImagesEnabled: prePostImages(collection),
        size: raw.length + stored.raw.length + 64,
      },
      { pre: stored.raw, post: raw },
    ),
    () => collection.replace(next, after, before, stored.raw),
  );
  return next;
}

export function deleteDocument(
  ctx: CommandContext,
  collection: Collection,
  stored: StoredDocument,
  before: Document,
): void {
  checkWriteConflict(ctx, collection, stored.id);
  collection.remove(stored, before);
  noteTransactionWrite(ctx, collection, stored.id, stored);
  ctx.engine.recordWrite(
    ctx,
    withImages(
      {
        op: 'delete' as const,
        db: collection.db,
        coll: collection.name,
        uuid: collection.uuid,
        documentKey: { _id: before._id },
        prePostImagesEnabled: prePostImages(collection),
        size: stored.raw.length + 64,
      },
      { pre: stored.raw },
    ),
    () => collection.restore(stored, before),
  );
}

export interface UpdateSpec {
  q: Document;
  u: Document | Document[];
  upsert?: boolean;
  multi?: boolean;
  arrayFilters?: Document[];
  sort?: Document;
  /** The command's `let` variables (filter `$expr` and pipeline updates). */
  variables?: Document;
  /** The statement's `collation` option as sent (the collection's default applies without). */
  collation?: unknown;
}

export interface UpdateOutcome {
  n: number;
  nModified: number;
  upsertedId?: unknown;
  /** The last document written (for findAndModify's `new: true`). */
  after?: Document;
  before?: Document;
}

/** Compute a document's next version for an update spec (operators, replacement or pipeline). */
export function computeUpdated(
  doc: Document,
  spec: UpdateSpec,
  isInsert: boolean,
): { doc: Document; modified: boolean; kind: 'update' | 'replace' } {
  if (Array.isArray(spec.u)) {
    const [result] = runPipeline([doc], spec.u, { variables: spec.variables });
    if (!result) throw new CommandError(ErrorCodes.BadValue, 'update pipeline produced no document');
    const next = withIdFirst({ ...result, _id: result._id ?? doc._id });
    if (!isInsert && !valuesEqual(next._id, doc._id)) {
      throw new CommandError(
        ErrorCodes.ImmutableField,
        "Performing an update on the path '_id' would modify the immutable field '_id'",
      );
    }
    const modified = !serialize(next).equals(serialize(doc));
    return { doc: next, modified, kind: 'update' };
  }
  if (isOperatorUpdate(spec.u)) {
    const result = applyUpdate(doc, spec.u, { arrayFilters: spec.arrayFilters, isInsert, query: spec.q });
    return { doc: result.doc, modified: result.modified, kind: 'update' };
  }
  const result = applyReplacement(doc, spec.u);
  return { doc: result.doc, modified: result.modified, kind: 'replace' };
}

export function performUpdate(
  ctx: CommandContext,
  db: string,
  collName: string,
  spec: UpdateSpec,
): UpdateOutcome {
  const collection = ctx.engine.catalog.collection(db, collName);
  if (!collection && ctx.engine.catalog.view(db, collName)) {
    throw new CommandError(
      ErrorCodes.CommandNotSupportedOnView,
      `Namespace ${db}.${collName} is a view, not a collection`,
    );
  }
  const outcome: UpdateOutcome = { n: 0, nModified: 0 };
  const collation = resolveCollation(spec.collation, collection?.options.collation);
  if (collection) {
    const matches = scanCollection(collection.readView(ctx.transaction), spec.q, {
      sort: spec.sort ? compileSort(spec.sort, collation) : undefined,
      variables: spec.variables,
      collation,
    });
    const targets = spec.multi ? matches : matches.slice(0, 1);
    // Every target is checked before any changes, so a statement that must wait changed nothing.
    for (const { stored } of targets) checkWriteConflict(ctx, collection, stored.id);
    for (const { stored, doc } of targets) {
      const next = computeUpdated(doc, spec, false);
      outcome.n++;
      outcome.before = doc;
      outcome.after = next.doc;
      if (!next.modified) continue;
      writeNewVersion(ctx, collection, stored, doc, next.doc, next.kind);
      outcome.nModified++;
    }
  }
  if (outcome.n === 0 && spec.upsert) {
    const target = collection ?? resolveCollectionForWrite(ctx, db, collName);
    const seed = Array.isArray(spec.u) || isOperatorUpdate(spec.u) ? upsertSeedFromQuery(spec.q) : {};
    let created: Document;
    if (Array.isArray(spec.u) || isOperatorUpdate(spec.u)) {
      created = computeUpdated(seed, spec, true).doc;
    } else {
      created = { ...(spec.u as Document) };
      const seedId = upsertSeedFromQuery(spec.q)._id;
      if (created._id === undefined && seedId !== undefined) created._id = seedId;
    }
    const stored = insertDocument(ctx, target, created);
    outcome.upsertedId = stored.id;
    outcome.after = deserializeExact(stored.raw);
  }
  return outcome;
}

export function performDelete(
  ctx: CommandContext,
  db: string,
  collName: string,
  filter: Document,
  limit: number,
  variables?: Document,
  collationSpec?: unknown,
): number {
  const collection = ctx.engine.catalog.collection(db, collName);
  const collation = resolveCollation(collationSpec, collection?.options.collation);
  if (!collection) {
    if (ctx.engine.catalog.view(db, collName)) {
      throw new CommandError(
        ErrorCodes.CommandNotSupportedOnView,
        `Namespace ${db}.${collName} is a view, not a collection`,
      );
    }
    return 0;
  }
  const matches = scanCollection(collection.readView(ctx.transaction), filter, { variables, collation });
  const targets = limit === 1 ? matches.slice(0, 1) : matches;
  for (const { stored } of targets) checkWriteConflict(ctx, collection, stored.id);
  for (const { stored, doc } of targets) deleteDocument(ctx, collection, stored, doc);
  return targets.length;
}
