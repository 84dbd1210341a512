// explain for find and aggregate (the explain command, and aggregate's `explain: true`), with
// mongod's classic-planner shape: queryPlanner {namespace, parsedQuery, winningPlan, rejectedPlans}
// where the winning plan is COLLSCAN, or FETCH over IXSCAN when an index's leading field is
// constrained (or provides the sort), EXPRESS_IXSCAN (8.0) / IDHACK for `_id` equality, under
// SORT, SKIP, LIMIT and PROJECTION stages as they apply; executionStats when asked.
import type { Document } from 'bson';
import { deserializeExact } from '../bson';
import { CommandError, ErrorCodes } from '../errors';
import { compileFilter, toNumber } from '../query';
import type { Collection, IndexSpec } from '../storage/collection';
import type { CommandContext } from './context';

const RANGE_OPERATORS = new Set(['$eq', '$gt', '$gte', '$lt', '$lte', '$in']);
const PUSHDOWN_STAGES = new Set(['$match', '$sort', '$skip', '$limit', '$project']);
const SORT_MEMORY_LIMIT = 104857600;

function isOperatorObject(value: unknown): value is Document {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length > 0 &&
    Object.keys(value).every((key) => key.startsWith('$'))
  );
}

/** The top-level predicates of a filter, `$and` flattened: [path, condition]. */
function predicates(filter: Document): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and' && Array.isArray(value))
      for (const part of value) out.push(...predicates(part as Document));
    else out.push([key, value]);
  }
  return out;
}

/** Whether an index can bound a field's condition (equality, ranges, $in). */
function isSargable(condition: unknown): boolean {
  if (condition instanceof RegExp) return false;
  if (!isOperatorObject(condition)) return true;
  return Object.keys(condition).every((op) => RANGE_OPERATORS.has(op));
}

/** mongod's parsedQuery: each predicate with explicit operators, several under `$and`. */
export function parsedQuery(filter: Document): Document {
  const parts = predicates(filter).map(([path, condition]): Document => {
    if (path.startsWith('$')) return { [path]: condition };
    if (isOperatorObject(condition)) {
      const ops = Object.entries(condition);
      return ops.length === 1
        ? { [path]: condition }
        : { $and: ops.map(([op, v]) => ({ [path]: { [op]: v } })) };
    }
    return { [path]: { $eq: condition } };
  });
  const flat = parts.flatMap((part) =>
    Array.isArray(part.$and) && Object.keys(part).length === 1 ? part.$and : [part],
  );
  if (flat.length === 0) return {};
  return flat.length === 1 ? flat[0] : { $and: flat };
}

function formatBound(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number')
    return Number.isFinite(value) ? String(value) : value > 0 ? 'inf.0' : '-inf.0';
  if (value === null) return 'null';
  if (value instanceof Date) return `new Date(${value.getTime()})`;
  const numeric = toNumber(value);
  if (numeric !== undefined) return String(numeric);
  return JSON.stringify(value);
}

/** Index bounds of one field's condition, as mongod prints them. */
function boundsFor(condition: unknown): string[] {
  if (condition === undefined) return ['[MinKey, MaxKey]'];
  if (!isOperatorObject(condition)) return [`[${formatBound(condition)}, ${formatBound(condition)}]`];
  if (Array.isArray(condition.$in)) return condition.$in.map((v) => `[${formatBound(v)}, ${formatBound(v)}]`);
  if ('$eq' in condition) return [`[${formatBound(condition.$eq)}, ${formatBound(condition.$eq)}]`];
  const low = condition.$gt ?? condition.$gte;
  const high = condition.$lt ?? condition.$lte;
  const sample = low ?? high;
  const isString = typeof sample === 'string';
  const lowText = low !== undefined ? formatBound(low) : isString ? '""' : '-inf.0';
  const highText = high !== undefined ? formatBound(high) : isString ? '{}' : 'inf.0';
  const open = '$gt' in condition ? '(' : '[';
  const close = '$lt' in condition ? ')' : high === undefined && isString ? ')' : ']';
  return [`${open}${lowText}, ${highText}${close}`];
}

interface PlanInput {
  collection: Collection | undefined;
  filter: Document;
  sort?: Document;
  projection?: Document;
  skip?: number;
  limit?: number;
  hint?: unknown;
  version: string;
}

function usableIndexes(collection: Collection): IndexSpec[] {
  return collection.indexes.filter(
    (index) =>
      index.hidden !== true &&
      index.partialFilterExpression === undefined &&
      Object.values(index.key).every((direction) => typeof toNumber(direction) === 'number'),
  );
}

