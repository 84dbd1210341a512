// BSON settings that keep every value exactly as the client wrote it: Int32, Double, Int64 and
// Decimal128 stay wrapped (so 1.0 stays a Double), regular expressions stay BSONRegExp.
import { BSON, type Document, type DeserializeOptions } from 'bson';

export const exactDeserializeOptions: DeserializeOptions = {
  promoteValues: false,
  promoteLongs: false,
  promoteBuffers: false,
  bsonRegExp: true,
  useBigInt64: false,
};

export function deserializeExact(buffer: Uint8Array): Document {
  return BSON.deserialize(buffer, exactDeserializeOptions);
}

export function serialize(doc: Document): Buffer {
  return Buffer.from(BSON.serialize(doc, { checkKeys: false, ignoreUndefined: false }));
}
