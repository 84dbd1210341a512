// Update documents ({$set: ...}) and replacements applied to stored documents with mongod's rules:
// operators run in field-name order, positional `$`, `$[]` and `$[id]` paths, conflict detection,
// `_id` immutability, type-exact arithmetic, and no-op detection (modified: false).
import { BSONRegExp, Timestamp, type Document } from 'bson';
import { CommandError, ErrorCodes, badValue } from '../errors';
import { addNumbers, bitwise, isNumber, multiplyNumbers, zeroLike, type BitOperation } from './arith';
import {
  bsonTypeName,
  compareValues,
  identicalValues,
  isPlainDocument,
  toNumber,
  valuesEqual,
} from './compare';
import { describeValue } from './describe';
import { compileFilter, compileValuePredicate, positionalMatchIndex, type Matcher } from './match';
import { arrayIndexOf, getField } from './paths';
import { compileRegex } from './regex';
import { compileSort } from './sort';

export interface UpdateResult {
  doc: Document;
  modified: boolean;
}

export interface ApplyUpdateOptions {
  arrayFilters?: Document[];
  isInsert: boolean;
  query?: Document;
}

export function isOperatorUpdate(update: Document | Document[]): boolean {
  if (Array.isArray(update)) return false;
  for (const key in update) return key.startsWith('$');
  return false;
}

// ---------------------------------------------------------------------------------------------
// Values

/** Copies documents and arrays; BSON wrappers are immutable and shared. */
export function cloneValue<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneValue) as T;
  if (isPlainDocument(value)) {
    const copy: Document = {};
    for (const key of Object.keys(value)) copy[key] = cloneValue(value[key]);
    return copy as T;
  }
  return value;
}

function failedToParse(message: string): CommandError {
  return new CommandError(ErrorCodes.FailedToParse, message);
}

function pathNotViable(message: string): CommandError {
  return new CommandError(ErrorCodes.PathNotViable, message);
}

function idDescription(doc: Document): string {
  return doc._id === undefined ? '{}' : `{_id: ${describeValue(doc._id)}}`;
}

// ---------------------------------------------------------------------------------------------
// Paths inside the working document

interface Location {
  /** The container holding the value (undefined when the path is blocked or missing above). */
  parent: Document | unknown[] | undefined;
  key: string;
  value: unknown;
  exists: boolean;
}

/** Finds a path without creating anything; `parent` is undefined when an intermediate is missing or a scalar. */
function locate(root: Document, parts: readonly string[]): Location {
  let container: unknown = root;
  for (let i = 0; i < parts.length - 1; i++) {
    container = childOf(container, parts[i]);
    if (!isPlainDocument(container) && !Array.isArray(container)) {
      return { parent: undefined, key: parts[parts.length - 1], value: undefined, exists: false };
    }
  }
  const key = parts[parts.length - 1];
  const parent = container as Document | unknown[];
  const value = childOf(parent, key);
  const exists = Array.isArray(parent)
    ? arrayIndexOf(key) >= 0 && arrayIndexOf(key) < parent.length
    : value !== undefined || Object.prototype.hasOwnProperty.call(parent, key);
  return { parent, key, value, exists };
}

function childOf(container: unknown, part: string): unknown {
  if (Array.isArray(container)) {
    const index = arrayIndexOf(part);
    return index < 0 ? undefined : container[index];
  }
  if (isPlainDocument(container)) return getField(container, part);
  return undefined;
}

/** Writes a value, creating intermediate documents (and null-padding arrays) as mongod does. */
function writeAt(root: Document, parts: readonly string[], value: unknown): void {
  let container: Document | unknown[] = root;
  let containerName = '';
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const last = i === parts.length - 1;
    if (Array.isArray(container)) {
      const index = arrayIndexOf(part);
      if (index < 0) {
        throw pathNotViable(
          `Cannot create field '${part}' in element {${containerName}: ${describeValue(container)}}`,
        );
      }
      while (container.length < index) container.push(null);
      if (last) {
        container[index] = value;
        return;
      }
      if (container[index] === undefined) container[index] = {};
    } else {
      if (last) {
        setField(container, part, value);
        return;
      }
      if (getField(container, part) === undefined) setField(container, part, {});
    }
    const child: unknown = childOf(container, part);
    if (!isPlainDocument(child) && !Array.isArray(child)) {
      throw pathNotViable(
        `Cannot create field '${parts[i + 1]}' in element {${part}: ${describeValue(child)}}`,
      );
    }
    container = child;
    containerName = part;
  }
}

