// find, getMore, killCursors, count, distinct and aggregate (including views, `$out`/`$merge`,
// `$collStats` and change streams, which the changestream module serves).
import { type Document, Int32, Long } from 'bson';
import { deserializeExact } from '../bson';
import { openChangeStream } from '../changestream';
import { ArrayCursorSource, type CursorSource } from '../cursor';
import { CommandError, ErrorCodes } from '../errors';
import {
  compileFilter,
  compileProjection,
  compileSort,
  evaluateLet,
  getPathValues,
  keyString,
  resolveCollation,
  toNumber,
  type Collation,
} from '../query';
import { compareValues } from '../query/compare';
import { runPipeline, validatePipeline } from '../query/aggregate';
import { snapshotReadTimeOf, snapshotSource, writesAfter } from '../snapshot-reads';
import { leadingSessionsStage, sessionDocuments } from './list-sessions';
import type { Collection, DocumentSource } from '../storage/collection';
import { indexUsage } from '../storage/index-usage';
import type { CommandContext, CommandTable } from './context';
import { collectionNameOf } from './crud';
import { scanCollection, scanRaw } from './scan';
import { collectionStats } from './stats';
import { findOnSystemNamespace, systemNamespaceDocuments } from './system-namespaces';
import { explainAggregateCommand } from './explain';
import { RawBatch } from '../wire';
import { deleteDocument, insertDocument, resolveCollectionForWrite, writeNewVersion } from './writeOps';

const DEFAULT_FIRST_BATCH = 101;

function cursorReply(
  id: Long,
  ns: string,
  key: 'firstBatch' | 'nextBatch',
  docs: Array<Buffer | Document>,
  extra: Document = {},
): Document {
  return { cursor: { [key]: new RawBatch(docs), id, ns, ...extra }, ok: 1 };
}

/** Register a cursor for what is left after the first batch, and build the reply. */
async function openCursor(
  ctx: CommandContext,
  ns: string,
  source: CursorSource,
  batchSize: number | undefined,
  awaitData = false,
): Promise<Document> {
  const first = await source.next(batchSize, 0);
  const singleBatch = ctx.command.singleBatch === true;
  let id = Long.fromNumber(0);
  if (!first.exhausted && !singleBatch) id = ctx.engine.registerCursor(ns, source, ctx.session, awaitData);
  else source.close();
  const extra: Document = first.postBatchResumeToken
    ? { postBatchResumeToken: first.postBatchResumeToken }
    : {};
  return cursorReply(id, ns, 'firstBatch', first.docs, extra);
}

function batchSizeOf(command: Document, fallback: number | undefined): number | undefined {
  const value = toNumber(command.batchSize ?? (command.cursor as Document | undefined)?.batchSize);
  if (value === undefined) return fallback;
  if (value < 0) throw new CommandError(ErrorCodes.BadValue, "BSON field 'batchSize' value must be >= 0");
  return value === 0 ? 0 : value;
}

function checkHint(collection: Collection | undefined, hint: unknown): void {
  if (hint === undefined || !collection) return;
  if (
    typeof hint === 'object' &&
    hint !== null &&
    Object.keys(hint).length > 0 &&
    (hint as Document).$natural === undefined
  ) {
    if (!collection.findIndex(hint as Document))
      throw new CommandError(
        ErrorCodes.BadValue,
        'error processing query: planner returned error :: caused by :: hint provided does not correspond to an existing index',
      );
  } else if (typeof hint === 'string' && !collection.findIndex(hint)) {
    throw new CommandError(
      ErrorCodes.BadValue,
      'error processing query: planner returned error :: caused by :: hint provided does not correspond to an existing index',
    );
  }
}

function isIdOnlyProjection(projection: Document): boolean {
  const keys = Object.keys(projection);
  const include = projection._id;
  return keys.length === 1 && keys[0] === '_id' && (include === true || toNumber(include) === 1);
}

function idSortDirection(sort: Document | undefined): 1 | -1 | undefined {
  if (!sort) return undefined;
  const keys = Object.keys(sort);
  if (keys.length !== 1 || keys[0] !== '_id') return undefined;
  const direction = toNumber(sort._id);
  return direction === 1 ? 1 : direction === -1 ? -1 : undefined;
}

