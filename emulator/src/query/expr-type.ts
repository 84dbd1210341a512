// Type inspection and conversion operators: $type, $isNumber, $convert and its $toX shorthands,
// following MongoDB's conversion table (failures are 241 ConversionFailure unless onError).
import { Decimal128, ObjectId, type Timestamp } from 'bson';
import { bsonTypeName } from './compare';
import { hashedIndexKey } from './hashed';
import { evaluatedArgs, expressionError, isNullish, namedArgs, type OperatorFn } from './expr-core';
import {
  decimalText,
  fitsInt32,
  fitsInt64,
  isDecimalZero,
  isNumeric,
  makeDouble,
  makeInt,
  makeLong,
  numericKind,
  toBigInt,
  toDecimal,
  toJsNumber,
} from './expr-numeric';

const CONVERSION_FAILURE = 241;
const BAD_VALUE = 2;

function typeNameOf(value: unknown): string {
  return value === undefined ? 'missing' : bsonTypeName(value);
}

/** How MongoDB prints a number in $toString / $concat-like coercions. */
export function formatNumberAsString(value: unknown): string {
  switch (numericKind(value)) {
    case 'decimal':
      return (value as Decimal128).toString();
    case 'int':
    case 'long':
      return toBigInt(value).toString();
    default: {
      const n = toJsNumber(value);
      if (Number.isNaN(n)) return 'NaN';
      if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
      return String(n);
    }
  }
}

const TYPE_ALIASES: Record<number, string> = {
  1: 'double',
  2: 'string',
  7: 'objectId',
  8: 'bool',
  9: 'date',
  16: 'int',
  18: 'long',
  19: 'decimal',
};

function targetTypeName(target: unknown): string {
  if (typeof target === 'string') return target;
  if (isNumeric(target)) {
    const alias = TYPE_ALIASES[toJsNumber(target)];
    if (alias) return alias;
  }
  throw expressionError(BAD_VALUE, `Unknown type name: ${String(target)}`);
}

class ConversionFailure extends Error {}

function fail(message: string): never {
  throw new ConversionFailure(message);
}

function unsupported(input: unknown, target: string): never {
  fail(`Unsupported conversion from ${typeNameOf(input)} to ${target} in $convert with no onError value`);
}

function parseIntegralString(input: string, target: string): bigint {
  if (!/^[+-]?\d+$/.test(input))
    fail(
      `Failed to parse number '${input}' in $convert with no onError value: Did not consume whole string.`,
    );
  const n = BigInt(input);
  if (target === 'int' ? !fitsInt32(n) : !fitsInt64(n)) {
    fail(`Failed to parse number '${input}' in $convert with no onError value: Overflow`);
  }
  return n;
}

/** Integral value of a numeric for $toInt/$toLong: truncates doubles, rejects NaN and overflow. */
function integralOfNumber(input: unknown, target: 'int' | 'long'): bigint {
  const kind = numericKind(input);
  let n: bigint;
  if (kind === 'int' || kind === 'long') {
    n = toBigInt(input);
  } else {
    const real = kind === 'decimal' ? Number(decimalText(input)) : toJsNumber(input);
    if (!Number.isFinite(real))
      fail(
        `Attempt to convert ${Number.isNaN(real) ? 'NaN' : 'infinity'} value to integer type in $convert with no onError value`,
      );
    n = BigInt(Math.trunc(real));
  }
  if (target === 'int' ? !fitsInt32(n) : !fitsInt64(n)) {
    fail(
      `Conversion would overflow target type in $convert with no onError value: ${formatNumberAsString(input)}`,
    );
  }
  return n;
}

function parseDateString(input: string): Date {
  const date = new Date(input);
  if (Number.isNaN(date.getTime())) fail(`Error parsing date string '${input}'`);
  return date;
}