function setField(doc: Document, name: string, value: unknown): void {
  if (name === '__proto__')
    Object.defineProperty(doc, name, { value, enumerable: true, writable: true, configurable: true });
  else doc[name] = value;
}

function removeAt(location: Location): void {
  const { parent, key } = location;
  if (Array.isArray(parent)) parent[arrayIndexOf(key)] = null;
  else if (parent) delete parent[key];
}

// ---------------------------------------------------------------------------------------------
// Parsing

const operatorNames = new Set([
  '$set',
  '$unset',
  '$inc',
  '$mul',
  '$min',
  '$max',
  '$rename',
  '$setOnInsert',
  '$currentDate',
  '$push',
  '$addToSet',
  '$pop',
  '$pull',
  '$pullAll',
  '$bit',
]);

interface PlannedOperation {
  operator: string;
  /** The path written (for $rename, the destination). */
  path: string;
  parts: string[];
  arg: unknown;
  /** $rename's source. */
  fromParts?: string[];
}

const arrayFilterIdentifier = /^\$\[([^\]]*)\]$/;

function validateUpdatePath(path: string, usedIdentifiers: Set<string>): string[] {
  if (path === '')
    throw new CommandError(56, 'An empty update path is not valid.', { codeName: 'EmptyFieldName' });
  const parts = path.split('.');
  let positionalCount = 0;
  for (const part of parts) {
    if (part === '') {
      throw new CommandError(
        56,
        `The update path '${path}' contains an empty field name, which is not allowed.`,
        {
          codeName: 'EmptyFieldName',
        },
      );
    }
    if (!part.startsWith('$')) continue;
    if (part === '$') {
      if (++positionalCount > 1)
        badValueThrow(`Too many positional (i.e. '$') elements found in path '${path}'`);
      continue;
    }
    const filter = arrayFilterIdentifier.exec(part);
    if (filter) {
      if (filter[1] !== '') usedIdentifiers.add(filter[1]);
      continue;
    }
    throw new CommandError(
      ErrorCodes.DollarPrefixedFieldName,
      `The dollar ($) prefixed field '${part}' in '${path}' is not valid for storage.`,
    );
  }
  if (parts[0].startsWith('$')) {
    throw badValue(
      `Cannot have array filter identifier (i.e. '$[<id>]') element in the first position in path '${path}'`,
    );
  }
  return parts;
}

function badValueThrow(message: string): never {
  throw badValue(message);
}

function isDynamic(path: string): boolean {
  return path.split('.').some((part) => part.startsWith('$'));
}

/** Detects two written paths where one is a prefix of (or equal to) the other. */
class ConflictDetector {
  private readonly paths = new Set<string>();
  private readonly prefixes = new Set<string>();

  add(path: string): void {
    if (this.paths.has(path)) throw this.conflict(path, path);
    if (this.prefixes.has(path)) {
      const other = [...this.paths].find((p) => p.startsWith(`${path}.`)) ?? path;
      throw this.conflict(other, path);
    }
    const parts = path.split('.');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('.');
      if (this.paths.has(prefix)) throw this.conflict(path, prefix);
      this.prefixes.add(prefix);
    }
    this.paths.add(path);
  }

  private conflict(path: string, at: string): CommandError {
    return new CommandError(
      ErrorCodes.ConflictingUpdateOperators,
      `Updating the path '${path}' would create a conflict at '${at}'`,
    );
  }
}

