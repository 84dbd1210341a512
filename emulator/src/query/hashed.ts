// The values a hashed index stores, as mongod computes them (hasher.cpp, BSONElementHasher::hash64
// with the default seed 0): MD5 over the seed (int32), then the element hashed recursively (its
// canonical type as int32, the field name below the top level, then the value: numbers squashed to
// a 64-bit integer, embedded documents and arrays element by element through their EOO, anything
// else as its BSON value bytes); the digest's first 8 bytes read as a little-endian Int64.
import { createHash, type Hash } from 'crypto';
import { Decimal128, Long, serialize } from 'bson';

const HASH_SEED = 0;

/** canonicalizeBSONType (bsontypes.h): numbers share one type, as strings and symbols do. */
function canonicalType(type: number): number {
  switch (type) {
    case 0xff: // MinKey
      return -1;
    case 0x7f: // MaxKey
      return 127;
    case 0x00: // EOO
    case 0x06: // Undefined
      return 0;
    case 0x0a: // null
      return 5;
    case 0x01: // double
    case 0x10: // int
    case 0x12: // long
    case 0x13: // decimal
      return 10;
    case 0x02: // string
    case 0x0e: // symbol
      return 15;
    case 0x03:
      return 20;
    case 0x04:
      return 25;
    case 0x05: // binData
      return 30;
    case 0x07: // ObjectId
      return 35;
    case 0x08: // bool
      return 40;
    case 0x09: // date
      return 45;
    case 0x11: // timestamp
      return 47;
    case 0x0b: // regex
      return 50;
    case 0x0c: // DBPointer
      return 55;
    case 0x0d: // code
      return 60;
    case 0x0f: // code with scope
      return 65;
    default:
      throw new Error(`Invalid/undefined BSONType value was provided (${type})`);
  }
}

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);
const TWO_63 = 2 ** 63;

/** BSONElement::safeNumberLong for a double, with safeNumberLongForHash's 2^63 → INT64_MIN. */
function doubleToHashLong(d: number): bigint {
  if (Number.isNaN(d)) return 0n;
  if (d === TWO_63) return INT64_MIN;
  if (d >= TWO_63) return INT64_MAX;
  if (d < -TWO_63) return INT64_MIN;
  return BigInt(Math.trunc(d));
}

/** safeNumberLong for a decimal: NaN → 0, clamped to Int64, else rounded half to even (toLong). */
export function decimalToHashLong(text: string): bigint {
  if (/nan/i.test(text)) return 0n;
  if (/inf/i.test(text)) return text.startsWith('-') ? INT64_MIN : INT64_MAX;
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) return 0n;
  const [, sign, whole, fraction = '', exponentText = '0'] = match;
  const digits = BigInt(`${whole}${fraction}` || '0');
  const exponent = Number(exponentText) - fraction.length;
  let value: bigint;
  if (exponent >= 0) value = digits * 10n ** BigInt(Math.min(exponent, 40));
  else {
    const divisor = 10n ** BigInt(-exponent);
    value = digits / divisor;
    const remainder = digits % divisor;
    if (remainder * 2n > divisor || (remainder * 2n === divisor && value % 2n === 1n)) value += 1n;
  }
  if (sign === '-') value = -value;
  if (value > INT64_MAX) return INT64_MAX;
  if (value < INT64_MIN) return INT64_MIN;
  return value;
}

function int32(n: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32LE(n);
  return buffer;
}

function int64(n: bigint): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigInt64LE(n);
  return buffer;
}

function cstringEnd(bytes: Buffer, offset: number): number {
  const end = bytes.indexOf(0, offset);
  if (end < 0) throw new Error('unterminated BSON cstring');
  return end;
}

/** The size of an element's value (after its type byte and name) in BSON bytes. */
function valueSize(bytes: Buffer, type: number, offset: number): number {
  switch (type) {
    case 0x01:
    case 0x09:
    case 0x11:
    case 0x12:
      return 8;
    case 0x13:
      return 16;
    case 0x10:
      return 4;
    case 0x08:
      return 1;
    case 0x07:
      return 12;
    case 0x06:
    case 0x0a:
    case 0x7f:
    case 0xff:
      return 0;
    case 0x02:
    case 0x0d:
    case 0x0e:
      return 4 + bytes.readInt32LE(offset);
    case 0x03:
    case 0x04:
    case 0x0f:
      return bytes.readInt32LE(offset);
    case 0x05:
      return 5 + bytes.readInt32LE(offset);
    case 0x0b: {
      const patternEnd = cstringEnd(bytes, offset);
      return cstringEnd(bytes, patternEnd + 1) + 1 - offset;
    }
    case 0x0c:
      return 4 + bytes.readInt32LE(offset) + 12;
    default:
      throw new Error(`Invalid/undefined BSONType value was provided (${type})`);
  }
}

/** Hashes the element at `offset`; returns the offset after it. */
function hashElement(hash: Hash, bytes: Buffer, offset: number, includeFieldName: boolean): number {
  const type = bytes[offset];
  hash.update(int32(canonicalType(type)));
  if (type === 0x00) return offset + 1; // EOO: no name, no value
  const nameEnd = cstringEnd(bytes, offset + 1);
  if (includeFieldName) hash.update(bytes.subarray(offset + 1, nameEnd + 1));
  const valueStart = nameEnd + 1;
  const size = valueSize(bytes, type, valueStart);
  if (type === 0x03 || type === 0x04 || type === 0x0f) {
    let documentStart = valueStart;
    if (type === 0x0f) {
      // The code (with its NUL), then the scope document.
      const codeLength = bytes.readInt32LE(valueStart + 4);
      hash.update(bytes.subarray(valueStart + 8, valueStart + 8 + codeLength));
      documentStart = valueStart + 8 + codeLength;
    }
    let position = documentStart + 4;
    for (;;) {
      const isEnd = bytes[position] === 0x00;
      position = hashElement(hash, bytes, position, true);
      if (isEnd) break;
    }
  } else if (type === 0x01) {
    hash.update(int64(doubleToHashLong(bytes.readDoubleLE(valueStart))));
  } else if (type === 0x10) {
    hash.update(int64(BigInt(bytes.readInt32LE(valueStart))));
  } else if (type === 0x12) {
    hash.update(bytes.subarray(valueStart, valueStart + 8));
  } else if (type === 0x13) {
    const decimal = new Decimal128(Buffer.from(bytes.subarray(valueStart, valueStart + 16)));
    hash.update(int64(decimalToHashLong(decimal.toString())));
  } else {
    hash.update(bytes.subarray(valueStart, valueStart + size));
  }
  return valueStart + size;
}

/**
 * `$toHashedIndexKey` / a hashed index's key for a value (missing hashes as null, as mongod
 * evaluates a missing input).
 */
export function hashedIndexKey(value: unknown): Long {
  const bytes = Buffer.from(serialize({ '': value === undefined ? null : value }));
  const hash = createHash('md5');
  hash.update(int32(HASH_SEED));
  hashElement(hash, bytes, 4, false);
  const digest = hash.digest();
  return Long.fromBigInt(digest.readBigInt64LE(0));
}
