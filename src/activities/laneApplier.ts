import { EJSON } from 'bson';
import {
  MongoBulkWriteError,
  type AnyBulkWriteOperation,
  type Document,
  type Filter,
  type MongoClient,
} from 'mongodb';
import { ApplicationFailure } from '@temporalio/common';
import { timedWriteBatch } from '../metrics';
import { EXACT_TYPES } from './bsonOptions';
import { crudWrites, laneOf, type CrudEvent } from './changeEvents';
import { HotDocuments } from './hotDocuments';
import { isDuplicateKey, writeErrorsOf } from './serverErrors';

const keyOf = (documentKey: Filter<Document>) => EJSON.stringify(documentKey, { relaxed: false });

/** One CRUD event waiting in a lane; `writes` null means "write the source's current document". */
interface PendingEvent {
  sequence: number;
  db: string;
  coll: string;
  /** The event's `documentKey`: `_id`, plus the shard key fields on a sharded source. */
  documentKey: Filter<Document>;
  writes: AnyBulkWriteOperation[] | null;
}

/**
 * Applies CRUD events on N lanes in parallel: a document's events always share a lane and keep
 * their order; lanes are flushed together, so after `flush()` every added event is applied.
 *
 * Events are written when `flushThreshold` are waiting, or, while no write runs, once the oldest
 * has waited `maxDelayMs`: under a light load each event is written within milliseconds (lag),
 * under a heavy one events gather while the previous write runs (throughput).
 *
 * Hot documents (`--hotDocIDs`) have one more lane of their own, where an insert, replace or
 * delete drops that document's events still waiting: they would be overwritten at once.
 */
export class LaneApplier {
  private readonly lanes: PendingEvent[][];
  /** Lanes chosen by hashing the document key; the hot lane, if any, comes after them. */
  private readonly hashedLanes: number;
  private supersededCount = 0;
  private sequence = 0;
  private pending = 0;
  private oldestPendingAt = 0;
  private applying: Promise<void> | null = null;
  private writing = false;

  constructor(
    private readonly source: MongoClient,
    private readonly destination: MongoClient,
    laneCount: number,
    private readonly flushThreshold: number,
    private readonly maxDelayMs = Number.POSITIVE_INFINITY,
    private readonly hotDocuments = new HotDocuments(),
  ) {
    this.hashedLanes = laneCount;
    this.lanes = Array.from({ length: hotDocuments.size > 0 ? laneCount + 1 : laneCount }, () => []);
  }

  async add(event: CrudEvent): Promise<void> {
    const { ns, documentKey } = event;
    const hot = this.hotDocuments.matches(documentKey);
    const lane = hot ? this.hashedLanes : laneOf(`${ns.db}.${ns.coll}`, documentKey, this.hashedLanes);
    if (hot && event.operationType !== 'update') this.dropSuperseded(ns.db, ns.coll, documentKey);
    if (this.pending === 0) this.oldestPendingAt = Date.now();
    this.lanes[lane].push({
      sequence: this.sequence++,
      db: ns.db,
      coll: ns.coll,
      documentKey,
      writes: crudWrites(event),
    });
    this.pending += 1;
    const waitedLongEnough = !this.writing && Date.now() - this.oldestPendingAt >= this.maxDelayMs;
    if (this.pending >= this.flushThreshold || waitedLongEnough) await this.startApplying();
  }

  /** Drops a hot document's waiting events: the full-document event being added overwrites them. */
  private dropSuperseded(db: string, coll: string, documentKey: Filter<Document>): void {
    const lane = this.lanes[this.hashedLanes];
    const key = keyOf(documentKey);
    const kept = lane.filter(
      (event) => event.db !== db || event.coll !== coll || keyOf(event.documentKey) !== key,
    );
    const dropped = lane.length - kept.length;
    if (dropped === 0) return;
    lane.splice(0, lane.length, ...kept);
    this.pending -= dropped;
    this.supersededCount += dropped;
  }

  /** Hot documents' events dropped because a later full-document event overwrote them. */
  get superseded(): number {
    return this.supersededCount;
  }

  /** Applies every added event; when it returns, all of them are on the destination. */
  async flush(): Promise<void> {
    if (this.pending > 0) await this.startApplying();
    const running = this.applying;
    this.applying = null;
    if (running) await running;
  }

