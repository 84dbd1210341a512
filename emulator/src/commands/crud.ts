// insert, update, delete, findAndModify and 8.0's bulkWrite, with mongod's per-statement
// `writeErrors`, ordered/unordered semantics and user write blocking (371 per statement).
import { type Document, Int32, Long } from 'bson';
import { CommandError, ErrorCodes } from '../errors';
import { userWritesBlocked } from '../engine';
import { TransactionWait } from '../sessions';
import { compileProjection, compileSort, evaluateLet, resolveCollation, toNumber } from '../query';
import type { CommandContext, CommandTable } from './context';
import { scanCollection } from './scan';
import {
  computeUpdated,
  deleteDocument,
  insertDocument,
  performDelete,
  performUpdate,
  resolveCollectionForWrite,
  writeNewVersion,
  type UpdateSpec,
} from './writeOps';
import { validateCollectionName } from '../storage/catalog';

interface WriteError {
  index: number;
  code: number;
  codeName?: string;
  errmsg: string;
  [key: string]: unknown;
}

function toWriteError(index: number, error: unknown): WriteError {
  if (error instanceof CommandError) {
    return { index, code: error.code, errmsg: error.message, ...error.extra };
  }
  return {
    index,
    code: ErrorCodes.InternalError,
    errmsg: error instanceof Error ? error.message : String(error),
  };
}

export function collectionNameOf(ctx: CommandContext): string {
  const name = ctx.command[ctx.commandName];
  if (typeof name !== 'string') {
    throw new CommandError(ErrorCodes.InvalidNamespace, `collection name has invalid type ${typeof name}`);
  }
  return validateCollectionName(ctx.dbName, name);
}

/**
 * Runs statements one by one, collecting write errors; ordered stops at the first error. A
 * statement that met a document an open transaction changed (it changed nothing) waits for that
 * transaction to end and runs again.
 */
async function runStatements<T>(
  ctx: CommandContext,
  statements: T[],
  db: string,
  apply: (statement: T, index: number) => void,
): Promise<WriteError[]> {
  const ordered = ctx.command.ordered !== false;
  const errors: WriteError[] = [];
  const blocked = ctx.engine.writesBlockedFor(ctx.conn, db);
  for (let index = 0; index < statements.length; index++) {
    try {
      if (blocked) throw userWritesBlocked();
      apply(statements[index], index);
    } catch (error) {
      if (error instanceof TransactionWait) {
        await ctx.engine.waitForTransactionEnd(error.owner);
        index--;
        continue;
      }
      if (ctx.transaction) throw error; // inside a transaction a write error aborts the command
      errors.push(toWriteError(index, error));
      if (ordered) break;
    }
  }
  return errors;
}

function withWriteErrors(reply: Document, errors: WriteError[]): Document {
  if (errors.length > 0) reply.writeErrors = errors;
  return reply;
}

async function insert(ctx: CommandContext): Promise<Document> {
  const collName = collectionNameOf(ctx);
  const documents = ctx.command.documents;
  if (!Array.isArray(documents))
    throw new CommandError(
      ErrorCodes.FailedToParse,
      "BSON field 'insert.documents' is missing but a required field",
    );
  let n = 0;
  const errors = await runStatements(ctx, documents as Document[], ctx.dbName, (doc) => {
    const collection = resolveCollectionForWrite(ctx, ctx.dbName, collName);
    insertDocument(ctx, collection, doc);
    n++;
  });
  return withWriteErrors({ n, ok: 1 }, errors);
}

function parseUpdateStatement(statement: Document): UpdateSpec {
  if (statement.q === undefined || typeof statement.q !== 'object')
    throw new CommandError(
      ErrorCodes.FailedToParse,
      "BSON field 'update.updates.q' is missing but a required field",
    );
  if (statement.u === undefined || typeof statement.u !== 'object')
    throw new CommandError(
      ErrorCodes.FailedToParse,
      "BSON field 'update.updates.u' is missing but a required field",
    );
  return {
    q: statement.q as Document,
    u: statement.u as Document | Document[],
    upsert: statement.upsert === true,
    multi: statement.multi === true,
    arrayFilters: statement.arrayFilters as Document[] | undefined,
    sort: statement.sort as Document | undefined,
    collation: statement.collation,
  };
}

