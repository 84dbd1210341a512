// mongod's KeyString (version V1, ascending ordering), the byte format of resume tokens' `_data`:
// a sequence of values, each a canonical-type byte then its bytes, ending with kEnd (0x04). Byte
// order is value order, so encoded tokens compare as (hex) strings in the order mongod compares
// them. Type details the bytes do not carry (int vs long vs double, string vs symbol) go into the
// separate "type bits", which mongod only returns (as `_typeBits`) when some bit is set.
import {
  Binary,
  BSONRegExp,
  BSONSymbol,
  Code,
  Decimal128,
  type Document,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
} from 'bson';

const CType = {
  minKey: 10,
  undefined: 15,
  nullish: 20,
  numericNaN: 30,
  numericNegativeLargeMagnitude: 31,
  numericNegative8ByteInt: 32,
  numericNegative1ByteInt: 39,
  numericNegativeSmallMagnitude: 40,
  numericZero: 41,
  numericPositiveSmallMagnitude: 42,
  numericPositive1ByteInt: 43,
  numericPositive8ByteInt: 50,
  numericPositiveLargeMagnitude: 51,
  stringLike: 60,
  object: 70,
  array: 80,
  binData: 90,
  oid: 100,
  boolFalse: 110,
  boolTrue: 111,
  date: 120,
  timestamp: 130,
  regex: 140,
  code: 160,
  codeWithScope: 170,
  maxKey: 240,
} as const;

export const KEY_STRING_END = 0x04;

/** Type-bit values (TypeBits in key_string.h): two bits per number, one per string. */
const NUMERIC_TYPE_BITS = { int: 0, long: 1, double: 2, decimal: 3 } as const;
const V1_NEGATIVE_DOUBLE_ZERO = 0x18;

class TypeBits {
  private bits: number[] | undefined;
  private count = 0;

  append(bit: number): void {
    // Most keys only ever append zeros: keep no array until a one arrives.
    if (bit === 1) {
      this.bits ??= new Array<number>(this.count).fill(0);
      this.bits.push(1);
    } else {
      this.bits?.push(0);
    }
    this.count++;
  }

  appendNumeric(kind: keyof typeof NUMERIC_TYPE_BITS): void {
    const value = NUMERIC_TYPE_BITS[kind];
    this.append(value >> 1);
    this.append(value & 1);
  }

  /** The serialized form, or undefined when every bit is zero (mongod then omits `_typeBits`). */
  serialize(): Buffer | undefined {
    const bits = this.bits;
    if (bits === undefined) return undefined;
    const data = Buffer.alloc(Math.ceil(bits.length / 8));
    bits.forEach((bit, index) => {
      if (bit) data[index >> 3] |= 1 << (index & 7);
    });
    if (data.length === 1 && data[0] < 0x80) return data;
    if (data.length <= 127) return Buffer.concat([Buffer.from([0x80 | data.length]), data]);
    const size = Buffer.alloc(5);
    size[0] = 0x80;
    size.writeUInt32LE(data.length, 1);
    return Buffer.concat([size, data]);
  }
}

/** Encoded field names and operation types, which every token repeats. */
const STRING_CACHE = new Map<string, Buffer>();

class Writer {
  private data = Buffer.allocUnsafe(128);
  private length = 0;
  readonly typeBits = new TypeBits();

