// Query filters compiled once into predicates over documents in the exact value model, with
// MongoDB's semantics: array fields match when any element (or the array itself) matches,
// comparisons stay inside one type bracket, null matches missing.
import type { BSONRegExp, BSONSymbol, Document, Int32, Double } from 'bson';
import { CommandError, ErrorCodes, badValue } from '../errors';
import {
  TypeOrder,
  bsonTypeName,
  canonicalTypeOrder,
  compareValues,
  containsString,
  isPlainDocument,
  keyString,
  toNumber,
} from './compare';
import type { Collation } from './collation';
import { evaluateExpression } from './expression';
import { compileJsonSchema } from './json-schema';
import { compilePath, getField, getPath, walkPath, type CompiledPath } from './paths';
import { compileRegex } from './regex';

export type Matcher = (doc: Document) => boolean;
type ValueTest = (value: unknown) => boolean;

/** One operator on one path: a test of the value(s) the path reaches, possibly negated. */
type Clause = { kind: 'test'; test: ValueTest; negated: boolean } | { kind: 'not'; inner: Clause[] };

interface CompileContext {
  variables?: Document;
  /** String comparisons (equality, ranges, $in) use this collation; code point order without. */
  collation?: Collation;
}

export interface FilterOptions {
  variables?: Document;
  collation?: Collation;
}

export function compileFilter(filter: Document, options: FilterOptions = {}): Matcher {
  if (!isPlainDocument(filter)) throw badValue('filter must be an object');
  return compileDocument(filter, { variables: options.variables, collation: options.collation });
}

// ---------------------------------------------------------------------------------------------

const alwaysTrue: Matcher = () => true;
const alwaysFalse: Matcher = () => false;

function allOf(matchers: Matcher[]): Matcher {
  if (matchers.length === 0) return alwaysTrue;
  if (matchers.length === 1) return matchers[0];
  if (matchers.length === 2) {
    const [a, b] = matchers;
    return (doc) => a(doc) && b(doc);
  }
  return (doc) => {
    for (const matcher of matchers) if (!matcher(doc)) return false;
    return true;
  };
}

function compileDocument(filter: Document, ctx: CompileContext): Matcher {
  const matchers: Matcher[] = [];
  for (const key of Object.keys(filter)) {
    const value = filter[key];
    if (key.startsWith('$')) {
      const matcher = compileTopLevelOperator(key, value, ctx);
      if (matcher) matchers.push(matcher);
    } else {
      matchers.push(compileField(compilePath(key), value, ctx));
    }
  }
  return allOf(matchers);
}

function logicalChildren(operator: string, value: unknown, ctx: CompileContext): Matcher[] {
  if (!Array.isArray(value) || value.length === 0) throw badValue(`${operator} must be a nonempty array`);
  return value.map((entry) => {
    if (!isPlainDocument(entry)) throw badValue('$or/$and/$nor entries need to be full objects');
    return compileDocument(entry, ctx);
  });
}

/** MongoDB's truthiness for `$expr`: false, null, missing and numeric zero are false. */
function isTruthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return false;
  const n = toNumber(value);
  return n === undefined || n !== 0;
}

function compileTopLevelOperator(operator: string, value: unknown, ctx: CompileContext): Matcher | undefined {
  switch (operator) {
    case '$and':
      return allOf(logicalChildren(operator, value, ctx));
    case '$or': {
      const children = logicalChildren(operator, value, ctx);
      return (doc) => children.some((child) => child(doc));
    }
    case '$nor': {
      const children = logicalChildren(operator, value, ctx);
      return (doc) => !children.some((child) => child(doc));
    }
    case '$expr': {
      const variables = ctx.variables;
      return (doc) => isTruthy(evaluateExpression(value, doc, variables));
    }
    case '$jsonSchema': {
      if (!isPlainDocument(value))
        throw new CommandError(ErrorCodes.TypeMismatch, '$jsonSchema must be an object');
      return compileJsonSchema(value);
    }
    case '$comment':
      return undefined;
    case '$alwaysTrue':
      return alwaysTrue;
    case '$alwaysFalse':
      return alwaysFalse;
    case '$where':
      throw badValue('$where is not supported by this server');
    case '$text':
      throw new CommandError(ErrorCodes.IndexNotFound, 'text index required for $text query');
    default:
      throw badValue(`unknown top level operator: ${operator}`);
  }
}

