// Documents as BSON bytes (read with `raw: true`): what is read from them without decoding them whole.
import { BSON, type Document } from 'mongodb';
import { EXACT_TYPES } from './bsonOptions';

/** The whole document, every value of its exact BSON type. */
export function decodeDocument(bytes: Uint8Array): Document {
  return BSON.deserialize(bytes, EXACT_TYPES);
}

/** Bytes of a leading `_id` element's value, by BSON type, when they follow from the type alone or a length prefix. */
function leadingIdValueLength(bytes: Uint8Array, valueAt: number): number | undefined {
  const int32 = () =>
    bytes[valueAt] | (bytes[valueAt + 1] << 8) | (bytes[valueAt + 2] << 16) | (bytes[valueAt + 3] << 24);
  switch (bytes[4]) {
    case 0x01: // double
    case 0x09: // date
    case 0x11: // timestamp
    case 0x12: // int64
      return 8;
    case 0x02: // string
    case 0x0e: // symbol
      return 4 + int32();
    case 0x03: // document
      return int32();
    case 0x05: // binary: length, subtype, bytes
      return 5 + int32();
    case 0x07: // ObjectId
      return 12;
    case 0x08: // bool
      return 1;
    case 0x0a: // null
    case 0x7f: // maxKey
    case 0xff: // minKey
      return 0;
    case 0x10: // int32
      return 4;
    case 0x13: // decimal128
      return 16;
    default:
      return undefined;
  }
}

/**
 * A document's `_id`, read from its bytes. Documents stored by MongoDB lead with `_id`, so usually
 * only that element is decoded (the verifier reads every document of both clusters).
 */
export function rawId(bytes: Uint8Array): unknown {
  const valueAt = 9; // 4 bytes of length, 1 of type, "_id\0"
  if (
    bytes.length > valueAt &&
    bytes[5] === 0x5f &&
    bytes[6] === 0x69 &&
    bytes[7] === 0x64 &&
    bytes[8] === 0
  ) {
    const length = leadingIdValueLength(bytes, valueAt);
    if (length !== undefined && valueAt + length < bytes.length) {
      const element = new Uint8Array(valueAt + length + 1);
      element.set(bytes.subarray(4, valueAt + length), 4);
      new DataView(element.buffer).setInt32(0, element.length, true);
      return (BSON.deserialize(element, EXACT_TYPES) as Document)._id;
    }
  }
  return (BSON.deserialize(bytes, { ...EXACT_TYPES, raw: false }) as Document)._id;
}
