// $bucket and $bucketAuto. $bucketAuto follows mongod's algorithm exactly (sorted values, buckets
// of round(n / buckets) documents, equal values kept together, each bucket's max = next bucket's
// min), because sync tools use it to partition collections by _id.
import type { Document } from 'bson';
import { CommandError } from '../errors';
import { bsonTypeName, compareValues, valuesEqual } from './compare';
import { isPlainObject } from './expr-core';
import { isNumeric, toJsNumber } from './expr-numeric';
import { evaluateExpression } from './expression';
import { GroupState, parseAccumulatedFields, type AccumulatedField } from './stage-group';

type GroupingStage = (input: Iterable<Document>, variables: Document) => Document[];

const DEFAULT_OUTPUT: Document = { count: { $sum: 1 } };

function isFieldPathOrOperator(expr: unknown): boolean {
  return (
    (typeof expr === 'string' && expr.startsWith('$')) ||
    (isPlainObject(expr) && Object.keys(expr).length > 0)
  );
}

function outputFields(stage: string, output: unknown): AccumulatedField[] {
  if (output === undefined) return parseAccumulatedFields(DEFAULT_OUTPUT);
  if (!isPlainObject(output)) {
    throw new CommandError(
      40196,
      `The $${stage} 'output' field must be an object, but found type: ${bsonTypeName(output)}.`,
    );
  }
  return parseAccumulatedFields(output);
}

export function compileBucketStage(spec: unknown): GroupingStage {
  if (!isPlainObject(spec)) throw new CommandError(40201, 'Argument to $bucket stage must be an object');
  for (const key of Object.keys(spec)) {
    if (!['groupBy', 'boundaries', 'default', 'output'].includes(key)) {
      throw new CommandError(40197, `Unrecognized option to $bucket: ${key}.`);
    }
  }
  if (!('groupBy' in spec) || !('boundaries' in spec)) {
    throw new CommandError(40198, "$bucket requires 'groupBy' and 'boundaries' to be specified.");
  }
  if (!isFieldPathOrOperator(spec.groupBy)) {
    throw new CommandError(
      40202,
      "The $bucket 'groupBy' field must be defined as a $-prefixed path or an expression",
    );
  }
  const boundaries = spec.boundaries;
  if (!Array.isArray(boundaries) || boundaries.length < 2) {
    throw new CommandError(
      40192,
      "The $bucket 'boundaries' field must be an array of values. At least 2 values are required.",
    );
  }
  for (let i = 1; i < boundaries.length; i++) {
    const sameType = isNumeric(boundaries[i])
      ? isNumeric(boundaries[i - 1])
      : bsonTypeName(boundaries[i]) === bsonTypeName(boundaries[i - 1]);
    if (!sameType)
      throw new CommandError(
        40193,
        "All values in the the 'boundaries' option to $bucket must have the same type.",
      );
    if (compareValues(boundaries[i - 1], boundaries[i]) >= 0) {
      throw new CommandError(40194, "The 'boundaries' option to $bucket must be sorted in ascending order");
    }
  }
  const hasDefault = 'default' in spec;
  if (
    hasDefault &&
    compareValues(spec.default, boundaries[0]) >= 0 &&
    compareValues(spec.default, boundaries[boundaries.length - 1]) < 0
  ) {
    throw new CommandError(
      40199,
      "The $bucket 'default' field must be less than the lowest boundary or greater than or equal to the highest boundary.",
    );
  }
  const fields = outputFields('bucket', spec.output);
  return (input, variables) => {
    const buckets: (GroupState | undefined)[] = boundaries.slice(0, -1).map(() => undefined);
    let defaultBucket: GroupState | undefined;
    for (const doc of input) {
      const evaluated = evaluateExpression(spec.groupBy, doc, variables);
      const value = evaluated === undefined ? null : evaluated;
      let index = -1;
      if (
        compareValues(value, boundaries[0]) >= 0 &&
        compareValues(value, boundaries[boundaries.length - 1]) < 0
      ) {
        index = boundaries.findIndex((boundary, i) => i > 0 && compareValues(value, boundary) < 0) - 1;
      }
      if (index < 0) {
        if (!hasDefault) {
          throw new CommandError(
            40066,
            '$switch could not find a matching branch for an input, and no default was specified.',
          );
        }
        defaultBucket ??= new GroupState(spec.default, fields);
        defaultBucket.add(doc, variables);
        continue;
      }
      const bucket = buckets[index] ?? new GroupState(boundaries[index], fields);
      buckets[index] = bucket;
      bucket.add(doc, variables);
    }
    const results = buckets
      .filter((bucket): bucket is GroupState => bucket !== undefined)
      .map((bucket) => bucket.result());
    if (defaultBucket) results.push(defaultBucket.result());
    return results;
  };
}