function compileField(path: CompiledPath, spec: unknown, ctx: CompileContext): Matcher {
  return allOf(compileValueSpec(spec, ctx).map((clause) => clauseMatcher(path, clause)));
}

function clauseMatcher(path: CompiledPath, clause: Clause): Matcher {
  if (clause.kind === 'not') {
    const inner = allOf(clause.inner.map((c) => clauseMatcher(path, c)));
    return (doc) => !inner(doc);
  }
  const test = clause.test;
  if (path.parts.length === 1) {
    // Fast path for top-level fields: no traversal machinery.
    const name = path.parts[0];
    const positive: Matcher = (doc) => test(getField(doc, name));
    return clause.negated ? (doc) => !positive(doc) : positive;
  }
  return clause.negated ? (doc) => !walkPath(doc, path, 0, test) : (doc) => walkPath(doc, path, 0, test);
}

const dbRefFields = new Set(['$ref', '$id', '$db']);

function isOperatorObject(spec: unknown): spec is Document {
  if (!isPlainDocument(spec)) return false;
  for (const key in spec) return key.startsWith('$') && !dbRefFields.has(key);
  return false;
}

/** A regular expression value: BSONRegExp as stored, or a JS RegExp from internal callers. */
function isRegex(value: unknown): value is BSONRegExp {
  if (value instanceof RegExp) return true;
  return value instanceof Object && (value as { _bsontype?: string })._bsontype === 'BSONRegExp';
}

function regexParts(value: BSONRegExp | RegExp): { pattern: string; options: string } {
  if (value instanceof RegExp) return { pattern: value.source, options: value.flags.replace(/[gyd]/g, '') };
  return { pattern: value.pattern, options: value.options };
}

function compileValueSpec(spec: unknown, ctx: CompileContext): Clause[] {
  if (isOperatorObject(spec)) return compileOperators(spec, ctx);
  if (isRegex(spec)) return [positive(regexValueTest(spec))];
  return [positive(equalityTest(spec, ctx.collation))];
}

/** A predicate over one value (an array element, or the value a $pull condition inspects). */
export function compileValuePredicate(spec: unknown, options: FilterOptions = {}): ValueTest {
  return clausesPredicate(
    compileValueSpec(spec, { variables: options.variables, collation: options.collation }),
  );
}

function clausesPredicate(clauses: Clause[]): ValueTest {
  const tests = clauses.map((clause): ValueTest => {
    if (clause.kind === 'not') {
      const inner = clausesPredicate(clause.inner);
      return (v) => !inner(v);
    }
    const test = clause.test;
    return clause.negated ? (v) => !test(v) : test;
  });
  if (tests.length === 1) return tests[0];
  return (v) => tests.every((test) => test(v));
}

function positive(test: ValueTest): Clause {
  return { kind: 'test', test, negated: false };
}

function negative(test: ValueTest): Clause {
  return { kind: 'test', test, negated: true };
}

/** The value itself or, for arrays, any element. */
function anyElement(one: ValueTest): ValueTest {
  return (v) => {
    if (one(v)) return true;
    if (!Array.isArray(v)) return false;
    for (const element of v) if (one(element)) return true;
    return false;
  };
}

// ---------------------------------------------------------------------------------------------
// Operators

const elemMatchObjectOperators = new Set([
  '$and',
  '$or',
  '$nor',
  '$where',
  '$expr',
  '$jsonSchema',
  '$comment',
  '$text',
]);

