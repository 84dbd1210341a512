// Aggregation pipelines over documents in the exact value model. Stages are compiled once (shape
// errors come out before any document is read) and chained as generators, so streaming stages
// such as $match and $project never materialize their input.
import type { Document } from 'bson';
import { CommandError, ErrorCodes } from '../errors';
import { isPlainObject } from './expr-core';
import { compileFilter, type Matcher } from './match';
import { compileSort } from './sort';
import type { Collation } from './collation';
import {
  compileCountStage,
  compileLimitStage,
  compileRedactStage,
  compileReplaceRootStage,
  compileSampleStage,
  compileSkipStage,
  compileUnwindStage,
  type Stage,
} from './stage-basic';
import { compileBucketAutoStage, compileBucketStage } from './stage-bucket';
import { compileGroupStage } from './stage-group';
import { compileLookupStage, compileUnionWithStage } from './stage-lookup';
import {
  compileAddFieldsStage,
  compileProjectStage,
  compileUnsetStage,
  type DocumentTransform,
} from './stage-project';
import { evaluateExpression } from './expression';

export interface PipelineContext {
  /** Other collections' documents for $lookup / $unionWith (same database). */
  loadCollection?: (coll: string) => Document[];
  /** For $collStats: the stats document of the source collection for a spec. */
  collStats?: (spec: Document) => Document;
  /** For $indexStats: one document per index of the source collection. */
  indexStats?: () => Document[];
  /** `let` variables (names without `$$`). */
  variables?: Document;
  /** The command's collation: string comparisons of $match, $sort and $group keys. */
  collation?: Collation;
}

const STAGE_NAMES = new Set([
  '$match',
  '$project',
  '$addFields',
  '$set',
  '$unset',
  '$group',
  '$sort',
  '$skip',
  '$limit',
  '$count',
  '$unwind',
  '$sample',
  '$bucket',
  '$bucketAuto',
  '$collStats',
  '$replaceRoot',
  '$replaceWith',
  '$lookup',
  '$unionWith',
  '$facet',
  '$sortByCount',
  '$redact',
  '$documents',
  '$out',
  '$merge',
  '$changeStream',
  '$geoNear',
  '$graphLookup',
  '$indexStats',
  '$densify',
  '$fill',
  '$setWindowFields',
  '$listSessions',
  '$currentOp',
  '$planCacheStats',
  '$search',
  '$searchMeta',
  '$listSearchIndexes',
  '$changeStreamSplitLargeEvent',
]);

/** Stages that must be first in a pipeline. */
const FIRST_ONLY = new Set([
  '$collStats',
  '$documents',
  '$changeStream',
  '$indexStats',
  '$geoNear',
  '$currentOp',
  '$listSessions',
]);

/** Shape checks of a pipeline with MongoDB's errors; returns the stages. */
export function validatePipeline(pipeline: unknown): Document[] {
  if (!Array.isArray(pipeline)) throw new CommandError(14, "'pipeline' option must be specified as an array");
  pipeline.forEach((stage, index) => {
    if (!isPlainObject(stage))
      throw new CommandError(14, "Each element of the 'pipeline' array must be an object");
    const names = Object.keys(stage);
    if (names.length !== 1) {
      throw new CommandError(40323, 'A pipeline stage specification object must contain exactly one field.');
    }
    const [name] = names;
    if (!STAGE_NAMES.has(name)) throw new CommandError(40324, `Unrecognized pipeline stage name: '${name}'`);
    if ((name === '$out' || name === '$merge') && index !== pipeline.length - 1) {
      throw new CommandError(40601, `${name} can only be the final stage in the pipeline`);
    }
    if (FIRST_ONLY.has(name) && index !== 0) {
      throw new CommandError(40602, `${name} is only valid as the first stage in a pipeline`);
    }
  });
  return pipeline as Document[];
}

interface Compiler {
  ctx: PipelineContext;
  runSubPipeline: (input: Iterable<Document>, pipeline: Document[], variables: Document) => Document[];
}

function mapStage(transform: DocumentTransform): Stage {
  return function* map(input, variables) {
    for (const doc of input) yield transform(doc, variables);
  };
}