  private reserve(count: number): void {
    if (this.length + count <= this.data.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.data.length * 2, this.length + count));
    this.data.copy(grown, 0, 0, this.length);
    this.data = grown;
  }

  byte(value: number): void {
    this.reserve(1);
    this.data[this.length++] = value & 0xff;
  }

  bytes(values: Uint8Array | readonly number[], invert = false): void {
    this.reserve(values.length);
    for (let index = 0; index < values.length; index++) {
      const value = values[index];
      this.data[this.length++] = invert ? ~value & 0xff : value & 0xff;
    }
  }

  /** Two big-endian 32-bit halves (a Timestamp's seconds and increment). */
  uint32Pair(high: number, low: number): void {
    this.reserve(8);
    this.data.writeUInt32BE(high >>> 0, this.length);
    this.data.writeUInt32BE(low >>> 0, this.length + 4);
    this.length += 8;
  }

  uint64(value: bigint, invert = false): void {
    const buffer = Buffer.alloc(8);
    buffer.writeBigUInt64BE(BigInt.asUintN(64, value));
    this.bytes(buffer, invert);
  }

  /** A string's UTF-8 bytes, NULs escaped as 00 FF, then the terminating 00. */
  stringLike(text: string): void {
    let encoded = STRING_CACHE.get(text);
    if (encoded === undefined) {
      const bytes: number[] = [];
      for (const byte of Buffer.from(text, 'utf8')) {
        bytes.push(byte);
        if (byte === 0) bytes.push(0xff);
      }
      bytes.push(0);
      encoded = Buffer.from(bytes);
      if (text.length <= 32 && STRING_CACHE.size < 1024) STRING_CACHE.set(text, encoded);
    }
    this.reserve(encoded.length);
    encoded.copy(this.data, this.length);
    this.length += encoded.length;
  }

  buffer(): Buffer {
    return this.data.subarray(0, this.length);
  }
}

function bitsOfDouble(value: number): bigint {
  const buffer = Buffer.alloc(8);
  buffer.writeDoubleBE(value);
  return buffer.readBigUInt64BE();
}

function byteLength(value: bigint): number {
  let bytes = 0;
  for (let rest = value; rest > 0n; rest >>= 8n) bytes++;
  return bytes;
}

/** `value` is the magnitude shifted left by one (the low bit flags a fraction). */
function appendPreshiftedInteger(out: Writer, value: bigint, negative: boolean): void {
  const bytes = byteLength(value);
  const encoded: number[] = [];
  for (let index = bytes - 1; index >= 0; index--) encoded.push(Number((value >> BigInt(index * 8)) & 0xffn));
  if (negative) {
    out.byte(CType.numericNegative1ByteInt - (bytes - 1));
    out.bytes(encoded, true);
  } else {
    out.byte(CType.numericPositive1ByteInt + (bytes - 1));
    out.bytes(encoded);
  }
}

/** Integers of magnitude below 2**31, without BigInt. */
function appendSmallInteger(out: Writer, value: number): void {
  if (value === 0) {
    out.byte(CType.numericZero);
    return;
  }
  const negative = value < 0;
  const shifted = Math.abs(value) * 2;
  const bytes = shifted < 0x100 ? 1 : shifted < 0x10000 ? 2 : shifted < 0x1000000 ? 3 : 4;
  out.byte(
    negative ? CType.numericNegative1ByteInt - (bytes - 1) : CType.numericPositive1ByteInt + (bytes - 1),
  );
  for (let index = bytes - 1; index >= 0; index--) {
    const byte = Math.floor(shifted / 2 ** (index * 8)) & 0xff;
    out.byte(negative ? ~byte : byte);
  }
}

function appendInteger(out: Writer, value: bigint): void {
  if (value === -(1n << 63n)) {
    appendDouble(out, -(2 ** 63));
    return;
  }
  if (value === 0n) {
    out.byte(CType.numericZero);
    return;
  }
  const negative = value < 0n;
  appendPreshiftedInteger(out, (negative ? -value : value) << 1n, negative);
}

const TINIEST_DOUBLE_WITH_2BIT_DCM = 2 ** -255;
const MIN_LARGE_DOUBLE = 2 ** 63;

