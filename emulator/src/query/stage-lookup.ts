// $lookup (equality and pipeline forms) and $unionWith, reading other collections of the same
// database through the pipeline context.
import type { Document } from 'bson';
import { CommandError } from '../errors';
import { keyString } from './compare';
import { isPlainObject, validateVariableName } from './expr-core';
import { evaluateExpression } from './expression';
import { compilePath, getPathValues, walkPath } from './paths';
import { setNestedField } from './stage-paths';

export type SubPipelineRunner = (
  input: Iterable<Document>,
  pipeline: Document[],
  variables: Document,
) => Document[];
export type CollectionLoader = (coll: string) => Document[];
type Stage = (input: Iterable<Document>, variables: Document) => Iterable<Document>;

function requireLoader(stage: string, loader: CollectionLoader | undefined): CollectionLoader {
  if (!loader) throw new CommandError(238, `${stage} is not supported in this context`);
  return loader;
}

/** Every value a foreign document offers for equality with a local value ($in semantics). */
function foreignKeys(doc: Document, path: string): string[] {
  const keys: string[] = [];
  walkPath(doc, compilePath(path), 0, (value) => {
    if (value === undefined) {
      keys.push(keyString(null));
    } else {
      if (Array.isArray(value)) for (const element of value) keys.push(keyString(element));
      keys.push(keyString(value));
    }
    return false;
  });
  return keys;
}

/** Index of foreign documents by the values of `foreignField`, each document once per key. */
function indexByField(docs: Document[], foreignField: string): Map<string, number[]> {
  const index = new Map<string, number[]>();
  docs.forEach((doc, position) => {
    for (const key of new Set(foreignKeys(doc, foreignField))) {
      const positions = index.get(key);
      if (positions) positions.push(position);
      else index.set(key, [position]);
    }
  });
  return index;
}

function localKeys(doc: Document, localField: string): string[] {
  const values = getPathValues(doc, localField);
  return values.length === 0 ? [keyString(null)] : values.map(keyString);
}

function matchingForeign(
  doc: Document,
  localField: string,
  foreign: Document[],
  index: Map<string, number[]>,
): Document[] {
  const positions = new Set<number>();
  for (const key of localKeys(doc, localField))
    for (const position of index.get(key) ?? []) positions.add(position);
  return [...positions].sort((a, b) => a - b).map((position) => foreign[position]);
}

function requireString(value: unknown, message: string, code: number): string {
  if (typeof value !== 'string') throw new CommandError(code, message);
  return value;
}

export function compileLookupStage(
  spec: unknown,
  loader: CollectionLoader | undefined,
  runSubPipeline: SubPipelineRunner,
): Stage {
  if (!isPlainObject(spec)) throw new CommandError(9, 'the $lookup specification must be an Object');
  const allowed = ['from', 'as', 'localField', 'foreignField', 'let', 'pipeline'];
  for (const key of Object.keys(spec)) {
    if (!allowed.includes(key)) throw new CommandError(9, `unknown argument to $lookup: ${key}`);
  }
  if (isPlainObject(spec.from)) throw new CommandError(238, '$lookup from another database is not supported');
  // Since 5.1 a $lookup whose pipeline starts with $documents needs no collection to join.
  const joinsDocuments =
    spec.from === undefined &&
    Array.isArray(spec.pipeline) &&
    isPlainObject(spec.pipeline[0]) &&
    '$documents' in spec.pipeline[0];
  const from = joinsDocuments
    ? undefined
    : requireString(spec.from, "$lookup argument 'from' must be a string", 9);
  const as = requireString(spec.as, "$lookup argument 'as' must be a string", 9);
  const hasLocal = 'localField' in spec;
  const hasForeign = 'foreignField' in spec;
  if (hasLocal !== hasForeign)
    throw new CommandError(
      9,
      "$lookup requires both or neither of 'localField' and 'foreignField' to be specified",
    );
  const localField = hasLocal
    ? requireString(spec.localField, "$lookup argument 'localField' must be a string", 9)
    : undefined;
  const foreignField = hasForeign
    ? requireString(spec.foreignField, "$lookup argument 'foreignField' must be a string", 9)
    : undefined;
  const pipeline = spec.pipeline;
  if (pipeline !== undefined && !Array.isArray(pipeline))
    throw new CommandError(9, "$lookup argument 'pipeline' must be an array");
  if (pipeline === undefined && !hasLocal)
    throw new CommandError(
      9,
      "$lookup requires either 'pipeline' or both 'localField' and 'foreignField' to be specified",
    );
  if (spec.let !== undefined && !isPlainObject(spec.let))
    throw new CommandError(9, "$lookup argument 'let' must be an object");
  const letSpec: Document = spec.let ?? {};
  for (const name of Object.keys(letSpec)) validateVariableName(name);
  const asPath = as.split('.');
  const load = from === undefined ? () => [] : requireLoader('$lookup', loader);

  return function* lookup(input, variables) {
    const foreign = from === undefined ? [] : load(from);
    const index = foreignField !== undefined ? indexByField(foreign, foreignField) : undefined;
    for (const doc of input) {
      let matched =
        index && localField !== undefined ? matchingForeign(doc, localField, foreign, index) : foreign;
      if (pipeline) {
        const bindings: Document = { ...variables };
        for (const [name, expr] of Object.entries(letSpec)) {
          const value = evaluateExpression(expr, doc, variables);
          bindings[name] = value === undefined ? null : value;
        }
        matched = runSubPipeline(matched, pipeline as Document[], bindings);
      }
      yield setNestedField(doc, asPath, matched);
    }
  };
}

export function compileUnionWithStage(
  spec: unknown,
  loader: CollectionLoader | undefined,
  runSubPipeline: SubPipelineRunner,
): Stage {
  let coll: unknown = spec;
  let pipeline: unknown = [];
  if (isPlainObject(spec)) {
    for (const key of Object.keys(spec)) {
      if (key !== 'coll' && key !== 'pipeline')
        throw new CommandError(40415, `BSON field '$unionWith.${key}' is an unknown field.`);
    }
    coll = spec.coll;
    pipeline = spec.pipeline ?? [];
  }
  const name = requireString(
    coll,
    'the $unionWith stage specification must be an object or string, but found',
    40412,
  );
  if (!Array.isArray(pipeline))
    throw new CommandError(14, "BSON field '$unionWith.pipeline' is the wrong type, expected array");
  const load = requireLoader('$unionWith', loader);
  return function* unionWith(input, variables) {
    yield* input;
    yield* runSubPipeline(load(name), pipeline as Document[], variables);
  };
}
