// The server side of one change stream: reads the history from a position (held as cluster time
// and transaction index, re-found by binary search on every call since the history's array is
// compacted), turns relevant entries into events, and waits for new entries when there are none.
//
// A start point is checked as mongod checks it, when the first batch is computed (in the
// aggregate, or in the first getMore after `batchSize: 0`): once the history has been trimmed, a
// start time older than the oldest retained entry is ChangeStreamHistoryLost (286); while nothing
// has been trimmed the history reaches back to the cluster's start and any earlier time is
// accepted (mongod exempts an oplog that still begins with the replica set's initiation). An event
// token must then name the first entry the stream meets from the token's position on: meeting a
// later entry first is ChangeStreamFatalError (280), which is how a token from another cluster's
// history fails. Until the stream meets any entry (a token in the future, or no event yet) it
// waits, reporting the client's token as its postBatchResumeToken. High-water-mark tokens and
// startAtOperationTime are only checked for lost history.
import { type Document, Timestamp } from 'bson';
import type { CursorBatch, CursorSource } from '../cursor';
import { CommandError, ErrorCodes } from '../errors';
import type { Oplog, OplogEntry } from '../oplog';
import { buildChangeEvent, buildInvalidateEvent, classifyEntry, type DocumentLookup } from './events';
import {
  AFTER_ALL_OPS,
  BEFORE_ALL_OPS,
  comparePositionKey,
  encodeResumeToken,
  entryOpIndex,
  entryToken,
  entryTokenData,
  highWaterMarkAt,
  isEntryAfter,
  nextTick,
  positionAfterToken,
  positionBefore,
  positionOfEntry,
  positionThrough,
  type ResumeToken,
  type ResumeTokenData,
  type ResumeTokenVersion,
  type StreamPosition,
} from './resume-token';
import type { ChangeStreamSpec, StreamScope } from './spec';
import {
  BSON_OBJ_MAX_INTERNAL_SIZE,
  bsonSize,
  eventTooLarge,
  MAX_CHANGE_EVENT_SIZE,
  splitChangeEvent,
} from './split-event';
import type { UserPipeline } from './user-pipeline';

/** What a change stream needs from the server. */
export interface ChangeStreamEngine {
  readonly oplog: Oplog;
  readonly isReplicaSet: boolean;
  latestClusterTime(): Timestamp;
  lookupDocument: DocumentLookup;
}

/** Replies stay well under the 16 MB limit: sizes are estimated from the entries' sizes. */
const MAX_BATCH_BYTES = 8 * 1024 * 1024;
/** Per-event fields beyond the entry's documents (token, ns, times, ...), for the estimate. */
const EVENT_OVERHEAD_BYTES = 320;
/** Bound the synchronous work of one call when most entries are for other namespaces. */
const MAX_ENTRIES_SCANNED_PER_CALL = 100_000;

function historyLost(): CommandError {
  return new CommandError(
    ErrorCodes.ChangeStreamHistoryLost,
    'Resume of change stream was not possible, as the resume point may no longer be in the oplog.',
    { errorLabels: ['NonResumableChangeStreamError'] },
  );
}

/** mongod names the first event past the missing token (in `Document::toString` form). */
function resumeTokenNotFound(surpassing: OplogEntry, version: ResumeTokenVersion): CommandError {
  const token = entryToken(surpassing, version);
  return new CommandError(
    ErrorCodes.ChangeStreamFatalError,
    `cannot resume stream; the resume token was not found. {_data: "${token._data}"}`,
    { errorLabels: ['NonResumableChangeStreamError'] },
  );
}

function compareTimestamps(a: Timestamp, b: Timestamp): number {
  if (a.t !== b.t) return a.t < b.t ? -1 : 1;
  if (a.i !== b.i) return a.i < b.i ? -1 : 1;
  return 0;
}

/** The earliest cluster time whose entries a stream at `position` still has to read. */
function firstTimeToRead(position: StreamPosition): Timestamp {
  if (position.op !== AFTER_ALL_OPS) return new Timestamp({ t: position.t, i: position.i });
  return nextTick(position.t, position.i);
}

/** An event (or invalidate) token from resumeAfter/startAfter that the stream has not met yet. */
interface PendingToken {
  data: ResumeTokenData;
  /** The position of the entry the token names. */
  at: StreamPosition;
}

function laterTimestamp(a: Timestamp, b: Timestamp | undefined): Timestamp {
  return b !== undefined && (b.t > a.t || (b.t === a.t && b.i > a.i)) ? b : a;
}

