// Matching of expected against actual values as the unified test format's "Evaluating Matches"
// section defines it: extra keys allowed only in root-level documents, flexible numerics, arrays
// of equal length, and the special `$$` operators.
import {
  Binary,
  BSONRegExp,
  BSONSymbol,
  Code,
  Decimal128,
  Double,
  Int32,
  Long,
  ObjectId,
  Timestamp,
} from 'mongodb';
import { MaxKey, MinKey, type Document } from 'mongodb';

export class MatchError extends Error {}

/** What the matcher needs from the test's entity map. */
export interface EntityLookup {
  get(name: string): unknown;
}

export function isPlainDocument(value: unknown): value is Document {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function isSpecialOperator(value: unknown): value is Document {
  if (!isPlainDocument(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0].startsWith('$$');
}

function numericValue(value: unknown): number | bigint | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return value;
  if (value instanceof Int32 || value instanceof Double) return value.valueOf();
  if (value instanceof Long) return value.toBigInt();
  return undefined;
}

function numbersEqual(a: number | bigint, b: number | bigint): boolean {
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    const x = typeof a === 'bigint' ? a : Number.isInteger(a) ? BigInt(a) : undefined;
    const y = typeof b === 'bigint' ? b : Number.isInteger(b) ? BigInt(b) : undefined;
    return x !== undefined && y !== undefined && x === y;
  }
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/** The `$type` names an actual value answers to (native numbers may be any numeric type). */
export function bsonTypesOf(value: unknown): string[] {
  if (value === undefined) return [];
  if (value === null) return ['null'];
  if (typeof value === 'string') return ['string'];
  if (typeof value === 'boolean') return ['bool'];
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return ['double', 'number'];
    const types = ['double', 'long', 'number'];
    if (value >= -(2 ** 31) && value < 2 ** 31) types.unshift('int');
    return types;
  }
  if (typeof value === 'bigint') return ['long', 'number'];
  if (value instanceof Int32) return ['int', 'number'];
  if (value instanceof Double) return ['double', 'number'];
  if (value instanceof Long) return ['long', 'number'];
  if (value instanceof Decimal128) return ['decimal', 'number'];
  if (value instanceof Date) return ['date'];
  if (value instanceof ObjectId) return ['objectId'];
  if (value instanceof Timestamp) return ['timestamp'];
  if (value instanceof Binary) return ['binData'];
  if (value instanceof RegExp || value instanceof BSONRegExp) return ['regex'];
  if (value instanceof Code) return [value.scope ? 'javascriptWithScope' : 'javascript'];
  if (value instanceof BSONSymbol) return ['symbol'];
  if (value instanceof MinKey) return ['minKey'];
  if (value instanceof MaxKey) return ['maxKey'];
  if (Array.isArray(value)) return ['array'];
  if (typeof value === 'object') return ['object'];
  return [];
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  } catch {
    return String(value);
  }
}

function fail(path: string, message: string): never {
  throw new MatchError(`${path || '<root>'}: ${message}`);
}

function scalarEquals(expected: unknown, actual: unknown): boolean {
  const en = numericValue(expected);
  const an = numericValue(actual);
  if (en !== undefined || an !== undefined)
    return en !== undefined && an !== undefined && numbersEqual(en, an);
  if (expected === null || actual === null) return expected === actual;
  if (typeof expected !== 'object' || typeof actual !== 'object') return expected === actual;
  if (expected instanceof Date && actual instanceof Date) return expected.getTime() === actual.getTime();
  if (expected instanceof ObjectId && actual instanceof ObjectId) return expected.equals(actual);
  if (expected instanceof Timestamp && actual instanceof Timestamp) return expected.equals(actual);
  if (expected instanceof Decimal128 && actual instanceof Decimal128)
    return expected.toString() === actual.toString();
  if (expected instanceof Binary && actual instanceof Binary)
    return (
      expected.sub_type === actual.sub_type && Buffer.from(expected.buffer).equals(Buffer.from(actual.buffer))
    );
  if (expected instanceof BSONRegExp || expected instanceof RegExp) {
    const e = expected instanceof RegExp ? { pattern: expected.source, options: expected.flags } : expected;
    const a =
      actual instanceof RegExp
        ? { pattern: actual.source, options: actual.flags }
        : actual instanceof BSONRegExp
          ? actual
          : undefined;
    return (
      a !== undefined &&
      e.pattern === a.pattern &&
      [...e.options].sort().join('') === [...a.options].sort().join('')
    );
  }
  if (expected instanceof MinKey) return actual instanceof MinKey;
  if (expected instanceof MaxKey) return actual instanceof MaxKey;
  if (expected instanceof Code && actual instanceof Code)
    return expected.code === actual.code && exactEquals(expected.scope ?? null, actual.scope ?? null);
  return describe(expected) === describe(actual) && bsonTypesOf(expected)[0] === bsonTypesOf(actual)[0];
}

/** Exact equality with flexible numerics and key order ignored (test outcome data). */
export function exactEquals(expected: unknown, actual: unknown): boolean {
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((value, index) => exactEquals(value, actual[index]))
    );
  }
  if (isPlainDocument(expected)) {
    if (!isPlainDocument(actual)) return false;
    const ek = Object.keys(expected).filter((k) => expected[k] !== undefined);
    const ak = Object.keys(actual).filter((k) => actual[k] !== undefined);
    return (
      ek.length === ak.length && ek.every((key) => key in actual && exactEquals(expected[key], actual[key]))
    );
  }
  return scalarEquals(expected, actual);
}