function planOperations(update: Document): { operations: PlannedOperation[]; usedIdentifiers: Set<string> } {
  const operations: PlannedOperation[] = [];
  const usedIdentifiers = new Set<string>();
  const conflicts = new ConflictDetector();
  for (const operator of Object.keys(update)) {
    const fields = update[operator];
    if (!operatorNames.has(operator)) {
      throw failedToParse(
        `Unknown modifier: ${operator}. Expected a valid update modifier or pipeline-style update specified as an array`,
      );
    }
    if (!isPlainDocument(fields)) {
      throw failedToParse(
        `Modifiers operate on fields but we found type ${bsonTypeName(fields)} instead. For example: {$mod: {<field>: ...}} not {${operator}: ${describeValue(fields)}}`,
      );
    }
    for (const path of Object.keys(fields)) {
      const arg = fields[path];
      const parts = validateUpdatePath(path, usedIdentifiers);
      validateArgument(operator, path, arg);
      if (operator === '$rename') {
        const to = arg as string;
        if (isDynamic(path)) throw badValue(`The source field for $rename may not be dynamic: ${path}`);
        if (isDynamic(to)) throw badValue(`The destination field for $rename may not be dynamic: ${to}`);
        const toParts = validateUpdatePath(to, usedIdentifiers);
        conflicts.add(path);
        conflicts.add(to);
        operations.push({ operator, path: to, parts: toParts, arg, fromParts: parts });
      } else {
        conflicts.add(path);
        operations.push({ operator, path, parts, arg });
      }
    }
  }
  operations.sort((a, b) => comparePaths(a.parts, b.parts));
  return { operations, usedIdentifiers };
}

/** mongod applies updates in field order: numeric names numerically, others lexicographically. */
function comparePaths(a: readonly string[], b: readonly string[]): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    if (a[i] === b[i]) continue;
    const x = arrayIndexOf(a[i]);
    const y = arrayIndexOf(b[i]);
    if (x >= 0 && y >= 0) return x - y;
    return a[i] < b[i] ? -1 : 1;
  }
  return a.length - b.length;
}

const pushModifiers = new Set(['$each', '$slice', '$sort', '$position']);

function validateArgument(operator: string, path: string, arg: unknown): void {
  switch (operator) {
    case '$inc':
    case '$mul':
      if (!isNumber(arg)) {
        const verb = operator === '$inc' ? 'increment' : 'multiply';
        throw new CommandError(
          ErrorCodes.TypeMismatch,
          `Cannot ${verb} with non-numeric argument: {${path}: ${describeValue(arg)}}`,
        );
      }
      break;
    case '$rename':
      if (typeof arg !== 'string') {
        throw badValue(`The 'to' field for $rename must be a string: ${path}: ${describeValue(arg)}`);
      }
      if (arg === path)
        throw badValue(`The source and target field for $rename must differ: ${path}: "${arg}"`);
      if (arg.startsWith(`${path}.`) || path.startsWith(`${arg}.`)) {
        throw badValue(
          `The source and target field for $rename must not be on the same path: ${path}: "${arg}"`,
        );
      }
      break;
    case '$pop': {
      const n = toNumber(arg);
      if (n !== 1 && n !== -1) throw badValue(`$pop expects 1 or -1, found: ${describeValue(arg)}`);
      break;
    }
    case '$pullAll':
      if (!Array.isArray(arg)) {
        throw badValue(`$pullAll requires an array argument but was given a ${bsonTypeName(arg)}`);
      }
      break;
    case '$currentDate':
      if (typeof arg === 'boolean') break;
      if (!isPlainDocument(arg)) {
        throw badValue(
          `${path}: ${describeValue(arg)} is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({$type: 'timestamp/date'}).`,
        );
      }
      for (const key of Object.keys(arg)) {
        if (key !== '$type') {
          throw badValue(`Unrecognized $currentDate option: ${key}`);
        }
      }
      if (arg.$type !== 'date' && arg.$type !== 'timestamp') {
        throw badValue(
          "The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}",
        );
      }
      break;
    case '$push':
    case '$addToSet':
      if (isPlainDocument(arg) && '$each' in arg) {
        for (const key of Object.keys(arg)) {
          if (operator === '$addToSet' && key !== '$each') {
            throw badValue(`Found unexpected fields after $each in $addToSet: ${describeValue(arg)}`);
          }
          if (!pushModifiers.has(key)) throw badValue(`Unrecognized clause in $push: ${key}`);
        }
        if (!Array.isArray(arg.$each)) {
          throw badValue(
            `The argument to $each in ${operator} must be an array but it was of type: ${bsonTypeName(arg.$each)}`,
          );
        }
        validatePushModifiers(arg);
      }
      break;
    case '$bit': {
      if (!isPlainDocument(arg)) {
        throw badValue(
          `The $bit modifier is not compatible with a ${bsonTypeName(arg)}. You must pass in an embedded document: {$bit: {field: {and/or/xor: #}}`,
        );
      }
      for (const key of Object.keys(arg)) {
        if (key !== 'and' && key !== 'or' && key !== 'xor') {
          throw badValue(
            `The $bit modifier only supports 'and', 'or', and 'xor', not '${key}' which is an unknown operator: {${key}: ${describeValue(arg[key])}}`,
          );
        }
        const type = bsonTypeName(arg[key]);
        if (type !== 'int' && type !== 'long') {
          throw badValue(
            `The $bit modifier field must be an Integer(32/64 bit); a '${type}' is not supported here: {${key}: ${describeValue(arg[key])}}`,
          );
        }
      }
      break;
    }
  }
}

