// MongoDB's BSON value order across types, value equality and canonical keys, over the exact value
// model (Int32/Double/Long/Decimal128 wrappers, BSONRegExp, ...). Plain JS numbers read as the BSON
// serializer would write them (int32 when integral and in range, double otherwise); bigint as long.
import type {
  Binary,
  BSONRegExp,
  BSONSymbol,
  Code,
  DBRef,
  Decimal128,
  Document,
  Double,
  Int32,
  Long,
  ObjectId,
  Timestamp,
} from 'bson';
import type { Collation } from './collation';

// Canonical type brackets, numbered as mongod numbers them.
export const TypeOrder = {
  minKey: -1,
  undefined: 0,
  null: 5,
  number: 10,
  string: 15,
  object: 20,
  array: 25,
  binData: 30,
  objectId: 35,
  bool: 40,
  date: 45,
  timestamp: 47,
  regex: 50,
  dbPointer: 55,
  javascript: 60,
  javascriptWithScope: 65,
  maxKey: 127,
} as const;

/** Each BSON type name's canonical bracket (numbers share one, as strings and symbols do). */
export const TYPE_NAME_ORDER: Readonly<Record<string, number>> = {
  minKey: TypeOrder.minKey,
  undefined: TypeOrder.undefined,
  null: TypeOrder.null,
  int: TypeOrder.number,
  long: TypeOrder.number,
  double: TypeOrder.number,
  decimal: TypeOrder.number,
  string: TypeOrder.string,
  symbol: TypeOrder.string,
  object: TypeOrder.object,
  array: TypeOrder.array,
  binData: TypeOrder.binData,
  objectId: TypeOrder.objectId,
  bool: TypeOrder.bool,
  date: TypeOrder.date,
  timestamp: TypeOrder.timestamp,
  regex: TypeOrder.regex,
  dbPointer: TypeOrder.dbPointer,
  javascript: TypeOrder.javascript,
  javascriptWithScope: TypeOrder.javascriptWithScope,
  maxKey: TypeOrder.maxKey,
};

/**
 * A key just below every value of one type bracket, never a stored value: an index walk seeks to
 * it to start where that type's values start, as mongod's index bounds for `$type` do.
 */
export class TypeBracketStart {
  constructor(readonly order: number) {}
}

function bsonTag(value: object): string | undefined {
  const tag = (value as { _bsontype?: unknown })._bsontype;
  return typeof tag === 'string' ? tag : undefined;
}

