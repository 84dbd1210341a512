// applyOps for the forms tools send: CRUD entries (i/u/d with o/o2, n ignored) and `create`
// (with a given collection UUID `ui`) or `drop` commands. A CRUD-only batch is all or nothing:
// every entry is checked against the data first, so a failing one leaves nothing applied. Each
// applied write is recorded like any other, so change streams see it.
import { type Document, Int32, UUID } from 'bson';
import { deserializeExact } from '../bson';
import { CommandError, ErrorCodes } from '../errors';
import { applyUpdateDiff } from '../oplog-apply';
import { keyString, valuesEqual } from '../query';
import { Collection } from '../storage/collection';
import type { CommandContext } from './context';
import {
  computeUpdated,
  deleteDocument,
  insertDocument,
  withIdFirst,
  writeNewVersion,
  type UpdateSpec,
} from './writeOps';

const UPDATE_OPERATION_FAILED = 218;
const NO_SUCH_KEY = 4;

interface Entry {
  op: string;
  ns: string;
  o: Document;
  o2?: Document;
  ui?: UUID;
  b?: boolean;
}

function splitNs(ns: string): { db: string; coll: string } {
  const dot = ns.indexOf('.');
  if (dot <= 0 || dot === ns.length - 1)
    throw new CommandError(ErrorCodes.InvalidNamespace, `invalid ns: ${ns}`);
  return { db: ns.slice(0, dot), coll: ns.slice(dot + 1) };
}

function parseEntries(value: unknown): Entry[] {
  if (!Array.isArray(value)) throw new CommandError(ErrorCodes.FailedToParse, 'ops has to be an array');
  return value.map((raw: unknown, index) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new CommandError(ErrorCodes.FailedToParse, `op number [${index}] is not an object`);
    const entry = raw as Document;
    if (typeof entry.op !== 'string' || !['i', 'u', 'd', 'c', 'n'].includes(entry.op))
      throw new CommandError(ErrorCodes.BadValue, `Invalid op type: ${String(entry.op)}`);
    if (typeof entry.ns !== 'string')
      throw new CommandError(ErrorCodes.FailedToParse, `op number [${index}] has no 'ns' string`);
    if (entry.op !== 'n' && (typeof entry.o !== 'object' || entry.o === null))
      throw new CommandError(ErrorCodes.FailedToParse, `op number [${index}] has no 'o' object`);
    if (entry.ui !== undefined && !(entry.ui instanceof UUID))
      throw new CommandError(ErrorCodes.TypeMismatch, "'ui' must be a UUID");
    return entry as Entry;
  });
}

function describe(entry: Entry): string {
  return JSON.stringify({ op: entry.op, ns: entry.ns, o: entry.o, o2: entry.o2 });
}

/** The document after an update entry: a `$v: 2` diff, legacy modifiers, or a replacement. */
function updatedDocument(before: Document, entry: Entry): { doc: Document; kind: 'update' | 'replace' } {
  const o = entry.o;
  if (o.$v !== undefined && Number(o.$v) === 2) {
    if (typeof o.diff !== 'object' || o.diff === null)
      throw new CommandError(ErrorCodes.FailedToParse, "$v: 2 update needs a 'diff' object");
    return { doc: applyUpdateDiff(before, o.diff as Document), kind: 'update' };
  }
  const { $v: _ignored, ...rest } = o;
  void _ignored;
  const result = computeUpdated(before, { q: {}, u: rest } as UpdateSpec, false);
  return { doc: result.doc, kind: result.kind };
}

type Overlay = Map<string, Document | null>;

/** Where a CRUD entry applies: its collection (checked against `ui`) and the document `_id`. */
function target(ctx: CommandContext, entry: Entry): { collection: Collection | undefined; id: unknown } {
  const { db, coll } = splitNs(entry.ns);
  const collection = ctx.engine.catalog.collection(db, coll);
  if (entry.ui && (!collection || !collection.uuid.equals(entry.ui))) {
    throw new CommandError(
      3318200,
      `Namespace '${entry.ns}' and UUID '${entry.ui.toHexString(true)}' point to different collections`,
      { codeName: 'Location3318200' },
    );
  }
  const idSource = entry.op === 'u' ? entry.o2 : entry.o;
  if (!idSource || !('_id' in idSource))
    throw new CommandError(
      NO_SUCH_KEY,
      `Failed to apply ${entry.op === 'u' ? 'update' : entry.op === 'd' ? 'delete' : 'insert'} due to missing _id: ${describe(entry)}`,
    );
  return { collection, id: idSource._id };
}

