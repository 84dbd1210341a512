// Finding the documents a filter selects. `_id` equality and `_id` ranges (how sync tools read
// partitions) walk the `_id` B+ tree; everything else scans in natural order. Documents are
// deserialized only when the filter or sort needs to look inside them.
import type { Document } from 'bson';
import { deserializeExact } from '../bson';
import { canonicalTypeOrder, compareValues, compileFilter, toNumber } from '../query';
import { TYPE_NAME_ORDER, TypeBracketStart } from '../query/compare';
import { typeNamesOf } from '../query/match';
import type { Collation } from '../query/collation';
import { containsString } from '../query/compare';
import { Collection, type DocumentSource, type StoredDocument } from '../storage/collection';
import { noteIndexUse } from '../storage/index-usage';

export interface ScannedDocument {
  stored: StoredDocument;
  doc: Document;
}

interface IdRange {
  equals?: unknown;
  /** `$in` of plain values: answered by looking each up in the `_id` tree. */
  among?: unknown[];
  lower?: unknown;
  lowerInclusive: boolean;
  upper?: unknown;
  upperInclusive: boolean;
  /** The canonical type brackets a `$type` allows, lowest and highest: the walk's index bounds. */
  brackets?: { lowest: number; highest: number; whole: boolean };
}

const RANGE_OPERATORS = new Set(['$gt', '$gte', '$lt', '$lte', '$eq', '$in']);
/** Operators that narrow a range without widening it: the walk's `_id` matcher still checks them. */
const RESTRICTING_OPERATORS = new Set(['$type']);

/** Count a use of the `_id` index for $indexStats (reads inside a transaction go uncounted). */
function noteIdIndexUse(source: DocumentSource): void {
  if (source instanceof Collection) noteIndexUse(source.indexes.find((index) => index.name === '_id_'));
}

function isOperatorObject(value: unknown): value is Document {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((key) => key.startsWith('$'));
}

function isScalarId(value: unknown): boolean {
  // Arrays and regexes never equal a stored _id by plain equality semantics we can shortcut.
  if (Array.isArray(value)) return false;
  const type = (value as { _bsontype?: string } | null)?._bsontype;
  if (type === 'BSONRegExp') return false;
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    return !Object.keys(value).some((key) => key.startsWith('$'));
  }
  return true;
}

/**
 * The `_id` constraint a filter implies, when it can be answered from the `_id` tree. The tree is
 * in binary string order, so under a collation a condition involving strings cannot use it.
 */
export function idRangeOf(filter: Document, collation?: Collation): IdRange | undefined {
  if (!Object.prototype.hasOwnProperty.call(filter, '_id')) return undefined;
  const condition = filter._id;
  if (collation && containsString(condition)) return undefined;
  if (!isOperatorObject(condition))
    return isScalarId(condition)
      ? { equals: condition, lowerInclusive: true, upperInclusive: false }
      : undefined;
  const range: IdRange = { lowerInclusive: true, upperInclusive: false };
  for (const [op, value] of Object.entries(condition)) {
    if (op === '$type') {
      range.brackets = bracketsOfTypes(value);
      continue;
    }
    if (RESTRICTING_OPERATORS.has(op)) continue;
    if (!RANGE_OPERATORS.has(op)) return undefined;
    if (op === '$in') {
      if (!Array.isArray(value) || !value.every(isScalarId)) return undefined;
      range.among = value;
    } else if (op === '$eq') {
      if (!isScalarId(value)) return undefined;
      range.equals = value;
    } else if (op === '$gt' || op === '$gte') {
      if (range.lower === undefined || compareValues(value, range.lower) > 0) {
        range.lower = value;
        range.lowerInclusive = op === '$gte';
      }
    } else if (range.upper === undefined || compareValues(value, range.upper) < 0) {
      range.upper = value;
      range.upperInclusive = op === '$lte';
    }
  }
  return range;
}

/** The brackets a `$type` argument allows; undefined when it is invalid (the matcher reports that). */
function bracketsOfTypes(types: unknown): IdRange['brackets'] {
  let names: Set<string>;
  try {
    names = typeNamesOf(types);
  } catch {
    return undefined;
  }
  const orders = [...names].map((name) => TYPE_NAME_ORDER[name]);
  if (orders.length === 0 || orders.some((order) => order === undefined)) return undefined;
  const lowest = Math.min(...orders);
  const highest = Math.max(...orders);
  // Whether every type of the walked brackets is allowed: then the bracket alone decides the type.
  const whole = Object.entries(TYPE_NAME_ORDER).every(
    ([name, order]) => order < lowest || order > highest || names.has(name),
  );
  return { lowest, highest, whole };
}

