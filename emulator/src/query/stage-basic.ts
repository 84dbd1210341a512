// Simple streaming and reshaping stages: $skip, $limit, $count, $unwind, $sample, $replaceRoot /
// $replaceWith and $redact.
import { Long, type Document } from 'bson';
import { CommandError } from '../errors';
import { bsonTypeName } from './compare';
import { isPlainObject } from './expr-core';
import { isNumeric, makeInt, toJsNumber } from './expr-numeric';
import { evaluateExpression } from './expression';
import { getNestedField, removeNestedField, setNestedField } from './stage-paths';

export type Stage = (input: Iterable<Document>, variables: Document) => Iterable<Document>;

function integralCount(value: unknown): number | undefined {
  if (!isNumeric(value)) return undefined;
  const n = toJsNumber(value);
  return Number.isInteger(n) ? n : undefined;
}

export function compileSkipStage(spec: unknown): Stage {
  const n = integralCount(spec);
  if (n === undefined)
    throw new CommandError(15972, `Argument to $skip must be a number, not ${bsonTypeName(spec)}`);
  if (n < 0) throw new CommandError(15956, `Argument to $skip cannot be negative`);
  return function* skip(input) {
    let skipped = 0;
    for (const doc of input) {
      if (skipped < n) skipped++;
      else yield doc;
    }
  };
}

export function compileLimitStage(spec: unknown): Stage {
  const n = integralCount(spec);
  if (n === undefined) throw new CommandError(15957, `the limit must be specified as a number`);
  if (n <= 0) throw new CommandError(15958, `the limit must be positive`);
  return function* limit(input) {
    if (n <= 0) return;
    let emitted = 0;
    for (const doc of input) {
      yield doc;
      if (++emitted >= n) return;
    }
  };
}

export function compileCountStage(spec: unknown): Stage {
  if (typeof spec !== 'string') throw new CommandError(40156, 'the count field must be a non-empty string');
  if (spec.length === 0) throw new CommandError(40157, 'the count field must be a non-empty string');
  if (spec.startsWith('$')) throw new CommandError(40158, 'the count field cannot be a $-prefixed path');
  if (spec.includes('.')) throw new CommandError(40160, "the count field cannot contain '.'");
  return function* count(input) {
    let n = 0;
    for (const _doc of input) n++;
    if (n > 0) yield { [spec]: makeInt(n) };
  };
}

function unwindPath(path: unknown, code: number): string[] {
  if (typeof path !== 'string')
    throw new CommandError(
      code,
      `expected a string as the path for $unwind stage, got ${bsonTypeName(path)}`,
    );
  if (!path.startsWith('$') || path.length < 2) {
    throw new CommandError(28818, `path option to $unwind stage should be prefixed with a '$': ${path}`);
  }
  return path.slice(1).split('.');
}

export function compileUnwindStage(spec: unknown): Stage {
  let parts: string[];
  let indexField: string[] | undefined;
  let preserve = false;
  if (isPlainObject(spec)) {
    for (const key of Object.keys(spec)) {
      if (!['path', 'includeArrayIndex', 'preserveNullAndEmptyArrays'].includes(key)) {
        throw new CommandError(28811, `unrecognized option to $unwind stage: ${key}`);
      }
    }
    if (!('path' in spec)) throw new CommandError(28812, 'no path specified to $unwind stage');
    parts = unwindPath(spec.path, 28808);
    if (spec.includeArrayIndex !== undefined) {
      if (
        typeof spec.includeArrayIndex !== 'string' ||
        spec.includeArrayIndex === '' ||
        spec.includeArrayIndex.startsWith('$')
      ) {
        throw new CommandError(
          28822,
          "includeArrayIndex option to $unwind stage should not be prefixed with a '$'",
        );
      }
      indexField = spec.includeArrayIndex.split('.');
    }
    if (spec.preserveNullAndEmptyArrays !== undefined) {
      if (typeof spec.preserveNullAndEmptyArrays !== 'boolean') {
        throw new CommandError(
          28809,
          'expected a boolean for the preserveNullAndEmptyArrays option to $unwind stage',
        );
      }
      preserve = spec.preserveNullAndEmptyArrays;
    }
  } else {
    parts = unwindPath(spec, 15981);
  }
  const withIndex = (doc: Document, index: number | null) =>
    indexField ? setNestedField(doc, indexField, index === null ? null : Long.fromNumber(index)) : doc;
  return function* unwind(input) {
    for (const doc of input) {
      const value = getNestedField(doc, parts);
      if (Array.isArray(value)) {
        if (value.length === 0) {
          if (preserve) yield withIndex(removeNestedField(doc, parts), null);
          continue;
        }
        for (let i = 0; i < value.length; i++) yield withIndex(setNestedField(doc, parts, value[i]), i);
      } else if (value === undefined || value === null) {
        if (preserve) yield withIndex(doc, null);
      } else {
        yield withIndex(doc, null);
      }
    }
  };
}