/** A double's value bytes (no type bits), with the "equal to double" decimal continuation marker. */
function appendDouble(out: Writer, num: number): void {
  const negative = num < 0;
  const magnitude = Math.abs(num);
  if (!(magnitude >= 1)) {
    if (magnitude > 0) {
      out.byte(negative ? CType.numericNegativeSmallMagnitude : CType.numericPositiveSmallMagnitude);
      let encoded: bigint;
      if (magnitude >= TINIEST_DOUBLE_WITH_2BIT_DCM) {
        encoded = bitsOfDouble(magnitude) << 2n;
      } else {
        encoded = (bitsOfDouble(magnitude * 2 ** 256) << 1n) + (1n << 62n);
      }
      out.uint64(encoded, negative);
    } else if (num === 0) {
      out.byte(CType.numericZero);
    } else {
      out.byte(CType.numericNaN);
    }
    return;
  }
  if (magnitude < MIN_LARGE_DOUBLE) {
    const integerPart = BigInt(Math.floor(magnitude));
    if (Number(integerPart) === magnitude) {
      appendPreshiftedInteger(out, integerPart << 1n, negative);
      return;
    }
    const shifted = integerPart << 1n;
    const fractionalBytes = Math.floor((64 - shifted.toString(2).length) / 8);
    out.byte(
      negative
        ? CType.numericNegative8ByteInt + fractionalBytes
        : CType.numericPositive8ByteInt - fractionalBytes,
    );
    let encoding = BigInt(magnitude * 256 ** fractionalBytes);
    encoding += (integerPart + 1n) << BigInt(fractionalBytes * 8);
    out.uint64(encoding, negative);
    return;
  }
  out.byte(num > 0 ? CType.numericPositiveLargeMagnitude : CType.numericNegativeLargeMagnitude);
  const encoded = Number.isFinite(num) ? (bitsOfDouble(num) << 1n) & ~(1n << 63n) : (1n << 64n) - 1n;
  out.uint64(encoded, num < 0);
}

function appendStringLike(out: Writer, text: string): void {
  out.stringLike(text);
}

function appendObjectBody(out: Writer, doc: Document): void {
  for (const name in doc) {
    if (!Object.prototype.hasOwnProperty.call(doc, name)) continue;
    const value: unknown = doc[name];
    if (value === undefined) continue;
    out.byte(genericType(value));
    appendStringLike(out, name);
    appendValue(out, value);
  }
  out.byte(0);
}

function isInt32(value: number): boolean {
  return Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff && !Object.is(value, -0);
}

/** The canonical type byte that names an object field's type ahead of its name. */
const GENERIC_TYPES: Record<string, number> = {
  Int32: 30,
  Double: 30,
  Long: 30,
  Decimal128: 30,
  BSONSymbol: CType.stringLike,
  Symbol: CType.stringLike,
  Binary: CType.binData,
  ObjectId: CType.oid,
  ObjectID: CType.oid,
  Timestamp: CType.timestamp,
  BSONRegExp: CType.regex,
  MinKey: CType.minKey,
  MaxKey: CType.maxKey,
};

function bsonTypeOf(value: object): string | undefined {
  return (value as { _bsontype?: string })._bsontype;
}

/** The canonical type byte that names an object field's type ahead of its name. */
function genericType(value: unknown): number {
  if (value === null) return CType.nullish;
  switch (typeof value) {
    case 'number':
    case 'bigint':
      return 30;
    case 'string':
      return CType.stringLike;
    case 'boolean':
      return 110;
    case 'undefined':
      return CType.undefined;
  }
  const tag = bsonTypeOf(value as object);
  if (tag !== undefined) {
    if (tag === 'Code') return (value as Code).scope ? CType.codeWithScope : CType.code;
    const ctype = GENERIC_TYPES[tag];
    if (ctype !== undefined) return ctype;
  }
  if (Array.isArray(value)) return CType.array;
  if (value instanceof Uint8Array) return CType.binData;
  if (value instanceof Date) return CType.date;
  if (value instanceof RegExp) return CType.regex;
  return CType.object;
}

function appendBinData(out: Writer, subType: number, data: Uint8Array): void {
  out.byte(CType.binData);
  if (data.length < 0xff) {
    out.byte(data.length);
  } else {
    out.byte(0xff);
    const size = Buffer.alloc(4);
    size.writeInt32BE(data.length);
    out.bytes(size);
  }
  out.byte(subType);
  out.bytes(data);
}

function appendNumber(out: Writer, value: number | Int32 | Double | Long | bigint | Decimal128): void {
  if (value instanceof Int32) {
    out.typeBits.appendNumeric('int');
    appendSmallInteger(out, value.value);
  } else if (value instanceof Long || typeof value === 'bigint') {
    out.typeBits.appendNumeric('long');
    appendInteger(out, typeof value === 'bigint' ? value : value.toBigInt());
  } else if (value instanceof Decimal128) {
    // Only decimals equal to a double are encoded exactly; the type bits carry the exponent.
    const number = Number(value.toString());
    out.typeBits.appendNumeric('decimal');
    const exponent = (value.bytes[14] >> 1) | ((value.bytes[15] & 0x7f) << 7);
    for (let bit = 5; bit >= 0; bit--) out.typeBits.append((exponent >> bit) & 1);
    appendDouble(out, number);
  } else {
    const number = value instanceof Double ? value.value : value;
    if (!(value instanceof Double) && isInt32(number)) {
      out.typeBits.appendNumeric('int');
      appendSmallInteger(out, number);
    } else if (Object.is(number, -0)) {
      for (let bit = 4; bit >= 0; bit--) out.typeBits.append((V1_NEGATIVE_DOUBLE_ZERO >> bit) & 1);
      out.byte(CType.numericZero);
    } else {
      out.typeBits.appendNumeric('double');
      appendDouble(out, number);
    }
  }
}