function validatePushModifiers(arg: Document): void {
  if (arg.$slice !== undefined) {
    const n = toNumber(arg.$slice);
    if (n === undefined || !Number.isInteger(n)) {
      throw badValue(
        `The value for $slice must be an integer value but was given type: ${bsonTypeName(arg.$slice)}`,
      );
    }
  }
  if (arg.$position !== undefined) {
    const n = toNumber(arg.$position);
    if (n === undefined || !Number.isInteger(n)) {
      throw badValue(
        `The value for $position must be an integer value, not of type: ${bsonTypeName(arg.$position)}`,
      );
    }
  }
  if (arg.$sort !== undefined) {
    const sort = arg.$sort;
    const direction = toNumber(sort);
    const valid = isPlainDocument(sort)
      ? Object.keys(sort).length > 0 &&
        Object.values(sort).every((d) => toNumber(d) === 1 || toNumber(d) === -1)
      : direction === 1 || direction === -1;
    if (!valid) {
      throw badValue(
        'The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields',
      );
    }
  }
}

function compileArrayFilters(arrayFilters: Document[] | undefined): Map<string, Matcher> {
  const filters = new Map<string, Matcher>();
  for (const filter of arrayFilters ?? []) {
    if (!isPlainDocument(filter)) throw failedToParse('arrayFilters entries must be objects');
    let identifier: string | undefined;
    for (const key of Object.keys(filter)) {
      const top = key.split('.')[0];
      if (key.startsWith('$')) continue;
      if (!/^[a-z][a-zA-Z0-9]*$/.test(top)) {
        throw badValue(
          `The top-level field name must be an alphanumeric string beginning with a lowercase letter, found '${top}'`,
        );
      }
      if (identifier !== undefined && identifier !== top) {
        throw failedToParse(
          `Error parsing array filter :: caused by :: Expected a single top-level field name, found '${identifier}' and '${top}'`,
        );
      }
      identifier = top;
    }
    if (identifier === undefined) {
      throw failedToParse('Cannot use an expression without a top-level field name in arrayFilters');
    }
    if (filters.has(identifier)) {
      throw failedToParse(`Found multiple array filters with the same top-level field name ${identifier}`);
    }
    filters.set(identifier, compileFilter(filter));
  }
  return filters;
}

// ---------------------------------------------------------------------------------------------
// Applying

interface ApplyContext {
  original: Document;
  working: Document;
  query: Document | undefined;
  isInsert: boolean;
  filters: Map<string, Matcher>;
  modified: boolean;
  idTouched: boolean;
}