/**
 * Whether the `_id` walk alone decides the condition: one whole type bracket, bounds inside it. The
 * walk stops past the bracket and the upper bound, so no id needs matching (what keeps a probe
 * that skips far along the index cheap).
 */
function walkDecidesRange(range: IdRange, condition: unknown): boolean {
  const { brackets } = range;
  if (!brackets || !brackets.whole || brackets.lowest !== brackets.highest) return false;
  const ops = Object.keys(condition as Document);
  if (!ops.every((op) => op === '$type' || op === '$gt' || op === '$gte' || op === '$lt' || op === '$lte'))
    return false;
  return [range.lower, range.upper].every(
    (bound) => bound === undefined || (canonicalTypeOrder(bound) === brackets.lowest && !isNaNValue(bound)),
  );
}

export interface ScanOptions {
  sort?: (a: Document, b: Document) => number;
  /** True when the requested sort is exactly `{_id: 1}` (or -1): the tree order serves it. */
  idSortDirection?: 1 | -1;
  /** Stop after this many matches (only when no separate sort is needed). */
  limit?: number;
  /** Matches to pass over before collecting (only when no separate sort is needed). */
  skip?: number;
  /** The command's `let` variables, for `$expr` in the filter. */
  variables?: Document;
  /** The command's collation (string comparisons in the filter). */
  collation?: Collation;
}

/** All matching documents, in the order asked (natural order when no sort). */
export function scanCollection(
  collection: DocumentSource,
  filter: Document,
  options: ScanOptions,
): ScannedDocument[] {
  const { collation } = options;
  const matcher =
    Object.keys(filter).length === 0
      ? undefined
      : compileFilter(filter, { variables: options.variables, collation });
  const range = idRangeOf(filter, collation);
  const results: ScannedDocument[] = [];
  const limit = options.sort ? Infinity : (options.limit ?? Infinity);
  // Skipped matches are only counted: a probe that skips far along the index builds nothing.
  let toSkip = options.sort ? 0 : (options.skip ?? 0);
  // The `_id` condition is checked on the stored id first, as an index would: documents it rules
  // out are never decoded (partitioning probes like {_id: {$type: ...}} stay cheap).
  let idMatcher = Object.prototype.hasOwnProperty.call(filter, '_id')
    ? compileFilter({ _id: filter._id }, { collation })
    : undefined;
  // A filter on `_id` alone is decided by the stored id: matches are decoded only if read.
  const decidedById = idMatcher !== undefined && Object.keys(filter).length === 1;
  const consider = (stored: StoredDocument): boolean => {
    if (idMatcher && !idMatcher({ _id: stored.id })) return true;
    if (decidedById && toSkip > 0) {
      toSkip--;
      return true;
    }
    if (decidedById) {
      let decoded: Document | undefined;
      results.push({
        stored,
        get doc() {
          return (decoded ??= deserializeExact(stored.raw));
        },
      });
      return results.length < limit;
    }
    const doc = deserializeExact(stored.raw);
    if (!matcher || matcher(doc)) {
      if (toSkip > 0) toSkip--;
      else results.push({ stored, doc });
    }
    return results.length < limit;
  };

  if (range?.equals !== undefined) {
    noteIdIndexUse(collection);
    const stored = collection.getById(range.equals);
    if (stored) consider(stored);
  } else if (range?.among !== undefined && options.sort === undefined) {
    noteIdIndexUse(collection);
    for (const stored of lookUpAmong(collection, range.among, options.idSortDirection ?? 1)) {
      if (!consider(stored)) break;
    }
    return results;
  } else if (range && options.idSortDirection !== -1 && (options.idSortDirection === 1 || !options.sort)) {
    noteIdIndexUse(collection);
    // With only a `$type` below it, the walk starts where the lowest allowed bracket starts.
    const lower = range.lower ?? (range.brackets ? new TypeBracketStart(range.brackets.lowest) : undefined);
    if (decidedById && walkDecidesRange(range, filter._id)) idMatcher = undefined;
    for (const stored of collection.idOrder({ lower, lowerInclusive: range.lowerInclusive })) {
      if (range.brackets && canonicalTypeOrder(stored.id) > range.brackets.highest) break;
      if (range.upper !== undefined) {
        const order = compareValues(stored.id, range.upper);
        if (order > 0 || (order === 0 && !range.upperInclusive)) break;
      }
      if (!consider(stored)) break;
    }
    return results; // already in _id order, which is what the caller asked or accepts
  } else if (options.idSortDirection !== undefined) {
    noteIdIndexUse(collection);
    for (const stored of collection.idOrder({ descending: options.idSortDirection === -1 }))
      if (!consider(stored)) break;
    return results;
  } else {
    for (const stored of collection.naturalOrder()) if (!consider(stored)) break;
  }
  if (options.sort) results.sort((a, b) => options.sort!(a.doc, b.doc));
  return results;
}