async function find(ctx: CommandContext): Promise<Document> {
  const { command, dbName, engine } = ctx;
  const collName = collectionNameOf(ctx);
  const ns = `${dbName}.${collName}`;
  const filter = (command.filter as Document | undefined) ?? {};
  if (typeof filter !== 'object' || Array.isArray(filter))
    throw new CommandError(
      ErrorCodes.TypeMismatch,
      "BSON field 'find.filter' is the wrong type, expected type 'object'",
    );
  const system = await findOnSystemNamespace(ctx, dbName, collName);
  if (system) return system;
  const view = engine.catalog.view(dbName, collName);
  if (view) {
    const pipeline: Document[] = [{ $match: filter }];
    if (command.sort) pipeline.push({ $sort: command.sort });
    if (command.skip) pipeline.push({ $skip: command.skip });
    if (command.limit && toNumber(command.limit))
      pipeline.push({ $limit: Math.abs(toNumber(command.limit)!) });
    if (command.projection) pipeline.push({ $project: command.projection });
    const docs = runViewPipeline(ctx, dbName, collName, pipeline);
    return openCursor(ctx, ns, new ArrayCursorSource(docs), batchSizeOf(command, DEFAULT_FIRST_BATCH));
  }
  const collection = engine.catalog.collection(dbName, collName);
  checkHint(collection, command.hint);
  const skip = toNumber(command.skip) ?? 0;
  const rawLimit = toNumber(command.limit) ?? 0;
  if (skip < 0)
    throw new CommandError(
      ErrorCodes.BadValue,
      "BSON field 'skip' value must be >= 0, actual value '" + skip + "'",
    );
  if (rawLimit < 0)
    throw new CommandError(
      ErrorCodes.BadValue,
      "BSON field 'limit' value must be >= 0, actual value '" + rawLimit + "'",
    );
  const limit = rawLimit === 0 ? Infinity : rawLimit;
  let docs: Array<Buffer | Document> = [];
  const collation = resolveCollation(command.collation, collection?.options.collation);
  if (collection) {
    const sortSpec = command.sort as Document | undefined;
    // The `_id` tree is in binary string order: under a collation the sort is done in memory.
    const idSort = collation ? undefined : idSortDirection(sortSpec);
    const sort =
      idSort === undefined && sortSpec && Object.keys(sortSpec).length > 0
        ? compileSort(sortSpec, collation)
        : undefined;
    const projection = command.projection as Document | undefined;
    const hasProjection = projection !== undefined && Object.keys(projection).length > 0;
    if (!sort && !hasProjection) {
      docs = scanRaw(
        readView(ctx, collection),
        filter,
        idSort,
        skip + limit,
        evaluateLet(command.let as Document | undefined),
        collation,
      ).slice(skip);
    } else {
      const matches = scanCollection(readView(ctx, collection), filter, {
        sort,
        idSortDirection: idSort,
        limit: sort ? undefined : limit,
        skip: sort ? undefined : skip,
        variables: evaluateLet(command.let as Document | undefined),
        collation,
      });
      const selected = sort ? matches.slice(skip, limit === Infinity ? undefined : skip + limit) : matches;
      if (hasProjection && isIdOnlyProjection(projection)) {
        // Covered by the `_id` index, as in mongod: the documents themselves are not read.
        docs = selected.map((entry) => ({ _id: entry.stored.id }));
      } else if (hasProjection) {
        const project = compileProjection(projection, { query: filter });
        docs = selected.map((entry) => project(entry.doc));
      } else {
        docs = selected.map((entry) => entry.stored.raw);
      }
    }
  }
  const batchSize = batchSizeOf(command, DEFAULT_FIRST_BATCH);
  return openCursor(
    ctx,
    ns,
    new ArrayCursorSource(docs),
    rawLimit > 0 && batchSize !== undefined ? Math.min(batchSize, rawLimit) : batchSize,
  );
}