/** Expands `$`, `$[]` and `$[id]` against the working document into concrete paths. */
function concretePaths(parts: string[], ctx: ApplyContext): string[][] {
  if (!parts.some((part) => part.startsWith('$'))) return [parts];
  const results: string[][] = [];
  const expand = (prefix: string[], i: number) => {
    if (i === parts.length) {
      results.push(prefix);
      return;
    }
    const part = parts[i];
    if (!part.startsWith('$')) {
      expand([...prefix, part], i + 1);
      return;
    }
    const arrayPath = prefix.join('.');
    if (part === '$') {
      const index = ctx.isInsert ? undefined : positionalMatchIndex(ctx.query, ctx.original, arrayPath);
      if (index === undefined)
        throw badValue('The positional operator did not find the match needed from the query.');
      expand([...prefix, String(index)], i + 1);
      return;
    }
    const location = locate(ctx.working, prefix);
    if (!location.exists)
      throw badValue(`The path '${arrayPath}' must exist in the document in order to apply array updates.`);
    if (!Array.isArray(location.value)) {
      throw badValue(
        `Cannot apply array updates to non-array element ${location.key}: ${describeValue(location.value)}`,
      );
    }
    const identifier = (arrayFilterIdentifier.exec(part) as RegExpExecArray)[1];
    const filter = identifier === '' ? undefined : ctx.filters.get(identifier);
    if (identifier !== '' && !filter) {
      throw badValue(`No array filter found for identifier '${identifier}' in path '${parts.join('.')}'`);
    }
    location.value.forEach((element, index) => {
      if (!filter || filter({ [identifier]: element })) expand([...prefix, String(index)], i + 1);
    });
  };
  expand([], 0);
  return results;
}

/** Writes `value` unless the existing value is identical; records modification. */
function store(ctx: ApplyContext, parts: string[], location: Location, value: unknown): void {
  if (location.exists && identicalValues(location.value, value)) return;
  writeAt(ctx.working, parts, value);
  ctx.modified = true;
}

let timestampIncrement = 0;

function currentTimestamp(): Timestamp {
  timestampIncrement = (timestampIncrement + 1) % 0x7fffffff;
  return new Timestamp({ t: Math.floor(Date.now() / 1000), i: timestampIncrement });
}

function applyOperation(op: PlannedOperation, ctx: ApplyContext): void {
  if (op.operator === '$setOnInsert' && !ctx.isInsert) return;
  if (op.operator === '$rename') {
    applyRename(op, ctx);
    return;
  }
  for (const parts of concretePaths(op.parts, ctx)) {
    if (parts[0] === '_id') ctx.idTouched = true;
    applyAt(op, parts, locate(ctx.working, parts), ctx);
  }
}

