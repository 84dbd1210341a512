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

/**
 * Serialize into a buffer of its own: stored documents live long, and a slice of Node's shared
 * 8 KB pool would keep the whole slab (and the garbage around it) alive with them.
 */
export function serialize(doc: Document): Buffer {
  const bytes = BSON.serialize(doc, { checkKeys: false, ignoreUndefined: false });
  const owned = Buffer.allocUnsafeSlow(bytes.length);
  owned.set(bytes);
  return owned;
}

const RECEIVED_BYTES = Symbol('receivedBytes');

/**
 * Remember the exact bytes a document arrived as (OP_MSG document sequences), so an insert can
 * store them as they are instead of serializing the document again.
 */
export function withReceivedBytes(doc: Document, bytes: Buffer): Document {
  Object.defineProperty(doc, RECEIVED_BYTES, { value: bytes, enumerable: false });
  return doc;
}

/** The bytes a document arrived as, if it is still the very object decoded from them. */
export function receivedBytesOf(doc: Document): Buffer | undefined {
  return (doc as { [RECEIVED_BYTES]?: Buffer })[RECEIVED_BYTES];
}