async function getMore(ctx: CommandContext): Promise<Document> {
  const { command, engine } = ctx;
  const id = command.getMore;
  if (!(id instanceof Long))
    throw new CommandError(
      ErrorCodes.TypeMismatch,
      "BSON field 'getMore.getMore' is the wrong type, expected type 'long'",
    );
  const cursor = engine.cursors.get(id.toString());
  if (!cursor) throw new CommandError(ErrorCodes.CursorNotFound, `cursor id ${id} not found`);
  const collection = command.collection;
  if (
    typeof collection !== 'string' ||
    (`${ctx.dbName}.${collection}` !== cursor.ns && !cursor.ns.startsWith(`${ctx.dbName}.`))
  ) {
    throw new CommandError(
      ErrorCodes.Unauthorized,
      `Requested getMore on namespace '${ctx.dbName}.${String(collection)}', but cursor belongs to a different namespace ${cursor.ns}`,
    );
  }
  const batchSize = toNumber(command.batchSize);
  const maxAwait = cursor.awaitData ? (toNumber(command.maxTimeMS) ?? 1000) : 0;
  let batch;
  try {
    batch = await cursor.source.next(batchSize && batchSize > 0 ? batchSize : undefined, maxAwait);
  } catch (error) {
    engine.closeCursor(id);
    throw error;
  }
  if (batch.exhausted) engine.closeCursor(id);
  const extra: Document = batch.postBatchResumeToken
    ? { postBatchResumeToken: batch.postBatchResumeToken }
    : {};
  return cursorReply(batch.exhausted ? Long.fromNumber(0) : id, cursor.ns, 'nextBatch', batch.docs, extra);
}

function killCursors(ctx: CommandContext): Document {
  const ids = (ctx.command.cursors as Long[] | undefined) ?? [];
  const cursorsKilled: Long[] = [];
  const cursorsNotFound: Long[] = [];
  for (const id of ids) (ctx.engine.closeCursor(id) ? cursorsKilled : cursorsNotFound).push(id);
  return { cursorsKilled, cursorsNotFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
}

function count(ctx: CommandContext): Document {
  const { command, dbName, engine } = ctx;
  const collName = collectionNameOf(ctx);
  const query = (command.query as Document | undefined) ?? {};
  const skip = toNumber(command.skip) ?? 0;
  const limit = Math.abs(toNumber(command.limit) ?? 0);
  let n: number;
  const system = systemNamespaceDocuments(ctx, dbName, collName);
  if (system) {
    n = system.filter(compileFilter(query)).length;
  } else if (engine.catalog.view(dbName, collName)) {
    n = runViewPipeline(ctx, dbName, collName, [{ $match: query }]).length;
  } else {
    const collection = engine.catalog.collection(dbName, collName);
    const collation = resolveCollation(command.collation, collection?.options.collation);
    if (!collection) n = 0;
    else if (Object.keys(query).length === 0) n = readView(ctx, collection).count;
    else n = scanCollection(readView(ctx, collection), query, { collation }).length;
  }
  n = Math.max(0, n - skip);
  if (limit > 0) n = Math.min(n, limit);
  return { n: new Int32(n), ok: 1 };
}

function distinct(ctx: CommandContext): Document {
  const { command, dbName, engine } = ctx;
  const collName = collectionNameOf(ctx);
  if (typeof command.key !== 'string')
    throw new CommandError(
      ErrorCodes.TypeMismatch,
      "BSON field 'distinct.key' is the wrong type, expected type 'string'",
    );
  const query = (command.query as Document | undefined) ?? {};
  let docs: Document[];
  let collation: Collation | undefined;
  if (engine.catalog.view(dbName, collName))
    docs = runViewPipeline(ctx, dbName, collName, [{ $match: query }]);
  else {
    const collection = engine.catalog.collection(dbName, collName);
    collation = resolveCollation(command.collation, collection?.options.collation);
    docs = collection
      ? scanCollection(readView(ctx, collection), query, { collation }).map((entry) => entry.doc)
      : [];
  }
  const values: unknown[] = [];
  const add = collation ? collatedDistinctAdder(values, collation) : binaryDistinctAdder(values);
  for (const doc of docs) {
    for (const value of getPathValues(doc, command.key)) {
      if (Array.isArray(value)) for (const item of value) add(item);
      else add(value);
    }
  }
  return { values, ok: 1 };
}

function binaryDistinctAdder(values: unknown[]): (item: unknown) => void {
  const seen = new Set<string>();
  return (item) => {
    if (item === undefined) return;
    const key = keyString(item);
    if (seen.has(key)) return;
    seen.add(key);
    values.push(item);
  };
}

/**
 * Under a collation, values equal by the collation are one distinct value (the first seen). A
 * collation has no canonical key, so the seen values are kept sorted and searched by bisection.
 */
function collatedDistinctAdder(values: unknown[], collation: Collation): (item: unknown) => void {
  const sorted: unknown[] = [];
  return (item) => {
    if (item === undefined) return;
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const c = compareValues(sorted[middle], item, collation);
      if (c === 0) return;
      if (c < 0) low = middle + 1;
      else high = middle;
    }
    sorted.splice(low, 0, item);
    values.push(item);
  };
}