function compileMatchStage(spec: unknown, collation: Collation | undefined): Stage {
  if (!isPlainObject(spec))
    throw new CommandError(15959, 'the match filter must be an expression in an object');
  // Filters with $expr depend on the variables, which differ between $lookup sub-pipeline runs.
  compileFilter(spec, { collation });
  let cached: { variables: Document; matcher: Matcher } | undefined;
  return function* match(input, variables) {
    if (cached?.variables !== variables)
      cached = { variables, matcher: compileFilter(spec, { variables, collation }) };
    const { matcher } = cached;
    for (const doc of input) if (matcher(doc)) yield doc;
  };
}

function compileSortStage(spec: unknown, collation?: Collation): Stage {
  if (!isPlainObject(spec)) throw new CommandError(15973, 'the $sort key specification must be an object');
  if (Object.keys(spec).length === 0)
    throw new CommandError(15976, '$sort stage must have at least one sort key');
  const compare = compileSort(spec, collation) ?? (() => 0);
  // Array.prototype.sort is stable, so equal keys keep their input order.
  return (input) => [...input].sort(compare);
}

function compileSortByCountStage(spec: unknown, collation: Collation | undefined): Stage {
  const isExpression =
    (typeof spec === 'string' && spec.startsWith('$')) ||
    (isPlainObject(spec) && Object.keys(spec)[0]?.startsWith('$'));
  if (!isExpression) {
    throw new CommandError(
      40148,
      'the sortByCount field must be defined as a $-prefixed path or an expression',
    );
  }
  const group = compileGroupStage({ _id: spec, count: { $sum: 1 } }, collation);
  const sort = compileSortStage({ count: -1 });
  return (input, variables) => sort(group(input, variables), variables);
}

function compileCollStatsStage(spec: unknown, ctx: PipelineContext): Stage {
  if (!isPlainObject(spec))
    throw new CommandError(5447000, '$collStats must take a nested object but found: ' + String(spec));
  const collStats = ctx.collStats;
  if (!collStats) throw new CommandError(238, '$collStats is not supported in this context');
  return function* stats() {
    yield collStats(spec);
  };
}

function compileDocumentsStage(spec: unknown): Stage {
  return function* documents(_input, variables) {
    const docs = evaluateExpression(spec, {}, variables);
    if (!Array.isArray(docs) || docs.some((doc) => !isPlainObject(doc))) {
      throw new CommandError(5858203, 'an array is expected');
    }
    yield* docs as Document[];
  };
}

const FACET_FORBIDDEN = new Set([
  '$collStats',
  '$facet',
  '$out',
  '$merge',
  '$changeStream',
  '$indexStats',
  '$documents',
  '$geoNear',
]);

function compileFacetStage(spec: unknown, compiler: Compiler): Stage {
  if (!isPlainObject(spec))
    throw new CommandError(15947, 'the $facet specification must be a non-empty object');
  if (Object.keys(spec).length === 0)
    throw new CommandError(40169, 'the $facet specification must be a non-empty object');
  const facets = Object.entries(spec).map(([name, pipeline]) => {
    if (name.startsWith('$') || name.includes('.') || name === '') {
      throw new CommandError(40172, `$facet pipeline names must not start with '$' or contain '.': ${name}`);
    }
    if (!Array.isArray(pipeline)) {
      throw new CommandError(40170, `arguments to $facet must be arrays, ${name} is type ${typeof pipeline}`);
    }
    const stages = validatePipeline(pipeline);
    for (const stage of stages) {
      const [stageName] = Object.keys(stage);
      if (FACET_FORBIDDEN.has(stageName)) {
        throw new CommandError(40600, `${stageName} is not allowed to be used within a $facet stage`);
      }
    }
    return { name, stages: compileStages(stages, compiler) };
  });
  return function* facet(input, variables) {
    const docs = [...input];
    const result: Document = {};
    for (const { name, stages } of facets) result[name] = [...runStages(docs, stages, variables)];
    yield result;
  };
}