function applyAt(op: PlannedOperation, parts: string[], location: Location, ctx: ApplyContext): void {
  const { arg } = op;
  const field = parts.join('.');
  switch (op.operator) {
    case '$set':
    case '$setOnInsert':
      return store(ctx, parts, location, cloneValue(arg));
    case '$unset':
      if (location.exists) {
        removeAt(location);
        ctx.modified = true;
      }
      return;
    case '$inc':
    case '$mul': {
      if (!location.exists) {
        return store(ctx, parts, location, op.operator === '$inc' ? arg : zeroLike(arg));
      }
      if (!isNumber(location.value)) {
        throw new CommandError(
          ErrorCodes.TypeMismatch,
          `Cannot apply ${op.operator} to a value of non-numeric type. ${idDescription(ctx.original)} has the field '${location.key}' of non-numeric type ${bsonTypeName(location.value)}`,
        );
      }
      const result =
        op.operator === '$inc' ? addNumbers(location.value, arg) : multiplyNumbers(location.value, arg);
      if (result === undefined) {
        throw badValue(
          `Failed to apply ${op.operator} operations to current value (${describeValue(location.value)}) for document ${idDescription(ctx.original)}`,
        );
      }
      return store(ctx, parts, location, result);
    }
    case '$min':
    case '$max': {
      if (location.exists) {
        const c = compareValues(arg, location.value);
        if (op.operator === '$min' ? c >= 0 : c <= 0) return;
      }
      return store(ctx, parts, location, cloneValue(arg));
    }
    case '$currentDate': {
      const wantsTimestamp = isPlainDocument(arg) && arg.$type === 'timestamp';
      return store(ctx, parts, location, wantsTimestamp ? currentTimestamp() : new Date());
    }
    case '$push':
      return store(ctx, parts, location, pushed(existingArray('$push', field, location, ctx), arg));
    case '$addToSet':
      return store(ctx, parts, location, addedToSet(existingArray('$addToSet', field, location, ctx), arg));
    case '$pop': {
      if (!location.exists) return;
      if (!Array.isArray(location.value)) {
        throw new CommandError(
          ErrorCodes.TypeMismatch,
          `Path '${field}' contains an element of non-array type '${bsonTypeName(location.value)}'`,
        );
      }
      if (location.value.length === 0) return;
      return store(
        ctx,
        parts,
        location,
        toNumber(arg) === 1 ? location.value.slice(0, -1) : location.value.slice(1),
      );
    }
    case '$pull':
    case '$pullAll': {
      if (!location.exists) return;
      if (!Array.isArray(location.value)) {
        throw badValue(`Cannot apply ${op.operator} to a non-array value`);
      }
      const remove =
        op.operator === '$pull'
          ? pullPredicate(arg)
          : (element: unknown) => (arg as unknown[]).some((value) => valuesEqual(element, value));
      const kept = location.value.filter((element) => !remove(element));
      if (kept.length === location.value.length) return;
      return store(ctx, parts, location, kept);
    }
    case '$bit': {
      let value: unknown = location.exists ? location.value : undefined;
      if (value !== undefined) {
        const type = bsonTypeName(value);
        if (type !== 'int' && type !== 'long') {
          throw new CommandError(
            ErrorCodes.TypeMismatch,
            `Cannot apply $bit to a value of non-integral type.${idDescription(ctx.original)} has the field ${location.key} of non-integer type ${type}`,
          );
        }
      }
      for (const [operation, operand] of Object.entries(arg as Document)) {
        value = bitwise(operation as BitOperation, value ?? zeroLike(operand), operand);
      }
      return store(ctx, parts, location, value);
    }
  }
}

function existingArray(operator: string, field: string, location: Location, ctx: ApplyContext): unknown[] {
  if (!location.exists) return [];
  if (Array.isArray(location.value)) return location.value;
  if (operator === '$addToSet') {
    throw badValue(
      `Cannot apply $addToSet to non-array field. Field named '${location.key}' has non-array type ${bsonTypeName(location.value)}`,
    );
  }
  throw badValue(
    `The field '${field}' must be an array but is of type ${bsonTypeName(location.value)} in document ${idDescription(ctx.original)}`,
  );
}

function pushed(existing: unknown[], arg: unknown): unknown[] {
  if (!isPlainDocument(arg) || !('$each' in arg)) return [...existing, cloneValue(arg)];
  const each = (arg.$each as unknown[]).map(cloneValue);
  let result: unknown[];
  if (arg.$position !== undefined) {
    let position = toNumber(arg.$position) as number;
    if (position < 0) position = Math.max(0, existing.length + position);
    position = Math.min(position, existing.length);
    result = [...existing.slice(0, position), ...each, ...existing.slice(position)];
  } else {
    result = [...existing, ...each];
  }
  if (arg.$sort !== undefined) result = sortedElements(result, arg.$sort);
  if (arg.$slice !== undefined) {
    const slice = toNumber(arg.$slice) as number;
    result = slice >= 0 ? result.slice(0, slice) : result.slice(Math.max(0, result.length + slice));
  }
  return result;
}

function sortedElements(elements: unknown[], spec: unknown): unknown[] {
  if (!isPlainDocument(spec)) {
    const direction = toNumber(spec) as number;
    return [...elements].sort((a, b) => compareValues(a, b) * direction);
  }
  const comparator = compileSort(spec) as (a: Document, b: Document) => number;
  const asDocument = (e: unknown): Document => (isPlainDocument(e) ? e : {});
  return [...elements].sort((a, b) => comparator(asDocument(a), asDocument(b)));
}

