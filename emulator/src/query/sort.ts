// Sort specifications compiled to comparators. An array field sorts by its smallest element
// ascending and its largest descending; missing sorts as null; an empty array below null.
import type { Document } from 'bson';
import { CommandError } from '../errors';
import type { Collation } from './collation';
import { compareValues, isPlainDocument, toNumber } from './compare';
import { compilePath, getField, walkPath, type CompiledPath } from './paths';

export type DocumentComparator = (a: Document, b: Document) => number;

interface SortKey {
  path: CompiledPath;
  direction: 1 | -1;
}

function sortDirection(name: string, value: unknown): 1 | -1 | undefined {
  if (isPlainDocument(value) && '$meta' in value) return undefined;
  const n = toNumber(value);
  if (n === 1 || n === -1) return n;
  if (n === undefined) {
    throw new CommandError(15974, `Illegal key in $sort specification: ${name}: ${JSON.stringify(value)}`);
  }
  throw new CommandError(15975, '$sort key ordering must be 1 (for ascending) or -1 (for descending)');
}

/** The value a document sorts by on one key. */
export function sortKeyValue(
  doc: unknown,
  path: CompiledPath,
  direction: 1 | -1,
  collation?: Collation,
): unknown {
  if (path.parts.length === 1 && isPlainDocument(doc)) {
    const value = getField(doc, path.parts[0]);
    if (!Array.isArray(value)) return value === undefined ? null : value;
  }
  let best: unknown;
  let found = false;
  const consider = (candidate: unknown) => {
    if (!found || compareValues(candidate, best, collation) * direction < 0) {
      best = candidate;
      found = true;
    }
  };
  walkPath(doc, path, 0, (value) => {
    if (!Array.isArray(value)) consider(value === undefined ? null : value);
    else if (value.length === 0) consider(undefined);
    else for (const element of value) consider(element);
    return false;
  });
  return found ? best : null;
}

/** A comparator for a sort specification; strings compare by `collation` when given. */
export function compileSort(
  sort: Document | undefined,
  collation?: Collation,
): DocumentComparator | undefined {
  if (!sort) return undefined;
  const keys: SortKey[] = [];
  for (const name of Object.keys(sort)) {
    const direction = sortDirection(name, sort[name]);
    if (direction !== undefined) keys.push({ path: compilePath(name), direction });
  }
  if (keys.length === 0) return undefined;
  return (a, b) => {
    for (const { path, direction } of keys) {
      const c = compareValues(
        sortKeyValue(a, path, direction, collation),
        sortKeyValue(b, path, direction, collation),
        collation,
      );
      if (c !== 0) return c * direction;
    }
    return 0;
  };
}