function convertValue(input: unknown, target: string): unknown {
  const kind = numericKind(input);
  switch (target) {
    case 'double':
      if (kind) return makeDouble(kind === 'decimal' ? Number(decimalText(input)) : toJsNumber(input));
      if (typeof input === 'boolean') return makeDouble(input ? 1 : 0);
      if (input instanceof Date) return makeDouble(input.getTime());
      if (typeof input === 'string') {
        const n = Number(input);
        if (input.trim() === '' || (Number.isNaN(n) && !/^[+-]?nan$/i.test(input)) || /^0x/i.test(input)) {
          fail(`Failed to parse number '${input}' in $convert with no onError value`);
        }
        return makeDouble(n);
      }
      return unsupported(input, target);
    case 'int':
    case 'long': {
      let n: bigint;
      if (kind) n = integralOfNumber(input, target);
      else if (typeof input === 'boolean') n = BigInt(input ? 1 : 0);
      else if (input instanceof Date && target === 'long') n = BigInt(input.getTime());
      else if (typeof input === 'string') n = parseIntegralString(input, target);
      else return unsupported(input, target);
      return target === 'int' ? makeInt(Number(n)) : makeLong(n);
    }
    case 'decimal':
      if (kind) return toDecimal(input);
      if (typeof input === 'boolean') return Decimal128.fromString(input ? '1' : '0');
      if (input instanceof Date) return Decimal128.fromString(String(input.getTime()));
      if (typeof input === 'string') {
        try {
          return Decimal128.fromStringWithRounding(input);
        } catch {
          fail(`Failed to parse number '${input}' in $convert with no onError value`);
        }
      }
      return unsupported(input, target);
    case 'bool':
      if (kind === 'decimal') return !isDecimalZero(input as Decimal128);
      if (kind) return toJsNumber(input) !== 0;
      return true;
    case 'string':
      if (typeof input === 'string') return input;
      if (kind) return formatNumberAsString(input);
      if (typeof input === 'boolean') return String(input);
      if (input instanceof Date) return input.toISOString();
      if (bsonTag(input) === 'ObjectId') return (input as ObjectId).toHexString();
      return unsupported(input, target);
    case 'date':
      if (input instanceof Date) return input;
      if (kind === 'long' || kind === 'double' || kind === 'decimal') {
        const ms = kind === 'decimal' ? Number(decimalText(input)) : toJsNumber(input);
        if (!Number.isFinite(ms))
          fail(`Conversion of NaN or infinity to date in $convert with no onError value`);
        return new Date(Math.trunc(ms));
      }
      if (typeof input === 'string') return parseDateString(input);
      if (bsonTag(input) === 'ObjectId') return (input as ObjectId).getTimestamp();
      if (bsonTag(input) === 'Timestamp') return new Date((input as Timestamp).high * 1000);
      return unsupported(input, target);
    case 'objectId':
      if (bsonTag(input) === 'ObjectId') return input;
      if (typeof input === 'string') {
        if (!/^[0-9a-fA-F]{24}$/.test(input))
          fail(
            `Failed to parse objectId '${input}' in $convert with no onError value: Invalid string length for parsing to OID, expected 24 but found ${input.length}`,
          );
        return ObjectId.createFromHexString(input);
      }
      return unsupported(input, target);
    default:
      throw expressionError(BAD_VALUE, `Unknown type name: ${target}`);
  }
}

function bsonTag(value: unknown): string | undefined {
  return value !== null && typeof value === 'object'
    ? (value as { _bsontype?: string })._bsontype
    : undefined;
}

/** Converts `input` to the named BSON type, with $convert's null and error handling. */
export function convert(
  input: unknown,
  target: string,
  onError?: { value: unknown },
  onNull?: { value: unknown },
): unknown {
  if (isNullish(input)) return onNull ? onNull.value : null;
  try {
    return convertValue(input, target);
  } catch (error) {
    if (!(error instanceof ConversionFailure)) throw error;
    if (onError) return onError.value;
    throw expressionError(CONVERSION_FAILURE, error.message);
  }
}

const convertOperator: OperatorFn = (args, scope) => {
  const spec = namedArgs('$convert', args, ['input', 'to', 'onError', 'onNull'], ['input', 'to']);
  const to = scope.evaluate(spec.to);
  const input = scope.evaluate(spec.input);
  if (isNullish(to)) return null;
  const onError = 'onError' in spec ? { value: scope.evaluate(spec.onError) } : undefined;
  const onNull = 'onNull' in spec ? { value: scope.evaluate(spec.onNull) } : undefined;
  return convert(input, targetTypeName(to), onError, onNull);
};

function shorthand(name: string, target: string): OperatorFn {
  return (args, scope) => convert(evaluatedArgs(name, args, scope, 1)[0], target);
}

export const typeOperators: Record<string, OperatorFn> = {
  $type: (args, scope) => typeNameOf(evaluatedArgs('$type', args, scope, 1)[0]),
  $isNumber: (args, scope) => isNumeric(evaluatedArgs('$isNumber', args, scope, 1)[0]),
  // The key a hashed index stores for the value (hashed.ts), as a Long.
  $toHashedIndexKey: (args, scope) => hashedIndexKey(evaluatedArgs('$toHashedIndexKey', args, scope, 1)[0]),
  $convert: convertOperator,
  $toInt: shorthand('$toInt', 'int'),
  $toLong: shorthand('$toLong', 'long'),
  $toDouble: shorthand('$toDouble', 'double'),
  $toDecimal: shorthand('$toDecimal', 'decimal'),
  $toString: shorthand('$toString', 'string'),
  $toBool: shorthand('$toBool', 'bool'),
  $toDate: shorthand('$toDate', 'date'),
  $toObjectId: shorthand('$toObjectId', 'objectId'),
};
