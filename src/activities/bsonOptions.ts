import type { BSONSerializeOptions } from 'mongodb';

/**
 * Read options that keep every BSON value's exact type through a read-then-write round trip
 * (a Double 1.0 stays a Double, an Int64 stays an Int64, a BSON regex stays a BSON regex).
 */
export const EXACT_TYPES: BSONSerializeOptions = {
  promoteValues: false,
  promoteLongs: false,
  promoteBuffers: false,
  bsonRegExp: true,
};

/**
 * A server error's code as a number. Replies read with EXACT_TYPES keep the code as an Int32, so
 * a plain `=== 286` or `typeof code === 'number'` check would miss it.
 */
export function serverErrorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === undefined || code === null) return undefined;
  const value = Number(typeof code === 'object' ? (code as { valueOf(): unknown }).valueOf() : code);
  return Number.isFinite(value) ? value : undefined;
}