function compileOperators(spec: Document, ctx: CompileContext): Clause[] {
  const clauses: Clause[] = [];
  let regexPattern: unknown;
  let regexOptions: unknown;
  for (const operator of Object.keys(spec)) {
    const arg = spec[operator];
    switch (operator) {
      case '$eq':
        clauses.push(positive(equalityTest(arg, ctx.collation)));
        break;
      case '$ne':
        clauses.push(negative(equalityTest(arg, ctx.collation)));
        break;
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        clauses.push(positive(comparisonTest(operator, arg, ctx.collation)));
        break;
      case '$in':
        clauses.push(positive(inTest(operator, arg, ctx.collation)));
        break;
      case '$nin':
        clauses.push(negative(inTest(operator, arg, ctx.collation)));
        break;
      case '$exists': {
        const exists: ValueTest = (v) => v !== undefined;
        clauses.push(isTruthy(arg) ? positive(exists) : negative(exists));
        break;
      }
      case '$type':
        clauses.push(positive(typeTest(arg)));
        break;
      case '$size':
        clauses.push(positive(sizeTest(arg)));
        break;
      case '$all':
        clauses.push(...allClauses(arg, ctx));
        break;
      case '$mod':
        clauses.push(positive(modTest(arg)));
        break;
      case '$regex':
        regexPattern = arg;
        break;
      case '$options':
        regexOptions = arg;
        break;
      case '$elemMatch':
        clauses.push(positive(elemMatchTest(arg, ctx)));
        break;
      case '$not':
        clauses.push(notClause(arg, ctx));
        break;
      case '$bitsAllSet':
      case '$bitsAnySet':
      case '$bitsAllClear':
      case '$bitsAnyClear':
        clauses.push(positive(bitsTest(operator, arg)));
        break;
      case '$comment':
        break;
      case '$near':
      case '$nearSphere':
        // The emulator keeps no geo index to answer these from: mongod's planner error without one.
        throw new CommandError(
          291,
          'error processing query: planner returned error :: caused by :: unable to find index for $geoNear query',
          { codeName: 'NoQueryExecutionPlans' },
        );
      default:
        throw badValue(`unknown operator: ${operator}`);
    }
  }
  if (regexPattern !== undefined) {
    clauses.push(positive(regexClauseTest(regexPattern, regexOptions)));
  } else if (regexOptions !== undefined) {
    throw badValue('$options needs a $regex');
  }
  return clauses;
}

function regexClauseTest(pattern: unknown, options: unknown): ValueTest {
  if (options !== undefined && typeof options !== 'string') throw badValue('$options has to be a string');
  if (isRegex(pattern)) {
    const parts = regexParts(pattern);
    if (options !== undefined && parts.options !== '') {
      throw new CommandError(51075, 'options set in both $regex and $options');
    }
    return regexTest(parts.pattern, (options as string | undefined) ?? parts.options);
  }
  if (typeof pattern !== 'string') throw badValue('$regex has to be a string');
  return regexTest(pattern, (options as string | undefined) ?? '');
}

function regexValueTest(value: BSONRegExp | RegExp): ValueTest {
  const { pattern, options } = regexParts(value);
  return regexTest(pattern, options);
}

function regexTest(pattern: string, options: string): ValueTest {
  const regex = compileRegex(pattern, options);
  return anyElement((v) => {
    if (typeof v === 'string') return regex.test(v);
    if (v === null || typeof v !== 'object') return false;
    const tag = (v as { _bsontype?: string })._bsontype;
    if (tag === 'BSONSymbol') return regex.test(String((v as BSONSymbol).value));
    if (tag === 'BSONRegExp')
      return (v as BSONRegExp).pattern === pattern && (v as BSONRegExp).options === options;
    return false;
  });
}

/** Int32/Double/number values as a JS number, for fast numeric comparisons. */
function smallNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v === null || typeof v !== 'object') return undefined;
  const tag = (v as { _bsontype?: string })._bsontype;
  return tag === 'Int32' || tag === 'Double' ? (v as Int32 | Double).value : undefined;
}

function equalityTest(x: unknown, collation?: Collation): ValueTest {
  if (x === null || x === undefined) {
    return (v) => v === null || v === undefined || (Array.isArray(v) && v.includes(null));
  }
  if (collation && containsString(x)) {
    const order = canonicalTypeOrder(x);
    return anyElement((v) => canonicalTypeOrder(v) === order && compareValues(v, x, collation) === 0);
  }
  if (typeof x === 'string') {
    return (v) => v === x || (Array.isArray(v) && v.includes(x));
  }
  const n = smallNumber(x);
  if (n !== undefined && !Number.isNaN(n)) {
    return anyElement((v) => {
      const m = smallNumber(v);
      if (m !== undefined) return m === n;
      return canonicalTypeOrder(v) === TypeOrder.number && compareValues(v, x) === 0;
    });
  }
  const order = canonicalTypeOrder(x);
  return anyElement((v) => canonicalTypeOrder(v) === order && compareValues(v, x) === 0);
}

