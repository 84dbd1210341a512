// String expression operators. Byte offsets ($substrBytes, $indexOfBytes, $strLenBytes) count
// UTF-8 bytes; code-point offsets count Unicode code points, as MongoDB does.
import type { BSONRegExp, Document } from 'bson';
import { bsonTypeName } from './compare';
import {
  evaluatedArgs,
  expressionError,
  isNullish,
  namedArgs,
  type OperatorFn,
  type Scope,
} from './expr-core';
import { isNumeric, makeInt, toJsNumber } from './expr-numeric';
import { formatNumberAsString } from './expr-type';
import { compileRegex } from './regex';

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function typeNameOf(value: unknown): string {
  return value === undefined ? 'missing' : bsonTypeName(value);
}

/** The string form $substr, $toLower and friends accept: null → "", numbers and dates printed. */
function coerceToString(name: string, value: unknown): string {
  if (isNullish(value)) return '';
  if (typeof value === 'string') return value;
  if (isNumeric(value)) return formatNumberAsString(value);
  if (value instanceof Date) return value.toISOString();
  throw expressionError(16007, `can't convert from BSON type ${typeNameOf(value)} to String (in ${name})`);
}

function integralArg(name: string, value: unknown, what: string): number {
  if (!isNumeric(value) || !Number.isInteger(toJsNumber(value))) {
    throw expressionError(
      34450 + (what === 'length' ? 1 : 0),
      `${name}: ${what} must be a numeric type (is BSON type ${typeNameOf(value)})`,
    );
  }
  return toJsNumber(value);
}

const concat: OperatorFn = (args, scope) => {
  const values = evaluatedArgs('$concat', args, scope, 0, Infinity);
  let result = '';
  for (const value of values) {
    if (isNullish(value)) return null;
    if (typeof value !== 'string') {
      throw expressionError(16702, `$concat only supports strings, not ${typeNameOf(value)}`);
    }
    result += value;
  }
  return result;
};

function substrBytes(name: string): OperatorFn {
  return (args, scope) => {
    const [input, startValue, lengthValue] = evaluatedArgs(name, args, scope, 3);
    const bytes = utf8.encode(coerceToString(name, input));
    if (!isNumeric(startValue))
      throw expressionError(
        16034,
        `${name}:  starting index must be a numeric type (is BSON type ${typeNameOf(startValue)})`,
      );
    if (!isNumeric(lengthValue))
      throw expressionError(
        16035,
        `${name}:  length must be a numeric type (is BSON type ${typeNameOf(lengthValue)})`,
      );
    const start = Math.trunc(toJsNumber(startValue));
    const length = Math.trunc(toJsNumber(lengthValue));
    if (start < 0 || start >= bytes.length) return '';
    const end = length < 0 ? bytes.length : Math.min(bytes.length, start + length);
    try {
      return utf8Decoder.decode(bytes.subarray(start, end));
    } catch {
      throw expressionError(28656, `${name}:  Invalid range, starting index is a UTF-8 continuation byte.`);
    }
  };
}

const substrCP: OperatorFn = (args, scope) => {
  const [input, startValue, lengthValue] = evaluatedArgs('$substrCP', args, scope, 3);
  const codePoints = Array.from(coerceToString('$substrCP', input));
  const start = integralArg('$substrCP', startValue, 'starting index');
  const length = integralArg('$substrCP', lengthValue, 'length');
  if (start < 0) throw expressionError(34455, '$substrCP: the starting index must be nonnegative integer.');
  if (length < 0) throw expressionError(34454, '$substrCP: length must be a nonnegative integer.');
  return codePoints.slice(start, start + length).join('');
};

function strLen(name: string, measure: (s: string) => number, code: number): OperatorFn {
  return (args, scope) => {
    const [value] = evaluatedArgs(name, args, scope, 1);
    if (typeof value !== 'string') {
      throw expressionError(code, `${name} requires a string argument, found: ${typeNameOf(value)}`);
    }
    return makeInt(measure(value));
  };
}

const split: OperatorFn = (args, scope) => {
  const [input, delimiter] = evaluatedArgs('$split', args, scope, 2);
  if (isNullish(input)) return null;
  if (typeof input !== 'string') {
    throw expressionError(
      40085,
      `$split requires an expression that evaluates to a string as a first argument, found: ${typeNameOf(input)}`,
    );
  }
  if (typeof delimiter !== 'string') {
    throw expressionError(
      40086,
      `$split requires an expression that evaluates to a string as a second argument, found: ${typeNameOf(delimiter)}`,
    );
  }
  if (delimiter === '') throw expressionError(40087, '$split requires a non-empty separator');
  return input.split(delimiter);
};

