// Object expression operators: $mergeObjects, $objectToArray, $arrayToObject, $getField,
// $setField and $unsetField.
import type { Document } from 'bson';
import { bsonTypeName } from './compare';
import {
  evaluatedArgs,
  expressionError,
  isNullish,
  isPlainObject,
  namedArgs,
  type OperatorFn,
} from './expr-core';

function typeNameOf(value: unknown): string {
  return value === undefined ? 'missing' : bsonTypeName(value);
}

/** Merges documents left to right; null and missing are skipped (shared with $group). */
export function mergeDocuments(target: Document, value: unknown): Document {
  if (isNullish(value)) return target;
  if (!isPlainObject(value)) {
    throw expressionError(
      40400,
      `$mergeObjects requires object inputs, but input ${typeNameOf(value)} is of type ${typeNameOf(value)}`,
    );
  }
  for (const [key, fieldValue] of Object.entries(value)) {
    if (fieldValue !== undefined) target[key] = fieldValue;
  }
  return target;
}

function arrayToObject(value: unknown): Document {
  if (!Array.isArray(value)) {
    throw expressionError(40386, `$arrayToObject requires an array input, found: ${typeNameOf(value)}`);
  }
  const result: Document = {};
  for (const entry of value) {
    let key: unknown;
    let fieldValue: unknown;
    if (Array.isArray(entry)) {
      if (entry.length !== 2)
        throw expressionError(
          40397,
          `$arrayToObject requires an array of size 2 arrays,found array of size: ${entry.length}`,
        );
      [key, fieldValue] = entry;
    } else if (isPlainObject(entry)) {
      if (Object.keys(entry).length !== 2 || !('k' in entry) || !('v' in entry)) {
        throw expressionError(
          40392,
          "$arrayToObject requires an object keys of 'k' and 'v'. Found incorrect number of keys",
        );
      }
      key = entry.k;
      fieldValue = entry.v;
    } else {
      throw expressionError(40398, `Unrecognised input type format for $arrayToObject: ${typeNameOf(entry)}`);
    }
    if (typeof key !== 'string')
      throw expressionError(40394, `$arrayToObject requires a string as the key, found: ${typeNameOf(key)}`);
    if (key.includes('\0')) throw expressionError(4940400, 'Key field cannot contain an embedded null byte');
    result[key] = fieldValue;
  }
  return result;
}

function fieldName(name: string, value: unknown): string {
  if (typeof value !== 'string')
    throw expressionError(
      3041704,
      `${name} requires 'field' to evaluate to type String, but got ${typeNameOf(value)}`,
    );
  return value;
}

const getField: OperatorFn = (args, scope) => {
  const spec =
    isPlainObject(args) && 'field' in args
      ? namedArgs('$getField', args, ['field', 'input'], ['field'])
      : { field: args };
  const field = fieldName('$getField', scope.evaluate(spec.field));
  const input = 'input' in spec ? scope.evaluate(spec.input) : scope.current;
  if (isNullish(input)) return null;
  if (!isPlainObject(input)) return undefined;
  return input[field];
};

function setOrUnsetField(
  name: string,
  args: unknown,
  scope: Parameters<OperatorFn>[1],
  unset: boolean,
): unknown {
  const spec = unset
    ? namedArgs(name, args, ['field', 'input'], ['field', 'input'])
    : namedArgs(name, args, ['field', 'input', 'value'], ['field', 'input', 'value']);
  const field = fieldName(name, scope.evaluate(spec.field));
  const input = scope.evaluate(spec.input);
  if (isNullish(input)) return null;
  if (!isPlainObject(input))
    throw expressionError(4161105, `${name} requires 'input' to evaluate to type Object`);
  const result: Document = { ...input };
  const value = unset ? undefined : scope.evaluate(spec.value);
  if (value === undefined) delete result[field];
  else result[field] = value;
  return result;
}

export const objectOperators: Record<string, OperatorFn> = {
  $mergeObjects: (args, scope) => {
    const values = evaluatedArgs('$mergeObjects', args, scope, 0, Infinity);
    return values.reduce<Document>((merged, value) => mergeDocuments(merged, value), {});
  },
  $objectToArray: (args, scope) => {
    const [value] = evaluatedArgs('$objectToArray', args, scope, 1);
    if (isNullish(value)) return null;
    if (!isPlainObject(value))
      throw expressionError(40390, `$objectToArray requires a document input, found: ${typeNameOf(value)}`);
    return Object.entries(value)
      .filter(([, fieldValue]) => fieldValue !== undefined)
      .map(([k, v]) => ({ k, v }));
  },
  $arrayToObject: (args, scope) => {
    const [value] = evaluatedArgs('$arrayToObject', args, scope, 1);
    return isNullish(value) ? null : arrayToObject(value);
  },
  $getField: getField,
  $setField: (args, scope) => setOrUnsetField('$setField', args, scope, false),
  $unsetField: (args, scope) => setOrUnsetField('$unsetField', args, scope, true),
};
