// Arithmetic expression operators with MongoDB's result types: int + int stays int unless it
// overflows (then long, then double); any double makes a double; decimal wins; dates absorb
// milliseconds.
import { Decimal128 } from 'bson';
import { bsonTypeName } from './compare';
import { evaluatedArgs, expressionError, isNullish, type OperatorFn } from './expr-core';
import {
  decimalArithmetic,
  decimalText,
  isDecimalZero,
  makeDouble,
  makeIntegral,
  numericKind,
  toBigInt,
  toDecimal,
  toJsNumber,
  widestKind,
  type NumericKind,
} from './expr-numeric';

type BinaryOp = 'add' | 'subtract' | 'multiply';

function typeNameOf(value: unknown): string {
  return value === undefined ? 'missing' : bsonTypeName(value);
}

/** Applies + - * to two numerics with type promotion. */
export function numericBinary(op: BinaryOp, left: unknown, right: unknown): unknown {
  const kind = widestKind([numericKind(left)!, numericKind(right)!]);
  if (kind === 'decimal') return decimalArithmetic(op, left, right);
  if (kind === 'double') {
    const x = toJsNumber(left);
    const y = toJsNumber(right);
    return makeDouble(op === 'add' ? x + y : op === 'subtract' ? x - y : x * y);
  }
  const x = toBigInt(left);
  const y = toBigInt(right);
  return makeIntegral(op === 'add' ? x + y : op === 'subtract' ? x - y : x * y, kind);
}

function requireNumeric(name: string, value: unknown, allowDate = false): void {
  if (numericKind(value) !== undefined || (allowDate && value instanceof Date)) return;
  const what = allowDate ? 'numeric or date types' : 'numeric types';
  throw expressionError(14, `${name} only supports ${what}, not ${typeNameOf(value)}`);
}

const add: OperatorFn = (args, scope) => {
  const values = evaluatedArgs('$add', args, scope, 0, Infinity);
  if (values.some(isNullish)) return null;
  let date: Date | undefined;
  let total: unknown = makeIntegral(BigInt(0), 'int');
  for (const value of values) {
    requireNumeric('$add', value, true);
    if (value instanceof Date) {
      if (date) throw expressionError(16612, 'only one date allowed in an $add expression');
      date = value;
      continue;
    }
    total = numericBinary('add', total, value);
  }
  if (date) return new Date(date.getTime() + Math.round(toJsNumber(total)));
  return total;
};

const multiply: OperatorFn = (args, scope) => {
  const values = evaluatedArgs('$multiply', args, scope, 0, Infinity);
  if (values.some(isNullish)) return null;
  let product: unknown = makeIntegral(BigInt(1), 'int');
  for (const value of values) {
    requireNumeric('$multiply', value);
    product = numericBinary('multiply', product, value);
  }
  return product;
};

const subtract: OperatorFn = (args, scope) => {
  const [left, right] = evaluatedArgs('$subtract', args, scope, 2);
  if (isNullish(left) || isNullish(right)) return null;
  if (left instanceof Date) {
    if (right instanceof Date) return makeIntegral(BigInt(left.getTime() - right.getTime()), 'long');
    if (numericKind(right) !== undefined) return new Date(left.getTime() - Math.round(toJsNumber(right)));
    throw expressionError(16613, `cant $subtract a ${typeNameOf(right)} from a Date`);
  }
  if (numericKind(left) === undefined || numericKind(right) === undefined) {
    throw expressionError(16556, `cant $subtract a ${typeNameOf(right)} from a ${typeNameOf(left)}`);
  }
  return numericBinary('subtract', left, right);
};

function isZero(value: unknown): boolean {
  return numericKind(value) === 'decimal' ? isDecimalZero(value as Decimal128) : toJsNumber(value) === 0;
}

const divide: OperatorFn = (args, scope) => {
  const [left, right] = evaluatedArgs('$divide', args, scope, 2);
  if (isNullish(left) || isNullish(right)) return null;
  if (numericKind(left) === undefined || numericKind(right) === undefined) {
    throw expressionError(
      16609,
      `$divide only supports numeric types, not ${typeNameOf(left)} and ${typeNameOf(right)}`,
    );
  }
  if (isZero(right)) throw expressionError(2, "can't $divide by zero");
  if (numericKind(left) === 'decimal' || numericKind(right) === 'decimal') {
    return decimalArithmetic('divide', left, right);
  }
  return makeDouble(toJsNumber(left) / toJsNumber(right));
};

