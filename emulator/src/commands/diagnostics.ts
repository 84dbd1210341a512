// Diagnostic commands: dbHash (as dbhash.cpp computes it), dataSize, currentOp and killOp.
import { createHash } from 'node:crypto';
import { type Document, Int32, Long } from 'bson';
import { deserializeExact } from '../bson';
import { CommandError, ErrorCodes } from '../errors';
import { compareValues, compileFilter, getPathValues, toNumber } from '../query';
import { operationsOf } from '../operations';
import { explain } from './explain';
import type { Collection } from '../storage/collection';
import type { CommandContext, CommandTable } from './context';

/** Collections dbHash leaves out, as mongod does (not replicated, or temporary). */
function skippedByDbHash(db: string, name: string): boolean {
  return db === 'local' || name.startsWith('tmp.mr.') || (db === 'config' && name === 'system.sessions');
}

/** md5 over the collection's documents' BSON in `_id` order (natural order when there is no _id index). */
export function collectionHash(collection: Collection, ctx: CommandContext): string {
  const md5 = createHash('md5');
  const view = collection.readView(ctx.transaction);
  const hasIdIndex = collection.indexes.some((index) => index.name === '_id_');
  if (!hasIdIndex && !collection.isCapped) return 'no _id _index';
  for (const stored of hasIdIndex ? view.idOrder() : view.naturalOrder()) md5.update(stored.raw);
  return md5.digest('hex');
}

function dbHash(ctx: CommandContext): Document {
  const { command, dbName, engine } = ctx;
  const wanted = command.collections;
  if (wanted !== undefined && !(Array.isArray(wanted) && wanted.every((name) => typeof name === 'string')))
    throw new CommandError(ErrorCodes.BadValue, "'collections' must be an array of strings");
  const database = engine.catalog.database(dbName);
  const names = [...(database?.collections.keys() ?? [])]
    .filter((name) => !skippedByDbHash(dbName, name))
    .filter((name) => !wanted || (wanted as string[]).includes(name))
    .sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : Buffer.from(a) > Buffer.from(b) ? 1 : 0));
  const started = Date.now();
  const collections: Document = {};
  const uuids: Document = {};
  const capped: string[] = [];
  const overall = createHash('md5');
  for (const name of names) {
    const collection = database!.collections.get(name)!;
    if (collection.isCapped) capped.push(name);
    uuids[name] = collection.uuid;
    const hash = collectionHash(collection, ctx);
    collections[name] = hash;
    overall.update(hash);
  }
  return {
    host: engine.options.hostAndPort,
    collections,
    capped,
    uuids,
    md5: overall.digest('hex'),
    timeMillis: new Int32(Date.now() - started),
    ok: 1,
  };
}

function count32(n: number): Int32 | Long {
  return Math.abs(n) < 2 ** 31 ? new Int32(n) : Long.fromNumber(n);
}

/** dataSize: bytes and count of a collection's documents, or of those whose keyPattern field lies in [min, max). */
function dataSize(ctx: CommandContext): Document {
  const { command, engine } = ctx;
  const ns = command.dataSize;
  if (typeof ns !== 'string')
    throw new CommandError(
      ErrorCodes.TypeMismatch,
      "BSON field 'dataSize.dataSize' is the wrong type, expected type 'string'",
    );
  const dot = ns.indexOf('.');
  if (dot <= 0) throw new CommandError(ErrorCodes.InvalidNamespace, `Invalid namespace specified '${ns}'`);
  const started = Date.now();
  const collection = engine.catalog.collection(ns.slice(0, dot), ns.slice(dot + 1));
  const reply = (size: number, numObjects: number): Document => ({
    estimate: false,
    size: count32(size),
    numObjects: count32(numObjects),
    millis: new Int32(Date.now() - started),
    ok: 1,
  });
  if (!collection) return reply(0, 0);
  const keyPattern = command.keyPattern as Document | undefined;
  const min = command.min as Document | undefined;
  const max = command.max as Document | undefined;
  const field = keyPattern ? Object.keys(keyPattern)[0] : undefined;
  if ((min || max) && !field)
    throw new CommandError(ErrorCodes.BadValue, 'only key pattern ranges are supported by dataSize');
  let size = 0;
  let numObjects = 0;
  const maxObjects = toNumber(command.maxObjects) ?? Infinity;
  for (const stored of collection.readView(ctx.transaction).naturalOrder()) {
    if (field) {
      const value = getPathValues(deserializeExact(stored.raw), field)[0] ?? null;
      if (min && compareValues(value, min[field]) < 0) continue;
      if (max && compareValues(value, max[field]) >= 0) continue;
    }
    size += stored.raw.length;
    numObjects++;
    if (numObjects > maxObjects) return { ...reply(size, numObjects), maxReached: true };
  }
  return reply(size, numObjects);
}

const CURRENT_OP_OPTIONS = new Set([
  'currentOp',
  '$all',
  '$ownOps',
  '$db',
  'lsid',
  '$clusterTime',
  'comment',
  '$readPreference',
  'apiVersion',
  'apiStrict',
  'apiDeprecationErrors',
]);

/** currentOp: the operations in progress (this one included), filtered by the command's other fields. */
function currentOp(ctx: CommandContext): Document {
  const filter: Document = {};
  for (const [key, value] of Object.entries(ctx.command))
    if (!CURRENT_OP_OPTIONS.has(key)) filter[key] = value;
  const matches = compileFilter(filter);
  let ops = operationsOf(ctx.engine).describe(ctx.engine.options.hostAndPort);
  if (ctx.command.$ownOps === true) ops = ops.filter((op) => op.connectionId.value === ctx.conn.id);
  return { inprog: ops.filter((op) => matches(op)), ok: 1 };
}

/** killOp: interrupts the operation with the given opid (mongod answers the same whether or not it runs). */
function killOp(ctx: CommandContext): Document {
  if (ctx.dbName !== 'admin')
    throw new CommandError(ErrorCodes.Unauthorized, 'killOp may only be run against the admin database.');
  const opid = toNumber(ctx.command.op);
  if (opid === undefined) throw new CommandError(ErrorCodes.TypeMismatch, 'Did not provide "op" field');
  const killed = operationsOf(ctx.engine).kill(opid);
  // An interrupted getMore's cursor is killed with it, as in mongod.
  if (killed && killed.commandName.toLowerCase() === 'getmore' && killed.command.getMore instanceof Long)
    ctx.engine.closeCursor(killed.command.getMore);
  return { info: 'attempting to kill op', ok: 1 };
}

export const diagnosticCommands: CommandTable = {
  explain,
  currentOp,
  killOp,
  dbHash,
  dbhash: dbHash,
  dataSize,
  datasize: dataSize,
};