export function compileBucketAutoStage(spec: unknown): GroupingStage {
  if (!isPlainObject(spec)) throw new CommandError(40240, 'The argument to $bucketAuto must be an object');
  for (const key of Object.keys(spec)) {
    if (!['groupBy', 'buckets', 'output', 'granularity'].includes(key)) {
      throw new CommandError(40245, `Unrecognized option to $bucketAuto: ${key}.`);
    }
  }
  if (!('groupBy' in spec) || !('buckets' in spec)) {
    throw new CommandError(40246, "$bucketAuto requires 'groupBy' and 'buckets' to be specified");
  }
  if (!isFieldPathOrOperator(spec.groupBy)) {
    throw new CommandError(
      40239,
      "The $bucketAuto 'groupBy' field must be defined as a $-prefixed path or an expression object",
    );
  }
  const buckets = spec.buckets;
  if (!isNumeric(buckets) || !Number.isInteger(toJsNumber(buckets)) || toJsNumber(buckets) > 2147483647) {
    throw new CommandError(
      40241,
      `The $bucketAuto 'buckets' field must be a numeric value, but found type: ${bsonTypeName(buckets)}`,
    );
  }
  const bucketCount = toJsNumber(buckets);
  if (bucketCount <= 0) {
    throw new CommandError(
      40243,
      `The $bucketAuto 'buckets' field must be greater than 0, but found: ${bucketCount}`,
    );
  }
  if (spec.granularity !== undefined) {
    throw new CommandError(238, "$bucketAuto 'granularity' is not supported by this server");
  }
  const fields = outputFields('bucketAuto', spec.output);
  return (input, variables) => {
    const entries: { value: unknown; doc: Document }[] = [];
    for (const doc of input) {
      const value = evaluateExpression(spec.groupBy, doc, variables);
      entries.push({ value: value === undefined ? null : value, doc });
    }
    entries.sort((a, b) => compareValues(a.value, b.value));
    return bucketAuto(entries, bucketCount, fields, variables);
  };
}

function bucketAuto(
  entries: { value: unknown; doc: Document }[],
  bucketCount: number,
  fields: AccumulatedField[],
  variables: Document,
): Document[] {
  const approxBucketSize = Math.round(entries.length / bucketCount);
  const results: Document[] = [];
  let position = 0;
  let bucketNumber = 0;
  while (position < entries.length) {
    bucketNumber++;
    const min = entries[position].value;
    let max = min;
    const group = new GroupState(undefined, fields);
    const take = () => {
      max = entries[position].value;
      group.add(entries[position].doc, variables);
      position++;
    };
    take();
    if (bucketNumber === bucketCount) {
      while (position < entries.length) take();
    } else {
      for (let added = 1; added < approxBucketSize && position < entries.length; added++) take();
      // Equal values never straddle two buckets.
      while (position < entries.length && valuesEqual(entries[position].value, max)) take();
      if (position < entries.length) max = entries[position].value;
    }
    results.push({ _id: { min, max }, ...group.result(false) });
  }
  return results;
}
