// The emulator's bounded, ordered history of writes: what change streams read. Each entry is
// one change event's worth of information, in commit order, keyed by a cluster time that
// strictly increases.
import type { Document, Timestamp, UUID } from 'bson';

export type OplogOperation =
  | 'insert'
  | 'update'
  | 'replace'
  | 'delete'
  | 'create'
  | 'drop'
  | 'rename'
  | 'dropDatabase'
  | 'createIndexes'
  | 'dropIndexes'
  | 'modify'
  | 'noop';

export interface OplogEntry {
  /** Cluster time of the write; increasing across entries, shared by the entries of one transaction (ordered by txnOpIndex). */
  ts: Timestamp;
  wallTime: Date;
  op: OplogOperation;
  db: string;
  /** Collection name; absent for dropDatabase and noop. */
  coll?: string;
  /** The collection's UUID (`collectionUUID` in expanded events). */
  uuid?: UUID;
  /** `{_id: ...}` for CRUD entries. */
  documentKey?: Document;
  /** Post-image (insert, replace, update) as stored, in exact form. */
  postImage?: Document;
  /** The post-image's stored BSON, when the entry keeps it as bytes (sent on without decoding). */
  readonly postImageBytes?: Buffer;
  /** Pre-image (update, replace, delete) as stored, in exact form. */
  preImage?: Document;
  /** For updates: `{updatedFields, removedFields, truncatedArrays, disambiguatedPaths?}`. */
  updateDescription?: Document;
  /** For rename: the target namespace. */
  to?: { db: string; coll: string };
  /** Expanded-event `operationDescription` (create, createIndexes, dropIndexes, modify, rename). */
  operationDescription?: Document;
  /** For modify: `{collectionOptions?, indexOptions?}` as they were before the change. */
  stateBeforeChange?: Document;
  /** Whether the collection had `changeStreamPreAndPostImages` enabled at the time of the write. */
  prePostImagesEnabled?: boolean;
  /** Transaction identity for writes made in a multi-document transaction. */
  lsid?: Document;
  txnNumber?: Document;
  /** Position of this entry within its transaction's applyOps (0-based), for resume tokens. */
  txnOpIndex?: number;
  /** Approximate size in bytes, counted against the configured history size. */
  size: number;
}

export interface OplogListener {
  (): void;
}

/** A size-bounded, append-only list of entries; the oldest fall off when the size is exceeded. */
export class Oplog {
  private entries: OplogEntry[] = [];
  private head = 0;
  private bytes = 0;
  private readonly listeners = new Set<OplogListener>();
  /** ts of the newest entry that fell off the history; a start point at or before it is lost. */
  private lastTrimmedTs: Timestamp | undefined;

  constructor(private maxBytes: number) {}

  get maxSizeBytes(): number {
    return this.maxBytes;
  }

  resize(maxBytes: number): void {
    this.maxBytes = maxBytes;
    this.trim();
  }

  append(entry: OplogEntry): void {
    this.entries.push(entry);
    this.bytes += entry.size;
    this.trim();
    for (const listener of this.listeners) listener();
  }

  /** Entries currently retained, oldest first. Index i of this view is stable until the next trim. */
  get length(): number {
    return this.entries.length - this.head;
  }

  at(index: number): OplogEntry {
    return this.entries[this.head + index];
  }

  oldest(): OplogEntry | undefined {
    return this.entries[this.head];
  }

  newest(): OplogEntry | undefined {
    return this.entries.length > this.head ? this.entries[this.entries.length - 1] : undefined;
  }

  /** Index (in the retained view) of the first entry whose ts is >= the given time (comparing with `compare`). */
  lowerBound(predicate: (entry: OplogEntry) => boolean): number {
    // Binary search: predicate must be monotone (false...false true...true) over the entries.
    let lo = this.head;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (predicate(this.entries[mid])) hi = mid;
      else lo = mid + 1;
    }
    return lo - this.head;
  }

  /** ts of the newest entry no longer retained, or undefined when nothing was ever dropped. */
  get lastTrimmed(): Timestamp | undefined {
    return this.lastTrimmedTs;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  /** Subscribe to appends (used by change-stream getMore to wake up); returns an unsubscribe. */
  onAppend(listener: OplogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private trim(): void {
    // Keep at least the newest entry so "latest optime" is always known.
    while (this.bytes > this.maxBytes && this.entries.length - this.head > 1) {
      this.bytes -= this.entries[this.head].size;
      this.lastTrimmedTs = this.entries[this.head].ts;
      this.head++;
    }
    if (this.head > 4096 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