function currentDocument(collection: Collection, id: unknown, overlay: Overlay): Document | undefined {
  const key = `${collection.ns}\u0000${keyString(id)}`;
  if (overlay.has(key)) return overlay.get(key) ?? undefined;
  const stored = collection.getById(id);
  return stored ? deserializeExact(stored.raw) : undefined;
}

/** Checks one CRUD entry against the data as earlier entries of the batch left it (`overlay`). */
function check(ctx: CommandContext, entry: Entry, overlay: Overlay, alwaysUpsert: boolean): void {
  if (entry.op === 'n') return;
  const { collection, id } = target(ctx, entry);
  if (!collection) {
    if (entry.op === 'd') return;
    throw new CommandError(
      ErrorCodes.NamespaceNotFound,
      `cannot apply insert or update operation on a non-existent namespace ${entry.ns}: ${describe(entry)}`,
    );
  }
  const key = `${collection.ns}\u0000${keyString(id)}`;
  const current = currentDocument(collection, id, overlay);
  if (entry.op === 'i') {
    if (current && !alwaysUpsert)
      throw new CommandError(
        ErrorCodes.DuplicateKey,
        `E11000 duplicate key error collection: ${collection.ns} index: _id_ dup key: { _id: ${JSON.stringify(id)} }`,
      );
    overlay.set(key, withIdFirst(entry.o));
  } else if (entry.op === 'u') {
    if (!current) {
      if (!(entry.b === true || alwaysUpsert))
        throw new CommandError(UPDATE_OPERATION_FAILED, `Couldn't find document: ${describe(entry)}`, {
          codeName: 'UpdateOperationFailed',
        });
      overlay.set(key, updatedDocument({ _id: id }, entry).doc);
    } else overlay.set(key, updatedDocument(current, entry).doc);
  } else if (entry.op === 'd') {
    overlay.set(key, null);
  }
}

/** Applies one CRUD entry for real, recording its write. */
function applyCrud(ctx: CommandContext, entry: Entry, alwaysUpsert: boolean): void {
  if (entry.op === 'n') return;
  const { collection, id } = target(ctx, entry);
  if (!collection) {
    if (entry.op === 'd') return;
    throw new CommandError(
      ErrorCodes.NamespaceNotFound,
      `cannot apply insert or update operation on a non-existent namespace ${entry.ns}: ${describe(entry)}`,
    );
  }
  const stored = collection.getById(id);
  const before = stored ? deserializeExact(stored.raw) : undefined;
  if (entry.op === 'i') {
    if (stored && before) {
      if (!alwaysUpsert)
        throw new CommandError(
          ErrorCodes.DuplicateKey,
          `E11000 duplicate key error collection: ${collection.ns} index: _id_ dup key: { _id: ${JSON.stringify(id)} }`,
        );
      writeNewVersion(ctx, collection, stored, before, withIdFirst(entry.o), 'replace');
    } else insertDocument(ctx, collection, entry.o);
  } else if (entry.op === 'u') {
    if (!stored || !before) {
      if (!(entry.b === true || alwaysUpsert))
        throw new CommandError(UPDATE_OPERATION_FAILED, `Couldn't find document: ${describe(entry)}`, {
          codeName: 'UpdateOperationFailed',
        });
      insertDocument(ctx, collection, updatedDocument({ _id: id }, entry).doc);
      return;
    }
    const { doc, kind } = updatedDocument(before, entry);
    if (!valuesEqual(doc._id, before._id))
      throw new CommandError(
        ErrorCodes.ImmutableField,
        "Performing an update on the path '_id' would modify the immutable field '_id'",
      );
    writeNewVersion(ctx, collection, stored, before, doc, kind);
  } else if (entry.op === 'd') {
    if (stored && before) deleteDocument(ctx, collection, stored, before);
  }
}

