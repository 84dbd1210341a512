import { EJSON } from 'bson';
import type { Document } from 'mongodb';

/**
 * `_id` values of different BSON types never compare in a range query, so a collection is split
 * per type bracket (the groups MongoDB's comparison order treats as one: all numbers, strings
 * with symbols, ...). Arrays, regexes and undefined cannot be `_id`s.
 */
export const TYPE_BRACKETS: readonly (readonly string[])[] = [
  ['minKey'],
  ['null'],
  ['int', 'long', 'double', 'decimal'],
  ['string', 'symbol'],
  ['object'],
  ['binData'],
  ['objectId'],
  ['bool'],
  ['date'],
  ['timestamp'],
  ['maxKey'],
];

const BSON_TYPE_NAMES: Record<string, string> = {
  MinKey: 'minKey',
  MaxKey: 'maxKey',
  Int32: 'int',
  Long: 'long',
  Double: 'double',
  Decimal128: 'decimal',
  BSONSymbol: 'symbol',
  Binary: 'binData',
  ObjectId: 'objectId',
  Timestamp: 'timestamp',
};

/** The `$type` name of a value decoded with or without exact-type options. */
export function bsonTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number')
    return Number.isInteger(value) && Math.abs(value) < 2 ** 31 ? 'int' : 'double';
  if (typeof value === 'bigint') return 'long';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (value instanceof Date) return 'date';
  if (value instanceof Uint8Array) return 'binData';
  const bsonType = (value as { _bsontype?: string })._bsontype;
  if (bsonType && BSON_TYPE_NAMES[bsonType]) return BSON_TYPE_NAMES[bsonType];
  return 'object';
}

export function bracketOf(value: unknown): readonly string[] {
  const typeName = bsonTypeName(value);
  const bracket = TYPE_BRACKETS.find((types) => types.includes(typeName));
  if (!bracket) throw new Error(`unsupported _id type ${typeName}`);
  return bracket;
}

/** A partition bound as canonical Extended JSON, so every BSON type survives the trip through Temporal. */
export function encodeBound(id: unknown): string {
  return EJSON.stringify({ v: id }, { relaxed: false });
}

export function decodeBound(bound: string): unknown {
  return (EJSON.parse(bound, { relaxed: false }) as Document).v;
}

/**
 * The `_id` condition selecting one partition: its range, restricted to the bracket of its bounds
 * (MinKey and MaxKey compare below and above every type, so they only ever match themselves).
 * `after` (exclusive) replaces the lower bound when a retried copy resumes.
 */
export function partitionIdCondition(lower: unknown, upper: unknown, after?: unknown): Document | null {
  const reference = after ?? lower ?? upper;
  if (reference === undefined) return null;
  const bracket = bracketOf(reference);
  if (bracket[0] === 'minKey' || bracket[0] === 'maxKey') {
    // After resuming past the only possible document of this bracket nothing remains; `_id` always exists.
    return after === undefined ? { $type: bracket[0] } : { $exists: false };
  }
  const condition: Document = {};
  if (after !== undefined) condition.$gt = after;
  else if (lower !== undefined) condition.$gte = lower;
  if (upper !== undefined) condition.$lt = upper;
  condition.$type = [...bracket];
  return condition;
}