/** Documents of a view: its pipeline (resolved through views on views) then `extra`. */
function runViewPipeline(ctx: CommandContext, db: string, name: string, extra: Document[]): Document[] {
  const { catalog } = ctx.engine;
  let pipeline = extra;
  let source = name;
  for (let depth = 0; depth < 20; depth++) {
    const view = catalog.view(db, source);
    if (!view) break;
    pipeline = [...view.pipeline, ...pipeline];
    source = view.viewOn;
  }
  return runPipeline(streamDocuments(ctx, db, source), pipeline, pipelineContext(ctx, db, source));
}

/**
 * The documents a command reads: as they were at its snapshot time (a snapshot read's, or its
 * transaction's, which the transaction's own uncommitted writes overlay).
 */
function readView(ctx: CommandContext, collection: Collection): DocumentSource {
  const view = collection.readView(ctx.transaction);
  const at = snapshotReadTimeOf(ctx.command) ?? ctx.transaction?.readTimestamp;
  return at ? snapshotSource(view, writesAfter(ctx.engine.oplog, collection.db, collection.name, at)) : view;
}

/**
 * A collection's documents decoded one at a time as the pipeline pulls them, so stages that do
 * not read their input ($collStats, $documents) or stop early ($limit) decode little or nothing.
 */
function* streamDocuments(ctx: CommandContext, db: string, coll: string): Generator<Document> {
  const system = systemNamespaceDocuments(ctx, db, coll);
  if (system) {
    yield* system;
    return;
  }
  const collection = ctx.engine.catalog.collection(db, coll);
  if (!collection) {
    yield* loadDocuments(ctx, db, coll);
    return;
  }
  for (const stored of readView(ctx, collection).naturalOrder()) yield deserializeExact(stored.raw);
}

function loadDocuments(ctx: CommandContext, db: string, coll: string): Document[] {
  const collection = ctx.engine.catalog.collection(db, coll);
  if (!collection) {
    if (ctx.engine.catalog.view(db, coll)) return runViewPipeline(ctx, db, coll, []);
    return [];
  }
  const docs: Document[] = [];
  for (const stored of readView(ctx, collection).naturalOrder()) docs.push(deserializeExact(stored.raw));
  return docs;
}

/** $indexStats: per index its name, key, host, accesses since its creation, and stored spec. */
function indexStatsDocuments(ctx: CommandContext, db: string, coll: string): Document[] {
  const collection = ctx.engine.catalog.collection(db, coll);
  if (!collection) return [];
  return collection.indexes.map((spec) => {
    const usage = indexUsage(spec);
    return {
      name: spec.name,
      key: spec.key,
      host: ctx.engine.options.hostAndPort,
      accesses: { ops: Long.fromNumber(usage.ops), since: usage.since },
      spec: { ...spec },
    };
  });
}

