// From history entries to change events: which entries a stream shows (by namespace and event
// type), which invalidate it, and the event documents, with fields in the order mongod emits them.
import { createHash } from 'node:crypto';
import { Binary, type Document, Long } from 'bson';
import { CommandError } from '../errors';
import type { OplogEntry } from '../oplog';
import { RawDocument } from '../wire';
import { entryToken, type ResumeTokenVersion } from './resume-token';
import { INTERNAL_DATABASES, type ChangeStreamSpec, type StreamScope } from './spec';

/** What an entry means to one stream. */
export type EntryRelevance = 'skip' | 'event' | 'eventThenInvalidate' | 'invalidateOnly';

const EXPANDED_ONLY_OPS = new Set(['create', 'createIndexes', 'dropIndexes', 'modify']);
const NO_MATCHING_DOCUMENT = 47;

function isVisibleNamespace(db: string, coll: string | undefined): boolean {
  return !INTERNAL_DATABASES.has(db) && !(coll !== undefined && coll.startsWith('system.'));
}

export function classifyEntry(
  entry: OplogEntry,
  scope: StreamScope,
  showExpandedEvents: boolean,
): EntryRelevance {
  if (entry.op === 'noop') return 'skip';
  if (EXPANDED_ONLY_OPS.has(entry.op) && !showExpandedEvents) return 'skip';
  const target = entry.op === 'rename' ? entry.to : undefined;
  const sourceVisible = isVisibleNamespace(entry.db, entry.coll);
  const targetVisible = target !== undefined && isVisibleNamespace(target.db, target.coll);
  if (!sourceVisible && !targetVisible) return 'skip';

  switch (scope.kind) {
    case 'cluster':
      return 'event';
    case 'database': {
      const inDatabase =
        (sourceVisible && entry.db === scope.db) || (targetVisible && target?.db === scope.db);
      if (!inDatabase) return 'skip';
      return entry.op === 'dropDatabase' ? 'eventThenInvalidate' : 'event';
    }
    case 'collection': {
      if (entry.op === 'dropDatabase') return entry.db === scope.db ? 'invalidateOnly' : 'skip';
      const isSource = entry.db === scope.db && entry.coll === scope.coll;
      const isTarget = target !== undefined && target.db === scope.db && target.coll === scope.coll;
      if (!isSource && !isTarget) return 'skip';
      return entry.op === 'drop' || entry.op === 'rename' ? 'eventThenInvalidate' : 'event';
    }
  }
}

/** mongod reports `lsid.uid` as SHA-256 of the authenticated user name (empty without auth). */
const UNAUTHENTICATED_UID = new Binary(createHash('sha256').update('').digest(), 0);

function transactionNumber(value: unknown): Long | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Long) return value;
  if (typeof value === 'number') return Long.fromNumber(value);
  if (typeof value === 'bigint') return Long.fromBigInt(value);
  return value as Long;
}

function namespaceOf(entry: OplogEntry): Document {
  return entry.op === 'dropDatabase' || entry.coll === undefined
    ? { db: entry.db }
    : { db: entry.db, coll: entry.coll };
}

function nsTypeOf(operationDescription: Document | undefined): string {
  if (operationDescription?.viewOn !== undefined) return 'view';
  if (operationDescription?.timeseries !== undefined) return 'timeseries';
  return 'collection';
}

function describeForError(event: Document): string {
  return JSON.stringify({
    operationType: event.operationType,
    ns: event.ns,
    clusterTime: String(event.clusterTime),
    txnNumber: event.txnNumber !== undefined ? String(event.txnNumber) : undefined,
  });
}

function updateDescriptionFor(entry: OplogEntry, showExpandedEvents: boolean): Document {
  const stored = entry.updateDescription ?? {};
  const description: Document = {
    updatedFields: stored.updatedFields ?? {},
    removedFields: stored.removedFields ?? [],
    truncatedArrays: stored.truncatedArrays ?? [],
  };
  if (showExpandedEvents) description.disambiguatedPaths = stored.disambiguatedPaths ?? {};
  return description;
}

export type DocumentLookup = (db: string, coll: string, documentKey: Document) => Document | undefined;

