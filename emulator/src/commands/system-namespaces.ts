// Namespaces mongod keeps as collections of server state, served read-only from the emulator's
// own state: admin.system.users, admin.system.roles, admin.system.version (auth), and
// local.oplog.rs (the history, a capped collection readable with tailable/awaitData cursors).
import { type Document, Int32, Long, Timestamp } from 'bson';
import { ArrayCursorSource, type CursorBatch, type CursorSource } from '../cursor';
import { CommandError, ErrorCodes } from '../errors';
import { type Oplog } from '../oplog';
import { compareTimestamps, indexAfter, oplogDocuments } from '../oplog-view';
import { compileFilter, compileProjection, compileSort, toNumber } from '../query';
import type { CommandContext } from './context';

export const OPLOG_NS = { db: 'local', coll: 'oplog.rs' };
const AUTH_COLLECTIONS = new Set(['system.users', 'system.roles', 'system.version']);

export function isSystemNamespace(db: string, coll: string): boolean {
  return (db === 'admin' && AUTH_COLLECTIONS.has(coll)) || (db === OPLOG_NS.db && coll === OPLOG_NS.coll);
}

function isOplog(db: string, coll: string): boolean {
  return db === OPLOG_NS.db && coll === OPLOG_NS.coll;
}

/** admin.system.version: the FCV document, and the authSchema document once a user exists. */
function systemVersionDocuments(ctx: CommandContext): Document[] {
  const docs: Document[] = [{ _id: 'featureCompatibilityVersion', version: ctx.engine.options.version }];
  if (ctx.engine.auth.hasUsers) docs.push({ _id: 'authSchema', currentVersion: new Int32(5) });
  return docs;
}

/** Every document of a system namespace in natural order, or undefined for other namespaces. */
export function systemNamespaceDocuments(
  ctx: CommandContext,
  db: string,
  coll: string,
): Document[] | undefined {
  if (!isSystemNamespace(db, coll)) return undefined;
  if (isOplog(db, coll)) return oplogDocuments(ctx.engine.oplog).docs;
  if (coll === 'system.version') return systemVersionDocuments(ctx);
  return ctx.engine.auth.systemCollectionDocuments(coll as 'system.users' | 'system.roles');
}

/** The first `ts` a filter such as `{ts: {$gt: T}}` or `{ts: {$gte: T}}` allows, to skip older entries. */
function startIndexFor(oplog: Oplog, filter: Document): number {
  const ts = filter.ts as Document | undefined;
  if (!ts || typeof ts !== 'object') return 0;
  if (ts.$gt instanceof Timestamp) return indexAfter(oplog, ts.$gt);
  if (ts.$gte instanceof Timestamp) {
    const bound = ts.$gte;
    return oplog.lowerBound((entry) => compareTimestamps(entry.ts, bound) >= 0);
  }
  return 0;
}

/** A tailable cursor over the oplog: returns what is new since its last document, waiting with awaitData. */
class OplogTailSource implements CursorSource {
  private lastTs: Timestamp | undefined;
  private position: number;
  private closed = false;
  /** Ends a pending awaitData wait (on close). */
  private wake: () => void = () => undefined;

  constructor(
    private readonly oplog: Oplog,
    private readonly matches: (doc: Document) => boolean,
    private readonly project: (doc: Document) => Document,
    start: number,
    private remaining: number,
  ) {
    this.position = start;
  }

  private collect(batchSize: number | undefined): Document[] {
    if (this.lastTs !== undefined) {
      const lost = this.oplog.lastTrimmed;
      if (lost !== undefined && compareTimestamps(lost, this.lastTs) >= 0)
        throw new CommandError(
          ErrorCodes.CappedPositionLost,
          `CollectionScan died due to position in capped collection being deleted. Last seen record id: RecordId(${this.lastTs.toString()})`,
        );
      this.position = indexAfter(this.oplog, this.lastTs);
    }
    const limit = Math.min(batchSize === undefined || batchSize <= 0 ? 101 : batchSize, this.remaining);
    const out: Document[] = [];
    while (out.length < limit && this.position < this.oplog.length) {
      const { docs, next } = oplogDocuments(this.oplog, this.position, 256);
      for (const doc of docs) {
        this.lastTs = doc.ts as Timestamp;
        if (!this.matches(doc)) continue;
        out.push(this.project(doc));
        if (out.length >= limit) break;
      }
      this.position = this.lastTs ? indexAfter(this.oplog, this.lastTs) : next;
    }
    this.remaining -= out.length;
    return out;
  }

  async next(batchSize: number | undefined, maxAwaitMS: number): Promise<CursorBatch> {
    let docs = this.collect(batchSize);
    if (docs.length === 0 && maxAwaitMS > 0 && !this.closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, maxAwaitMS);
        const unsubscribe = this.oplog.onAppend(done);
        const wake = this.wake;
        this.wake = done;
        function done(): void {
          clearTimeout(timer);
          unsubscribe();
          wake();
          resolve();
        }
      });
      this.wake = () => undefined;
      docs = this.collect(batchSize);
    }
    return { docs, exhausted: this.closed || this.remaining <= 0 };
  }

  close(): void {
    this.closed = true;
    this.wake();
  }
}

