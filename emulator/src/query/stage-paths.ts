// Document-level dotted paths as stages such as $unwind and $lookup use them: only embedded
// documents are entered (arrays are not traversed), and setting copies along the path.
import type { Document } from 'bson';
import { isPlainObject } from './expr-core';
import { getField } from './paths';

export function getNestedField(doc: Document, parts: readonly string[]): unknown {
  let current: unknown = doc;
  for (const part of parts) {
    if (!isPlainObject(current)) return undefined;
    current = getField(current, part);
  }
  return current;
}

/** A copy of `doc` with the path set (non-documents on the way are replaced by documents). */
export function setNestedField(doc: Document, parts: readonly string[], value: unknown): Document {
  const [head, ...rest] = parts;
  const result: Document = { ...doc };
  if (rest.length === 0) {
    result[head] = value;
  } else {
    const child = getField(doc, head);
    result[head] = setNestedField(isPlainObject(child) ? child : {}, rest, value);
  }
  return result;
}

/** A copy of `doc` without the field at the path. */
export function removeNestedField(doc: Document, parts: readonly string[]): Document {
  const [head, ...rest] = parts;
  const result: Document = { ...doc };
  if (rest.length === 0) {
    delete result[head];
  } else {
    const child = getField(doc, head);
    if (isPlainObject(child)) result[head] = removeNestedField(child, rest);
  }
  return result;
}