/** A document in the query sense: a plain object (not an array, Date or BSON wrapper). */
export function isPlainDocument(value: unknown): value is Document {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function canonicalTypeOrder(v: unknown): number {
  switch (typeof v) {
    case 'undefined':
      return TypeOrder.undefined;
    case 'number':
    case 'bigint':
      return TypeOrder.number;
    case 'string':
      return TypeOrder.string;
    case 'boolean':
      return TypeOrder.bool;
    case 'object':
      break;
    default:
      return TypeOrder.object;
  }
  if (v === null) return TypeOrder.null;
  if (Array.isArray(v)) return TypeOrder.array;
  if (v instanceof Date) return TypeOrder.date;
  if (v instanceof Uint8Array) return TypeOrder.binData;
  switch (bsonTag(v)) {
    case undefined:
      return v instanceof TypeBracketStart ? v.order - 0.5 : TypeOrder.object;
    case 'Int32':
    case 'Double':
    case 'Long':
    case 'Decimal128':
      return TypeOrder.number;
    case 'BSONSymbol':
      return TypeOrder.string;
    case 'Binary':
      return TypeOrder.binData;
    case 'ObjectId':
      return TypeOrder.objectId;
    case 'Timestamp':
      return TypeOrder.timestamp;
    case 'BSONRegExp':
      return TypeOrder.regex;
    case 'Code':
      return (v as Code).scope ? TypeOrder.javascriptWithScope : TypeOrder.javascript;
    case 'MinKey':
      return TypeOrder.minKey;
    case 'MaxKey':
      return TypeOrder.maxKey;
    case 'DBRef':
      return TypeOrder.object;
    default:
      return TypeOrder.object;
  }
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

export function bsonTypeName(v: unknown): string {
  switch (typeof v) {
    case 'undefined':
      return 'undefined';
    case 'number':
      return Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX && !Object.is(v, -0) ? 'int' : 'double';
    case 'bigint':
      return 'long';
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'object':
      break;
    default:
      return 'object';
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  if (v instanceof Uint8Array) return 'binData';
  switch (bsonTag(v)) {
    case 'Int32':
      return 'int';
    case 'Double':
      return 'double';
    case 'Long':
      return 'long';
    case 'Decimal128':
      return 'decimal';
    case 'BSONSymbol':
      return 'symbol';
    case 'Binary':
      return 'binData';
    case 'ObjectId':
      return 'objectId';
    case 'Timestamp':
      return 'timestamp';
    case 'BSONRegExp':
      return 'regex';
    case 'Code':
      return (v as Code).scope ? 'javascriptWithScope' : 'javascript';
    case 'MinKey':
      return 'minKey';
    case 'MaxKey':
      return 'maxKey';
    default:
      return 'object';
  }
}

/** Numeric wrappers (and plain numbers/bigints) as a JS number; undefined for non-numbers. */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v === null || typeof v !== 'object') return undefined;
  switch (bsonTag(v)) {
    case 'Int32':
    case 'Double':
      return (v as Int32 | Double).value;
    case 'Long':
      return (v as Long).toNumber();
    case 'Decimal128':
      return decimalToNumber(v as Decimal128);
    default:
      return undefined;
  }
}

function decimalToNumber(value: Decimal128): number {
  const text = value.toString();
  if (text.endsWith('NaN')) return NaN;
  if (text === 'Infinity') return Infinity;
  if (text === '-Infinity') return -Infinity;
  return Number(text);
}

// ---------------------------------------------------------------------------------------------
// Numbers. Doubles and int32s compare as JS numbers; longs exactly through bigint; decimals (and
// anything compared with them) through exact decimal fractions.

type NumberClass = 'small' | 'long' | 'decimal';

function numberClass(v: unknown): NumberClass {
  if (typeof v === 'number') return 'small';
  if (typeof v === 'bigint') return 'long';
  const tag = bsonTag(v as object);
  return tag === 'Long' ? 'long' : tag === 'Decimal128' ? 'decimal' : 'small';
}

function smallValue(v: unknown): number {
  return typeof v === 'number' ? v : (v as Int32 | Double).value;
}

function longValue(v: unknown): bigint {
  return typeof v === 'bigint' ? v : (v as Long).toBigInt();
}

/** An exact numeric value: NaN, ±Infinity, or coefficient × 10^exponent (normalized). */
type ExactNumber =
  { special: 'nan' | 'inf' | '-inf' } | { special: undefined; coefficient: bigint; exponent: number };

const TEN = BigInt(10);
const ZERO = BigInt(0);

function normalized(coefficient: bigint, exponent: number): ExactNumber {
  if (coefficient === ZERO) return { special: undefined, coefficient, exponent: 0 };
  while (coefficient % TEN === ZERO) {
    coefficient /= TEN;
    exponent++;
  }
  return { special: undefined, coefficient, exponent };
}

function exactFromDouble(d: number): ExactNumber {
  if (Number.isNaN(d)) return { special: 'nan' };
  if (d === Infinity) return { special: 'inf' };
  if (d === -Infinity) return { special: '-inf' };
  if (Number.isInteger(d)) return normalized(BigInt(d), 0);
  // d = m / 2^k exactly, and m / 2^k = m·5^k / 10^k.
  let m = d;
  let k = 0;
  while (!Number.isInteger(m)) {
    m *= 2;
    k++;
  }
  return normalized(BigInt(m) * BigInt(5) ** BigInt(k), -k);
}

const decimalPattern = /^(-?)(\d+)(?:\.(\d+))?(?:E([+-]\d+))?$/;

function exactFromDecimal(value: Decimal128): ExactNumber {
  const text = value.toString();
  if (text.endsWith('NaN')) return { special: 'nan' };
  if (text === 'Infinity') return { special: 'inf' };
  if (text === '-Infinity') return { special: '-inf' };
  const match = decimalPattern.exec(text);
  if (!match) return { special: 'nan' };
  const [, sign, whole, fraction = '', exp = '0'] = match;
  const magnitude = BigInt(whole + fraction);
  return normalized(sign === '-' ? -magnitude : magnitude, Number(exp) - fraction.length);
}

function exactNumber(v: unknown): ExactNumber {
  switch (numberClass(v)) {
    case 'small':
      return exactFromDouble(smallValue(v));
    case 'long':
      return normalized(longValue(v), 0);
    default:
      return exactFromDecimal(v as Decimal128);
  }
}

function compareExact(a: ExactNumber, b: ExactNumber): number {
  const rank = (x: ExactNumber) =>
    x.special === 'nan' ? 0 : x.special === '-inf' ? 1 : x.special === 'inf' ? 3 : 2;
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (a.special !== undefined || b.special !== undefined) return 0;
  const exponent = Math.min(a.exponent, b.exponent);
  const x = a.coefficient * TEN ** BigInt(a.exponent - exponent);
  const y = b.coefficient * TEN ** BigInt(b.exponent - exponent);
  return x < y ? -1 : x > y ? 1 : 0;
}

const TWO_63 = 2 ** 63;

function compareLongToDouble(l: bigint, d: number): number {
  if (Number.isNaN(d)) return 1;
  if (d >= TWO_63) return -1;
  if (d < -TWO_63) return 1;
  const floor = Math.floor(d);
  const f = BigInt(floor);
  if (l !== f) return l < f ? -1 : 1;
  return d > floor ? -1 : 0;
}

function compareNumbers(a: unknown, b: unknown): number {
  const ca = numberClass(a);
  const cb = numberClass(b);
  if (ca === 'small' && cb === 'small') {
    const x = smallValue(a);
    const y = smallValue(b);
    if (x < y) return -1;
    if (x > y) return 1;
    if (x === y) return 0;
    const xNaN = Number.isNaN(x);
    const yNaN = Number.isNaN(y);
    return xNaN === yNaN ? 0 : xNaN ? -1 : 1;
  }
  if (ca === 'long' && cb === 'long') {
    const x = longValue(a);
    const y = longValue(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (ca === 'long' && cb === 'small') return compareLongToDouble(longValue(a), smallValue(b));
  if (ca === 'small' && cb === 'long') return -compareLongToDouble(longValue(b), smallValue(a));
  return compareExact(exactNumber(a), exactNumber(b));
}

// ---------------------------------------------------------------------------------------------

/** Strings compare by UTF-8 bytes, which is code point order (UTF-16 unit order differs above U+D7FF). */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x += x >= 0xe000 ? -0x800 : 0x2000;
      y += y >= 0xe000 ? -0x800 : 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function binaryParts(v: unknown): { subtype: number; bytes: Uint8Array } {
  if (v instanceof Uint8Array) return { subtype: 0, bytes: v };
  const binary = v as Binary;
  return { subtype: binary.sub_type, bytes: binary.buffer.subarray(0, binary.position) };
}

function stringValue(v: unknown): string {
  return typeof v === 'string' ? v : String((v as BSONSymbol).value);
}

/** A DBRef compares as the document it is stored as. */
function dbRefDocument(ref: DBRef): Document {
  const doc: Document = { $ref: ref.collection, $id: ref.oid };
  if (ref.db) doc.$db = ref.db;
  return Object.assign(doc, ref.fields);
}

function compareObjects(a: Document, b: Document, collation?: Collation): number {
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  const length = Math.min(keysA.length, keysB.length);
  for (let i = 0; i < length; i++) {
    const va = a[keysA[i]];
    const vb = b[keysB[i]];
    const typeDiff = canonicalTypeOrder(va) - canonicalTypeOrder(vb);
    if (typeDiff !== 0) return typeDiff < 0 ? -1 : 1;
    const nameDiff = compareStrings(keysA[i], keysB[i]);
    if (nameDiff !== 0) return nameDiff;
    const valueDiff = compareValues(va, vb, collation);
    if (valueDiff !== 0) return valueDiff;
  }
  return keysA.length === keysB.length ? 0 : keysA.length < keysB.length ? -1 : 1;
}

function compareArrays(a: unknown[], b: unknown[], collation?: Collation): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const typeDiff = canonicalTypeOrder(a[i]) - canonicalTypeOrder(b[i]);
    if (typeDiff !== 0) return typeDiff < 0 ? -1 : 1;
    const valueDiff = compareValues(a[i], b[i], collation);
    if (valueDiff !== 0) return valueDiff;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

/**
 * MongoDB's total order over BSON values: -1, 0 or 1. Strings (and symbols), also inside
 * documents and arrays, compare by `collation` when given, by code point otherwise.
 */
export function compareValues(a: unknown, b: unknown, collation?: Collation): number {
  if (typeof a === 'string' && typeof b === 'string')
    return collation ? collation.compare(a, b) : compareStrings(a, b);
  const ta = canonicalTypeOrder(a);
  const tb = canonicalTypeOrder(b);
  if (ta !== tb) return ta < tb ? -1 : 1;
  switch (ta) {
    case TypeOrder.minKey:
    case TypeOrder.maxKey:
    case TypeOrder.undefined:
    case TypeOrder.null:
      return 0;
    case TypeOrder.number:
      return compareNumbers(a, b);
    case TypeOrder.string:
      return collation
        ? collation.compare(stringValue(a), stringValue(b))
        : compareStrings(stringValue(a), stringValue(b));
    case TypeOrder.object: {
      const da = bsonTag(a as object) === 'DBRef' ? dbRefDocument(a as DBRef) : (a as Document);
      const db = bsonTag(b as object) === 'DBRef' ? dbRefDocument(b as DBRef) : (b as Document);
      return compareObjects(da, db, collation);
    }
    case TypeOrder.array:
      return compareArrays(a as unknown[], b as unknown[], collation);
    case TypeOrder.binData: {
      const x = binaryParts(a);
      const y = binaryParts(b);
      if (x.bytes.length !== y.bytes.length) return x.bytes.length < y.bytes.length ? -1 : 1;
      if (x.subtype !== y.subtype) return x.subtype < y.subtype ? -1 : 1;
      return compareBytes(x.bytes, y.bytes);
    }
    case TypeOrder.objectId:
      return compareObjectIds(a as ObjectId, b as ObjectId);
    case TypeOrder.bool:
      return a === b ? 0 : a ? 1 : -1;
    case TypeOrder.date:
      return sign((a as Date).getTime() - (b as Date).getTime());
    case TypeOrder.timestamp: {
      const x = a as Timestamp;
      const y = b as Timestamp;
      return x.t !== y.t ? sign(x.t - y.t) : sign(x.i - y.i);
    }
    case TypeOrder.regex: {
      const x = a as BSONRegExp;
      const y = b as BSONRegExp;
      return compareStrings(x.pattern, y.pattern) || compareStrings(x.options, y.options);
    }
    case TypeOrder.javascript:
      return compareStrings((a as Code).code, (b as Code).code);
    case TypeOrder.javascriptWithScope:
      return (
        compareStrings((a as Code).code, (b as Code).code) ||
        compareObjects((a as Code).scope ?? {}, (b as Code).scope ?? {})
      );
    default:
      return 0;
  }
}

export function valuesEqual(a: unknown, b: unknown, collation?: Collation): boolean {
  if (a === b) return true;
  if (typeof a === 'string' && typeof b === 'string')
    return collation ? collation.compare(a, b) === 0 : false;
  return compareValues(a, b, collation) === 0;
}

/** Whether a value is or contains a string (or symbol): the values a collation can affect. */
export function containsString(value: unknown): boolean {
  if (typeof value === 'string') return true;
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(containsString);
  if (isPlainDocument(value)) return Object.values(value).some(containsString);
  return bsonTag(value) === 'BSONSymbol' || bsonTag(value) === 'DBRef';
}

// ---------------------------------------------------------------------------------------------

function exactKey(n: ExactNumber): string {
  if (n.special !== undefined) return n.special;
  if (n.exponent >= 0) return (n.coefficient * TEN ** BigInt(n.exponent)).toString();
  return `${n.coefficient.toString()}e${n.exponent}`;
}

function numberKey(v: unknown): string {
  if (numberClass(v) === 'small') {
    const d = smallValue(v);
    if (Number.isInteger(d) && Math.abs(d) < 1e21) return String(d);
  }
  return exactKey(exactNumber(v));
}

/** A canonical string: keyString(a) === keyString(b) exactly when valuesEqual(a, b). */
export function keyString(v: unknown): string {
  const order = canonicalTypeOrder(v);
  switch (order) {
    case TypeOrder.minKey:
    case TypeOrder.maxKey:
    case TypeOrder.undefined:
    case TypeOrder.null:
      return `${order}`;
    case TypeOrder.number:
      return `${order}:${numberKey(v)}`;
    case TypeOrder.string:
      return `${order}:${JSON.stringify(stringValue(v))}`;
    case TypeOrder.object: {
      const doc = bsonTag(v as object) === 'DBRef' ? dbRefDocument(v as DBRef) : (v as Document);
      const parts = Object.keys(doc).map((name) => `${JSON.stringify(name)}:${keyString(doc[name])}`);
      return `${order}{${parts.join(',')}}`;
    }
    case TypeOrder.array:
      return `${order}[${(v as unknown[]).map(keyString).join(',')}]`;
    case TypeOrder.binData: {
      const { subtype, bytes } = binaryParts(v);
      return `${order}:${subtype}:${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64')}`;
    }
    case TypeOrder.objectId:
      return `${order}:${(v as ObjectId).toHexString()}`;
    case TypeOrder.bool:
      return `${order}:${v ? 1 : 0}`;
    case TypeOrder.date:
      return `${order}:${(v as Date).getTime()}`;
    case TypeOrder.timestamp:
      return `${order}:${(v as Timestamp).t}:${(v as Timestamp).i}`;
    case TypeOrder.regex:
      return `${order}:${JSON.stringify((v as BSONRegExp).pattern)}:${(v as BSONRegExp).options}`;
    case TypeOrder.javascript:
      return `${order}:${JSON.stringify((v as Code).code)}`;
    case TypeOrder.javascriptWithScope:
      return `${order}:${JSON.stringify((v as Code).code)}:${keyString((v as Code).scope ?? {})}`;
    default:
      return `${order}`;
  }
}

/**
 * Identical values: same BSON types all the way down, same field order, same representation
 * (Int32 1 and Double 1.0 are equal but not identical). Decides whether an update changed a value.
 */
export function identicalValues(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!identicalValues(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  if (isPlainDocument(a)) {
    if (!isPlainDocument(b)) return false;
    const keysA = Object.keys(a);
    const keysB = Object.keys(b);
    if (keysA.length !== keysB.length) return false;
    for (let i = 0; i < keysA.length; i++) {
      if (keysA[i] !== keysB[i] || !identicalValues(a[keysA[i]], b[keysB[i]])) return false;
    }
    return true;
  }
  const typeA = bsonTypeName(a);
  if (typeA !== bsonTypeName(b)) return false;
  switch (typeA) {
    case 'double':
      return (
        Object.is(smallValue(a), smallValue(b)) ||
        (Number.isNaN(smallValue(a)) && Number.isNaN(smallValue(b)))
      );
    case 'decimal':
      return (a as Decimal128).toString() === (b as Decimal128).toString();
    default:
      return compareValues(a, b) === 0;
  }
}

/** bson 7 keeps an ObjectId as four 24-bit big-endian words: compared without building its bytes. */
interface ObjectIdWords {
  i0?: unknown;
  i1: number;
  i2: number;
  i3: number;
}

function compareObjectIds(a: ObjectId, b: ObjectId): number {
  const x = a as unknown as ObjectIdWords;
  const y = b as unknown as ObjectIdWords;
  if (typeof x.i0 === 'number' && typeof y.i0 === 'number') {
    const order = x.i0 - y.i0 || x.i1 - y.i1 || x.i2 - y.i2 || x.i3 - y.i3;
    return order < 0 ? -1 : order > 0 ? 1 : 0;
  }
  return compareBytes(a.id, b.id);
}