function naturalDirection(sort: Document | undefined, hint: unknown): 1 | -1 | undefined {
  const spec = sort && Object.keys(sort).length > 0 ? sort : (hint as Document | undefined);
  if (!spec || typeof spec !== 'object' || !('$natural' in spec)) return undefined;
  return toNumber(spec.$natural) === -1 ? -1 : 1;
}

function firstBatch(ns: string, docs: Document[], id: Long): Document {
  return { cursor: { firstBatch: docs, id, ns }, ok: 1 };
}

/** find on a system namespace, or undefined when the namespace is an ordinary one. */
export async function findOnSystemNamespace(
  ctx: CommandContext,
  db: string,
  coll: string,
): Promise<Document | undefined> {
  if (!isSystemNamespace(db, coll)) return undefined;
  const { command, engine } = ctx;
  const ns = `${db}.${coll}`;
  const filter = (command.filter as Document | undefined) ?? {};
  const sort = command.sort as Document | undefined;
  const natural = naturalDirection(sort, command.hint);
  const otherSort = sort && Object.keys(sort).length > 0 && natural === undefined ? sort : undefined;
  const matches = compileFilter(filter);
  const project = compileProjection(command.projection as Document | undefined, { query: filter });
  const skip = toNumber(command.skip) ?? 0;
  const rawLimit = toNumber(command.limit) ?? 0;
  const limit = rawLimit > 0 ? rawLimit : Infinity;
  const batchSize = toNumber(command.batchSize) ?? 101;
  const tailable = command.tailable === true;
  if (command.awaitData === true && !tailable)
    throw new CommandError(ErrorCodes.FailedToParse, 'Cannot set awaitData without tailable');
  if (tailable) {
    if (!isOplog(db, coll))
      throw new CommandError(
        ErrorCodes.BadValue,
        `error processing query: ns=${ns} tree: $and\nSort: {}\nProj: {}\n planner returned error :: caused by :: tailable cursor requested on non capped collection`,
      );
    if (otherSort || natural === -1)
      throw new CommandError(
        ErrorCodes.BadValue,
        'cannot use tailable option with a sort other than {$natural: 1}',
      );
    const source = new OplogTailSource(
      engine.oplog,
      matches,
      project,
      startIndexFor(engine.oplog, filter),
      limit,
    );
    const first = await source.next(batchSize === 0 ? 0 : batchSize, 0);
    // A tailable cursor that found nothing at all is dead at once, as in mongod.
    const dead = first.exhausted || (first.docs.length === 0 && engine.oplog.length === 0);
    const id = dead
      ? Long.fromNumber(0)
      : engine.registerCursor(ns, source, ctx.session, command.awaitData === true);
    if (dead) source.close();
    return firstBatch(ns, first.docs as Document[], id);
  }
  let docs: Document[];
  if (isOplog(db, coll)) {
    docs = oplogDocuments(engine.oplog, startIndexFor(engine.oplog, filter)).docs.filter(matches);
  } else {
    docs = (systemNamespaceDocuments(ctx, db, coll) ?? []).filter(matches);
  }
  if (natural === -1) docs.reverse();
  const compare = compileSort(otherSort);
  if (compare) docs.sort(compare);
  docs = docs.slice(skip, limit === Infinity ? undefined : skip + limit).map(project);
  const source = new ArrayCursorSource(docs);
  const firstSize = rawLimit > 0 ? Math.min(batchSize || Infinity, rawLimit) : batchSize;
  const first = await source.next(firstSize === 0 ? 0 : firstSize);
  let id = Long.fromNumber(0);
  if (!first.exhausted && command.singleBatch !== true)
    id = engine.registerCursor(ns, source, ctx.session, false);
  return firstBatch(ns, first.docs as Document[], id);
}

/** collStats of local.oplog.rs: a capped collection whose maxSize is the configured history size. */
export function oplogCollStats(ctx: CommandContext, db: string, coll: string): Document | undefined {
  if (!isOplog(db, coll)) return undefined;
  const oplog = ctx.engine.oplog;
  const count = oplogDocuments(oplog).docs.length;
  const size = oplog.sizeBytes;
  const scale = toNumber(ctx.command.scale) ?? 1;
  const scaled = (bytes: number): number => Math.floor(bytes / scale);
  return {
    ns: `${db}.${coll}`,
    size: scaled(size),
    count,
    avgObjSize: count > 0 ? Math.floor(size / count) : 0,
    numOrphanDocs: 0,
    storageSize: scaled(size),
    freeStorageSize: 0,
    capped: true,
    max: 0,
    maxSize: scaled(oplog.maxSizeBytes),
    sleepCount: 0,
    sleepMS: 0,
    nindexes: 0,
    indexDetails: {},
    indexBuilds: [],
    totalIndexSize: 0,
    totalSize: scaled(size),
    indexSizes: {},
    ok: 1,
  };
}
