import { EJSON } from 'bson';
import type {
  AnyBulkWriteOperation,
  ChangeStreamCollModDocument,
  ChangeStreamCreateDocument,
  ChangeStreamCreateIndexDocument,
  ChangeStreamDeleteDocument,
  ChangeStreamDocument,
  ChangeStreamDropDatabaseDocument,
  ChangeStreamDropDocument,
  ChangeStreamDropIndexDocument,
  ChangeStreamInsertDocument,
  ChangeStreamRenameDocument,
  ChangeStreamReplaceDocument,
  ChangeStreamUpdateDocument,
  Document,
  Filter,
  Int32,
  Timestamp,
  UpdateDescription as DriverUpdateDescription,
} from 'mongodb';
import type { OperationTime } from './contract';

/** A change event that writes one document. */
export type CrudEvent =
  | ChangeStreamInsertDocument
  | ChangeStreamUpdateDocument
  | ChangeStreamReplaceDocument
  | ChangeStreamDeleteDocument;

/** A change event that changes the catalog (with `showExpandedEvents`). */
export type DdlEvent =
  | ChangeStreamCreateDocument
  | ChangeStreamDropDocument
  | ChangeStreamRenameDocument
  | ChangeStreamDropDatabaseDocument
  | ChangeStreamCreateIndexDocument
  | ChangeStreamDropIndexDocument
  | ChangeStreamCollModDocument;

export const DDL_OPERATION_TYPES = new Set([
  'create',
  'createIndexes',
  'dropIndexes',
  'drop',
  'rename',
  'dropDatabase',
  'modify',
]);
export const CRUD_OPERATION_TYPES = new Set(['insert', 'update', 'replace', 'delete']);

export type EventKind = 'crud' | 'ddl' | 'ignored';

export function isCrudEvent(event: ChangeStreamDocument): event is CrudEvent {
  return CRUD_OPERATION_TYPES.has(event.operationType);
}

export function isDdlEvent(event: ChangeStreamDocument): event is DdlEvent {
  return DDL_OPERATION_TYPES.has(event.operationType);
}

/**
 * The namespace an event is about. The driver types `ns` only on some events; with
 * `showExpandedEvents` the server also sends it on create, createIndexes, dropIndexes and modify.
 */
export function eventNamespace(event: ChangeStreamDocument): { db: string; coll?: string } | undefined {
  return (event as { ns?: { db: string; coll?: string } }).ns;
}

/**
 * An expanded DDL event's `operationDescription`. The driver types it only on index events; the
 * server also sends it on create (the collection's options), modify and rename.
 */
export function operationDescriptionOf(event: DdlEvent): Document {
  return (event as { operationDescription?: Document }).operationDescription ?? {};
}

/** Sharding events and anything unknown change no data or schema a replica-set destination holds. */
export function eventKind(operationType: string): EventKind {
  if (CRUD_OPERATION_TYPES.has(operationType)) return 'crud';
  if (DDL_OPERATION_TYPES.has(operationType)) return 'ddl';
  return 'ignored';
}

export function toOperationTime(timestamp: Timestamp): OperationTime {
  return { t: timestamp.high, i: timestamp.low };
}

export { compareOperationTimes } from '../domain';

/**
 * The cluster time a resume token stands for: its `_data` is hex KeyString whose first byte 0x82
 * tags a Timestamp, followed by 4 bytes of seconds and 4 bytes of increment (big-endian).
 */
export function resumeTokenTime(token: unknown): OperationTime | null {
  const data = (token as { _data?: unknown } | null)?._data;
  if (typeof data !== 'string' || data.length < 18 || !/^82/i.test(data)) return null;
  return { t: parseInt(data.slice(2, 10), 16), i: parseInt(data.slice(10, 18), 16) };
}

/** FNV-1a: a stable, well-spread hash so one document always lands on the same lane. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * The lane that applies every event of one document (its `documentKey`: `_id`, and on sharded
 * clusters the shard key fields too), keeping that document's events in order.
 */
export function laneOf(namespace: string, documentKey: unknown, lanes: number): number {
  return fnv1a(`${namespace}\u0000${EJSON.stringify({ v: documentKey }, { relaxed: false })}`) % lanes;
}

/** An update event's description as read with EXACT_TYPES: array sizes may be Int32, not numbers. */
export type UpdateDescription = Omit<DriverUpdateDescription, 'truncatedArrays'> & {
  truncatedArrays?: Array<{ field: string; newSize: number | Int32 }>;
};

function isExpressiblePath(components: unknown[]): boolean {
  return components.every(
    (component) =>
      typeof component === 'number' ||
      (typeof component === 'string' &&
        component.length > 0 &&
        !component.includes('.') &&
        !component.startsWith('$')),
  );
}

/**
 * The update operations, in order, that reproduce an update event from its description, or null when
 * the description cannot be written as operators (a field name containing a dot or starting with `$`).
 * Arrays are truncated first, then the resulting values of the touched paths are set or removed.
 */
export function updateOperations(description: UpdateDescription): Document[] | null {
  const updatedFields = description.updatedFields ?? {};
  const removedFields = description.removedFields ?? [];
  const truncatedArrays = description.truncatedArrays ?? [];
  const disambiguated = (description.disambiguatedPaths ?? {}) as Record<string, unknown[] | undefined>;
  const paths = [
    ...Object.keys(updatedFields),
    ...removedFields,
    ...truncatedArrays.map((entry) => entry.field),
  ];
  for (const path of paths) {
    if (!isExpressiblePath(disambiguated[path] ?? path.split('.'))) return null;
  }

  const operations: Document[] = [];
  if (truncatedArrays.length > 0) {
    const push: Document = {};
    for (const { field, newSize } of truncatedArrays) push[field] = { $each: [], $slice: Number(newSize) };
    operations.push({ $push: push });
  }
  const setAndUnset: Document = {};
  if (Object.keys(updatedFields).length > 0) setAndUnset.$set = updatedFields;
  if (removedFields.length > 0)
    setAndUnset.$unset = Object.fromEntries(removedFields.map((path) => [path, '']));
  if (Object.keys(setAndUnset).length > 0) operations.push(setAndUnset);
  return operations;
}

/**
 * The destination writes for one CRUD event, or null when the source's current document must be
 * fetched. Writes select the document by its whole `documentKey`.
 */
export function crudWrites(event: CrudEvent): AnyBulkWriteOperation[] | null {
  const filter: Filter<Document> = { ...event.documentKey };
  switch (event.operationType) {
    case 'insert':
    case 'replace':
      return [{ replaceOne: { filter, replacement: event.fullDocument, upsert: true } }];
    case 'delete':
      return [{ deleteOne: { filter } }];
    case 'update': {
      const operations = updateOperations(event.updateDescription);
      return operations === null ? null : operations.map((update) => ({ updateOne: { filter, update } }));
    }
    default:
      throw new Error(`not a CRUD event: ${String((event as { operationType: unknown }).operationType)}`);
  }
}
