// A read-only view of the emulator's history as the documents of mongod's `local.oplog.rs`:
// `{op, ns, ui, o, o2, ts, t, v, wall}` per write (op i/u/d/c/n), `$v: 2` diffs for updates, and
// one `applyOps` command entry per committed transaction (with lsid, txnNumber, prevOpTime).
// The history itself is stored by oplog.ts; this module only reads it.
import { type Document, Long, Timestamp } from 'bson';
import type { Oplog, OplogEntry } from './oplog';

const TERM = Long.fromNumber(1);
const VERSION = Long.fromNumber(2);

export function compareTimestamps(a: Timestamp, b: Timestamp): number {
  return a.high >>> 0 !== b.high >>> 0 ? (a.high >>> 0) - (b.high >>> 0) : (a.low >>> 0) - (b.low >>> 0);
}

function isObject(value: unknown): value is Document {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

type Diff = Document;

function child(diff: Diff, key: string, isArray: boolean): Diff {
  const field = `s${key}`;
  let sub = diff[field] as Diff | undefined;
  if (!sub) {
    sub = isArray ? { a: true } : {};
    diff[field] = sub;
  }
  return sub;
}

function valueAt(doc: unknown, parts: string[]): unknown {
  let current: unknown = doc;
  for (const part of parts) {
    if (Array.isArray(current)) current = current[Number(part)];
    else if (isObject(current)) current = current[part];
    else return undefined;
  }
  return current;
}

function hasPath(doc: unknown, parts: string[]): boolean {
  let current: unknown = doc;
  for (const part of parts) {
    if (Array.isArray(current)) {
      if (Number(part) >= current.length) return false;
      current = current[Number(part)];
    } else if (isObject(current) && Object.prototype.hasOwnProperty.call(current, part)) {
      current = current[part];
    } else return false;
  }
  return true;
}

/** The diff container for the parent of `parts`, creating `s<field>` sub-diffs on the way. */
function parentDiff(root: Diff, parts: string[], after: unknown): Diff {
  let diff = root;
  for (let i = 0; i < parts.length - 1; i++) {
    diff = child(diff, parts[i], Array.isArray(valueAt(after, parts.slice(0, i + 1))));
  }
  return diff;
}

function section(diff: Diff, name: string): Document {
  let part = diff[name] as Document | undefined;
  if (!part) {
    part = {};
    diff[name] = part;
  }
  return part;
}

/** Orders a diff's sections as mongod writes them: a, l, d, u, i, then sub-diffs. */
function ordered(diff: Diff): Diff {
  const out: Diff = {};
  for (const key of ['a', 'l', 'd', 'u', 'i']) if (key in diff) out[key] = diff[key];
  for (const [key, value] of Object.entries(diff)) {
    if (key in out) continue;
    out[key] = key.startsWith('s') && isObject(value) ? ordered(value) : value;
  }
  return out;
}

/**
 * The `$v: 2` update diff mongod logs for an update: `{d: {f: false}, u: {f: v}, i: {f: v},
 * s<f>: <sub-diff>}`, with array sub-diffs `{a: true, l: <new length>, u<index>: v}`.
 */
export function updateDiff(updateDescription: Document, before: unknown, after: unknown): Document {
  const root: Diff = {};
  const updated = (updateDescription.updatedFields as Document | undefined) ?? {};
  const removed = (updateDescription.removedFields as string[] | undefined) ?? [];
  const truncated = (updateDescription.truncatedArrays as Document[] | undefined) ?? [];
  for (const entry of truncated) {
    const parts = String(entry.field).split('.');
    const diff = child(parentDiff(root, parts, after), parts[parts.length - 1], true);
    diff.l = entry.newSize;
  }
  for (const path of removed) {
    const parts = path.split('.');
    section(parentDiff(root, parts, after), 'd')[parts[parts.length - 1]] = false;
  }
  for (const [path, value] of Object.entries(updated)) {
    const parts = path.split('.');
    const parent = parentDiff(root, parts, after);
    const last = parts[parts.length - 1];
    if (parent.a === true) parent[`u${last}`] = value;
    else section(parent, before !== undefined && !hasPath(before, parts) ? 'i' : 'u')[last] = value;
  }
  return { $v: 2, diff: ordered(root) };
}

/** The `o` (and `o2`) of a command entry, as mongod logs each DDL operation. */
function commandObject(entry: OplogEntry): { o: Document; o2?: Document } {
  const coll = entry.coll ?? '';
  const description = entry.operationDescription ?? {};
  switch (entry.op) {
    case 'create':
      return { o: { create: coll, ...description } };
    case 'drop':
      return { o: { drop: coll } };
    case 'dropDatabase':
      return { o: { dropDatabase: 1 } };
    case 'rename': {
      const o: Document = {
        renameCollection: `${entry.db}.${coll}`,
        to: `${entry.to?.db}.${entry.to?.coll}`,
        stayTemp: false,
      };
      if (description.dropTarget !== undefined) o.dropTarget = description.dropTarget;
      return { o };
    }
    case 'createIndexes': {
      const spec = ((description.indexes as Document[] | undefined) ?? [])[0] ?? {};
      return { o: { createIndexes: coll, ...spec } };
    }
    case 'dropIndexes': {
      const spec = ((description.indexes as Document[] | undefined) ?? [])[0] ?? {};
      return { o: { dropIndexes: coll, index: spec.name }, o2: spec };
    }
    case 'modify':
      return { o: { collMod: coll, ...description } };
    default:
      return { o: {} };
  }
}

/** The operation part of one entry (`op, ns, ui, o, o2`), as inside applyOps. */
export function operationDocument(entry: OplogEntry): Document {
  const ns = `${entry.db}.${entry.coll ?? ''}`;
  const withUi = (doc: Document): Document => {
    if (entry.uuid) doc.ui = entry.uuid;
    return doc;
  };
  switch (entry.op) {
    case 'insert':
      return { ...withUi({ op: 'i', ns }), o: entry.postImage ?? {}, o2: entry.documentKey ?? {} };
    case 'replace':
      return { ...withUi({ op: 'u', ns }), o: entry.postImage ?? {}, o2: entry.documentKey ?? {} };
    case 'update':
      return {
        ...withUi({ op: 'u', ns }),
        o: updateDiff(entry.updateDescription ?? {}, entry.preImage, entry.postImage),
        o2: entry.documentKey ?? {},
      };
    case 'delete':
      return { ...withUi({ op: 'd', ns }), o: entry.documentKey ?? {} };
    case 'noop':
      return { op: 'n', ns: '', o: { msg: 'periodic noop' } };
    default: {
      const { o, o2 } = commandObject(entry);
      const doc = withUi({ op: 'c', ns: `${entry.db}.$cmd` });
      doc.o = o;
      if (o2) doc.o2 = o2;
      return doc;
    }
  }
}

function stamp(doc: Document, entry: OplogEntry): Document {
  doc.ts = entry.ts;
  doc.t = TERM;
  doc.v = VERSION;
  doc.wall = entry.wallTime;
  return doc;
}

/**
 * The oplog documents for the entries from retained index `start` on, oldest first, with each
 * transaction folded into one applyOps entry. Stops after `limit` documents; returns the retained
 * index to continue from.
 */
export function oplogDocuments(
  oplog: Oplog,
  start = 0,
  limit = Infinity,
): { docs: Document[]; next: number } {
  const docs: Document[] = [];
  let index = Math.max(0, start);
  while (index < oplog.length && docs.length < limit) {
    const entry = oplog.at(index);
    if (entry.lsid !== undefined && entry.txnOpIndex !== undefined) {
      const operations: Document[] = [];
      let end = index;
      while (
        end < oplog.length &&
        oplog.at(end).lsid !== undefined &&
        compareTimestamps(oplog.at(end).ts, entry.ts) === 0
      ) {
        operations.push(operationDocument(oplog.at(end)));
        end++;
      }
      docs.push(
        Object.assign(
          stamp(
            {
              lsid: entry.lsid,
              txnNumber: entry.txnNumber,
              op: 'c',
              ns: 'admin.$cmd',
              o: { applyOps: operations },
            },
            entry,
          ),
          { prevOpTime: { ts: new Timestamp({ t: 0, i: 0 }), t: Long.fromNumber(-1) } },
        ),
      );
      index = end;
    } else {
      docs.push(stamp(operationDocument(entry), entry));
      index++;
    }
  }
  return { docs, next: index };
}

/** Retained index of the first entry after `ts` (the next one a tailing cursor returns). */
export function indexAfter(oplog: Oplog, ts: Timestamp): number {
  return oplog.lowerBound((entry) => compareTimestamps(entry.ts, ts) > 0);
}