export class Matcher {
  constructor(private readonly entities: EntityLookup) {}

  /** Throws a MatchError describing the first difference. */
  match(expected: unknown, actual: unknown, root = true, path = ''): void {
    if (isSpecialOperator(expected)) {
      this.operator(expected, actual, root, path);
      return;
    }
    if (isPlainDocument(expected)) {
      if (actual === null || typeof actual !== 'object' || Array.isArray(actual) || !isPlainDocument(actual))
        fail(path, `expected a document, got ${describe(actual)}`);
      for (const [key, value] of Object.entries(expected)) {
        const sub = path ? `${path}.${key}` : key;
        if (isSpecialOperator(value)) {
          const op = Object.keys(value)[0];
          if (op === '$$exists') {
            const exists = Object.prototype.hasOwnProperty.call(actual, key) && actual[key] !== undefined;
            if (Boolean(value.$$exists) !== exists)
              fail(
                sub,
                value.$$exists
                  ? 'expected the field to exist'
                  : `expected no field, got ${describe(actual[key])}`,
              );
            continue;
          }
          if (op === '$$unsetOrMatches') {
            if (actual[key] === undefined) continue;
            this.match(value.$$unsetOrMatches, actual[key], false, sub);
            continue;
          }
        }
        if (!Object.prototype.hasOwnProperty.call(actual, key) || actual[key] === undefined) {
          if (isSpecialOperator(value) && Object.keys(value)[0] === '$$type') fail(sub, 'missing field');
          fail(sub, `missing field (expected ${describe(value)})`);
        }
        this.match(value, actual[key], false, sub);
      }
      if (!root) {
        for (const key of Object.keys(actual)) {
          if (actual[key] !== undefined && !Object.prototype.hasOwnProperty.call(expected, key))
            fail(path, `unexpected field ${key}: ${describe(actual[key])}`);
        }
      }
      return;
    }
    if (Array.isArray(expected)) {
      if (!Array.isArray(actual)) fail(path, `expected an array, got ${describe(actual)}`);
      if (actual.length !== expected.length)
        fail(path, `expected ${expected.length} elements, got ${actual.length}: ${describe(actual)}`);
      expected.forEach((value, index) => this.match(value, actual[index], false, `${path}[${index}]`));
      return;
    }
    if (!scalarEquals(expected, actual))
      fail(path, `expected ${describe(expected)}, got ${describe(actual)}`);
  }

  /** Matches every element of an iterable result as a root-level document. */
  matchResultList(expected: unknown, actual: unknown[], path = ''): void {
    if (!Array.isArray(expected)) {
      this.match(expected, actual, true, path);
      return;
    }
    if (actual.length !== expected.length)
      fail(path, `expected ${expected.length} results, got ${actual.length}: ${describe(actual)}`);
    expected.forEach((value, index) => this.match(value, actual[index], true, `${path}[${index}]`));
  }

  private operator(expected: Document, actual: unknown, root: boolean, path: string): void {
    const [op] = Object.keys(expected);
    const arg: unknown = expected[op];
    switch (op) {
      case '$$exists':
        if (Boolean(arg) !== (actual !== undefined)) fail(path, `$$exists ${String(arg)}`);
        return;
      case '$$type': {
        const wanted = Array.isArray(arg) ? (arg as string[]) : [arg as string];
        const types = bsonTypesOf(actual);
        if (!wanted.some((type) => types.includes(type)))
          fail(
            path,
            `expected type ${wanted.join('|')}, got ${types.join('|') || 'missing'} (${describe(actual)})`,
          );
        return;
      }
      case '$$unsetOrMatches':
        if (actual === undefined) return;
        this.match(arg, actual, root, path);
        return;
      case '$$matchesEntity':
        this.match(this.entities.get(arg as string), actual, root, path);
        return;
      case '$$matchesHexBytes': {
        const hex = String(arg);
        if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new Error(`malformed $$matchesHexBytes: ${hex}`);
        const bytes =
          actual instanceof Binary
            ? Buffer.from(actual.buffer)
            : Buffer.isBuffer(actual)
              ? actual
              : undefined;
        if (!bytes || bytes.toString('hex') !== hex.toLowerCase()) fail(path, `expected bytes ${hex}`);
        return;
      }
      case '$$sessionLsid': {
        const session = this.entities.get(arg as string) as { id?: unknown } | undefined;
        if (!session?.id) throw new Error(`no session entity ${String(arg)}`);
        this.match(session.id, actual, false, path);
        return;
      }
      case '$$lte': {
        const a = numericValue(actual);
        const e = numericValue(arg);
        if (a === undefined || e === undefined || !(a <= e))
          fail(path, `expected <= ${describe(arg)}, got ${describe(actual)}`);
        return;
      }
      case '$$matchAsDocument': {
        if (typeof actual !== 'string') fail(path, 'expected an extended JSON string');
        this.match(arg, JSON.parse(actual) as unknown, false, path);
        return;
      }
      case '$$matchAsRoot':
        this.match(arg, actual, true, path);
        return;
      default:
        throw new Error(`unsupported special operator ${op}`);
    }
  }
}
