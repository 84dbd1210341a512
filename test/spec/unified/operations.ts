// The entity operations and special test operations the unified format defines, mapped onto the
// Node driver's API, with results converted to documents as the format requires.
import {
  AbstractCursor,
  BulkWriteResult,
  ChangeStream,
  ClientBulkWriteResult,
  ClientSession,
  Collection,
  Db,
  type AnyBulkWriteOperation,
  type AnyClientBulkWriteModel,
  type Document,
} from 'mongodb';
import { ClientEntity, EntityMap, UnsupportedFeature, driverOptions } from './entities';

export interface OperationContext {
  entities: EntityMap;
  /**
   * Runs one operation of a withTransaction callback with its result and error assertions; an
   * error the operation raised propagates (even when expected), so withTransaction sees it.
   */
  runCallbackOperation(operation: Document, index: number): Promise<void>;
  /** Records a fail point to disable after the test. */
  recordFailPoint(client: ClientEntity, name: string): void;
  /** Checks that a collection/index exists, through the internal client. */
  internalDb(name: string): Db;
}

/** An operation's outcome: a value, and whether its elements are root-level documents. */
export interface OperationResult {
  value: unknown;
  iterable?: boolean;
}

/** Resolves `session` and the common read/write options of an operation's arguments. */
function options(ctx: OperationContext, args: Document, exclude: string[]): Document {
  const out: Document = {};
  for (const [key, value] of Object.entries(args)) {
    if (exclude.includes(key)) continue;
    if (key === 'session') out.session = ctx.entities.session(value as string);
    else if (key === 'readConcern' || key === 'readPreference' || key === 'writeConcern')
      Object.assign(out, driverOptions({ [key]: value }));
    else if (key === 'returnDocument') out.returnDocument = String(value).toLowerCase();
    else out[key] = value;
  }
  return out;
}

export function bulkWriteResultDocument(result: BulkWriteResult): Document {
  return {
    deletedCount: result.deletedCount,
    insertedCount: result.insertedCount,
    insertedIds: result.insertedIds,
    matchedCount: result.matchedCount,
    modifiedCount: result.modifiedCount,
    upsertedCount: result.upsertedCount,
    upsertedIds: result.upsertedIds,
  };
}

function mapToDocument(map: ReadonlyMap<number, unknown> | undefined): Document | undefined {
  if (!map) return undefined;
  const out: Document = {};
  for (const [key, value] of map) out[String(key)] = value;
  return out;
}

export function clientBulkWriteResultDocument(result: ClientBulkWriteResult): Document {
  const out: Document = {
    acknowledged: result.acknowledged,
    insertedCount: result.insertedCount,
    upsertedCount: result.upsertedCount,
    matchedCount: result.matchedCount,
    modifiedCount: result.modifiedCount,
    deletedCount: result.deletedCount,
  };
  const inserts = mapToDocument(result.insertResults);
  // UpdateResult in the CRUD spec is {matchedCount, modifiedCount, upsertedId?}; the driver's
  // extra `didUpsert` flag is not part of the model.
  const updates = mapToDocument(
    result.updateResults &&
      new Map(
        [...result.updateResults].map(([index, update]) => {
          const { didUpsert: _didUpsert, ...rest } = update as unknown as Document;
          return [index, rest];
        }),
      ),
  );
  const deletes = mapToDocument(result.deleteResults);
  if (inserts) out.insertResults = inserts;
  if (updates) out.updateResults = updates;
  if (deletes) out.deleteResults = deletes;
  return out;
}

function bulkRequest(request: Document): AnyBulkWriteOperation {
  const [name] = Object.keys(request);
  const spec = request[name] as Document;
  switch (name) {
    case 'insertOne':
      return { insertOne: { document: spec.document as Document } };
    case 'updateOne':
    case 'updateMany':
    case 'replaceOne':
    case 'deleteOne':
    case 'deleteMany':
      return { [name]: spec } as unknown as AnyBulkWriteOperation;
    default:
      throw new UnsupportedFeature(`bulkWrite request ${name}`);
  }
}