function appendRegex(out: Writer, pattern: string, flags: string): void {
  out.byte(CType.regex);
  out.bytes(Buffer.from(pattern, 'utf8'));
  out.byte(0);
  out.bytes(Buffer.from(flags, 'utf8'));
  out.byte(0);
}

function appendValue(out: Writer, value: unknown): void {
  switch (typeof value) {
    case 'undefined':
      return out.byte(CType.undefined);
    case 'boolean':
      return out.byte(value ? CType.boolTrue : CType.boolFalse);
    case 'string':
      out.typeBits.append(0);
      out.byte(CType.stringLike);
      return appendStringLike(out, value);
    case 'number':
    case 'bigint':
      return appendNumber(out, value);
  }
  if (value === null) return out.byte(CType.nullish);
  switch (bsonTypeOf(value as object)) {
    case 'ObjectId':
    case 'ObjectID':
      out.byte(CType.oid);
      return out.bytes((value as ObjectId).id);
    // Before the numbers: bson's Timestamp is a subclass of Long.
    case 'Timestamp':
      out.byte(CType.timestamp);
      return out.uint32Pair((value as Timestamp).t, (value as Timestamp).i);
    case 'Int32':
    case 'Double':
    case 'Long':
    case 'Decimal128':
      return appendNumber(out, value as Int32 | Double | Long | Decimal128);
    case 'Binary': {
      const binary = value as Binary;
      return appendBinData(out, binary.sub_type, binary.buffer.subarray(0, binary.position));
    }
    case 'BSONSymbol':
    case 'Symbol':
      out.typeBits.append(1);
      out.byte(CType.stringLike);
      return appendStringLike(out, (value as BSONSymbol).value);
    case 'BSONRegExp':
      return appendRegex(out, (value as BSONRegExp).pattern, (value as BSONRegExp).options);
    case 'Code': {
      const code = value as Code;
      out.byte(code.scope ? CType.codeWithScope : CType.code);
      appendStringLike(out, typeof code.code === 'string' ? code.code : String(code.code));
      if (code.scope) appendObjectBody(out, code.scope);
      return;
    }
    case 'MinKey':
      return out.byte(CType.minKey);
    case 'MaxKey':
      return out.byte(CType.maxKey);
  }
  if (Array.isArray(value)) {
    out.byte(CType.array);
    for (const element of value) appendValue(out, element);
    return out.byte(0);
  }
  if (value instanceof Uint8Array) return appendBinData(out, 0, value);
  if (value instanceof Date) {
    out.byte(CType.date);
    return out.uint64(BigInt(value.getTime()) ^ (1n << 63n));
  }
  if (value instanceof RegExp) return appendRegex(out, value.source, value.flags);
  out.byte(CType.object);
  appendObjectBody(out, value as Document);
}

export interface EncodedKeyString {
  bytes: Buffer;
  /** Serialized type bits; undefined when all zero. */
  typeBits: Buffer | undefined;
}

/** Encodes the values as one KeyString (each an unnamed top-level element), ending with kEnd. */
export function encodeKeyString(values: readonly unknown[]): EncodedKeyString {
  const out = new Writer();
  for (const value of values) appendValue(out, value);
  out.byte(KEY_STRING_END);
  return { bytes: out.buffer(), typeBits: out.typeBits.serialize() };
}

// ---------------------------------------------------------------------------------------------
// Decoding: enough of the format to read resume tokens back (what this server and mongod write).

class KeyStringFormatError extends Error {}

class TypeBitsReader {
  private bit = 0;
  private readonly data: Buffer;