function pipelineContext(ctx: CommandContext, db: string, coll: string) {
  return {
    loadCollection: (name: string) => loadDocuments(ctx, db, name),
    collStats: (spec: Document) => {
      const collection = ctx.engine.catalog.collection(db, coll);
      if (!collection)
        throw new CommandError(
          ErrorCodes.NamespaceNotFound,
          `Unable to retrieve storageStats in $collStats stage :: caused by :: Collection [${db}.${coll}] not found.`,
        );
      const stats = collectionStats(collection);
      const out: Document = {
        ns: `${db}.${coll}`,
        host: ctx.engine.options.hostAndPort,
        localTime: new Date(),
      };
      if (spec.storageStats) out.storageStats = stats;
      if (spec.count) out.count = stats.count;
      if (spec.latencyStats)
        out.latencyStats = {
          reads: { latency: 0, ops: 0 },
          writes: { latency: 0, ops: 0 },
          commands: { latency: 0, ops: 0 },
        };
      return out;
    },
    indexStats: () => indexStatsDocuments(ctx, db, coll),
    variables: evaluateLet(ctx.command.let as Document | undefined),
    collation: resolveCollation(
      ctx.command.collation,
      ctx.engine.catalog.collection(db, coll)?.options.collation,
    ),
  };
}

async function aggregate(ctx: CommandContext): Promise<Document> {
  const { command, dbName, engine } = ctx;
  const target = command.aggregate;
  // $listLocalSessions / $listSessions lead the pipeline and are served here.
  const sessionsStage = leadingSessionsStage(command.pipeline);
  const pipeline = sessionsStage
    ? [sessionsStage, ...validatePipeline((command.pipeline as Document[]).slice(1))]
    : validatePipeline(command.pipeline);
  if (command.explain === true) return explainAggregateCommand(ctx);
  if (command.cursor === undefined && command.explain !== true) {
    throw new CommandError(
      ErrorCodes.FailedToParse,
      "The 'cursor' option is required, except for aggregate with the explain argument",
    );
  }
  const batchSize = batchSizeOf(command, DEFAULT_FIRST_BATCH);
  const first = pipeline[0];
  if (first && first.$changeStream !== undefined) {
    const spec = first.$changeStream as Document;
    let scope: { db?: string; coll?: string };
    let ns: string;
    if (typeof target === 'string') {
      scope = { db: dbName, coll: target };
      ns = `${dbName}.${target}`;
    } else if (spec.allChangesForCluster === true) {
      if (dbName !== 'admin')
        throw new CommandError(
          ErrorCodes.InvalidOptions,
          "$changeStream may only be run with allChangesForCluster: true on the 'admin' database",
        );
      scope = {};
      ns = 'admin.$cmd.aggregate';
    } else {
      scope = { db: dbName };
      ns = `${dbName}.$cmd.aggregate`;
    }
    const source = openChangeStream(ctx, spec, pipeline.slice(1), scope);
    const batch = await source.next(batchSize, 0);
    const id = batch.exhausted ? Long.fromNumber(0) : engine.registerCursor(ns, source, ctx.session, true);
    const extra: Document = batch.postBatchResumeToken
      ? { postBatchResumeToken: batch.postBatchResumeToken }
      : {};
    return cursorReply(id, ns, 'firstBatch', batch.docs, extra);
  }
  if (pipeline.some((stage, index) => stage.$changeStream !== undefined && index > 0)) {
    throw new CommandError(40602, '$changeStream is only valid as the first stage in a pipeline.');
  }
  const last = pipeline[pipeline.length - 1];
  const writesOut = last && (last.$out !== undefined || last.$merge !== undefined);
  if (writesOut && (command.readConcern as Document | undefined)?.level === 'linearizable') {
    throw new CommandError(
      ErrorCodes.InvalidOptions,
      `${last.$out !== undefined ? '$out' : '$merge'} cannot be used with a 'linearizable' read concern level`,
    );
  }
  const body = writesOut ? pipeline.slice(0, -1) : pipeline;
  let results: Document[];
  let ns: string;
  if (typeof target === 'string') {
    ns = `${dbName}.${target}`;
    if (
      sessionsStage &&
      first.$listSessions !== undefined &&
      dbName === 'config' &&
      target === 'system.sessions'
    )
      results = runPipeline(
        sessionDocuments(sessionsStage, engine.sessions.all(), ctx.conn.principals[0]),
        body.slice(1),
        pipelineContext(ctx, dbName, target),
      );
    else if (sessionsStage)
      throw new CommandError(
        ErrorCodes.InvalidNamespace,
        first.$listSessions !== undefined
          ? '$listSessions may only be run against config.system.sessions'
          : '$listLocalSessions must be run against the database with {aggregate: 1}, not a collection',
      );
    else if (engine.catalog.view(dbName, target)) results = runViewPipeline(ctx, dbName, target, body);
    else
      results = runPipeline(streamDocuments(ctx, dbName, target), body, pipelineContext(ctx, dbName, target));
  } else if (toNumber(target) === 1) {
    ns = `${dbName}.$cmd.aggregate`;
    if (
      !first ||
      (first.$documents === undefined &&
        first.$currentOp === undefined &&
        first.$listLocalSessions === undefined)
    ) {
      throw new CommandError(
        ErrorCodes.InvalidNamespace,
        "{aggregate: 1} is not valid for '$" +
          (first ? Object.keys(first)[0] : '') +
          "'; a collection is required.",
      );
    }
    if (first.$documents !== undefined) results = runPipeline([], body, pipelineContext(ctx, dbName, ''));
    else if (first.$listLocalSessions !== undefined)
      results = runPipeline(
        sessionDocuments(first, engine.sessions.all(), ctx.conn.principals[0]),
        body.slice(1),
        pipelineContext(ctx, dbName, ''),
      );
    else results = runPipeline([], body.slice(1), pipelineContext(ctx, dbName, ''));
  } else {
    throw new CommandError(ErrorCodes.TypeMismatch, 'aggregate field must be a string or the number 1');
  }
  if (writesOut) {
    writeAggregateOutput(ctx, last, results);
    results = [];
  }
  return openCursor(ctx, ns, new ArrayCursorSource(results), batchSize);
}