// The whitespace MongoDB's $trim removes by default.
const DEFAULT_TRIM = [
  '\0',
  ' ',
  '\t',
  '\n',
  '\v',
  '\f',
  '\r',
  '\u00a0',
  '\u1680',
  '\u2000',
  '\u2001',
  '\u2002',
  '\u2003',
  '\u2004',
  '\u2005',
  '\u2006',
  '\u2007',
  '\u2008',
  '\u2009',
  '\u200a',
  '\u2028',
  '\u2029',
  '\u202f',
  '\u205f',
  '\u3000',
];

function trim(name: string, left: boolean, right: boolean): OperatorFn {
  return (args, scope) => {
    const spec = namedArgs(name, args, ['input', 'chars'], ['input']);
    const input = scope.evaluate(spec.input);
    if (isNullish(input)) return null;
    if (typeof input !== 'string')
      throw expressionError(
        50699,
        `${name} requires its input to be a string, got ${typeNameOf(input)} instead.`,
      );
    let chars = DEFAULT_TRIM;
    if ('chars' in spec) {
      const charsValue = scope.evaluate(spec.chars);
      if (isNullish(charsValue)) return null;
      if (typeof charsValue !== 'string')
        throw expressionError(
          50700,
          `${name} requires 'chars' to be a string, got ${typeNameOf(charsValue)} instead.`,
        );
      chars = Array.from(charsValue);
    }
    const codePoints = Array.from(input);
    let start = 0;
    let end = codePoints.length;
    while (left && start < end && chars.includes(codePoints[start])) start++;
    while (right && end > start && chars.includes(codePoints[end - 1])) end--;
    return codePoints.slice(start, end).join('');
  };
}

/**
 * A start or end index of $indexOfBytes / $indexOfCP, as mongod checks it: an integral value
 * (40096; the message lacks its space in mongod too) that is not negative (40097).
 */
function indexOfBound(name: string, value: unknown, what: string): number {
  const n = isNumeric(value) ? toJsNumber(value) : NaN;
  if (!Number.isInteger(n) || Math.abs(n) > 2147483647) {
    const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
    throw expressionError(
      40096,
      `${name}requires an integral ${what}, found a value of type: ${typeNameOf(value)}, with value: ${shown}`,
    );
  }
  if (n < 0) throw expressionError(40097, `${name} requires a nonnegative ${what}, found: ${n}`);
  return n;
}

function hasTokenAt(
  haystack: ArrayLike<string | number>,
  needle: ArrayLike<string | number>,
  i: number,
): boolean {
  if (i + needle.length > haystack.length) return false;
  for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) return false;
  return true;
}

/**
 * $indexOfBytes and $indexOfCP (evaluate_string.cpp). Both clamp the end to the input's length
 * and answer -1 when it lies before the start. $indexOfBytes searches the input cut at the end
 * (`input.substr(0, end).find(token, start)`): a match must fit before the end. $indexOfCP tries
 * each code point from the start while it is before the end, comparing against the whole input:
 * a match must only start before the end.
 */
function indexOf(name: '$indexOfBytes' | '$indexOfCP'): OperatorFn {
  const codePoints = name === '$indexOfCP';
  return (args, scope) => {
    const [input, token, startValue, endValue] = evaluatedArgs(name, args, scope, 2, 4);
    if (isNullish(input)) return null;
    if (typeof input !== 'string')
      throw expressionError(
        codePoints ? 40093 : 40091,
        `${name} requires a string as the first argument, found: ${typeNameOf(input)}`,
      );
    if (typeof token !== 'string')
      throw expressionError(
        codePoints ? 40094 : 40092,
        `${name} requires a string as the second argument, found: ${typeNameOf(token)}`,
      );
    const units = (s: string): ArrayLike<string | number> => (codePoints ? Array.from(s) : utf8.encode(s));
    const haystack = units(input);
    const needle = units(token);
    const start = startValue === undefined ? 0 : indexOfBound(name, startValue, 'starting index');
    const end =
      endValue === undefined
        ? haystack.length
        : Math.min(haystack.length, indexOfBound(name, endValue, 'ending index'));
    if (codePoints) {
      if (end < start) return makeInt(-1);
      if (haystack.length === 0 && needle.length === 0) return makeInt(0);
      for (let i = start; i < end; i++) if (hasTokenAt(haystack, needle, i)) return makeInt(i);
      return makeInt(-1);
    }
    if (start > haystack.length || end < start) return makeInt(-1);
    for (let i = start; i + needle.length <= end; i++) if (hasTokenAt(haystack, needle, i)) return makeInt(i);
    return makeInt(-1);
  };
}

