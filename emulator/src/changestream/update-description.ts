// The `updateDescription` of an update event, computed from the document before and after: what
// mongod derives from its $v:2 oplog diff. Subdocuments present on both sides are compared field
// by field, arrays element by element; a changed element is reported as "arr.i", a shrunk array in
// truncatedArrays. Paths whose dotted form is ambiguous (a field name that contains a dot or is
// all digits) are spelled out in disambiguatedPaths, array indexes as numbers.
import type { Document } from 'bson';
import { exactlyEqual } from './exact-equality';

type PathPart = string | number;

function isPlainObject(value: unknown): value is Document {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const NUMERIC_FIELD = /^\d+$/;

class DiffCollector {
  readonly updatedFields: Document = {};
  readonly removedFields: string[] = [];
  readonly truncatedArrays: Document[] = [];
  readonly disambiguatedPaths: Document = {};

  private dotted(parts: readonly PathPart[]): string {
    const path = parts.join('.');
    const ambiguous = parts.some(
      (part) => typeof part === 'string' && (part.includes('.') || NUMERIC_FIELD.test(part)),
    );
    if (ambiguous) this.disambiguatedPaths[path] = [...parts];
    return path;
  }

  updated(parts: readonly PathPart[], value: unknown): void {
    this.updatedFields[this.dotted(parts)] = value;
  }

  removed(parts: readonly PathPart[]): void {
    this.removedFields.push(this.dotted(parts));
  }

  truncated(parts: readonly PathPart[], newSize: number): void {
    this.truncatedArrays.push({ field: this.dotted(parts), newSize });
  }

  compareDocuments(before: Document, after: Document, parts: PathPart[]): void {
    for (const key of Object.keys(before)) {
      if (!Object.prototype.hasOwnProperty.call(after, key)) this.removed([...parts, key]);
    }
    for (const key of Object.keys(after)) {
      const path = [...parts, key];
      if (!Object.prototype.hasOwnProperty.call(before, key)) this.updated(path, after[key]);
      else this.compareValues(before[key], after[key], path);
    }
  }

  compareArrays(before: unknown[], after: unknown[], parts: PathPart[]): void {
    if (after.length < before.length) this.truncated(parts, after.length);
    for (let index = 0; index < after.length; index++) {
      const path = [...parts, index];
      if (index >= before.length) this.updated(path, after[index]);
      else this.compareValues(before[index], after[index], path);
    }
  }

  compareValues(before: unknown, after: unknown, parts: PathPart[]): void {
    if (isPlainObject(before) && isPlainObject(after)) this.compareDocuments(before, after, parts);
    else if (Array.isArray(before) && Array.isArray(after)) this.compareArrays(before, after, parts);
    else if (!exactlyEqual(before, after)) this.updated(parts, after);
  }
}

/**
 * `{updatedFields, removedFields, truncatedArrays}` for a non-replacement update, plus
 * `disambiguatedPaths` when some path is ambiguous (change streams show it only with
 * showExpandedEvents).
 */
export function computeUpdateDescription(before: Document, after: Document): Document {
  const diff = new DiffCollector();
  diff.compareDocuments(before, after, []);
  const description: Document = {
    updatedFields: diff.updatedFields,
    removedFields: diff.removedFields,
    truncatedArrays: diff.truncatedArrays,
  };
  if (Object.keys(diff.disambiguatedPaths).length > 0)
    description.disambiguatedPaths = diff.disambiguatedPaths;
  return description;
}