const mod: OperatorFn = (args, scope) => {
  const [left, right] = evaluatedArgs('$mod', args, scope, 2);
  if (isNullish(left) || isNullish(right)) return null;
  if (numericKind(left) === undefined || numericKind(right) === undefined) {
    throw expressionError(
      16611,
      `$mod only supports numeric types, not ${typeNameOf(left)} and ${typeNameOf(right)}`,
    );
  }
  if (isZero(right)) throw expressionError(16610, "can't $mod by zero");
  const kind = widestKind([numericKind(left)!, numericKind(right)!]);
  if (kind === 'decimal') {
    const x = toJsNumber(toDecimal(left));
    const y = toJsNumber(toDecimal(right));
    return Decimal128.fromStringWithRounding(String(x % y));
  }
  if (kind === 'double') return makeDouble(toJsNumber(left) % toJsNumber(right));
  return makeIntegral(toBigInt(left) % toBigInt(right), kind);
};

/** Unary numeric operator: null in, null out; integers handled by `integral`, others by `real`. */
function unaryNumeric(
  name: string,
  real: (n: number) => number,
  integral?: (n: bigint, kind: NumericKind) => unknown,
): OperatorFn {
  return (args, scope) => {
    const [value] = evaluatedArgs(name, args, scope, 1);
    if (isNullish(value)) return null;
    requireNumeric(name, value);
    const kind = numericKind(value)!;
    if ((kind === 'int' || kind === 'long') && integral) return integral(toBigInt(value), kind);
    if (kind === 'decimal') return toDecimal(real(toJsNumber(value)));
    return makeDouble(real(toJsNumber(value)));
  };
}

const keepIntegral = (n: bigint, kind: NumericKind) => makeIntegral(n, kind as 'int' | 'long');

function domainChecked(
  name: string,
  code: number,
  message: string,
  fn: (n: number) => number,
  ok: (n: number) => boolean,
) {
  const inner = unaryNumeric(name, fn);
  return ((args, scope) => {
    const [value] = evaluatedArgs(name, args, scope, 1);
    if (!isNullish(value) && numericKind(value) !== undefined) {
      const n = toJsNumber(value);
      if (!Number.isNaN(n) && !ok(n)) throw expressionError(code, message);
    }
    return inner([value], scope);
  }) as OperatorFn;
}

/** Rounds to `place` decimal places; half-to-even for $round, toward zero for $trunc. */
function roundAt(n: number, place: number, mode: 'round' | 'trunc'): number {
  if (!Number.isFinite(n)) return n;
  const factor = 10 ** Math.abs(place);
  const scaled = place >= 0 ? n * factor : n / factor;
  let rounded: number;
  if (mode === 'trunc') {
    rounded = Math.trunc(scaled);
  } else {
    const floor = Math.floor(scaled);
    const diff = scaled - floor;
    rounded = diff > 0.5 ? floor + 1 : diff < 0.5 ? floor : floor % 2 === 0 ? floor : floor + 1;
  }
  return place >= 0 ? rounded / factor : rounded * factor;
}

function roundBigInt(n: bigint, place: number, mode: 'round' | 'trunc'): bigint {
  if (place >= 0) return n;
  const factor = BigInt(10) ** BigInt(-place);
  const quotient = n / factor;
  const remainder = n % factor;
  if (mode === 'trunc' || remainder === BigInt(0)) return quotient * factor;
  const twice = (remainder < BigInt(0) ? -remainder : remainder) * BigInt(2);
  const away = n < BigInt(0) ? quotient - BigInt(1) : quotient + BigInt(1);
  if (twice > factor) return away * factor;
  if (twice < factor) return quotient * factor;
  return (quotient % BigInt(2) === BigInt(0) ? quotient : away) * factor;
}