function compileStage(stage: Document, compiler: Compiler): Stage {
  const [name] = Object.keys(stage);
  const spec = stage[name];
  const { ctx, runSubPipeline } = compiler;
  switch (name) {
    case '$match':
      return compileMatchStage(spec, ctx.collation);
    case '$project':
      return mapStage(compileProjectStage(spec));
    case '$addFields':
    case '$set':
      return mapStage(compileAddFieldsStage(name, spec));
    case '$unset':
      return mapStage(compileUnsetStage(spec));
    case '$group':
      return compileGroupStage(spec, ctx.collation);
    case '$sort':
      return compileSortStage(spec, ctx.collation);
    case '$skip':
      return compileSkipStage(spec);
    case '$limit':
      return compileLimitStage(spec);
    case '$count':
      return compileCountStage(spec);
    case '$unwind':
      return compileUnwindStage(spec);
    case '$sample':
      return compileSampleStage(spec);
    case '$bucket':
      return compileBucketStage(spec);
    case '$bucketAuto':
      return compileBucketAutoStage(spec);
    case '$collStats':
      return compileCollStatsStage(spec, ctx);
    case '$indexStats':
      return compileIndexStatsStage(spec, ctx);
    case '$replaceRoot':
    case '$replaceWith':
      return compileReplaceRootStage(name, spec);
    case '$lookup':
      return compileLookupStage(spec, ctx.loadCollection, runSubPipeline);
    case '$unionWith':
      return compileUnionWithStage(spec, ctx.loadCollection, runSubPipeline);
    case '$facet':
      return compileFacetStage(spec, compiler);
    case '$sortByCount':
      return compileSortByCountStage(spec, ctx.collation);
    case '$redact':
      return compileRedactStage(spec);
    case '$documents':
      return compileDocumentsStage(spec);
    case '$out':
    case '$merge':
      throw new CommandError(1, `${name} must be handled by the aggregate command before the pipeline runs`);
    case '$changeStream':
      throw new CommandError(1, '$changeStream must be handled by the change stream layer');
    case '$geoNear':
      return compileGeoNearStage(ctx);
    default:
      // What a mongod without the stage answers. $setWindowFields, $graphLookup, $densify, $fill,
      // $search and the like are query features a sync never needs.
      throw new CommandError(40324, `Unrecognized pipeline stage name: '${name}'`);
  }
}

/**
 * $geoNear needs a 2d or 2dsphere index and answers IndexNotFound without one, as mongod does;
 * with one it is still a stage this server does not run.
 */
function compileGeoNearStage(ctx: PipelineContext): Stage {
  const indexes = ctx.indexStats?.() ?? [];
  const geo = indexes.some((index) =>
    Object.values(index.key as Document).some((type) => type === '2d' || type === '2dsphere'),
  );
  if (!geo)
    throw new CommandError(
      ErrorCodes.IndexNotFound,
      '$geoNear requires a 2d or 2dsphere index, but none were found',
    );
  throw new CommandError(40324, "Unrecognized pipeline stage name: '$geoNear'");
}

/** `{$indexStats: {}}`: the source collection's index statistics, ignoring its documents. */
function compileIndexStatsStage(spec: unknown, ctx: PipelineContext): Stage {
  if (!isPlainObject(spec) || Object.keys(spec).length > 0)
    throw new CommandError(28803, 'The $indexStats stage specification must be an empty object');
  return function* indexStats() {
    yield* ctx.indexStats?.() ?? [];
  };
}

function compileStages(pipeline: Document[], compiler: Compiler): Stage[] {
  return pipeline.map((stage) => compileStage(stage, compiler));
}

function runStages(input: Iterable<Document>, stages: Stage[], variables: Document): Iterable<Document> {
  return stages.reduce<Iterable<Document>>((stream, stage) => stage(stream, variables), input);
}

/** Runs `pipeline` over `input`; $out/$merge are the command layer's and must be removed first. */
export function runPipeline(
  input: Iterable<Document>,
  pipeline: Document[],
  ctx: PipelineContext,
): Document[] {
  const compiler: Compiler = {
    ctx,
    runSubPipeline: (subInput, subPipeline, variables) => [
      ...runStages(subInput, compileStages(validatePipeline(subPipeline), compiler), variables),
    ],
  };
  const stages = compileStages(validatePipeline(pipeline), compiler);
  // $$NOW is one instant for the whole pipeline.
  const variables: Document = { NOW: new Date(), ...ctx.variables };
  return [...runStages(input, stages, variables)];
}
