// Array and set expression operators. Element equality uses the BSON comparison of compare.ts,
// so 1, 1.0 and NumberLong(1) are the same element.
import { bsonTypeName, valuesEqual } from './compare';
import {
  evaluatedArgs,
  expressionError,
  isNullish,
  isTruthy,
  namedArgs,
  validateVariableName,
  type OperatorFn,
  type Scope,
} from './expr-core';
import { isNumeric, makeInt, toJsNumber } from './expr-numeric';

function typeNameOf(value: unknown): string {
  return value === undefined ? 'missing' : bsonTypeName(value);
}

function requireArray(name: string, value: unknown, code = 28689): unknown[] {
  if (!Array.isArray(value)) {
    throw expressionError(code, `${name} requires an array argument, found: ${typeNameOf(value)}`);
  }
  return value;
}

/** An integral argument (any numeric type holding an integer, as MongoDB accepts). */
function integerArg(name: string, value: unknown, what: string, code: number): number {
  if (!isNumeric(value) || !Number.isInteger(toJsNumber(value))) {
    throw expressionError(
      code,
      `${name}'s ${what} must be a numeric value representable as a 32-bit integral value, but found ${typeNameOf(value)}`,
    );
  }
  return toJsNumber(value);
}

function elementAt(array: unknown[], index: number): unknown {
  const position = index < 0 ? array.length + index : index;
  return position >= 0 && position < array.length ? array[position] : undefined;
}

function firstOrLast(name: string, pick: (array: unknown[]) => unknown): OperatorFn {
  return (args, scope) => {
    const [value] = evaluatedArgs(name, args, scope, 1);
    if (isNullish(value)) return null;
    return pick(requireArray(name, value, 28689));
  };
}

function variableName(name: string, spec: Record<string, unknown>, fallback: string): string {
  const as = spec.as ?? fallback;
  if (typeof as !== 'string') throw expressionError(2, `${name}: 'as' must be a string`);
  validateVariableName(as);
  return as;
}

const filter: OperatorFn = (args, scope) => {
  const spec = namedArgs('$filter', args, ['input', 'as', 'cond', 'limit'], ['input', 'cond']);
  const input = scope.evaluate(spec.input);
  const as = variableName('$filter', spec, 'this');
  if (isNullish(input)) return null;
  const array = requireArray('$filter', input, 28651);
  const limitValue = 'limit' in spec ? scope.evaluate(spec.limit) : undefined;
  const limit = isNullish(limitValue) ? Infinity : integerArg('$filter', limitValue, 'limit', 327391);
  if (limit < 1) throw expressionError(327392, `$filter: limit must be greater than 0: ${limit}`);
  const result: unknown[] = [];
  for (const element of array) {
    if (result.length >= limit) break;
    if (isTruthy(scope.bind({ [as]: element }).evaluate(spec.cond))) result.push(element);
  }
  return result;
};

const map: OperatorFn = (args, scope) => {
  const spec = namedArgs('$map', args, ['input', 'as', 'in'], ['input', 'in']);
  const input = scope.evaluate(spec.input);
  const as = variableName('$map', spec, 'this');
  if (isNullish(input)) return null;
  const array = requireArray('$map', input, 16883);
  return array.map((element) => scope.bind({ [as]: element }).evaluate(spec.in) ?? null);
};

const reduce: OperatorFn = (args, scope) => {
  const spec = namedArgs('$reduce', args, ['input', 'initialValue', 'in'], ['input', 'initialValue', 'in']);
  const input = scope.evaluate(spec.input);
  if (isNullish(input)) return null;
  const array = requireArray('$reduce', input, 40080);
  let accumulated = scope.evaluate(spec.initialValue);
  for (const element of array) {
    accumulated = scope.bind({ this: element, value: accumulated }).evaluate(spec.in);
  }
  return accumulated;
};

const slice: OperatorFn = (args, scope) => {
  const values = evaluatedArgs('$slice', args, scope, 2, 3);
  if (values.some(isNullish)) return null;
  const array = requireArray('$slice', values[0], 28724);
  if (values.length === 2) {
    const n = integerArg('$slice', values[1], 'second argument', 28725);
    return n >= 0 ? array.slice(0, n) : array.slice(Math.max(0, array.length + n));
  }
  let position = integerArg('$slice', values[1], 'second argument', 28725);
  const count = integerArg('$slice', values[2], 'third argument', 28728);
  if (count <= 0) throw expressionError(28729, `Third argument to $slice must be positive: ${count}`);
  if (position < 0) position = Math.max(0, array.length + position);
  return array.slice(position, position + count);
};

const range: OperatorFn = (args, scope) => {
  const [startValue, endValue, stepValue] = evaluatedArgs('$range', args, scope, 2, 3);
  const start = integerArg('$range', startValue, 'starting value', 34443);
  const end = integerArg('$range', endValue, 'ending value', 34445);
  const step = stepValue === undefined ? 1 : integerArg('$range', stepValue, 'step value', 34447);
  if (step === 0) throw expressionError(34449, '$range requires a non-zero step value');
  const result: unknown[] = [];
  for (let i = start; step > 0 ? i < end : i > end; i += step) result.push(makeInt(i));
  return result;
};