function roundingOperator(name: string, mode: 'round' | 'trunc'): OperatorFn {
  return (args, scope) => {
    const [value, placeValue] = evaluatedArgs(name, args, scope, 1, 2);
    if (isNullish(value) || (placeValue !== undefined && placeValue === null)) return null;
    requireNumeric(name, value);
    const place = placeValue === undefined ? 0 : toJsNumber(placeValue);
    if (!Number.isInteger(place) || place < -20 || place > 100) {
      throw expressionError(
        51155,
        `cannot apply ${name} with precision value ${place} value must be in [-20, 100]`,
      );
    }
    const kind = numericKind(value)!;
    if (kind === 'int' || kind === 'long')
      return makeIntegral(roundBigInt(toBigInt(value), place, mode), kind);
    if (kind === 'decimal') {
      const text = decimalText(value);
      return Decimal128.fromStringWithRounding(String(roundAt(Number(text), place, mode)));
    }
    return makeDouble(roundAt(toJsNumber(value), place, mode));
  };
}

const pow: OperatorFn = (args, scope) => {
  const [base, exponent] = evaluatedArgs('$pow', args, scope, 2);
  if (isNullish(base) || isNullish(exponent)) return null;
  requireNumeric('$pow', base);
  requireNumeric('$pow', exponent);
  const kind = widestKind([numericKind(base)!, numericKind(exponent)!]);
  if (kind === 'int' || kind === 'long') {
    const b = toBigInt(base);
    const e = toBigInt(exponent);
    if (b === BigInt(0) && e < BigInt(0)) {
      throw expressionError(28764, '$pow cannot take a base of 0 and a negative exponent');
    }
    if (e >= BigInt(0)) {
      const result = e > BigInt(64) && (b > BigInt(1) || b < BigInt(-1)) ? undefined : b ** e;
      if (result !== undefined && result >= -(BigInt(1) << BigInt(63)) && result < BigInt(1) << BigInt(63)) {
        return makeIntegral(result, kind);
      }
    }
    return makeDouble(Math.pow(toJsNumber(base), toJsNumber(exponent)));
  }
  if (kind === 'decimal') return toDecimal(Math.pow(toJsNumber(base), toJsNumber(exponent)));
  return makeDouble(Math.pow(toJsNumber(base), toJsNumber(exponent)));
};

const log: OperatorFn = (args, scope) => {
  const [value, base] = evaluatedArgs('$log', args, scope, 2);
  if (isNullish(value) || isNullish(base)) return null;
  requireNumeric('$log', value);
  requireNumeric('$log', base);
  const n = toJsNumber(value);
  const b = toJsNumber(base);
  if (n <= 0) throw expressionError(28758, `$log's argument must be a positive number, but is ${n}`);
  if (b <= 0 || b === 1)
    throw expressionError(28759, `$log's base must be a positive number not equal to 1, but is ${b}`);
  const result = Math.log(n) / Math.log(b);
  return numericKind(value) === 'decimal' || numericKind(base) === 'decimal'
    ? toDecimal(result)
    : makeDouble(result);
};

export const arithmeticOperators: Record<string, OperatorFn> = {
  $add: add,
  $subtract: subtract,
  $multiply: multiply,
  $divide: divide,
  $mod: mod,
  $abs: unaryNumeric('$abs', Math.abs, (n, kind) =>
    makeIntegral(n < BigInt(0) ? -n : n, kind as 'int' | 'long'),
  ),
  $ceil: unaryNumeric('$ceil', Math.ceil, keepIntegral),
  $floor: unaryNumeric('$floor', Math.floor, keepIntegral),
  $round: roundingOperator('$round', 'round'),
  $trunc: roundingOperator('$trunc', 'trunc'),
  $sqrt: domainChecked(
    '$sqrt',
    28714,
    "$sqrt's argument must be greater than or equal to 0",
    Math.sqrt,
    (n) => n >= 0,
  ),
  $pow: pow,
  $exp: unaryNumeric('$exp', Math.exp),
  $ln: domainChecked('$ln', 28766, "$ln's argument must be a positive number", Math.log, (n) => n > 0),
  $log10: domainChecked(
    '$log10',
    28761,
    "$log10's argument must be a positive number",
    Math.log10,
    (n) => n > 0,
  ),
  $log: log,
};

/** The sum of numerics as $sum/$add promote them (non-numerics are the caller's business). */
export function addNumbers(total: unknown, value: unknown): unknown {
  return numericBinary('add', total, value);
}
