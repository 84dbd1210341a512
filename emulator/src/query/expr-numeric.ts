// The numeric value model of aggregation expressions: which BSON numeric type a value has, and
// building results with MongoDB's type promotion (int → long → double, decimal wins).
// Plain JS numbers are read the way the BSON serializer would write them (int32 when integral
// and in range, double otherwise); bigint reads as long.
import { Decimal128, Double, Int32, Long } from 'bson';

export type NumericKind = 'int' | 'long' | 'double' | 'decimal';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -(BigInt(1) << BigInt(63));
const INT64_MAX = (BigInt(1) << BigInt(63)) - BigInt(1);

const kindRank: Record<NumericKind, number> = { int: 0, long: 1, double: 2, decimal: 3 };

function bsonTypeTag(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const tag = (value as { _bsontype?: unknown })._bsontype;
  return typeof tag === 'string' ? tag : undefined;
}

export function numericKind(value: unknown): NumericKind | undefined {
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX && !Object.is(value, -0)
      ? 'int'
      : 'double';
  }
  if (typeof value === 'bigint') return 'long';
  switch (bsonTypeTag(value)) {
    case 'Int32':
      return 'int';
    case 'Long':
      return 'long';
    case 'Double':
      return 'double';
    case 'Decimal128':
      return 'decimal';
    default:
      return undefined;
  }
}

export function isNumeric(value: unknown): boolean {
  return numericKind(value) !== undefined;
}

/** The widest of the kinds, as MongoDB promotes mixed arithmetic. */
export function widestKind(kinds: NumericKind[]): NumericKind {
  return kinds.reduce<NumericKind>(
    (widest, kind) => (kindRank[kind] > kindRank[widest] ? kind : widest),
    'int',
  );
}

/** The value as a JS number (decimals and longs may lose precision). */
export function toJsNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  switch (bsonTypeTag(value)) {
    case 'Int32':
    case 'Double':
      return (value as Int32 | Double).value;
    case 'Long':
      return (value as Long).toNumber();
    case 'Decimal128':
      return decimalToNumber(value as Decimal128);
    default:
      return NaN;
  }
}

/** Integral value of an int or long (callers check the kind first). */
export function toBigInt(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (bsonTypeTag(value) === 'Long') return (value as Long).toBigInt();
  return BigInt(Math.trunc(toJsNumber(value)));
}

export function decimalToNumber(value: Decimal128): number {
  const text = value.toString();
  if (text === 'NaN' || text === '-NaN') return NaN;
  if (text === 'Infinity') return Infinity;
  if (text === '-Infinity') return -Infinity;
  return Number(text);
}

export const makeInt = (n: number): Int32 => new Int32(n);
export const makeDouble = (n: number): Double => new Double(n);
export const makeLong = (n: bigint): Long => Long.fromBigInt(n);

export function fitsInt32(n: bigint): boolean {
  return n >= BigInt(INT32_MIN) && n <= BigInt(INT32_MAX);
}

export function fitsInt64(n: bigint): boolean {
  return n >= INT64_MIN && n <= INT64_MAX;
}

/** An integral result in the narrowest type allowed by `atLeast`: int, then long, then double. */
export function makeIntegral(n: bigint, atLeast: 'int' | 'long'): Int32 | Long | Double {
  if (atLeast === 'int' && fitsInt32(n)) return makeInt(Number(n));
  if (fitsInt64(n)) return makeLong(n);
  return makeDouble(Number(n));
}

// ---- Decimal128 arithmetic over (coefficient, exponent) pairs, exact for + - * ----

interface DecimalParts {
  coefficient: bigint;
  exponent: number;
}

function parseDecimal(text: string): DecimalParts | undefined {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) return undefined;
  const [, sign, whole, fraction = '', exp = '0'] = match;
  const digits = `${whole}${fraction}` || '0';
  const coefficient = BigInt(digits) * (sign === '-' ? BigInt(-1) : BigInt(1));
  return { coefficient, exponent: Number(exp) - fraction.length };
}

/** Decimal text of a numeric; doubles keep 15 significant digits as MongoDB converts them. */
export function decimalText(value: unknown): string {
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
      return n.toPrecision(15);
    }
  }
}

export function toDecimal(value: unknown): Decimal128 {
  if (numericKind(value) === 'decimal') return value as Decimal128;
  return Decimal128.fromStringWithRounding(decimalText(value));
}

function formatDecimal(parts: DecimalParts): Decimal128 {
  return Decimal128.fromStringWithRounding(`${parts.coefficient.toString()}E${parts.exponent}`);
}

function align(a: DecimalParts, b: DecimalParts): [bigint, bigint, number] {
  const exponent = Math.min(a.exponent, b.exponent);
  const scale = (p: DecimalParts) => p.coefficient * BigInt(10) ** BigInt(p.exponent - exponent);
  return [scale(a), scale(b), exponent];
}

export type DecimalOp = 'add' | 'subtract' | 'multiply' | 'divide';

/** Decimal arithmetic; exact for add/subtract/multiply, 34 significant digits for divide. */
export function decimalArithmetic(op: DecimalOp, left: unknown, right: unknown): Decimal128 {
  const a = parseDecimal(decimalText(left));
  const b = parseDecimal(decimalText(right));
  if (!a || !b) {
    // NaN or infinities: IEEE semantics of doubles give the same answers.
    const x = toJsNumber(toDecimal(left));
    const y = toJsNumber(toDecimal(right));
    const result = op === 'add' ? x + y : op === 'subtract' ? x - y : op === 'multiply' ? x * y : x / y;
    return Decimal128.fromString(Number.isNaN(result) ? 'NaN' : String(result));
  }
  switch (op) {
    case 'add':
    case 'subtract': {
      const [x, y, exponent] = align(a, b);
      return formatDecimal({ coefficient: op === 'add' ? x + y : x - y, exponent });
    }
    case 'multiply':
      return formatDecimal({ coefficient: a.coefficient * b.coefficient, exponent: a.exponent + b.exponent });
    case 'divide': {
      const extraDigits = 40;
      const numerator = a.coefficient * BigInt(10) ** BigInt(extraDigits);
      return formatDecimal({
        coefficient: numerator / b.coefficient,
        exponent: a.exponent - b.exponent - extraDigits,
      });
    }
  }
}

export function isDecimalZero(value: Decimal128): boolean {
  const parts = parseDecimal(value.toString());
  return parts !== undefined && parts.coefficient === BigInt(0);
}

export function compareDecimalToZero(value: Decimal128): number {
  const text = value.toString();
  const parts = parseDecimal(text);
  if (!parts) return text.startsWith('-') ? -1 : text.includes('NaN') ? NaN : 1;
  return parts.coefficient === BigInt(0) ? 0 : parts.coefficient < BigInt(0) ? -1 : 1;
}

/** Converts a numeric to the given kind (used when promoting mixed operands). */
export function convertNumeric(value: unknown, kind: NumericKind): unknown {
  switch (kind) {
    case 'decimal':
      return toDecimal(value);
    case 'double':
      return makeDouble(toJsNumber(value));
    case 'long':
      return makeLong(toBigInt(value));
    case 'int':
      return makeInt(toJsNumber(value));
  }
}