  constructor(serialized: Buffer | undefined) {
    if (serialized === undefined || serialized.length === 0) {
      this.data = Buffer.alloc(0);
      return;
    }
    const first = serialized[0];
    if (first > 0 && first < 0x80) this.data = serialized.subarray(0, 1);
    else if (first > 0x80) this.data = serialized.subarray(1, 1 + (first & 0x7f));
    else if (first === 0x80) this.data = serialized.subarray(5, 5 + serialized.readUInt32LE(1));
    else this.data = Buffer.alloc(0);
  }

  read(): number {
    const index = this.bit++;
    const byte = this.data[index >> 3];
    return byte === undefined ? 0 : (byte >> (index & 7)) & 1;
  }

  readNumeric(): number {
    const high = this.read();
    return (high << 1) | this.read();
  }
}

class Reader {
  offset = 0;

  constructor(
    private readonly data: Buffer,
    readonly typeBits: TypeBitsReader,
  ) {}

  get remaining(): number {
    return this.data.length - this.offset;
  }

  byte(): number {
    if (this.offset >= this.data.length) throw new KeyStringFormatError('unexpected end');
    return this.data[this.offset++];
  }

  take(count: number, invert = false): Buffer {
    if (this.offset + count > this.data.length) throw new KeyStringFormatError('unexpected end');
    const slice = Buffer.from(this.data.subarray(this.offset, this.offset + count));
    this.offset += count;
    if (invert) for (let index = 0; index < slice.length; index++) slice[index] = ~slice[index] & 0xff;
    return slice;
  }

  uint64(invert = false): bigint {
    return this.take(8, invert).readBigUInt64BE();
  }

  cString(): string {
    const bytes: number[] = [];
    for (;;) {
      const byte = this.byte();
      if (byte !== 0) {
        bytes.push(byte);
        continue;
      }
      if (this.remaining > 0 && this.data[this.offset] === 0xff) {
        this.offset++;
        bytes.push(0);
        continue;
      }
      return Buffer.from(bytes).toString('utf8');
    }
  }
}

function doubleOfBits(bits: bigint): number {
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64BE(BigInt.asUintN(64, bits));
  return buffer.readDoubleBE();
}

function readNumber(ctype: number, reader: Reader): unknown {
  const kind = reader.typeBits.readNumeric();
  if (kind === NUMERIC_TYPE_BITS.decimal) {
    // Decimal (6 exponent bits follow) or, for zero, a special zero (3 more bits).
    if (ctype === CType.numericZero) {
      for (let bit = 0; bit < 3; bit++) reader.typeBits.read();
      return -0;
    }
    for (let bit = 0; bit < 6; bit++) reader.typeBits.read();
  }
  const wrap = (value: number | bigint): unknown => {
    if (kind === NUMERIC_TYPE_BITS.long) return Long.fromBigInt(BigInt(value));
    if (kind === NUMERIC_TYPE_BITS.int) return new Int32(Number(value));
    if (kind === NUMERIC_TYPE_BITS.decimal) return Decimal128.fromString(String(value));
    return new Double(Number(value));
  };
  if (ctype === CType.numericZero) return wrap(0);
  if (ctype === CType.numericNaN) return wrap(NaN);
  if (ctype === CType.numericPositiveSmallMagnitude || ctype === CType.numericNegativeSmallMagnitude) {
    const negative = ctype === CType.numericNegativeSmallMagnitude;
    const encoded = reader.uint64(negative);
    const magnitude =
      encoded >> 62n === 3n
        ? doubleOfBits(encoded >> 2n)
        : doubleOfBits((encoded - (1n << 62n)) >> 1n) / 2 ** 256;
    return wrap(negative ? -magnitude : magnitude);
  }
  if (ctype === CType.numericPositiveLargeMagnitude || ctype === CType.numericNegativeLargeMagnitude) {
    const negative = ctype === CType.numericNegativeLargeMagnitude;
    const encoded = reader.uint64(negative);
    // The encoding dropped the sign and the exponent's top bit (always set at 2**63 and above).
    const magnitude = encoded === (1n << 64n) - 1n ? Infinity : doubleOfBits((encoded >> 1n) | (1n << 62n));
    if (kind === NUMERIC_TYPE_BITS.long && magnitude === 2 ** 63 && negative) return Long.MIN_VALUE;
    return wrap(negative ? -magnitude : magnitude);
  }
  const negative = ctype < CType.numericZero;
  const bytes = negative ? ctype - CType.numericNegative8ByteInt : CType.numericPositive8ByteInt - ctype;
  // `bytes` counts from 8: the integer part takes 8 - bytes bytes unless there is a fraction.
  const integerBytes = 8 - bytes;
  let preshifted = 0n;
  for (const byte of reader.take(integerBytes, negative)) preshifted = (preshifted << 8n) | BigInt(byte);
  const integerPart = preshifted >> 1n;
  if ((preshifted & 1n) === 0n) {
    const signed = negative ? -integerPart : integerPart;
    return kind === NUMERIC_TYPE_BITS.long ? Long.fromBigInt(signed) : wrap(Number(signed));
  }
  // A fraction follows: the remaining bytes of the 8-byte encoding.
  let encoding = preshifted;
  for (const byte of reader.take(bytes, negative)) encoding = (encoding << 8n) | BigInt(byte);
  const fractionScaled =
    encoding - ((integerPart + 1n) << BigInt(bytes * 8)) - (integerPart << BigInt(bytes * 8));
  const magnitude = Number(integerPart) + Number(fractionScaled & ~3n) / 256 ** bytes;
  return wrap(negative ? -magnitude : magnitude);
}

