// Snapshot reads outside transactions (readConcern {level: "snapshot", atClusterTime}), as mongod
// 5.0+ serves them for find, aggregate and distinct: the documents as they were at that cluster
// time. The emulator keeps one version of each document, so a snapshot is the current documents
// with every later write of the history undone (each CRUD entry carries its pre-image). A time
// older than the history is refused as mongod refuses a time older than its snapshot window.
import { type Document, Timestamp } from 'bson';
import { serialize } from './bson';
import { CommandError, ErrorCodes } from './errors';
import type { Oplog, OplogEntry } from './oplog';
import { compareValues, keyString } from './query';
import type { DocumentSource, IdOrderOptions, StoredDocument } from './storage/collection';

/** Commands that accept readConcern "snapshot" outside a transaction (mongod 5.0+). */
const SNAPSHOT_READ_COMMANDS = new Set(['find', 'aggregate', 'distinct']);

/** The snapshot read concern's level, if the command has one. */
function snapshotReadConcern(command: Document): Document | undefined {
  const readConcern = command.readConcern as Document | undefined;
  return readConcern && typeof readConcern === 'object' && readConcern.level === 'snapshot'
    ? readConcern
    : undefined;
}

/** Refuses readConcern "snapshot" outside a transaction on commands that do not support it. */
export function assertSnapshotReadSupported(
  commandName: string,
  command: Document,
  inTransaction: boolean,
): void {
  if (inTransaction || !snapshotReadConcern(command)) return;
  if (SNAPSHOT_READ_COMMANDS.has(commandName.toLowerCase())) return;
  throw new CommandError(
    ErrorCodes.InvalidOptions,
    `Command ${commandName} does not support { readConcern: { level: "snapshot" } }`,
  );
}

/**
 * The cluster time a snapshot read outside a transaction reads at: its `atClusterTime`, or else
 * the latest time (which the reply then reports as `atClusterTime`). Undefined for other reads.
 */
export function snapshotReadTime(
  command: Document,
  inTransaction: boolean,
  latest: Timestamp,
): Timestamp | undefined {
  const readConcern = inTransaction ? undefined : snapshotReadConcern(command);
  if (!readConcern) return undefined;
  const at = readConcern.atClusterTime;
  if (at === undefined) return latest;
  if (!(at instanceof Timestamp))
    throw new CommandError(ErrorCodes.TypeMismatch, "BSON field 'atClusterTime' is the wrong type");
  if (at.greaterThan(latest))
    throw new CommandError(
      ErrorCodes.InvalidOptions,
      `readConcern atClusterTime value must not be greater than the current clusterTime. Requested clusterTime: ${at.toString()}; current clusterTime: ${latest.toString()}`,
    );
  return at;
}

/** The snapshot time of each command being served as a snapshot read (set by the engine). */
const readTimes = new WeakMap<Document, Timestamp>();

export function setSnapshotReadTime(command: Document, at: Timestamp): void {
  readTimes.set(command, at);
}

/** The cluster time this command reads at, when it is a snapshot read outside a transaction. */
export function snapshotReadTimeOf(command: Document): Timestamp | undefined {
  return readTimes.get(command);
}

/** A snapshot read's reply reports the time it read at (`cursor.atClusterTime`, or `atClusterTime`). */
export function withSnapshotReadTime(reply: Document, at: Timestamp): Document {
  if (reply.ok !== 1) return reply;
  if (reply.cursor && typeof reply.cursor === 'object')
    return { ...reply, cursor: { ...(reply.cursor as Document), atClusterTime: at } };
  return { ...reply, atClusterTime: at };
}

/** A transaction's snapshot time: its read concern's `atClusterTime`, or the latest time at its start. */
export function transactionReadTime(command: Document, latest: Timestamp): Timestamp {
  const at = (command.readConcern as Document | undefined)?.atClusterTime;
  return at instanceof Timestamp && !at.greaterThan(latest) ? at : latest;
}

interface ImageBytes {
  preImageBytes?: Buffer;
}

/** The bytes of an entry's pre-image (kept as bytes by the writer, else re-encoded). */
function preImageRaw(entry: OplogEntry): Buffer | undefined {
  const bytes = (entry as unknown as ImageBytes).preImageBytes;
  if (bytes) return bytes;
  return entry.preImage ? serialize(entry.preImage) : undefined;
}

/**
 * The later writes of one collection, newest last: the entries after `at`. Throws
 * SnapshotTooOld when the history no longer reaches back to `at`.
 */
export function writesAfter(oplog: Oplog, db: string, coll: string, at: Timestamp): OplogEntry[] {
  const trimmed = oplog.lastTrimmed;
  if (trimmed && !trimmed.lessThan(at))
    throw new CommandError(
      ErrorCodes.SnapshotTooOld,
      `Read timestamp ${at.toString()} is older than the oldest available timestamp.`,
    );
  const out: OplogEntry[] = [];
  for (let i = oplog.lowerBound((entry) => entry.ts.greaterThan(at)); i < oplog.length; i++) {
    const entry = oplog.at(i);
    if (entry.db === db && entry.coll === coll) out.push(entry);
  }
  return out;
}

/**
 * The documents of `current` as they were before `later` (entries of this collection, oldest
 * first): each document a later write touched reads as the pre-image of the first such write,
 * or as absent when that write inserted it.
 */
export function snapshotSource(current: DocumentSource, later: OplogEntry[]): DocumentSource {
  const before = new Map<string, { id: unknown; stored: StoredDocument | undefined }>();
  for (let i = later.length - 1; i >= 0; i--) {
    const entry = later[i];
    if (!entry.documentKey || !['insert', 'update', 'replace', 'delete'].includes(entry.op)) continue;
    const id = entry.documentKey._id;
    const raw = entry.op === 'insert' ? undefined : preImageRaw(entry);
    const existing = current.getById(id);
    before.set(keyString(id), {
      id,
      stored: raw ? { id, raw, recordId: existing?.recordId ?? Number.MAX_SAFE_INTEGER } : undefined,
    });
  }
  if (before.size === 0) return current;
  const visible = (stored: StoredDocument): StoredDocument | undefined => {
    const version = before.get(keyString(stored.id));
    return version ? version.stored : stored;
  };
  /** Documents that existed then and no longer exist. */
  const restored = (): StoredDocument[] =>
    [...before.values()]
      .filter((version) => version.stored && !current.getById(version.id))
      .map((version) => version.stored as StoredDocument);
  const natural = (): StoredDocument[] => {
    const out: StoredDocument[] = [];
    for (const stored of current.naturalOrder()) {
      const doc = visible(stored);
      if (doc) out.push(doc);
    }
    out.push(...restored());
    return out;
  };
  return {
    get count() {
      return natural().length;
    },
    getById: (id: unknown) => {
      const version = before.get(keyString(id));
      return version ? version.stored : current.getById(id);
    },
    naturalOrder: natural,
    idOrder: (options: IdOrderOptions = {}) => {
      const out = natural().filter((stored) => {
        if (options.lower === undefined) return true;
        const order = compareValues(stored.id, options.lower);
        return order > 0 || (order === 0 && options.lowerInclusive !== false);
      });
      out.sort((a, b) => compareValues(a.id, b.id));
      if (options.descending) out.reverse();
      return out;
    },
  };
}