/** The change event for an entry the stream shows (an insert, update, drop, ...). */
export function buildChangeEvent(
  entry: OplogEntry,
  spec: ChangeStreamSpec,
  lookupDocument: DocumentLookup,
  /** Nothing reads the event before it is sent: an insert's or replace's document goes out as stored. */
  sendStoredImage = false,
): Document {
  const expanded = spec.showExpandedEvents;
  const event: Document = {};
  if (entry.op === 'rename' && entry.to) event.to = { db: entry.to.db, coll: entry.to.coll };
  if (entry.txnOpIndex !== undefined) {
    const txnNumber = transactionNumber(entry.txnNumber);
    if (txnNumber !== undefined) event.txnNumber = txnNumber;
    if (entry.lsid) event.lsid = { id: entry.lsid.id, uid: entry.lsid.uid ?? UNAUTHENTICATED_UID };
  }
  event._id = entryToken(entry, spec.tokenVersion);
  event.operationType = entry.op;
  event.clusterTime = entry.ts;
  if (expanded && entry.uuid !== undefined && entry.op !== 'dropDatabase') event.collectionUUID = entry.uuid;
  event.wallTime = entry.wallTime;
  if (entry.op === 'insert' || entry.op === 'replace') {
    const bytes = sendStoredImage ? entry.postImageBytes : undefined;
    event.fullDocument = bytes !== undefined ? new RawDocument(bytes) : (entry.postImage ?? null);
  }
  event.ns = namespaceOf(entry);
  if (
    entry.documentKey !== undefined &&
    (entry.op === 'insert' || entry.op === 'update' || entry.op === 'replace' || entry.op === 'delete')
  ) {
    event.documentKey = entry.documentKey;
  }
  if (expanded) {
    const description =
      entry.operationDescription ?? (entry.op === 'rename' && entry.to ? { to: event.to } : undefined);
    if (description !== undefined) event.operationDescription = description;
  }
  if (entry.op === 'update') event.updateDescription = updateDescriptionFor(entry, expanded);
  if (entry.op === 'modify' && entry.stateBeforeChange !== undefined)
    event.stateBeforeChange = entry.stateBeforeChange;
  if (entry.op === 'create') event.nsType = nsTypeOf(entry.operationDescription);

  if (
    spec.fullDocumentBeforeChange !== 'off' &&
    (entry.op === 'update' || entry.op === 'replace' || entry.op === 'delete')
  ) {
    const preImage = entry.prePostImagesEnabled ? entry.preImage : undefined;
    if (preImage === undefined && spec.fullDocumentBeforeChange === 'required') {
      throw new CommandError(
        NO_MATCHING_DOCUMENT,
        `Change stream was configured to require a pre-image for all update, delete and replace events, but the pre-image was not found for event: ${describeForError(event)}`,
        { codeName: 'NoMatchingDocument' },
      );
    }
    event.fullDocumentBeforeChange = preImage ?? null;
  }
  if (entry.op === 'update' && spec.fullDocument !== 'default') {
    let postImage: Document | undefined;
    if (spec.fullDocument === 'updateLookup') {
      postImage =
        entry.coll !== undefined && entry.documentKey
          ? lookupDocument(entry.db, entry.coll, entry.documentKey)
          : undefined;
    } else {
      postImage = entry.prePostImagesEnabled ? entry.postImage : undefined;
      if (postImage === undefined && spec.fullDocument === 'required') {
        throw new CommandError(
          NO_MATCHING_DOCUMENT,
          `Change stream was configured to require a post-image for all update events, but the post-image was not found for event: ${describeForError(event)}`,
          { codeName: 'NoMatchingDocument' },
        );
      }
    }
    event.fullDocument = postImage ?? null;
  }
  return event;
}

/** The `invalidate` that ends a stream after the drop/rename/dropDatabase in `entry`. */
export function buildInvalidateEvent(entry: OplogEntry, tokenVersion: ResumeTokenVersion): Document {
  return {
    _id: entryToken(entry, tokenVersion, 'invalidate'),
    operationType: 'invalidate',
    clusterTime: entry.ts,
    wallTime: entry.wallTime,
  };
}