function clientBulkModel(model: Document): AnyClientBulkWriteModel<Document> {
  const [name] = Object.keys(model);
  if (!['insertOne', 'updateOne', 'updateMany', 'replaceOne', 'deleteOne', 'deleteMany'].includes(name))
    throw new UnsupportedFeature(`clientBulkWrite model ${name}`);
  return { name, ...(model[name] as Document) } as AnyClientBulkWriteModel<Document>;
}

async function createChangeStream(
  watchable: { watch(p: Document[], o: Document): ChangeStream },
  args: Document,
  ctx: OperationContext,
): Promise<ChangeStream> {
  const stream = watchable.watch(
    (args.pipeline as Document[] | undefined) ?? [],
    options(ctx, args, ['pipeline']),
  );
  // The format requires the server-side cursor to exist once the operation returns.
  await (stream as unknown as { cursor: { cursorInit(): Promise<void> } }).cursor.cursorInit();
  return stream;
}

async function collectionOperation(
  ctx: OperationContext,
  coll: Collection,
  name: string,
  args: Document,
): Promise<OperationResult> {
  switch (name) {
    case 'aggregate':
      return {
        value: await coll.aggregate(args.pipeline as Document[], options(ctx, args, ['pipeline'])).toArray(),
        iterable: true,
      };
    case 'bulkWrite': {
      const requests = (args.requests as Document[]).map(bulkRequest);
      return {
        value: bulkWriteResultDocument(await coll.bulkWrite(requests, options(ctx, args, ['requests']))),
      };
    }
    case 'count':
      return {
        value: await coll.count((args.filter as Document | undefined) ?? {}, options(ctx, args, ['filter'])),
      };
    case 'countDocuments':
      return { value: await coll.countDocuments(args.filter as Document, options(ctx, args, ['filter'])) };
    case 'estimatedDocumentCount':
      return { value: await coll.estimatedDocumentCount(options(ctx, args, [])) };
    case 'createChangeStream':
    case 'watch':
      return { value: await createChangeStream(coll, args, ctx) };
    case 'createFindCursor': {
      const cursor = coll.find((args.filter as Document | undefined) ?? {}, options(ctx, args, ['filter']));
      await (cursor as unknown as { cursorInit(): Promise<void> }).cursorInit();
      return { value: cursor };
    }
    case 'createIndex':
      return { value: await coll.createIndex(args.keys as Document, options(ctx, args, ['keys'])) };
    case 'dropIndex':
      return { value: await coll.dropIndex(args.name as string, options(ctx, args, ['name'])) };
    case 'listIndexes':
      return { value: await coll.listIndexes(options(ctx, args, [])).toArray(), iterable: true };
    case 'deleteOne':
      return { value: await coll.deleteOne(args.filter as Document, options(ctx, args, ['filter'])) };
    case 'deleteMany':
      return { value: await coll.deleteMany(args.filter as Document, options(ctx, args, ['filter'])) };
    case 'distinct':
      return {
        value: await coll.distinct(
          args.fieldName as string,
          args.filter as Document,
          options(ctx, args, ['fieldName', 'filter']),
        ),
      };
    case 'drop':
      return { value: await coll.drop(options(ctx, args, [])) };
    case 'find':
      return {
        value: await coll.find(args.filter as Document, options(ctx, args, ['filter'])).toArray(),
        iterable: true,
      };
    case 'findOne':
      return { value: await coll.findOne(args.filter as Document, options(ctx, args, ['filter'])) };
    case 'findOneAndDelete':
      return { value: await coll.findOneAndDelete(args.filter as Document, options(ctx, args, ['filter'])) };
    case 'findOneAndReplace':
      return {
        value: await coll.findOneAndReplace(
          args.filter as Document,
          args.replacement as Document,
          options(ctx, args, ['filter', 'replacement']),
        ),
      };
    case 'findOneAndUpdate':
      return {
        value: await coll.findOneAndUpdate(
          args.filter as Document,
          args.update as Document,
          options(ctx, args, ['filter', 'update']),
        ),
      };
    case 'insertMany': {
      const result = await coll.insertMany(args.documents as Document[], options(ctx, args, ['documents']));
      return {
        value: {
          acknowledged: result.acknowledged,
          insertedCount: result.insertedCount,
          insertedIds: result.insertedIds,
        },
      };
    }
    case 'insertOne':
      return { value: await coll.insertOne(args.document as Document, options(ctx, args, ['document'])) };
    case 'rename':
      await coll.rename(args.to as string, options(ctx, args, ['to']));
      return { value: undefined };
    case 'replaceOne':
      return {
        value: await coll.replaceOne(
          args.filter as Document,
          args.replacement as Document,
          options(ctx, args, ['filter', 'replacement']),
        ),
      };
    case 'updateOne':
      return {
        value: await coll.updateOne(
          args.filter as Document,
          args.update as Document,
          options(ctx, args, ['filter', 'update']),
        ),
      };
    case 'updateMany':
      return {
        value: await coll.updateMany(
          args.filter as Document,
          args.update as Document,
          options(ctx, args, ['filter', 'update']),
        ),
      };
    default:
      throw new UnsupportedFeature(`collection operation ${name}`);
  }
}

