// Arithmetic of update operators ($inc, $mul, $bit) with mongod's type rules: the result has the
// widest operand type (int < long < double < decimal); int overflow widens to long, long overflow
// is an error (undefined here, the caller reports it).
import { Decimal128, Double, Int32, Long } from 'bson';
import { bsonTypeName, toNumber } from './compare';
import { decimalArithmetic } from './expr-numeric';

const INT32_MIN = BigInt(-2147483648);
const INT32_MAX = BigInt(2147483647);
const INT64_MIN = -(BigInt(1) << BigInt(63));
const INT64_MAX = (BigInt(1) << BigInt(63)) - BigInt(1);

export function isNumber(value: unknown): boolean {
  const type = bsonTypeName(value);
  return type === 'int' || type === 'long' || type === 'double' || type === 'decimal';
}

function integerValue(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (bsonTypeName(value) === 'long') return (value as Long).toBigInt();
  return BigInt(toNumber(value) as number);
}

function integral(result: bigint, atLeastLong: boolean): Int32 | Long | undefined {
  if (!atLeastLong && result >= INT32_MIN && result <= INT32_MAX) return new Int32(Number(result));
  if (result >= INT64_MIN && result <= INT64_MAX) return Long.fromBigInt(result);
  return undefined;
}

function arithmetic(op: 'add' | 'multiply', a: unknown, b: unknown): unknown {
  const typeA = bsonTypeName(a);
  const typeB = bsonTypeName(b);
  if (typeA === 'decimal' || typeB === 'decimal') return decimalArithmetic(op, a, b);
  if (typeA === 'double' || typeB === 'double') {
    const x = toNumber(a) as number;
    const y = toNumber(b) as number;
    return new Double(op === 'add' ? x + y : x * y);
  }
  const x = integerValue(a);
  const y = integerValue(b);
  return integral(op === 'add' ? x + y : x * y, typeA === 'long' || typeB === 'long');
}

/** a + b, or undefined when a long result overflows. */
export function addNumbers(a: unknown, b: unknown): unknown {
  return arithmetic('add', a, b);
}

/** a × b, or undefined when a long result overflows. */
export function multiplyNumbers(a: unknown, b: unknown): unknown {
  return arithmetic('multiply', a, b);
}

/** Zero in the numeric type of `like` ($mul on a missing field). */
export function zeroLike(like: unknown): unknown {
  switch (bsonTypeName(like)) {
    case 'long':
      return Long.fromInt(0);
    case 'double':
      return new Double(0);
    case 'decimal':
      return Decimal128.fromString('0');
    default:
      return new Int32(0);
  }
}

export type BitOperation = 'and' | 'or' | 'xor';

/** A bitwise operation on int/long values: long if either is long. */
export function bitwise(op: BitOperation, a: unknown, b: unknown): Int32 | Long {
  const x = integerValue(a);
  const y = integerValue(b);
  const result = op === 'and' ? x & y : op === 'or' ? x | y : x ^ y;
  if (bsonTypeName(a) === 'long' || bsonTypeName(b) === 'long')
    return Long.fromBigInt(BigInt.asIntN(64, result));
  return new Int32(Number(BigInt.asIntN(32, result)));
}