/** The documents whose `_id` is one of `ids`, each once, in `_id` order (as an index scan of `$in` returns them). */
function lookUpAmong(collection: DocumentSource, ids: unknown[], direction: 1 | -1): StoredDocument[] {
  const found = new Set<StoredDocument>();
  for (const id of ids) {
    const stored = collection.getById(id);
    if (stored) found.add(stored);
  }
  return [...found].sort((a, b) => direction * compareValues(a.id, b.id));
}

/**
 * Raw documents of a filter that is only an `_id` range (how sync tools read partitions), walked
 * in the `_id` tree without decoding a document. Range operators match within one BSON type
 * bracket, so the walk keeps the ids whose bracket is the bounds' and stops past the upper bound.
 */
function scanIdRangeRaw(
  collection: DocumentSource,
  range: IdRange,
  limit: number,
  idMatcher: ((doc: Document) => boolean) | undefined,
): Buffer[] | undefined {
  const bounds = [range.lower, range.upper].filter((bound) => bound !== undefined);
  const brackets = new Set(bounds.map((bound) => canonicalTypeOrder(bound)));
  if (brackets.size !== 1 || bounds.some((bound) => isNaNValue(bound))) return undefined;
  const [bracket] = brackets;
  const out: Buffer[] = [];
  for (const stored of collection.idOrder({ lower: range.lower, lowerInclusive: range.lowerInclusive })) {
    if (out.length >= limit) break;
    const order = canonicalTypeOrder(stored.id);
    if (order > bracket) break;
    if (order < bracket) continue;
    if (range.upper !== undefined) {
      const comparison = compareValues(stored.id, range.upper);
      if (comparison > 0 || (comparison === 0 && !range.upperInclusive)) break;
    }
    if (idMatcher && !idMatcher({ _id: stored.id })) continue;
    out.push(stored.raw);
  }
  return out;
}

function isNaNValue(value: unknown): boolean {
  const number = toNumber(value);
  return number !== undefined && Number.isNaN(number);
}

/** Raw documents for a filter with no sort/projection needs: skips deserialization where the filter allows. */
export function scanRaw(
  collection: DocumentSource,
  filter: Document,
  idSortDirection: 1 | -1 | undefined,
  limit: number,
  variables?: Document,
  collation?: Collation,
): Buffer[] {
  const keys = Object.keys(filter);
  if (keys.length === 1 && keys[0] === '_id' && idSortDirection !== -1) {
    const range = idRangeOf(filter, collation);
    if (
      range &&
      range.equals === undefined &&
      range.among === undefined &&
      (range.lower !== undefined || range.upper !== undefined)
    ) {
      const restricted = Object.keys(filter._id as Document).some((op) => RESTRICTING_OPERATORS.has(op));
      const fast = scanIdRangeRaw(
        collection,
        range,
        limit,
        restricted ? compileFilter({ _id: filter._id }, { collation }) : undefined,
      );
      if (fast) {
        noteIdIndexUse(collection);
        return fast;
      }
    }
  }
  if (keys.length > 0) {
    return scanCollection(collection, filter, { idSortDirection, limit, variables, collation }).map(
      (entry) => entry.stored.raw,
    );
  }
  const out: Buffer[] = [];
  if (idSortDirection !== undefined) noteIdIndexUse(collection);
  const source =
    idSortDirection === undefined
      ? collection.naturalOrder()
      : collection.idOrder({ descending: idSortDirection === -1 });
  for (const stored of source) {
    if (out.length >= limit) break;
    out.push(stored.raw);
  }
  return out;
}