async function databaseOperation(
  ctx: OperationContext,
  db: Db,
  name: string,
  args: Document,
): Promise<OperationResult> {
  switch (name) {
    case 'aggregate':
      return {
        value: await db.aggregate(args.pipeline as Document[], options(ctx, args, ['pipeline'])).toArray(),
        iterable: true,
      };
    case 'createChangeStream':
    case 'watch':
      return { value: await createChangeStream(db, args, ctx) };
    case 'runCommand':
      return {
        value: await db.command(args.command as Document, options(ctx, args, ['command', 'commandName'])),
      };
    case 'createCollection':
      return {
        value: await db.createCollection(args.collection as string, options(ctx, args, ['collection'])),
      };
    case 'dropCollection':
      return {
        value: await db.dropCollection(args.collection as string, options(ctx, args, ['collection'])),
      };
    case 'modifyCollection':
      return {
        value: await db.command({
          collMod: args.collection as string,
          ...options(ctx, args, ['collection', 'session']),
        }),
      };
    case 'listCollections':
      return {
        value: await db
          .listCollections(args.filter as Document | undefined, options(ctx, args, ['filter']))
          .toArray(),
        iterable: true,
      };
    case 'listCollectionNames':
      return {
        value: (
          await db
            .listCollections(args.filter as Document | undefined, {
              ...options(ctx, args, ['filter']),
              nameOnly: true,
            })
            .toArray()
        ).map((c) => c.name),
      };
    default:
      throw new UnsupportedFeature(`database operation ${name}`);
  }
}

async function clientOperation(
  ctx: OperationContext,
  entity: ClientEntity,
  name: string,
  args: Document,
): Promise<OperationResult> {
  switch (name) {
    case 'createChangeStream':
    case 'watch':
      return { value: await createChangeStream(entity.client, args, ctx) };
    case 'clientBulkWrite': {
      const models = (args.models as Document[]).map(clientBulkModel);
      return {
        value: clientBulkWriteResultDocument(
          await entity.client.bulkWrite(models, options(ctx, args, ['models'])),
        ),
      };
    }
    case 'listDatabases':
      return {
        value: (
          await entity.client
            .db('admin')
            .admin()
            .listDatabases(options(ctx, args, []))
        ).databases,
        iterable: true,
      };
    case 'close':
      await entity.client.close();
      return { value: undefined };
    default:
      throw new UnsupportedFeature(`client operation ${name}`);
  }
}