/** -1/1 when the index provides the sort (forward or backward), undefined otherwise. */
function sortDirection(index: IndexSpec, sort: Document | undefined): 1 | -1 | undefined {
  if (!sort || Object.keys(sort).length === 0) return undefined;
  const sortKeys = Object.entries(sort);
  const indexKeys = Object.entries(index.key);
  if (sortKeys.length > indexKeys.length) return undefined;
  let direction: 1 | -1 | undefined;
  for (let i = 0; i < sortKeys.length; i++) {
    const [field, dir] = sortKeys[i];
    const [indexField, indexDir] = indexKeys[i];
    if (field !== indexField) return undefined;
    const relative = Math.sign(toNumber(dir) ?? 1) === Math.sign(toNumber(indexDir) ?? 1) ? 1 : -1;
    if (direction !== undefined && direction !== relative) return undefined;
    direction = relative;
  }
  return direction;
}

function chooseIndex(input: PlanInput): { index: IndexSpec; direction: 1 | -1 } | undefined {
  const { collection, filter, sort, hint } = input;
  if (!collection) return undefined;
  const indexes = usableIndexes(collection);
  if (hint !== undefined && typeof hint === 'object' && hint !== null && '$natural' in hint) return undefined;
  if (
    typeof hint === 'string' ||
    (typeof hint === 'object' && hint !== null && Object.keys(hint).length > 0)
  ) {
    const index = collection.findIndex(hint as string | Document);
    if (!index)
      throw new CommandError(
        ErrorCodes.BadValue,
        'error processing query: planner returned error :: caused by :: hint provided does not correspond to an existing index',
      );
    return { index, direction: sortDirection(index, sort) ?? 1 };
  }
  const conditions = new Map(predicates(filter).filter(([path]) => !path.startsWith('$')));
  let best: { index: IndexSpec; direction: 1 | -1; score: number } | undefined;
  for (const index of indexes) {
    let score = 0;
    for (const field of Object.keys(index.key)) {
      if (!conditions.has(field) || !isSargable(conditions.get(field))) break;
      score++;
    }
    const direction = sortDirection(index, sort);
    if (score === 0 && direction === undefined) continue;
    const total = score * 2 + (direction !== undefined ? 1 : 0);
    if (!best || total > best.score) best = { index, direction: direction ?? 1, score: total };
  }
  return best && { index: best.index, direction: best.direction };
}

function residualFilter(filter: Document, used: Set<string>): Document | undefined {
  const rest: Document = {};
  for (const [path, condition] of predicates(filter)) if (!used.has(path)) rest[path] = condition;
  return Object.keys(rest).length > 0 ? parsedQuery(rest) : undefined;
}

function isSimpleProjection(projection: Document): boolean {
  return Object.entries(projection).every(
    ([key, value]) =>
      !key.includes('.') &&
      !key.startsWith('$') &&
      (typeof value === 'boolean' || toNumber(value) !== undefined),
  );
}