function addedToSet(existing: unknown[], arg: unknown): unknown[] {
  const candidates = isPlainDocument(arg) && '$each' in arg ? (arg.$each as unknown[]) : [arg];
  const result = [...existing];
  for (const candidate of candidates) {
    if (!result.some((element) => valuesEqual(element, candidate))) result.push(cloneValue(candidate));
  }
  return result;
}

function pullPredicate(arg: unknown): (element: unknown) => boolean {
  if (isPlainDocument(arg)) {
    const first = Object.keys(arg)[0];
    if (
      first !== undefined &&
      first.startsWith('$') &&
      first !== '$and' &&
      first !== '$or' &&
      first !== '$nor'
    ) {
      return compileValuePredicate(arg);
    }
    const matcher = compileFilter(arg);
    return (element) => isPlainDocument(element) && matcher(element);
  }
  if (arg instanceof RegExp)
    return pullPredicate(new BSONRegExp(arg.source, arg.flags.replace(/[gyd]/g, '')));
  if (arg instanceof BSONRegExp) {
    const regex = compileRegex(arg.pattern, arg.options);
    return (element) => typeof element === 'string' && regex.test(element);
  }
  return (element) => valuesEqual(element, arg);
}

function containsArray(root: Document, parts: readonly string[]): boolean {
  let current: unknown = root;
  for (let i = 0; i < parts.length - 1; i++) {
    current = childOf(current, parts[i]);
    if (Array.isArray(current)) return true;
    if (!isPlainDocument(current)) return false;
  }
  return false;
}

function applyRename(op: PlannedOperation, ctx: ApplyContext): void {
  const fromParts = op.fromParts as string[];
  const from = fromParts.join('.');
  if (containsArray(ctx.working, fromParts)) {
    throw badValue(`The source field cannot be an array element, '${from}' in doc with an array field`);
  }
  const source = locate(ctx.working, fromParts);
  if (!source.exists) return;
  if (containsArray(ctx.working, op.parts)) {
    throw badValue(
      `The destination field cannot be an array element, '${op.path}' in doc with an array field`,
    );
  }
  if (fromParts[0] === '_id' || op.parts[0] === '_id') ctx.idTouched = true;
  removeAt(source);
  writeAt(ctx.working, op.parts, source.value);
  ctx.modified = true;
}

function withIdFirst(doc: Document): Document {
  if (!('_id' in doc) || Object.keys(doc)[0] === '_id') return doc;
  const ordered: Document = { _id: doc._id };
  for (const key of Object.keys(doc)) if (key !== '_id') ordered[key] = doc[key];
  return ordered;
}

export function applyUpdate(doc: Document, update: Document, options: ApplyUpdateOptions): UpdateResult {
  const { operations, usedIdentifiers } = planOperations(update);
  const filters = compileArrayFilters(options.arrayFilters);
  for (const identifier of filters.keys()) {
    if (!usedIdentifiers.has(identifier)) {
      throw failedToParse(
        `The array filter for identifier '${identifier}' was not used in the update ${describeValue(update)}`,
      );
    }
  }
  const ctx: ApplyContext = {
    original: doc,
    working: cloneValue(doc),
    query: options.query,
    isInsert: options.isInsert,
    filters,
    modified: false,
    idTouched: false,
  };
  for (const operation of operations) applyOperation(operation, ctx);
  if (!ctx.modified && !options.isInsert) return { doc, modified: false };
  if (ctx.idTouched && !options.isInsert && '_id' in doc) {
    const newId = ctx.working._id;
    if (
      newId === undefined ||
      !valuesEqual(newId, doc._id) ||
      bsonTypeName(newId) !== bsonTypeName(doc._id)
    ) {
      throw new CommandError(
        ErrorCodes.ImmutableField,
        "Performing an update on the path '_id' would modify the immutable field '_id'",
      );
    }
  }
  const result = options.isInsert ? withIdFirst(ctx.working) : ctx.working;
  validateStorableDocument(result);
  return { doc: result, modified: ctx.modified };
}