  /** Waits for a running apply to end, whatever its outcome (before an attempt gives up). */
  async settle(): Promise<void> {
    await this.applying?.catch(() => undefined);
  }

  /**
   * Hands the pending events to a background apply and returns, so the next events are read
   * while these are written. At most one apply runs at a time, and each starts only after the
   * previous one finished, so a document's events still reach the destination in order.
   */
  private async startApplying(): Promise<void> {
    if (this.applying) await this.applying;
    const lanes = this.lanes.map((lane) => lane.splice(0, lane.length));
    this.pending = 0;
    this.writing = true;
    this.applying = this.applyLanes(lanes);
    const written = () => {
      this.writing = false;
    };
    // Observed here so a failure surfaces at the next await, not as an unhandled rejection.
    this.applying.then(written, written);
  }

  private async applyLanes(lanes: PendingEvent[][]): Promise<void> {
    const deferred = (await Promise.all(lanes.map((lane) => this.applyLane(lane)))).flat();
    // A duplicate key on a unique index the destination keeps: every other lane is applied now,
    // so replaying the stalled events in stream order reproduces the source's sequence of states.
    deferred.sort((a, b) => a.sequence - b.sequence);
    for (const event of deferred) {
      const stalled = await this.applyRun([event]);
      if (stalled !== null) {
        throw ApplicationFailure.nonRetryable(
          `duplicate key applying an event to ${event.db}.${event.coll} even in stream order`,
          'DuplicateKeyOnDestination',
        );
      }
    }
  }

  /** Applies a lane's events; returns those held back by a duplicate-key error, in order. */
  private async applyLane(events: PendingEvent[]): Promise<PendingEvent[]> {
    let start = 0;
    while (start < events.length) {
      let end = start + 1;
      while (
        end < events.length &&
        events[end].db === events[start].db &&
        events[end].coll === events[start].coll
      )
        end++;
      const stalledAt = await this.applyRun(events.slice(start, end));
      if (stalledAt !== null) return events.slice(start + stalledAt);
      start = end;
    }
    return [];
  }

  /**
   * Applies events of one namespace in order with ordered bulk writes. An event whose writes cannot
   * apply to the destination's state is replaced by the source's current document. Returns the
   * position of the first event stopped by a duplicate key, or null when all were applied.
   */
  private async applyRun(events: PendingEvent[]): Promise<number | null> {
    const collection = this.destination.db(events[0].db).collection(events[0].coll);
    let start = 0;
    while (start < events.length) {
      const operations: AnyBulkWriteOperation[] = [];
      const owners: number[] = [];
      let end = start;
      for (; end < events.length && events[end].writes !== null; end++) {
        for (const write of events[end].writes as AnyBulkWriteOperation[]) {
          operations.push(write);
          owners.push(end);
        }
      }
      if (operations.length > 0) {
        try {
          await timedWriteBatch('apply', () =>
            collection.bulkWrite(operations, { ordered: true, bypassDocumentValidation: true }),
          );
        } catch (error) {
          if (!(error instanceof MongoBulkWriteError)) throw error;
          // Ordered: the write error with the lowest index is where the bulk write stopped.
          const [failure] = writeErrorsOf(error);
          if (failure === undefined) throw error;
          const failedEvent = owners[failure.index];
          if (isDuplicateKey(failure)) return failedEvent;
          await this.writeCurrentSourceDocument(events[failedEvent]);
          start = failedEvent + 1;
          continue;
        }
      }
      if (end < events.length) await this.writeCurrentSourceDocument(events[end]);
      start = end + 1;
    }
    return null;
  }

  /** Writes the document as it is now on the source (or deletes it if gone); later events continue from it. */
  private async writeCurrentSourceDocument(event: PendingEvent): Promise<void> {
    const filter = event.documentKey;
    const current = await this.source.db(event.db).collection(event.coll).findOne(filter, EXACT_TYPES);
    const collection = this.destination.db(event.db).collection(event.coll);
    if (current)
      await collection.replaceOne(filter, current, { upsert: true, bypassDocumentValidation: true });
    else await collection.deleteOne(filter);
  }
}
