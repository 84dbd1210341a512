// Dotted field paths as MongoDB's query layer walks them: arrays met on the way are traversed
// element by element (documents inside them continue the path), numeric components index arrays.
import { isPlainDocument } from './compare';

/** A dotted path split once, with each component's array index (-1 when not a number). */
export interface CompiledPath {
  readonly path: string;
  readonly parts: readonly string[];
  readonly indexes: readonly number[];
}

const indexPattern = /^(0|[1-9]\d{0,8})$/;

export function arrayIndexOf(part: string): number {
  return indexPattern.test(part) ? Number(part) : -1;
}

export function compilePath(path: string): CompiledPath {
  const parts = path.split('.');
  return { path, parts, indexes: parts.map(arrayIndexOf) };
}

/** An own field of a document; never something inherited from Object.prototype. */
export function getField(doc: object, name: string): unknown {
  const value = (doc as Record<string, unknown>)[name];
  if (value === undefined) return undefined;
  if (typeof value === 'function' || name === '__proto__') {
    return Object.prototype.hasOwnProperty.call(doc, name) ? value : undefined;
  }
  return value;
}

/**
 * Calls `leaf` with every value the path reaches (undefined where a branch ends missing) until it
 * returns true. Leaf arrays are passed whole: each operator decides whether to look inside.
 */
export function walkPath(
  value: unknown,
  path: CompiledPath,
  position: number,
  leaf: (value: unknown) => boolean,
): boolean {
  const { parts } = path;
  let current = value;
  for (let i = position; i < parts.length; i++) {
    if (Array.isArray(current)) return walkArray(current, path, i, leaf);
    if (!isPlainDocument(current)) return leaf(undefined);
    current = getField(current, parts[i]);
  }
  return leaf(current);
}

function walkArray(
  array: unknown[],
  path: CompiledPath,
  i: number,
  leaf: (value: unknown) => boolean,
): boolean {
  const index = path.indexes[i];
  if (index >= 0 && index < array.length && walkPath(array[index], path, i + 1, leaf)) return true;
  let walked = false;
  for (const element of array) {
    if (!isPlainDocument(element)) continue;
    walked = true;
    if (walkPath(element, path, i, leaf)) return true;
  }
  if (!walked && index < 0) return leaf(undefined);
  return false;
}

/**
 * All values a path reaches, with arrays at the end of the path replaced by their elements and
 * missing branches left out (what `distinct` and sorting see).
 */
export function getPathValues(doc: unknown, path: string): unknown[] {
  const values: unknown[] = [];
  walkPath(doc, compilePath(path), 0, (value) => {
    if (Array.isArray(value)) values.push(...value);
    else if (value !== undefined) values.push(value);
    return false;
  });
  return values;
}

/** The single value at a path: documents are entered, arrays only through numeric components. */
export function getPath(doc: unknown, path: string): unknown {
  let current = doc;
  for (const part of path.split('.')) {
    if (Array.isArray(current)) {
      const index = arrayIndexOf(part);
      if (index < 0) return undefined;
      current = current[index];
    } else if (isPlainDocument(current)) {
      current = getField(current, part);
    } else {
      return undefined;
    }
  }
  return current;
}
