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