async function cursorOperation(
  cursor: ChangeStream | AbstractCursor,
  name: string,
): Promise<OperationResult> {
  switch (name) {
    case 'iterateUntilDocumentOrError':
      return { value: await cursor.next() };
    case 'iterateOnce':
      return { value: await cursor.tryNext() };
    case 'close':
      await cursor.close().catch(() => undefined);
      return { value: undefined };
    default:
      throw new UnsupportedFeature(`cursor operation ${name}`);
  }
}

/** The format's transaction state names, from the driver's. */
const TRANSACTION_STATES: Record<string, string[]> = {
  none: ['NO_TRANSACTION'],
  starting: ['STARTING_TRANSACTION'],
  in_progress: ['TRANSACTION_IN_PROGRESS'],
  committed: ['TRANSACTION_COMMITTED', 'TRANSACTION_COMMITTED_EMPTY'],
  aborted: ['TRANSACTION_ABORTED'],
};

/** The driver's transaction state of a session (`ClientSession.transaction.state`). */
export function sessionTransactionState(session: ClientSession): string {
  return (session as unknown as { transaction: { state: string } }).transaction.state;
}

/** Whether the driver's state matches the format's `none`, `starting`, `in_progress`, … */
export function transactionStateMatches(expected: string, driverState: string): boolean {
  const names = TRANSACTION_STATES[expected];
  if (!names) throw new Error(`unknown transaction state ${expected}`);
  return names.includes(driverState);
}

/** Whether the driver marked the session's server session dirty (a network error in it). */
function sessionIsDirty(session: ClientSession): boolean {
  return (session as unknown as { serverSession?: { isDirty?: boolean } }).serverSession?.isDirty === true;
}

async function sessionOperation(
  ctx: OperationContext,
  session: ClientSession,
  name: string,
  args: Document,
): Promise<OperationResult> {
  switch (name) {
    case 'startTransaction':
      session.startTransaction(driverOptions(args));
      return { value: undefined };
    case 'commitTransaction':
      await session.commitTransaction(driverOptions(args));
      return { value: undefined };
    case 'abortTransaction':
      await session.abortTransaction(driverOptions(args));
      return { value: undefined };
    case 'endSession':
      await session.endSession();
      return { value: undefined };
    case 'withTransaction': {
      const { callback, ...rest } = args;
      const operations = (callback as Document[] | undefined) ?? [];
      await session.withTransaction(async () => {
        for (const [index, operation] of operations.entries())
          await ctx.runCallbackOperation(operation, index);
      }, driverOptions(rest));
      return { value: undefined };
    }
    case 'getSnapshotTime':
      return { value: (session as unknown as { snapshotTime?: unknown }).snapshotTime };
    default:
      throw new UnsupportedFeature(`session operation ${name}`);
  }
}

/** The lsid of the last two commandStartedEvents a client observed. */
function lastTwoLsids(entity: ClientEntity): [Document, Document] {
  const started = entity.events.filter((event) => event.type === 'commandStartedEvent');
  if (started.length < 2) throw new Error(`fewer than two commands observed (${started.length})`);
  const [a, b] = started.slice(-2).map((event) => event.command?.lsid as Document | undefined);
  if (!a || !b) throw new Error('one of the last two commands has no lsid');
  return [a, b];
}

function lsidHex(lsid: Document): string {
  const id = lsid.id as { buffer?: Uint8Array } | undefined;
  return id?.buffer ? Buffer.from(id.buffer).toString('hex') : JSON.stringify(lsid);
}