interface Collected {
  docs: Document[];
  /** The scan stopped at its work limit with entries left: return now, the client will come back. */
  scanLimited: boolean;
}

export class ChangeStreamCursor implements CursorSource {
  private readonly oplog: Oplog;
  private position: StreamPosition;
  /** A drop/rename/dropDatabase whose invalidate is still to be returned. */
  private pendingInvalidate: OplogEntry | undefined;
  private invalidated = false;
  private closed = false;
  /** Whether the start point was checked against the history (done with the first batch). */
  private startChecked = false;
  private pendingToken: PendingToken | undefined;
  /** The token of the last event returned (or resumed from), for postBatchResumeToken. */
  private lastEventToken: { token: ResumeToken; t: number; i: number } | undefined;
  /** Fragments of a split event still to return, one per batch. */
  private pendingFragments: Document[] = [];
  private wake: (() => void) | undefined;
  private readonly lookupDocument: DocumentLookup;

  constructor(
    private readonly engine: ChangeStreamEngine,
    private readonly spec: ChangeStreamSpec,
    private readonly scope: StreamScope,
    private readonly pipeline: UserPipeline,
  ) {
    this.oplog = engine.oplog;
    this.lookupDocument = (db, coll, documentKey) => engine.lookupDocument(db, coll, documentKey);
    this.position = this.resolveStartPosition();
  }