/** `$out` replaces the target collection; `$merge` upserts/merges into it. */
function writeAggregateOutput(ctx: CommandContext, stage: Document, results: Document[]): void {
  if (ctx.engine.writesBlockedFor(ctx.conn, ctx.dbName))
    throw new CommandError(ErrorCodes.UserWritesBlocked, 'User writes blocked');
  if (stage.$out !== undefined) {
    const spec = stage.$out;
    const db = typeof spec === 'string' ? ctx.dbName : String((spec as Document).db);
    const coll = typeof spec === 'string' ? spec : String((spec as Document).coll);
    const collection = resolveCollectionForWrite(ctx, db, coll);
    for (const { stored, doc } of scanCollection(collection.readView(ctx.transaction), {}, {}))
      deleteDocument(ctx, collection, stored, doc);
    for (const doc of results) insertDocument(ctx, collection, doc);
    return;
  }
  const spec = stage.$merge;
  const into = typeof spec === 'string' ? spec : (spec as Document).into;
  const db = typeof into === 'object' && into !== null ? String((into as Document).db) : ctx.dbName;
  const coll = typeof into === 'object' && into !== null ? String((into as Document).coll) : String(into);
  const options = typeof spec === 'object' ? (spec as Document) : {};
  const whenMatched = options.whenMatched ?? 'merge';
  const whenNotMatched = options.whenNotMatched ?? 'insert';
  const collection = resolveCollectionForWrite(ctx, db, coll);
  for (const doc of results) {
    const existing =
      doc._id === undefined ? undefined : collection.readView(ctx.transaction).getById(doc._id);
    if (!existing) {
      if (whenNotMatched === 'discard') continue;
      if (whenNotMatched === 'fail')
        throw new CommandError(
          13113,
          '$merge could not find a matching document in the target collection for at least one document in the source collection',
        );
      insertDocument(ctx, collection, doc);
      continue;
    }
    if (whenMatched === 'keepExisting') continue;
    if (whenMatched === 'fail') {
      const idIndex = collection.findIndex({ _id: 1 }) ?? { v: 2, key: { _id: 1 }, name: '_id_' };
      throw collection.duplicateKeyError(idIndex, { _id: doc._id });
    }
    const before = deserializeExact(existing.raw);
    const after = whenMatched === 'replace' ? doc : { ...before, ...doc };
    writeNewVersion(
      ctx,
      collection,
      existing,
      before,
      after,
      whenMatched === 'replace' ? 'replace' : 'update',
    );
  }
}

export const readCommands: CommandTable = {
  find,
  getMore,
  killCursors,
  count,
  distinct,
  aggregate,
};