async function testRunnerOperation(
  ctx: OperationContext,
  name: string,
  args: Document,
): Promise<OperationResult> {
  switch (name) {
    case 'failPoint': {
      const entity = ctx.entities.client(args.client as string);
      const command = args.failPoint as Document;
      await entity.unobserved(() => entity.client.db('admin').command(command));
      ctx.recordFailPoint(entity, command.configureFailPoint as string);
      return { value: undefined };
    }
    case 'targetedFailPoint': {
      // The fail point goes to the mongos the session is pinned to; the format requires an error
      // when the session is not pinned (always so on a replica set).
      const session = ctx.entities.session(args.session as string);
      if (!session.isPinned) throw new Error('targetedFailPoint: the session is not pinned to a mongos');
      const entity = ctx.entities.clientOfSession(args.session as string);
      const command = args.failPoint as Document;
      await entity.unobserved(() => entity.client.db('admin').command(command));
      ctx.recordFailPoint(entity, command.configureFailPoint as string);
      return { value: undefined };
    }
    case 'assertSessionTransactionState': {
      const state = sessionTransactionState(ctx.entities.session(args.session as string));
      if (!transactionStateMatches(String(args.state), state))
        throw new Error(`${name}: expected ${String(args.state)}, the session is in ${state}`);
      return { value: undefined };
    }
    case 'assertSessionPinned':
    case 'assertSessionUnpinned': {
      const pinned = ctx.entities.session(args.session as string).isPinned;
      if (pinned !== (name === 'assertSessionPinned'))
        throw new Error(`${name}: the session is ${pinned ? '' : 'not '}pinned`);
      return { value: undefined };
    }
    case 'assertSessionDirty':
    case 'assertSessionNotDirty': {
      const dirty = sessionIsDirty(ctx.entities.session(args.session as string));
      if (dirty !== (name === 'assertSessionDirty'))
        throw new Error(`${name}: the session is ${dirty ? '' : 'not '}dirty`);
      return { value: undefined };
    }
    case 'assertSameLsidOnLastTwoCommands':
    case 'assertDifferentLsidOnLastTwoCommands': {
      const [a, b] = lastTwoLsids(ctx.entities.client(args.client as string));
      const same = lsidHex(a) === lsidHex(b);
      if (same !== (name === 'assertSameLsidOnLastTwoCommands'))
        throw new Error(
          `${name}: the lsids are ${same ? 'the same' : 'different'} (${lsidHex(a)}, ${lsidHex(b)})`,
        );
      return { value: undefined };
    }
    case 'createEntities':
      ctx.entities.create(args.entities as Document[]);
      return { value: undefined };
    case 'assertCollectionExists':
    case 'assertCollectionNotExists': {
      const names = (
        await ctx
          .internalDb(args.databaseName as string)
          .listCollections({}, { nameOnly: true })
          .toArray()
      ).map((c) => c.name);
      const exists = names.includes(args.collectionName as string);
      if (exists !== (name === 'assertCollectionExists'))
        throw new Error(`${name}: ${String(args.databaseName)}.${String(args.collectionName)}`);
      return { value: undefined };
    }
    case 'assertIndexExists':
    case 'assertIndexNotExists': {
      const indexes = await ctx
        .internalDb(args.databaseName as string)
        .collection(args.collectionName as string)
        .listIndexes()
        .toArray()
        .catch(() => [] as Document[]);
      const exists = indexes.some((index) => index.name === args.indexName);
      if (exists !== (name === 'assertIndexExists')) throw new Error(`${name}: ${String(args.indexName)}`);
      return { value: undefined };
    }
    case 'wait':
      await new Promise((resolve) => setTimeout(resolve, Number(args.ms)));
      return { value: undefined };
    default:
      throw new UnsupportedFeature(`test runner operation ${name}`);
  }
}

/** Executes one operation of a test against its target entity. */
export async function executeOperation(ctx: OperationContext, operation: Document): Promise<OperationResult> {
  const name = operation.name as string;
  const args = (operation.arguments as Document | undefined) ?? {};
  if (operation.object === 'testRunner') return testRunnerOperation(ctx, name, args);
  const target = ctx.entities.get(operation.object as string);
  if (target instanceof ClientEntity) return clientOperation(ctx, target, name, args);
  if (target instanceof Db) return databaseOperation(ctx, target, name, args);
  if (target instanceof Collection) return collectionOperation(ctx, target, name, args);
  if (target instanceof ChangeStream || target instanceof AbstractCursor)
    return cursorOperation(target, name);
  if (target instanceof ClientSession) return sessionOperation(ctx, target, name, args);
  throw new Error(`entity ${String(operation.object)} does not support operations`);
}