const indexOfArray: OperatorFn = (args, scope) => {
  const [input, search, startValue, endValue] = evaluatedArgs('$indexOfArray', args, scope, 2, 4);
  if (isNullish(input)) return null;
  const array = requireArray('$indexOfArray', input, 40090);
  const start =
    startValue === undefined ? 0 : integerArg('$indexOfArray', startValue, 'starting index', 40096);
  const end =
    endValue === undefined
      ? array.length
      : Math.min(array.length, integerArg('$indexOfArray', endValue, 'ending index', 40096));
  if (start < 0 || end < 0) throw expressionError(40097, '$indexOfArray requires a nonnegative index');
  for (let i = start; i < end; i++) if (valuesEqual(array[i], search)) return makeInt(i);
  return makeInt(-1);
};

function uniqueValues(values: unknown[]): unknown[] {
  const result: unknown[] = [];
  for (const value of values)
    if (!result.some((existing) => valuesEqual(existing, value))) result.push(value);
  return result;
}

function setOperands(
  name: string,
  args: unknown,
  scope: Scope,
  min: number,
  max: number,
): unknown[][] | null {
  const values = evaluatedArgs(name, args, scope, min, max);
  if (values.some(isNullish)) return null;
  return values.map((value) => {
    if (!Array.isArray(value)) {
      throw expressionError(
        17044,
        `All operands of ${name} must be arrays. One argument is of type: ${typeNameOf(value)}`,
      );
    }
    return value;
  });
}

const contains = (array: unknown[], value: unknown) => array.some((element) => valuesEqual(element, value));

export const arrayOperators: Record<string, OperatorFn> = {
  $size: (args, scope) => {
    const [value] = evaluatedArgs('$size', args, scope, 1);
    if (!Array.isArray(value))
      throw expressionError(
        17124,
        `The argument to $size must be an array. Type of argument: ${typeNameOf(value)}`,
      );
    return makeInt(value.length);
  },
  $arrayElemAt: (args, scope) => {
    const [input, index] = evaluatedArgs('$arrayElemAt', args, scope, 2);
    if (isNullish(input) || isNullish(index)) return null;
    const array = requireArray('$arrayElemAt', input, 28689);
    return elementAt(array, integerArg('$arrayElemAt', index, 'second argument', 28690));
  },
  $first: firstOrLast('$first', (array) => array[0]),
  $last: firstOrLast('$last', (array) => array[array.length - 1]),
  $concatArrays: (args, scope) => {
    const values = evaluatedArgs('$concatArrays', args, scope, 0, Infinity);
    if (values.some(isNullish)) return null;
    return values.flatMap((value) => {
      if (!Array.isArray(value))
        throw expressionError(28664, `$concatArrays only supports arrays, not ${typeNameOf(value)}`);
      return value;
    });
  },
  $filter: filter,
  $map: map,
  $reduce: reduce,
  $in: (args, scope) => {
    const [value, array] = evaluatedArgs('$in', args, scope, 2);
    if (!Array.isArray(array))
      throw expressionError(40081, `$in requires an array as a second argument, found: ${typeNameOf(array)}`);
    return contains(array, value === undefined ? null : value);
  },
  $slice: slice,
  $isArray: (args, scope) => Array.isArray(evaluatedArgs('$isArray', args, scope, 1)[0]),
  $range: range,
  $reverseArray: (args, scope) => {
    const [value] = evaluatedArgs('$reverseArray', args, scope, 1);
    if (isNullish(value)) return null;
    return [...requireArray('$reverseArray', value, 34435)].reverse();
  },
  $indexOfArray: indexOfArray,
  $setUnion: (args, scope) => {
    const arrays = setOperands('$setUnion', args, scope, 0, Infinity);
    return arrays && uniqueValues(arrays.flat());
  },
  $setIntersection: (args, scope) => {
    const arrays = setOperands('$setIntersection', args, scope, 0, Infinity);
    if (!arrays) return null;
    if (arrays.length === 0) return [];
    return uniqueValues(arrays[0]).filter((value) => arrays.every((array) => contains(array, value)));
  },
  $setDifference: (args, scope) => {
    const arrays = setOperands('$setDifference', args, scope, 2, 2);
    return arrays && uniqueValues(arrays[0]).filter((value) => !contains(arrays[1], value));
  },
  $setEquals: (args, scope) => {
    const arrays = setOperands('$setEquals', args, scope, 2, Infinity);
    if (!arrays) throw expressionError(17044, 'All operands of $setEquals must be arrays.');
    const [first, ...rest] = arrays;
    return rest.every(
      (array) => array.every((v) => contains(first, v)) && first.every((v) => contains(array, v)),
    );
  },
  $setIsSubset: (args, scope) => {
    const [subset, superset] = evaluatedArgs('$setIsSubset', args, scope, 2);
    if (!Array.isArray(subset))
      throw expressionError(
        17310,
        `both operands of $setIsSubset must be arrays. First argument is of type: ${typeNameOf(subset)}`,
      );
    if (!Array.isArray(superset))
      throw expressionError(
        17311,
        `both operands of $setIsSubset must be arrays. Second argument is of type: ${typeNameOf(superset)}`,
      );
    return subset.every((value) => contains(superset, value));
  },
  $allElementsTrue: (args, scope) => {
    const [value] = evaluatedArgs('$allElementsTrue', args, scope, 1);
    if (!Array.isArray(value))
      throw expressionError(
        17040,
        `$allElementsTrue's argument must be an array, but is ${typeNameOf(value)}`,
      );
    return value.every(isTruthy);
  },
  $anyElementTrue: (args, scope) => {
    const [value] = evaluatedArgs('$anyElementTrue', args, scope, 1);
    if (!Array.isArray(value))
      throw expressionError(
        17041,
        `$anyElementTrue's argument must be an array, but is ${typeNameOf(value)}`,
      );
    return value.some(isTruthy);
  },
};