type ComparisonOperator = '$gt' | '$gte' | '$lt' | '$lte';

function comparisonTest(operator: ComparisonOperator, x: unknown, collation?: Collation): ValueTest {
  const inclusive = operator === '$gte' || operator === '$lte';
  const greater = operator === '$gt' || operator === '$gte';
  const accept = (c: number) => (c === 0 ? inclusive : greater ? c > 0 : c < 0);
  const order = canonicalTypeOrder(x);
  const xNumber = order === TypeOrder.number ? toNumber(x) : undefined;
  const xIsNaN = xNumber !== undefined && Number.isNaN(xNumber);
  const n = smallNumber(x);
  const one: ValueTest = (v) => {
    if (n !== undefined && !xIsNaN) {
      const m = smallNumber(v);
      if (m !== undefined && !Number.isNaN(m)) return accept(m < n ? -1 : m > n ? 1 : 0);
    }
    const vOrder = canonicalTypeOrder(v);
    if (vOrder !== order) {
      // null and missing/undefined are one bracket for comparisons; MinKey/MaxKey bound everything.
      if (vOrder + order === TypeOrder.null) return inclusive;
      if (order === TypeOrder.maxKey) return !greater;
      if (order === TypeOrder.minKey) return greater;
      return false;
    }
    if (order === TypeOrder.number) {
      const vIsNaN = Number.isNaN(toNumber(v));
      if (xIsNaN || vIsNaN) return xIsNaN && vIsNaN && inclusive;
    }
    return accept(compareValues(v, x, collation));
  };
  return anyElement(one);
}

function inTest(operator: string, arg: unknown, collation?: Collation): ValueTest {
  if (!Array.isArray(arg)) throw badValue(`${operator} needs an array`);
  const tests: ValueTest[] = [];
  const keys = new Set<string>();
  for (const element of arg) {
    if (isOperatorObject(element)) throw badValue(`cannot nest $ under ${operator}`);
    if (isRegex(element)) tests.push(regexValueTest(element));
    else if (element === null || arg.length <= 8 || (collation && containsString(element)))
      tests.push(equalityTest(element, collation));
    else keys.add(keyString(element));
  }
  if (keys.size > 0) tests.push(anyElement((v) => keys.has(keyString(v))));
  if (tests.length === 0) return () => false;
  if (tests.length === 1) return tests[0];
  return (v) => tests.some((test) => test(v));
}

const typeCodes: Record<string, number> = {
  double: 1,
  string: 2,
  object: 3,
  array: 4,
  binData: 5,
  undefined: 6,
  objectId: 7,
  bool: 8,
  date: 9,
  null: 10,
  regex: 11,
  dbPointer: 12,
  javascript: 13,
  symbol: 14,
  javascriptWithScope: 15,
  int: 16,
  timestamp: 17,
  long: 18,
  decimal: 19,
  minKey: -1,
  maxKey: 127,
};
const validTypeCodes = new Set(Object.values(typeCodes));

/** The BSON type names a `$type` argument selects (aliases such as "number" expanded). */
export function typeNamesOf(arg: unknown): Set<string> {
  const specs = Array.isArray(arg) ? arg : [arg];
  if (Array.isArray(arg) && arg.length === 0) throw badValue('a $type array must contain at least one type');
  const names = new Set<string>();
  for (const spec of specs) {
    if (typeof spec === 'string') {
      if (spec === 'number') {
        for (const name of ['int', 'long', 'double', 'decimal']) names.add(name);
      } else if (spec in typeCodes) {
        names.add(spec);
      } else {
        throw badValue(`Unknown type name alias: ${spec}`);
      }
      continue;
    }
    const code = toNumber(spec);
    if (code === undefined)
      throw new CommandError(ErrorCodes.TypeMismatch, 'type must be represented as a number or a string');
    if (!Number.isInteger(code) || !validTypeCodes.has(code))
      throw badValue(`Invalid numerical type code: ${code}`);
    names.add(Object.keys(typeCodes).find((name) => typeCodes[name] === code) as string);
  }
  return names;
}