// ---------------------------------------------------------------------------------------------

export function applyReplacement(doc: Document, replacement: Document): UpdateResult {
  for (const key of Object.keys(replacement)) {
    if (key.startsWith('$')) {
      throw new CommandError(
        ErrorCodes.DollarPrefixedFieldName,
        `The dollar ($) prefixed field '${key}' in '${key}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.`,
      );
    }
  }
  let result: Document;
  if ('_id' in replacement) {
    if ('_id' in doc && !valuesEqual(replacement._id, doc._id)) {
      throw new CommandError(
        ErrorCodes.ImmutableField,
        `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${describeValue(replacement._id)}`,
      );
    }
    result = cloneValue(replacement);
  } else {
    result = '_id' in doc ? { _id: doc._id } : {};
    for (const key of Object.keys(replacement)) setField(result, key, cloneValue(replacement[key]));
  }
  validateStorableDocument(result);
  if (identicalValues(doc, result)) return { doc, modified: false };
  return { doc: result, modified: true };
}

/** The equality fields of a query, as the base of an upserted document. */
export function upsertSeedFromQuery(query: Document): Document {
  const seed: Document = {};
  const seen: string[] = [];
  const visit = (q: Document) => {
    for (const key of Object.keys(q)) {
      const spec = q[key];
      if (key === '$and' || (key === '$or' && Array.isArray(spec) && spec.length === 1)) {
        if (Array.isArray(spec)) for (const entry of spec) if (isPlainDocument(entry)) visit(entry);
        continue;
      }
      if (key.startsWith('$')) continue;
      const value = equalityValue(spec);
      if (value === noEquality) continue;
      for (const other of seen) {
        if (other === key) {
          throw new CommandError(
            ErrorCodes.NotSingleValueField,
            `cannot infer query fields to set, path '${key}' is matched twice`,
          );
        }
        if (other.startsWith(`${key}.`) || key.startsWith(`${other}.`)) {
          throw new CommandError(
            ErrorCodes.NotSingleValueField,
            `cannot infer query fields to set, both paths '${key}' and '${other}' are matched`,
          );
        }
      }
      seen.push(key);
      writeAt(seed, key.split('.'), cloneValue(value));
    }
  };
  visit(query);
  return withIdFirst(seed);
}

const noEquality = Symbol('no equality');

function equalityValue(spec: unknown): unknown {
  if (spec instanceof BSONRegExp || spec instanceof RegExp) return noEquality;
  if (!isPlainDocument(spec)) return spec;
  const keys = Object.keys(spec);
  if (keys.length === 0 || !keys[0].startsWith('$') || ['$ref', '$id', '$db'].includes(keys[0])) return spec;
  if ('$eq' in spec) return spec.$eq;
  if (Array.isArray(spec.$in) && spec.$in.length === 1 && !(spec.$in[0] instanceof BSONRegExp))
    return spec.$in[0];
  return noEquality;
}

/** The checks mongod applies before storing a document. */
export function validateStorableDocument(doc: Document): void {
  // Since 5.0 mongod stores `$`-prefixed field names, top-level ones included; only `_id`'s
  // sub-fields stay restricted.
  if (!Object.prototype.hasOwnProperty.call(doc, '_id')) return;
  const id = doc._id;
  const type = bsonTypeName(id);
  if (type === 'array' || type === 'regex' || type === 'undefined') {
    const article = type === 'array' || type === 'undefined' ? 'an' : 'a';
    throw new CommandError(ErrorCodes.InvalidIdField, `can't use ${article} ${type} for _id`);
  }
  if (isPlainDocument(id)) {
    for (const key of Object.keys(id)) {
      if (key.startsWith('$') && !['$ref', '$id', '$db'].includes(key)) {
        throw new CommandError(
          ErrorCodes.DollarPrefixedFieldName,
          `_id fields may not contain '$'-prefixed fields: ${key} is not valid for storage.`,
        );
      }
    }
  }
}