/** The winning plan's stage tree. */
export function winningPlan(input: PlanInput): Document {
  const { filter, sort, projection, collection, version } = input;
  const chosen = chooseIndex(input);
  const conditions = new Map(predicates(filter).filter(([path]) => !path.startsWith('$')));
  const onlyIdEquality =
    Object.keys(filter).length === 1 &&
    conditions.has('_id') &&
    !isOperatorObject(conditions.get('_id')) &&
    input.hint === undefined;
  let plan: Document;
  let sorted = false;
  if (collection && onlyIdEquality && chosen?.index.name === '_id_') {
    plan =
      version === '8.0'
        ? {
            stage: 'EXPRESS_IXSCAN',
            keyPattern: '{ _id: 1 }',
            indexName: '_id_',
          }
        : { stage: 'IDHACK' };
  } else if (chosen) {
    const { index, direction } = chosen;
    const used = new Set<string>();
    const indexBounds: Document = {};
    let bounded = true;
    for (const field of Object.keys(index.key)) {
      const condition = bounded && isSargable(conditions.get(field)) ? conditions.get(field) : undefined;
      if (condition === undefined) bounded = false;
      else used.add(field);
      indexBounds[field] = boundsFor(condition);
      if (direction === -1) indexBounds[field] = (indexBounds[field] as string[]).reverse();
    }
    const ixscan: Document = {
      stage: 'IXSCAN',
      keyPattern: index.key,
      indexName: index.name,
      isMultiKey: false,
      multiKeyPaths: Object.fromEntries(Object.keys(index.key).map((field) => [field, []])),
      isUnique: index.unique === true || index.name === '_id_',
      isSparse: index.sparse === true,
      isPartial: false,
      indexVersion: index.v,
      direction: direction === 1 ? 'forward' : 'backward',
      indexBounds,
    };
    const fetch: Document = { stage: 'FETCH' };
    const rest = residualFilter(filter, used);
    if (rest) fetch.filter = rest;
    fetch.inputStage = ixscan;
    plan = fetch;
    sorted = sortDirection(index, sort) !== undefined;
  } else {
    plan = { stage: 'COLLSCAN' };
    const parsed = parsedQuery(filter);
    if (Object.keys(parsed).length > 0) plan.filter = parsed;
    plan.direction =
      input.hint && typeof input.hint === 'object' && toNumber((input.hint as Document).$natural) === -1
        ? 'backward'
        : 'forward';
  }
  const limit = input.limit && input.limit > 0 ? input.limit : undefined;
  const skip = input.skip && input.skip > 0 ? input.skip : undefined;
  if (sort && Object.keys(sort).length > 0 && !sorted && !('$natural' in sort)) {
    const stage: Document = { stage: 'SORT', sortPattern: sort, memLimit: SORT_MEMORY_LIMIT, type: 'simple' };
    if (limit !== undefined) stage.limitAmount = limit + (skip ?? 0);
    stage.inputStage = plan;
    plan = stage;
    if (skip !== undefined) plan = { stage: 'SKIP', skipAmount: skip, inputStage: plan };
  } else {
    if (skip !== undefined) plan = { stage: 'SKIP', skipAmount: skip, inputStage: plan };
    if (limit !== undefined) plan = { stage: 'LIMIT', limitAmount: limit, inputStage: plan };
  }
  if (projection && Object.keys(projection).length > 0) {
    plan = {
      stage: isSimpleProjection(projection) ? 'PROJECTION_SIMPLE' : 'PROJECTION_DEFAULT',
      transformBy: projection,
      inputStage: plan,
    };
  }
  return plan;
}

function queryPlanner(ns: string, input: PlanInput): Document {
  return {
    namespace: ns,
    parsedQuery: parsedQuery(input.filter),
    indexFilterSet: false,
    optimizationTimeMillis: 0,
    maxIndexedOrSolutionsReached: false,
    maxIndexedAndSolutionsReached: false,
    maxScansToExplodeReached: false,
    prunedSimilarIndexes: false,
    winningPlan: { isCached: false, ...winningPlan(input) },
    rejectedPlans: [],
  };
}

function executionStats(ctx: CommandContext, input: PlanInput, plan: Document): Document {
  const started = Date.now();
  const matches = compileFilter(input.filter);
  let examined = 0;
  let returned = 0;
  if (input.collection) {
    for (const stored of input.collection.readView(ctx.transaction).naturalOrder()) {
      examined++;
      if (matches(deserializeExact(stored.raw))) returned++;
    }
  }
  returned = Math.max(0, returned - (input.skip ?? 0));
  if (input.limit && input.limit > 0) returned = Math.min(returned, input.limit);
  const usesIndex = JSON.stringify(plan).includes('IXSCAN') || plan.stage === 'IDHACK';
  return {
    executionSuccess: true,
    nReturned: returned,
    executionTimeMillis: Date.now() - started,
    totalKeysExamined: usesIndex ? returned : 0,
    totalDocsExamined: usesIndex ? returned : examined,
    executionStages: { ...plan, nReturned: returned },
  };
}

function serverInfo(ctx: CommandContext): Document {
  const [host, port] = ctx.engine.options.hostAndPort.split(':');
  return { host, port: Number(port), version: ctx.engine.versionInfo.version, gitVersion: 'emulator' };
}

function explainReply(
  ctx: CommandContext,
  ns: string,
  input: PlanInput,
  verbosity: string,
  command: Document,
  laterStages: Document[] | undefined,
): Document {
  const planner = queryPlanner(ns, input);
  const stats =
    verbosity === 'queryPlanner' ? undefined : executionStats(ctx, input, planner.winningPlan as Document);
  const cursorPart: Document = { queryPlanner: planner };
  if (stats) cursorPart.executionStats = stats;
  const reply: Document = { explainVersion: '1' };
  if (laterStages && laterStages.length > 0) reply.stages = [{ $cursor: cursorPart }, ...laterStages];
  else Object.assign(reply, cursorPart);
  Object.assign(reply, {
    command,
    serverInfo: serverInfo(ctx),
    serverParameters: {
      internalQueryFacetBufferSizeBytes: 104857600,
      internalQueryMaxBlockingSortMemoryUsageBytes: 104857600,
      internalDocumentSourceGroupMaxMemoryBytes: 104857600,
    },
    ok: 1,
  });
  return reply;
}