  async next(batchSize: number | undefined, maxAwaitMS: number): Promise<CursorBatch> {
    // An aggregate's `batchSize: 0` asks for an empty first batch (the stream is still opened).
    if (batchSize === 0) return this.batch([]);
    const limit = batchSize === undefined || batchSize < 0 ? Infinity : batchSize;
    const deadline = Date.now() + Math.max(0, maxAwaitMS);
    for (;;) {
      if (this.closed || this.invalidated) return this.batch([]);
      const { docs, scanLimited } = this.collect(limit);
      const remaining = deadline - Date.now();
      if (docs.length > 0 || scanLimited || this.invalidated || remaining <= 0) return this.batch(docs);
      await this.waitForAppend(remaining);
    }
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  private batch(docs: Document[]): CursorBatch {
    const last = docs[docs.length - 1];
    const postBatchResumeToken =
      last !== undefined
        ? (last._id as Document)
        : this.pendingToken !== undefined
          ? encodeResumeToken(this.pendingToken.data)
          : this.tokenForPosition();
    return { docs, exhausted: this.invalidated || this.closed, postBatchResumeToken };
  }

  /**
   * As mongod: a high-water mark at the time the stream has read up to (resuming from it reads
   * that time again, whose entries produced nothing), unless an event at that time was returned,
   * whose token then stands (it sorts after the mark).
   */
  private tokenForPosition(): ResumeToken {
    const { t, i, op } = this.position;
    if (op === BEFORE_ALL_OPS) return highWaterMarkAt(new Timestamp({ t, i }), this.spec.tokenVersion);
    const last = this.lastEventToken;
    if (last !== undefined && last.t === t && last.i === i) return last.token;
    return highWaterMarkAt(new Timestamp({ t, i }), this.spec.tokenVersion);
  }

  private noteReturned(event: Document, entry: OplogEntry): void {
    this.lastEventToken = { token: event._id as ResumeToken, t: entry.ts.t, i: entry.ts.i };
  }

  /** Where reading starts; checked against the history only when the first batch is computed. */
  private resolveStartPosition(): StreamPosition {
    const start = this.spec.start;
    switch (start.kind) {
      case 'now': {
        // From the tick after the latest time on, as mongod starts a new stream.
        this.startChecked = true;
        const latest = laterTimestamp(this.engine.latestClusterTime(), this.oplog.newest()?.ts);
        return positionBefore(nextTick(latest.t, latest.i));
      }
      case 'atOperationTime':
        return positionBefore(start.ts);
      case 'resumeAfter':
      case 'startAfter': {
        const at = positionAfterToken(start.token);
        if (start.token.kind === 'highWaterMark') return at;
        // Read from the token's own entry on, which must be the first one the stream meets.
        this.pendingToken = { data: start.token, at };
        this.lastEventToken = { token: encodeResumeToken(start.token), t: at.t, i: at.i };
        return { ...at, op: at.op - 1 };
      }
    }
  }

  /**
   * mongod's check that the history covers the start point: the oldest retained entry must not be
   * later than the first time to read, unless nothing was ever trimmed (the history then begins
   * with the cluster, like an oplog that still holds the replica set's initiation entry).
   */
  private assertStartRetained(): void {
    this.startChecked = true;
    if (this.oplog.lastTrimmed === undefined) return;
    const oldest = this.oplog.oldest();
    if (oldest !== undefined && compareTimestamps(oldest.ts, firstTimeToRead(this.position)) > 0) {
      throw historyLost();
    }
  }

  /**
   * While an event token is pending, the first entry the stream meets (expanded events included:
   * mongod checks before it filters them out) must be the token's own entry, or the token is not
   * from this history. Returns whether `entry` was that entry.
   */
  private matchPendingToken(
    entry: OplogEntry,
    pending: PendingToken,
    docs: Document[],
    limit: number,
  ): boolean {
    const relevance = classifyEntry(entry, this.scope, true);
    if (relevance === 'skip') return false;
    // A fragment's token is only met by a stream that splits (mongod sorts the unsplit event's
    // token before it, passes over it and fails at the next event).
    if (pending.data.fragmentNum !== undefined && !this.pipeline.splitLargeEvents) {
      if (comparePositionKey(entry.ts.t, entry.ts.i, entryOpIndex(entry), pending.at) === 0) return false;
    }
    const invalidates = relevance === 'eventThenInvalidate' || relevance === 'invalidateOnly';
    const isTokenEntry =
      comparePositionKey(entry.ts.t, entry.ts.i, entryOpIndex(entry), pending.at) === 0 &&
      (pending.data.kind === 'event' || invalidates) &&
      this.namesEntry(pending.data, entry);
    if (!isTokenEntry) throw resumeTokenNotFound(entry, this.spec.tokenVersion);
    this.pendingToken = undefined;
    // Resuming after the drop/rename itself: the stream's next event is its invalidate.
    if (pending.data.kind === 'event' && invalidates) {
      if (docs.length < limit) this.invalidate(entry, docs);
      else this.pendingInvalidate = entry;
    }
    return true;
  }

  /** Whether a token (of whatever version) is the one this history gives `entry`'s event. */
  private namesEntry(data: ResumeTokenData, entry: OplogEntry): boolean {
    if (data.version === 0) return true;
    const kind = data.kind === 'invalidate' ? 'invalidate' : 'event';
    const expected = entryToken(entry, data.version, kind, data.fragmentNum);
    return expected._data === encodeResumeToken(data)._data;
  }

  /** Entries after `position` must all still be in the history. */
  private assertHistoryRetained(position: StreamPosition): void {
    const trimmed = this.oplog.lastTrimmed;
    if (trimmed === undefined) return;
    const order = comparePositionKey(trimmed.t, trimmed.i, 0, { ...position, op: 0 });
    if (order > 0 || (order === 0 && position.op !== AFTER_ALL_OPS)) throw historyLost();
  }

  /** Emits the invalidate for `entry`, through the user's stages; the stream ends either way. */
  private invalidate(entry: OplogEntry, docs: Document[]): void {
    const event = this.pipeline.apply(buildInvalidateEvent(entry, this.spec.tokenVersion));
    if (event !== undefined) {
      docs.push(event);
      this.noteReturned(event, entry);
    }
    this.invalidated = true;
  }

  private collect(limit: number): Collected {
    const docs: Document[] = [];
    const fragment = this.pendingFragments.shift();
    if (fragment !== undefined) {
      docs.push(fragment);
      this.lastEventToken = { ...this.lastEventToken!, token: fragment._id as ResumeToken };
      return { docs, scanLimited: false };
    }
    if (this.pendingInvalidate !== undefined) {
      const entry = this.pendingInvalidate;
      this.pendingInvalidate = undefined;
      this.invalidate(entry, docs);
      return { docs, scanLimited: false };
    }
    if (!this.startChecked) this.assertStartRetained();
    this.assertHistoryRetained(this.position);
    const oplog = this.oplog;
    const position = this.position;
    let index = oplog.lowerBound((entry) => isEntryAfter(entry, position));
    const length = oplog.length;
    let bytes = 0;
    let scanned = 0;
    while (index < length && docs.length < limit && bytes < MAX_BATCH_BYTES) {
      if (scanned >= MAX_ENTRIES_SCANNED_PER_CALL) return { docs, scanLimited: true };
      const entry = oplog.at(index++);
      scanned++;
      const pending = this.pendingToken;
      if (pending !== undefined) {
        const matched = this.matchPendingToken(entry, pending, docs, limit);
        if (matched && pending.data.fragmentNum !== undefined) {
          // Resuming inside a split event: the fragments after the token's come next.
          this.resumeFragments(entry, pending.data.fragmentNum);
          this.position = positionOfEntry(entry);
          if (this.pendingFragments.length > 0) return this.collect(limit);
          continue;
        }
        this.position = positionOfEntry(entry);
        if (matched && (this.invalidated || this.pendingInvalidate !== undefined))
          return { docs, scanLimited: false };
        continue;
      }
      const relevance = classifyEntry(entry, this.scope, this.spec.showExpandedEvents);
      if (relevance === 'event' || relevance === 'eventThenInvalidate') {
        const mayBeTooLarge = this.mayBeTooLarge(entry);
        const sendStoredImage = !mayBeTooLarge && !this.pipeline.readsImages;
        const event = this.pipeline.apply(
          buildChangeEvent(entry, this.spec, this.lookupDocument, sendStoredImage),
        );
        if (event !== undefined) {
          const size = mayBeTooLarge ? bsonSize(event) : undefined;
          if (size !== undefined && size > this.eventSizeLimit()) {
            if (!this.pipeline.splitLargeEvents) throw eventTooLarge(event, size);
            const [first, ...rest] = this.split(event, entry, 0);
            docs.push(first);
            this.noteReturned(first, entry);
            this.pendingFragments = rest;
            this.position = positionOfEntry(entry);
            return { docs, scanLimited: false };
          }
          docs.push(event);
          this.noteReturned(event, entry);
          bytes += (size ?? entry.size) + EVENT_OVERHEAD_BYTES;
        }
      }
      // Advance only after the event was built: an error leaves the stream before this entry.
      this.position = positionOfEntry(entry);
      if (relevance === 'eventThenInvalidate' || relevance === 'invalidateOnly') {
        if (docs.length < limit) this.invalidate(entry, docs);
        else this.pendingInvalidate = entry;
        return { docs, scanLimited: false };
      }
    }
    if (index >= length) this.markCaughtUp();
    return { docs, scanLimited: false };
  }

  /** Whether the event for `entry` could exceed the limit (its images and a looked-up document). */
  private mayBeTooLarge(entry: OplogEntry): boolean {
    const lookup = this.spec.fullDocument === 'updateLookup' && entry.op === 'update' ? 16 * 1024 * 1024 : 0;
    return entry.size * 2 + lookup + 64 * 1024 > MAX_CHANGE_EVENT_SIZE;
  }

  /** mongod fails events over the BSON limit; with the split stage it splits those over its own. */
  private eventSizeLimit(): number {
    return this.pipeline.splitLargeEvents ? MAX_CHANGE_EVENT_SIZE : BSON_OBJ_MAX_INTERNAL_SIZE;
  }

  private split(event: Document, entry: OplogEntry, skip: number): Document[] {
    const token = entryTokenData(entry, this.spec.tokenVersion);
    return splitChangeEvent(event, token, MAX_CHANGE_EVENT_SIZE - bsonSize(event._id as Document), skip);
  }

  /** Queues the fragments after `fragmentNum` of the event for `entry`, checked as mongod checks. */
  private resumeFragments(entry: OplogEntry, fragmentNum: number): void {
    const event = this.pipeline.apply(buildChangeEvent(entry, this.spec, this.lookupDocument));
    const size = event !== undefined ? bsonSize(event) : 0;
    if (event === undefined || size <= MAX_CHANGE_EVENT_SIZE) {
      throw new CommandError(
        ErrorCodes.ChangeStreamFatalError,
        'Attempted to resume from a split event fragment, but the event in the resumed stream was not large enough to be split',
        { errorLabels: ['NonResumableChangeStreamError'] },
      );
    }
    const fragments = this.split(event, entry, fragmentNum);
    if (fragments.length === 0) {
      throw new CommandError(
        ErrorCodes.ChangeStreamFatalError,
        'Attempted to resume from a split event, but the resumed stream produced a different split. Ensure that the pipeline used to resume is the same as the original',
        { errorLabels: ['NonResumableChangeStreamError'] },
      );
    }
    // The first is the client's own fragment (mongod's resume check swallows it).
    this.pendingFragments = fragments.slice(1);
    this.lastEventToken = { token: fragments[0]._id as ResumeToken, t: entry.ts.t, i: entry.ts.i };
  }

  /** At the end of the history every entry at the newest time has been read (they arrive together). */
  private markCaughtUp(): void {
    const newest = this.oplog.newest();
    if (newest !== undefined && newest.ts.t === this.position.t && newest.ts.i === this.position.i) {
      this.position = positionThrough(newest.ts);
    }
  }

  private waitForAppend(timeoutMS: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        unsubscribe();
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, timeoutMS);
      const unsubscribe = this.oplog.onAppend(done);
      this.wake = done;
    });
  }
}