function readObjectBody(reader: Reader): Document {
  const doc: Document = {};
  for (;;) {
    const generic = reader.byte();
    if (generic === 0) return doc;
    const name = reader.cString();
    doc[name] = readValue(reader.byte(), reader);
  }
}

function readValue(ctype: number, reader: Reader): unknown {
  switch (ctype) {
    case CType.minKey:
      return new MinKey();
    case CType.maxKey:
      return new MaxKey();
    case CType.nullish:
      return null;
    case CType.undefined:
      return undefined;
    case CType.boolTrue:
      return true;
    case CType.boolFalse:
      return false;
    case CType.date:
      return new Date(Number(BigInt.asIntN(64, reader.uint64() ^ (1n << 63n))));
    case CType.timestamp: {
      const value = reader.uint64();
      return new Timestamp({ t: Number(value >> 32n), i: Number(value & 0xffffffffn) });
    }
    case CType.oid:
      return new ObjectId(reader.take(12));
    case CType.stringLike: {
      const symbol = reader.typeBits.read() === 1;
      const text = reader.cString();
      return symbol ? new BSONSymbol(text) : text;
    }
    case CType.code:
      return new Code(reader.cString());
    case CType.codeWithScope: {
      const code = reader.cString();
      return new Code(code, readObjectBody(reader));
    }
    case CType.object:
      return readObjectBody(reader);
    case CType.array: {
      const values: unknown[] = [];
      for (;;) {
        const next = reader.byte();
        if (next === 0) return values;
        values.push(readValue(next, reader));
      }
    }
    case CType.binData: {
      let size = reader.byte();
      if (size === 0xff) size = reader.take(4).readInt32BE();
      const subType = reader.byte();
      return new Binary(reader.take(size), subType);
    }
    case CType.regex: {
      const pattern = reader.cString();
      return new BSONRegExp(pattern, reader.cString());
    }
  }
  if (ctype >= CType.numericNaN && ctype <= CType.numericPositiveLargeMagnitude)
    return readNumber(ctype, reader);
  throw new KeyStringFormatError(`unknown type byte ${ctype}`);
}

/** The values of a KeyString, or undefined when the bytes are not a well-formed KeyString. */
export function decodeKeyString(bytes: Buffer, typeBits?: Buffer): unknown[] | undefined {
  const reader = new Reader(bytes, new TypeBitsReader(typeBits));
  const values: unknown[] = [];
  if (bytes.length === 0) return values;
  try {
    for (;;) {
      const ctype = reader.byte();
      if (ctype === KEY_STRING_END) return reader.remaining === 0 ? values : undefined;
      values.push(readValue(ctype, reader));
    }
  } catch (error) {
    if (error instanceof KeyStringFormatError || error instanceof RangeError) return undefined;
    throw error;
  }
}