export function compileSampleStage(spec: unknown): Stage {
  if (!isPlainObject(spec))
    throw new CommandError(28745, 'the $sample stage specification must be an object');
  for (const key of Object.keys(spec)) {
    if (key !== 'size') throw new CommandError(28748, `unrecognized option to $sample: ${key}`);
  }
  if (!('size' in spec)) throw new CommandError(28749, '$sample stage must specify a size');
  if (!isNumeric(spec.size)) throw new CommandError(28746, 'size argument to $sample must be a number');
  const size = Math.trunc(toJsNumber(spec.size));
  if (size < 0) throw new CommandError(28747, 'size argument to $sample must not be negative');
  return function* sample(input) {
    // Reservoir sampling keeps only `size` documents in memory.
    const reservoir: Document[] = [];
    let seen = 0;
    for (const doc of input) {
      seen++;
      if (reservoir.length < size) reservoir.push(doc);
      else {
        const slot = Math.floor(Math.random() * seen);
        if (slot < size) reservoir[slot] = doc;
      }
    }
    for (let i = reservoir.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [reservoir[i], reservoir[j]] = [reservoir[j], reservoir[i]];
    }
    yield* reservoir;
  };
}

export function compileReplaceRootStage(stage: '$replaceRoot' | '$replaceWith', spec: unknown): Stage {
  let expr: unknown = spec;
  if (stage === '$replaceRoot') {
    if (!isPlainObject(spec))
      throw new CommandError(
        40229,
        `expected an object as specification for $replaceRoot stage, got ${bsonTypeName(spec)}`,
      );
    for (const key of Object.keys(spec)) {
      if (key !== 'newRoot')
        throw new CommandError(40415, `BSON field '$replaceRoot.${key}' is an unknown field.`);
    }
    if (!('newRoot' in spec))
      throw new CommandError(40414, "BSON field '$replaceRoot.newRoot' is missing but a required field");
    expr = spec.newRoot;
  }
  return function* replaceRoot(input, variables) {
    for (const doc of input) {
      const root = evaluateExpression(expr, doc, variables);
      if (!isPlainObject(root)) {
        const type = root === undefined ? 'missing' : bsonTypeName(root);
        throw new CommandError(
          40228,
          `'newRoot' expression must evaluate to an object, but resulting value was: ${root === undefined ? 'MISSING' : String(root)}. Type of resulting value: '${type}'. Input document: ${JSON.stringify(doc)}`,
        );
      }
      yield root;
    }
  };
}

// $$ROOT stays the top-level document while $$CURRENT descends into subdocuments.
function redact(doc: Document, root: Document, expr: unknown, variables: Document): Document | undefined {
  const decision = evaluateExpression(expr, root, { ...variables, CURRENT: doc });
  if (decision === '$$KEEP') return doc;
  if (decision === '$$PRUNE') return undefined;
  if (decision !== '$$DESCEND') {
    throw new CommandError(
      17053,
      `$redact's expression should not return anything aside from the variables $$KEEP, $$DESCEND, and $$PRUNE, but returned ${String(decision)}`,
    );
  }
  const result: Document = {};
  for (const [key, value] of Object.entries(doc)) {
    if (isPlainObject(value)) {
      const redacted = redact(value, root, expr, variables);
      if (redacted !== undefined) result[key] = redacted;
    } else if (Array.isArray(value)) {
      result[key] = redactArray(value, root, expr, variables);
    } else {
      result[key] = value;
    }
  }
  return result;
}

function redactArray(values: unknown[], root: Document, expr: unknown, variables: Document): unknown[] {
  const result: unknown[] = [];
  for (const value of values) {
    if (isPlainObject(value)) {
      const redacted = redact(value, root, expr, variables);
      if (redacted !== undefined) result.push(redacted);
    } else if (Array.isArray(value)) {
      result.push(redactArray(value, root, expr, variables));
    } else {
      result.push(value);
    }
  }
  return result;
}

export function compileRedactStage(spec: unknown): Stage {
  return function* redactStage(input, variables) {
    for (const doc of input) {
      const redacted = redact(doc, doc, spec, variables);
      if (redacted !== undefined) yield redacted;
    }
  };
}
