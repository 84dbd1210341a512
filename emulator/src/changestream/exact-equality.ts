// Exact (binary) equality of stored BSON values: same BSON type, same bytes. Int32(1) and
// Double(1.0) differ, and field order inside documents matters, as in mongod's update diffs.
import { BSON, type Document } from 'bson';

/** The BSON type a plain JS number serializes as. */
function numberTag(value: number): string {
  return Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff && !Object.is(value, -0)
    ? 'Int32'
    : 'Double';
}

function bsonTag(value: object): string | undefined {
  const tag = (value as { _bsontype?: unknown })._bsontype;
  return typeof tag === 'string' ? tag : undefined;
}

/** Normalizes numbers (plain or wrapped) to [type, value] so a plain 1 equals Int32(1). */
function numericForm(value: unknown): [string, number] | undefined {
  if (typeof value === 'number') return [numberTag(value), value];
  if (value !== null && typeof value === 'object') {
    const tag = bsonTag(value);
    if (tag === 'Int32' || tag === 'Double') return [tag, (value as { value: number }).value];
  }
  return undefined;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

function serializedEqual(a: unknown, b: unknown): boolean {
  const options = { checkKeys: false, ignoreUndefined: false };
  return bytesEqual(BSON.serialize({ v: a }, options), BSON.serialize({ v: b }, options));
}

function isPlainObject(value: unknown): value is Document {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function exactlyEqual(a: unknown, b: unknown): boolean {
  if (a === b) return typeof a !== 'number' || numberTag(a) === numberTag(b as number);
  const numA = numericForm(a);
  if (numA) {
    const numB = numericForm(b);
    return numB !== undefined && numA[0] === numB[0] && Object.is(numA[1], numB[1]);
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let k = 0; k < a.length; k++) if (!exactlyEqual(a[k], b[k])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const keysA = Object.keys(a);
    const keysB = Object.keys(b);
    if (keysA.length !== keysB.length) return false;
    for (let k = 0; k < keysA.length; k++) {
      if (keysA[k] !== keysB[k] || !exactlyEqual(a[keysA[k]], b[keysB[k]])) return false;
    }
    return true;
  }
  if (isPlainObject(b)) return false;
  if (a instanceof Date) return b instanceof Date && Object.is(a.getTime(), b.getTime());
  const tagA = bsonTag(a);
  if (tagA === undefined || tagA !== bsonTag(b)) return serializedEqual(a, b);
  switch (tagA) {
    case 'ObjectId':
      return (a as { equals(o: unknown): boolean }).equals(b);
    case 'Long':
    case 'Timestamp':
      return (a as { equals(o: unknown): boolean }).equals(b);
    case 'Binary': {
      const binA = a as { sub_type: number; buffer: Uint8Array; position: number };
      const binB = b as { sub_type: number; buffer: Uint8Array; position: number };
      return (
        binA.sub_type === binB.sub_type &&
        bytesEqual(binA.buffer.subarray(0, binA.position), binB.buffer.subarray(0, binB.position))
      );
    }
    default:
      return serializedEqual(a, b);
  }
}