/** Applies a command entry: `create` (keeping a given `ui`) or `drop`. */
function applyCommand(ctx: CommandContext, entry: Entry): void {
  const { db, coll } = splitNs(entry.ns);
  if (coll !== '$cmd') throw new CommandError(ErrorCodes.InvalidNamespace, `invalid command ns: ${entry.ns}`);
  const [name] = Object.keys(entry.o);
  const { catalog } = ctx.engine;
  if (name === 'create') {
    const collName = entry.o.create;
    if (typeof collName !== 'string')
      throw new CommandError(ErrorCodes.TypeMismatch, "'create' must be a collection name");
    if (catalog.collection(db, collName) || catalog.view(db, collName))
      throw new CommandError(ErrorCodes.NamespaceExists, `Collection ${db}.${collName} already exists.`);
    if (entry.ui) {
      for (const database of catalog.databases.values())
        for (const existing of database.collections.values())
          if (existing.uuid.equals(entry.ui))
            throw new CommandError(
              ErrorCodes.NamespaceExists,
              `Cannot create collection ${db}.${collName} - collection with UUID ${entry.ui.toHexString(true)} already exists as ${existing.ns}`,
            );
    }
    const options: Document = {};
    for (const [key, value] of Object.entries(entry.o))
      if (key !== 'create' && key !== 'idIndex') options[key] = value;
    // Validates the names as a create would, then keeps the given UUID.
    const created = catalog.createCollection(db, collName, options);
    catalog.dropCollection(db, collName);
    const collection = new Collection(created.db, created.name, options, entry.ui ?? created.uuid);
    catalog.attach(collection);
    ctx.engine.recordWrite(
      ctx,
      {
        op: 'create',
        db,
        coll: collName,
        uuid: collection.uuid,
        operationDescription: { idIndex: { v: 2, key: { _id: 1 }, name: '_id_' }, ...options },
        size: 128,
      },
      () => catalog.dropCollection(db, collName),
    );
    return;
  }
  if (name === 'drop') {
    const collName = String(entry.o.drop);
    const existing = catalog.collection(db, collName);
    if (!existing) throw new CommandError(ErrorCodes.NamespaceNotFound, `ns not found: ${db}.${collName}`);
    catalog.dropCollection(db, collName);
    ctx.engine.recordWrite(ctx, { op: 'drop', db, coll: collName, uuid: existing.uuid, size: 64 });
    return;
  }
  throw new CommandError(
    ErrorCodes.BadValue,
    `applyOps: the emulator applies only create and drop commands, not '${String(name)}'`,
  );
}

export function applyOps(ctx: CommandContext): Document {
  const { command } = ctx;
  for (const field of ['prepare', 'partialTxn', 'count']) {
    if (command[field] !== undefined) {
      const code = field === 'prepare' ? ErrorCodes.BadValue : field === 'partialTxn' ? 31056 : 31240;
      throw new CommandError(code, `applyOps command can't have '${field}' field`);
    }
  }
  const entries = parseEntries(command.applyOps);
  const alwaysUpsert = command.alwaysUpsert === true;
  const crudOnly = entries.every((entry) => entry.op !== 'c');
  const results: boolean[] = [];
  const failed = (index: number, error: unknown): Document => {
    const reply = error instanceof CommandError ? error.toReply() : { code: 1, errmsg: String(error) };
    return {
      applied: new Int32(index + 1),
      code: reply.code,
      codeName: reply.codeName,
      errmsg: reply.errmsg,
      results: [...results, false],
      ok: 0,
    };
  };
  if (crudOnly) {
    const overlay: Overlay = new Map();
    for (let i = 0; i < entries.length; i++) {
      try {
        check(ctx, entries[i], overlay, alwaysUpsert);
      } catch (error) {
        results.length = 0;
        return failed(i, error);
      }
    }
  }
  let applied = 0;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    if (entry.op === 'n') continue;
    try {
      if (entry.op === 'c') applyCommand(ctx, entry);
      else applyCrud(ctx, entry, alwaysUpsert);
    } catch (error) {
      return failed(applied, error);
    }
    results.push(true);
    applied++;
  }
  return { applied: new Int32(applied), results, ok: 1 };
}