function typeTest(arg: unknown): ValueTest {
  const names = typeNamesOf(arg);
  const one = anyElement((v) => names.has(bsonTypeName(v)));
  return (v) => v !== undefined && one(v);
}

function sizeTest(arg: unknown): ValueTest {
  const n = toNumber(arg);
  if (n === undefined) throw badValue('$size needs a number');
  if (!Number.isInteger(n)) throw badValue('$size must be a whole number');
  if (n < 0) throw badValue('$size may not be negative');
  return (v) => Array.isArray(v) && v.length === n;
}

function allClauses(arg: unknown, ctx: CompileContext): Clause[] {
  if (!Array.isArray(arg)) throw badValue('$all needs an array');
  if (arg.length === 0) return [positive(() => false)];
  const isElemMatch = (e: unknown) => isPlainDocument(e) && Object.keys(e)[0] === '$elemMatch';
  const elemMatches = arg.filter(isElemMatch).length;
  if (elemMatches > 0 && elemMatches < arg.length) throw badValue('$all/$elemMatch has to be consistent');
  return arg.map((element) => {
    if (isElemMatch(element)) return positive(elemMatchTest((element as Document).$elemMatch, ctx));
    if (isOperatorObject(element)) throw badValue('no $ expressions in $all');
    if (isRegex(element)) return positive(regexValueTest(element));
    return positive(equalityTest(element, ctx.collation));
  });
}

function modTest(arg: unknown): ValueTest {
  if (!Array.isArray(arg)) throw badValue('malformed mod, needs to be an array');
  if (arg.length < 2) throw badValue('malformed mod, not enough elements');
  if (arg.length > 2) throw badValue('malformed mod, too many elements');
  const divisor = toNumber(arg[0]);
  const remainder = toNumber(arg[1]);
  if (divisor === undefined) throw badValue('malformed mod, divisor not a number');
  if (remainder === undefined) throw badValue('malformed mod, remainder not a number');
  if (!Number.isFinite(divisor) || !Number.isFinite(remainder)) {
    throw badValue('malformed mod, divisor and remainder must be finite numbers');
  }
  const d = Math.trunc(divisor);
  const r = Math.trunc(remainder);
  if (d === 0) throw badValue('divisor cannot be 0');
  return anyElement((v) => {
    const n = toNumber(v);
    if (n === undefined || !Number.isFinite(n)) return false;
    return Math.trunc(n) % d === r;
  });
}

function elemMatchTest(arg: unknown, ctx: CompileContext): ValueTest {
  if (!isPlainDocument(arg)) throw badValue('$elemMatch needs an Object');
  const first = Object.keys(arg)[0];
  if (first !== undefined && first.startsWith('$') && !elemMatchObjectOperators.has(first)) {
    const predicate = clausesPredicate(compileOperators(arg, ctx));
    return (v) => Array.isArray(v) && v.some(predicate);
  }
  const matcher = compileDocument(arg, ctx);
  return (v) =>
    Array.isArray(v) && v.some((e) => (isPlainDocument(e) || Array.isArray(e)) && matcher(e as Document));
}

function notClause(arg: unknown, ctx: CompileContext): Clause {
  if (isRegex(arg)) return negative(regexValueTest(arg));
  if (!isPlainDocument(arg)) throw badValue('$not needs a regex or a document');
  if (Object.keys(arg).length === 0) throw badValue('$not cannot be empty');
  return { kind: 'not', inner: compileOperators(arg, ctx) };
}

function bitPositions(operator: string, arg: unknown): bigint {
  if (Array.isArray(arg)) {
    let mask = BigInt(0);
    for (const position of arg) {
      const p = toNumber(position);
      if (p === undefined || !Number.isInteger(p) || p < 0) {
        throw badValue(`bit positions must be >= 0 but got: ${String(p)}`);
      }
      mask |= BigInt(1) << BigInt(p);
    }
    return mask;
  }
  const tag = arg instanceof Object ? (arg as { _bsontype?: string })._bsontype : undefined;
  if (tag === 'Binary') {
    return bytesToBigInt(
      (arg as { buffer: Uint8Array; position: number }).buffer.subarray(
        0,
        (arg as { position: number }).position,
      ),
    );
  }
  const n = toNumber(arg);
  if (n === undefined)
    throw badValue(`${operator} takes an Array, a number, or a BinData but received: ${String(arg)}`);
  if (!Number.isInteger(n)) throw badValue(`${operator} cannot take a non-integral number`);
  if (n < 0) throw badValue(`${operator} cannot take a negative number`);
  return tag === 'Long' ? BigInt(String(arg)) : BigInt(n);
}