async function update(ctx: CommandContext): Promise<Document> {
  const collName = collectionNameOf(ctx);
  const statements = ctx.command.updates;
  if (!Array.isArray(statements))
    throw new CommandError(
      ErrorCodes.FailedToParse,
      "BSON field 'update.updates' is missing but a required field",
    );
  let n = 0;
  let nModified = 0;
  const upserted: Document[] = [];
  const errors = await runStatements(ctx, statements as Document[], ctx.dbName, (statement, index) => {
    const spec = parseUpdateStatement(statement);
    spec.variables = evaluateLet(ctx.command.let as Document | undefined);
    if (spec.multi && !Array.isArray(spec.u) && !Object.keys(spec.u).some((key) => key.startsWith('$'))) {
      throw new CommandError(
        ErrorCodes.FailedToParse,
        'multi update is not supported for replacement-style update',
      );
    }
    const outcome = performUpdate(ctx, ctx.dbName, collName, spec);
    n += outcome.n;
    nModified += outcome.nModified;
    if (outcome.upsertedId !== undefined) {
      n++;
      upserted.push({ index: new Int32(index), _id: outcome.upsertedId });
    }
  });
  const reply: Document = { n, nModified };
  if (upserted.length > 0) reply.upserted = upserted;
  reply.ok = 1;
  return withWriteErrors(reply, errors);
}

async function remove(ctx: CommandContext): Promise<Document> {
  const collName = collectionNameOf(ctx);
  const statements = ctx.command.deletes;
  if (!Array.isArray(statements))
    throw new CommandError(
      ErrorCodes.FailedToParse,
      "BSON field 'delete.deletes' is missing but a required field",
    );
  let n = 0;
  const errors = await runStatements(ctx, statements as Document[], ctx.dbName, (statement) => {
    const limit = toNumber(statement.limit);
    if (limit !== 0 && limit !== 1)
      throw new CommandError(ErrorCodes.FailedToParse, 'The limit field in delete objects must be 0 or 1.');
    const filter = (statement.q as Document) ?? {};
    n += performDelete(
      ctx,
      ctx.dbName,
      collName,
      filter,
      limit,
      evaluateLet(ctx.command.let as Document | undefined),
      statement.collation,
    );
  });
  return withWriteErrors({ n, ok: 1 }, errors);
}

function findAndModify(ctx: CommandContext): Document {
  const { command, dbName } = ctx;
  const collName = collectionNameOf(ctx);
  if (ctx.engine.writesBlockedFor(ctx.conn, dbName)) throw userWritesBlocked();
  const query = (command.query as Document | undefined) ?? {};
  const removeDoc = command.remove === true;
  const updateDoc = command.update as Document | Document[] | undefined;
  if (removeDoc === (updateDoc !== undefined)) {
    throw new CommandError(ErrorCodes.FailedToParse, 'Either an update or remove=true must be specified');
  }
  if (removeDoc && command.upsert === true)
    throw new CommandError(ErrorCodes.FailedToParse, 'Cannot specify both upsert=true and remove=true');
  const returnNew = command.new === true;
  const project = command.fields
    ? compileProjection(command.fields as Document, { query })
    : (doc: Document) => doc;
  const collection = ctx.engine.catalog.collection(dbName, collName);
  if (!collection && ctx.engine.catalog.view(dbName, collName)) {
    throw new CommandError(
      ErrorCodes.CommandNotSupportedOnView,
      `Namespace ${dbName}.${collName} is a view, not a collection`,
    );
  }
  const collation = resolveCollation(command.collation, collection?.options.collation);
  const sort = command.sort ? compileSort(command.sort as Document, collation) : undefined;
  const variables = evaluateLet(command.let as Document | undefined);
  const [match] = collection
    ? scanCollection(collection.readView(ctx.transaction), query, { sort, limit: 1, variables, collation })
    : [];

  if (removeDoc) {
    if (!match || !collection) return { lastErrorObject: { n: 0 }, value: null, ok: 1 };
    deleteDocument(ctx, collection, match.stored, match.doc);
    return { lastErrorObject: { n: 1 }, value: project(match.doc), ok: 1 };
  }
  const spec: UpdateSpec = {
    q: query,
    u: updateDoc!,
    upsert: command.upsert === true,
    arrayFilters: command.arrayFilters as Document[] | undefined,
    variables,
    collation: command.collation,
  };
  if (match && collection) {
    const next = computeUpdated(match.doc, spec, false);
    if (next.modified) writeNewVersion(ctx, collection, match.stored, match.doc, next.doc, next.kind);
    return {
      lastErrorObject: { n: 1, updatedExisting: true },
      value: project(returnNew ? next.doc : match.doc),
      ok: 1,
    };
  }
  if (!spec.upsert) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
  const outcome = performUpdate(ctx, dbName, collName, spec);
  return {
    lastErrorObject: { n: 1, updatedExisting: false, upserted: outcome.upsertedId },
    value: returnNew && outcome.after ? project(outcome.after) : null,
    ok: 1,
  };
}