function findInput(ctx: CommandContext, db: string, spec: Document): PlanInput {
  const coll = String(spec.find);
  return {
    collection: ctx.engine.catalog.collection(db, coll),
    filter: (spec.filter as Document | undefined) ?? {},
    sort: spec.sort as Document | undefined,
    projection: spec.projection as Document | undefined,
    skip: toNumber(spec.skip),
    limit: toNumber(spec.limit),
    hint: spec.hint,
    version: ctx.engine.options.version,
  };
}

/** The find-layer part of a pipeline ($match, $sort, $skip, $limit, $project prefix) and the rest. */
function splitPipeline(pipeline: Document[]): { pushed: Document[]; rest: Document[] } {
  let cut = 0;
  while (cut < pipeline.length && PUSHDOWN_STAGES.has(Object.keys(pipeline[cut])[0])) cut++;
  return { pushed: pipeline.slice(0, cut), rest: pipeline.slice(cut) };
}

function aggregateInput(ctx: CommandContext, db: string, coll: string, pushed: Document[]): PlanInput {
  const input: PlanInput = {
    collection: ctx.engine.catalog.collection(db, coll),
    filter: {},
    version: ctx.engine.options.version,
    hint: ctx.command.hint,
  };
  const filters: Document[] = [];
  for (const stage of pushed) {
    const [name] = Object.keys(stage);
    if (name === '$match' && !input.sort && !input.limit && !input.skip)
      filters.push(stage.$match as Document);
    else if (name === '$sort' && !input.limit && !input.skip) input.sort = stage.$sort as Document;
    else if (name === '$skip') input.skip = (input.skip ?? 0) + (toNumber(stage.$skip) ?? 0);
    else if (name === '$limit') input.limit = toNumber(stage.$limit);
    else if (name === '$project') input.projection = stage.$project as Document;
  }
  input.filter = filters.length === 0 ? {} : filters.length === 1 ? filters[0] : { $and: filters };
  return input;
}

function explainAggregate(ctx: CommandContext, db: string, spec: Document, verbosity: string): Document {
  if (typeof spec.aggregate !== 'string')
    throw new CommandError(ErrorCodes.InvalidNamespace, 'explain of aggregate needs a collection');
  const pipeline = (spec.pipeline as Document[] | undefined) ?? [];
  const { pushed, rest } = splitPipeline(pipeline);
  const input = aggregateInput(ctx, db, spec.aggregate, pushed);
  return explainReply(ctx, `${db}.${spec.aggregate}`, input, verbosity, { ...spec, $db: db }, rest);
}

/** The explain command: `{explain: {find | aggregate ...}, verbosity}`. */
export function explain(ctx: CommandContext): Document {
  const { command, dbName } = ctx;
  const spec = command.explain as Document | undefined;
  if (!spec || typeof spec !== 'object')
    throw new CommandError(ErrorCodes.FailedToParse, 'explain command requires a nested object');
  const verbosity = typeof command.verbosity === 'string' ? command.verbosity : 'allPlansExecution';
  if (!['queryPlanner', 'executionStats', 'allPlansExecution'].includes(verbosity))
    throw new CommandError(
      ErrorCodes.FailedToParse,
      `verbosity string must be one of {'queryPlanner', 'executionStats', 'allPlansExecution'}`,
    );
  const [name] = Object.keys(spec);
  if (name === 'find') {
    const input = findInput(ctx, dbName, spec);
    return explainReply(
      ctx,
      `${dbName}.${String(spec.find)}`,
      input,
      verbosity,
      { ...spec, $db: dbName },
      undefined,
    );
  }
  if (name === 'aggregate') return explainAggregate(ctx, dbName, spec, verbosity);
  throw new CommandError(
    ErrorCodes.CommandNotFound,
    `Explain failed due to unknown command: ${String(name)}`,
  );
}

/** aggregate with `explain: true`: the queryPlanner verbosity. */
export function explainAggregateCommand(ctx: CommandContext): Document {
  const { explain: _explain, cursor: _cursor, ...spec } = ctx.command;
  void _explain;
  void _cursor;
  return explainAggregate(ctx, ctx.dbName, spec, 'queryPlanner');
}