/** Little-endian bytes as an unsigned integer: bit p is bit (p % 8) of byte p / 8. */
function bytesToBigInt(bytes: Uint8Array): bigint {
  let value = BigInt(0);
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << BigInt(8)) | BigInt(bytes[i]);
  return value;
}

function bitsOf(v: unknown): { bits: bigint; negative: boolean } | undefined {
  if (v === null || typeof v !== 'object') {
    if (typeof v !== 'number') return undefined;
  }
  const tag = v instanceof Object ? (v as { _bsontype?: string })._bsontype : undefined;
  if (tag === 'Binary') {
    const binary = v as { buffer: Uint8Array; position: number };
    return { bits: bytesToBigInt(binary.buffer.subarray(0, binary.position)), negative: false };
  }
  if (tag === 'Long') {
    const bits = BigInt(String(v));
    return { bits: BigInt.asUintN(64, bits), negative: bits < BigInt(0) };
  }
  const n = toNumber(v);
  if (n === undefined || !Number.isInteger(n) || Math.abs(n) >= 2 ** 63) return undefined;
  const bits = BigInt(n);
  return { bits: BigInt.asUintN(64, bits), negative: bits < BigInt(0) };
}

function bitsTest(operator: string, arg: unknown): ValueTest {
  const mask = bitPositions(operator, arg);
  const highMask = mask >> BigInt(64);
  return anyElement((v) => {
    const value = bitsOf(v);
    if (!value) return false;
    const selected = value.bits & mask;
    // Negative numbers sign-extend: positions >= 64 read as set.
    const highSet = value.negative ? highMask : BigInt(0);
    const lowMask = BigInt.asUintN(64, mask);
    switch (operator) {
      case '$bitsAllSet':
        return (selected & lowMask) === lowMask && highSet === highMask;
      case '$bitsAnySet':
        return selected !== BigInt(0) || highSet !== BigInt(0);
      case '$bitsAllClear':
        return selected === BigInt(0) && highSet === BigInt(0);
      default:
        return (selected & lowMask) !== lowMask || highSet !== highMask;
    }
  });
}

// ---------------------------------------------------------------------------------------------

/**
 * The index of the element of the array at `arrayPath` that the query matched, for the positional
 * `$` operator of updates and projections: the first element satisfying every query condition on
 * that array (conditions on `arrayPath` itself or paths below it).
 */
export function positionalMatchIndex(
  query: Document | undefined,
  doc: Document,
  arrayPath: string,
): number | undefined {
  const array = getPath(doc, arrayPath);
  if (!query || !Array.isArray(array)) return undefined;
  const elementTests: ValueTest[] = [];
  collectElementTests(query, arrayPath, elementTests);
  if (elementTests.length === 0) return undefined;
  for (let i = 0; i < array.length; i++) {
    if (elementTests.every((test) => test(array[i]))) return i;
  }
  for (let i = 0; i < array.length; i++) if (elementTests[0](array[i])) return i;
  return undefined;
}

function collectElementTests(query: Document, arrayPath: string, tests: ValueTest[]): void {
  const ctx: CompileContext = {};
  for (const key of Object.keys(query)) {
    const spec = query[key];
    if (key === '$and' && Array.isArray(spec)) {
      for (const entry of spec) if (isPlainDocument(entry)) collectElementTests(entry, arrayPath, tests);
    } else if (key === arrayPath) {
      if (isOperatorObject(spec) && spec.$elemMatch !== undefined) {
        const inner = elemMatchTest(spec.$elemMatch, ctx);
        tests.push((e) => inner([e]));
      } else {
        tests.push(clausesPredicate(compileValueSpec(spec, ctx)));
      }
    } else if (key.startsWith(`${arrayPath}.`)) {
      const matcher = compileField(compilePath(key.slice(arrayPath.length + 1)), spec, ctx);
      tests.push((e) => (isPlainDocument(e) ? matcher(e) : matcher({})));
    }
  }
}