function compileRegexArgument(name: string, regexValue: unknown, optionsValue: unknown): RegExp | undefined {
  let pattern: string;
  let options = '';
  if ((regexValue as { _bsontype?: string } | null)?._bsontype === 'BSONRegExp') {
    pattern = (regexValue as BSONRegExp).pattern;
    options = (regexValue as BSONRegExp).options;
    if (!isNullish(optionsValue) && options !== '') {
      throw expressionError(51075, `${name}: regex option(s) specified in both 'regex' and 'option' fields`);
    }
  } else if (regexValue instanceof RegExp) {
    pattern = regexValue.source;
    options = regexValue.flags;
  } else if (typeof regexValue === 'string') {
    pattern = regexValue;
  } else if (isNullish(regexValue)) {
    return undefined;
  } else {
    throw expressionError(51105, `${name} needs 'regex' to be of type string or regex`);
  }
  if (!isNullish(optionsValue)) {
    if (typeof optionsValue !== 'string')
      throw expressionError(51106, `${name} needs 'options' to be of type string`);
    options += optionsValue;
  }
  const regex = compileRegex(pattern, options);
  return new RegExp(regex.source, `${regex.flags}g`);
}

interface RegexMatchResult {
  match: string;
  idx: number;
  captures: (string | null)[];
}

function regexMatches(name: string, args: unknown, scope: Scope, all: boolean): RegexMatchResult[] | null {
  const spec = namedArgs(name, args, ['input', 'regex', 'options'], ['input', 'regex']);
  const input = scope.evaluate(spec.input);
  const regex = compileRegexArgument(
    name,
    scope.evaluate(spec.regex),
    'options' in spec ? scope.evaluate(spec.options) : undefined,
  );
  if (isNullish(input) || regex === undefined) return null;
  if (typeof input !== 'string') throw expressionError(51104, `${name} needs 'input' to be of type string`);
  const results: RegexMatchResult[] = [];
  for (const match of input.matchAll(regex)) {
    const index = match.index ?? 0;
    results.push({
      match: match[0],
      idx: Array.from(input.slice(0, index)).length,
      captures: match.slice(1).map((capture) => capture ?? null),
    });
    if (!all) break;
  }
  return results;
}

function regexResultDocument(result: RegexMatchResult): Document {
  return { match: result.match, idx: makeInt(result.idx), captures: result.captures };
}

function replace(name: string, all: boolean): OperatorFn {
  return (args, scope) => {
    const spec = namedArgs(name, args, ['input', 'find', 'replacement'], ['input', 'find', 'replacement']);
    const values = [spec.input, spec.find, spec.replacement].map((expr) => scope.evaluate(expr));
    for (const value of values) {
      if (!isNullish(value) && typeof value !== 'string') {
        throw expressionError(
          51746,
          `${name} requires that 'input', 'find' and 'replacement' be strings, found: ${typeNameOf(value)}`,
        );
      }
    }
    if (values.some(isNullish)) return null;
    const [input, find, replacement] = values as string[];
    return all ? input.split(find).join(replacement) : input.replace(find, () => replacement);
  };
}

export const stringOperators: Record<string, OperatorFn> = {
  $concat: concat,
  $substr: substrBytes('$substrBytes'),
  $substrBytes: substrBytes('$substrBytes'),
  $substrCP: substrCP,
  $toLower: (args, scope) =>
    coerceToString('$toLower', evaluatedArgs('$toLower', args, scope, 1)[0]).toLowerCase(),
  $toUpper: (args, scope) =>
    coerceToString('$toUpper', evaluatedArgs('$toUpper', args, scope, 1)[0]).toUpperCase(),
  $strLenCP: strLen('$strLenCP', (s) => Array.from(s).length, 34471),
  $strLenBytes: strLen('$strLenBytes', (s) => utf8.encode(s).length, 34473),
  $split: split,
  $trim: trim('$trim', true, true),
  $ltrim: trim('$ltrim', true, false),
  $rtrim: trim('$rtrim', false, true),
  $indexOfCP: indexOf('$indexOfCP'),
  $indexOfBytes: indexOf('$indexOfBytes'),
  $strcasecmp: (args, scope) => {
    const [left, right] = evaluatedArgs('$strcasecmp', args, scope, 2).map((v) =>
      coerceToString('$strcasecmp', v).toUpperCase(),
    );
    return makeInt(left < right ? -1 : left > right ? 1 : 0);
  },
  $regexMatch: (args, scope) => (regexMatches('$regexMatch', args, scope, false) ?? []).length > 0,
  $regexFind: (args, scope) => {
    const results = regexMatches('$regexFind', args, scope, false);
    return results && results.length > 0 ? regexResultDocument(results[0]) : null;
  },
  $regexFindAll: (args, scope) =>
    (regexMatches('$regexFindAll', args, scope, true) ?? []).map(regexResultDocument),
  $replaceOne: replace('$replaceOne', false),
  $replaceAll: replace('$replaceAll', true),
};