/** MongoDB 8.0's cross-namespace `bulkWrite` (run on admin). */
async function bulkWrite(ctx: CommandContext): Promise<Document> {
  const { command } = ctx;
  const ops = command.ops as Document[] | undefined;
  const nsInfo = command.nsInfo as Document[] | undefined;
  if (!Array.isArray(ops) || !Array.isArray(nsInfo))
    throw new CommandError(
      ErrorCodes.FailedToParse,
      "BSON field 'bulkWrite.ops' is missing but a required field",
    );
  const ordered = command.ordered !== false;
  const errorsOnly = command.errorsOnly === true;
  const counters = { nErrors: 0, nInserted: 0, nMatched: 0, nModified: 0, nUpserted: 0, nDeleted: 0 };
  const results: Document[] = [];
  for (let idx = 0; idx < ops.length; idx++) {
    const op = ops[idx];
    const [kind] = Object.keys(op);
    const ns = nsInfo[toNumber(op[kind]) ?? -1]?.ns as string | undefined;
    try {
      if (!ns)
        throw new CommandError(ErrorCodes.BadValue, `BulkWrite ops entry ${idx} has an invalid nsInfo index`);
      const dot = ns.indexOf('.');
      const db = ns.slice(0, dot);
      const coll = ns.slice(dot + 1);
      if (ctx.engine.writesBlockedFor(ctx.conn, db)) throw userWritesBlocked();
      const opCtx: CommandContext = { ...ctx, dbName: db };
      if (kind === 'insert') {
        insertDocument(opCtx, resolveCollectionForWrite(opCtx, db, coll), op.document as Document);
        counters.nInserted++;
        if (!errorsOnly) results.push({ ok: 1, idx: new Int32(idx), n: new Int32(1) });
      } else if (kind === 'update') {
        const outcome = performUpdate(opCtx, db, coll, {
          q: op.filter as Document,
          u: op.updateMods as Document | Document[],
          upsert: op.upsert === true,
          multi: op.multi === true,
          arrayFilters: op.arrayFilters as Document[] | undefined,
          sort: op.sort as Document | undefined,
          variables: evaluateLet(command.let as Document | undefined),
          collation: op.collation,
        });
        counters.nMatched += outcome.n;
        counters.nModified += outcome.nModified;
        if (outcome.upsertedId !== undefined) counters.nUpserted++;
        if (!errorsOnly) {
          const result: Document = {
            ok: 1,
            idx: new Int32(idx),
            n: new Int32(outcome.n + (outcome.upsertedId !== undefined ? 1 : 0)),
            nModified: new Int32(outcome.nModified),
          };
          if (outcome.upsertedId !== undefined) result.upserted = { _id: outcome.upsertedId };
          results.push(result);
        }
      } else if (kind === 'delete') {
        const n = performDelete(
          opCtx,
          db,
          coll,
          op.filter as Document,
          op.multi === true ? 0 : 1,
          evaluateLet(command.let as Document | undefined),
          op.collation,
        );
        counters.nDeleted += n;
        if (!errorsOnly) results.push({ ok: 1, idx: new Int32(idx), n: new Int32(n) });
      } else {
        throw new CommandError(ErrorCodes.FailedToParse, `Unrecognized bulkWrite op '${kind}'`);
      }
    } catch (error) {
      if (error instanceof TransactionWait) {
        // The op changed nothing: wait for the transaction that owns its document, then rerun it.
        await ctx.engine.waitForTransactionEnd(error.owner);
        idx--;
        continue;
      }
      if (ctx.transaction) throw error;
      const failure =
        error instanceof CommandError ? error : new CommandError(ErrorCodes.InternalError, String(error));
      counters.nErrors++;
      results.push({
        ok: 0,
        idx: new Int32(idx),
        code: failure.code,
        codeName: failure.codeName,
        errmsg: failure.message,
        n: new Int32(0),
        ...failure.extra,
      });
      if (ordered) break;
    }
  }
  return {
    cursor: { id: Long.fromNumber(0), firstBatch: results, ns: 'admin.$cmd.bulkWrite' },
    ...Object.fromEntries(Object.entries(counters).map(([key, value]) => [key, new Int32(value)])),
    ok: 1,
  };
}

export const crudCommands: CommandTable = {
  insert,
  update,
  delete: remove,
  findAndModify,
  findandmodify: findAndModify,
  bulkWrite,
};
