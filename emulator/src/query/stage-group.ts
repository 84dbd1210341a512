// $group and its accumulators (also used by $bucket, $bucketAuto and $sortByCount). $sum keeps
// integer types until they overflow, $avg gives a double (decimal for decimal input), $count an
// int, as mongod does.
import type { Document } from 'bson';
import { CommandError } from '../errors';
import type { Collation } from './collation';
import { compareValues, containsString, keyString } from './compare';
import { addNumbers } from './expr-arith';
import { isNullish, isPlainObject } from './expr-core';
import { decimalArithmetic, isNumeric, makeDouble, makeInt, numericKind, toJsNumber } from './expr-numeric';
import { mergeDocuments } from './expr-object';
import { evaluateExpression } from './expression';
import { compileSort } from './sort';

interface Accumulator {
  add(doc: Document, variables: Document): void;
  result(): unknown;
}

type AccumulatorFactory = (arg: unknown) => () => Accumulator;

/** Accumulators that fold one evaluated value per document. */
function valueAccumulator<State>(
  initial: () => State,
  step: (state: State, value: unknown) => State,
  finish: (state: State) => unknown,
): AccumulatorFactory {
  return (expr) => () => {
    let state = initial();
    return {
      add(doc, variables) {
        state = step(state, evaluateExpression(expr, doc, variables));
      },
      result: () => finish(state),
    };
  };
}

function sumStep(total: unknown, value: unknown): unknown {
  return isNumeric(value) ? addNumbers(total, value) : total;
}

interface AverageState {
  total: unknown;
  count: number;
}

function averageResult({ total, count }: AverageState): unknown {
  if (count === 0) return null;
  if (numericKind(total) === 'decimal') return decimalArithmetic('divide', total, count);
  return makeDouble(toJsNumber(total) / count);
}

function extremum(direction: 1 | -1): AccumulatorFactory {
  return valueAccumulator<unknown>(
    () => undefined,
    (best, value) =>
      isNullish(value)
        ? best
        : best === undefined || compareValues(value, best) * direction > 0
          ? value
          : best,
    (best) => best ?? null,
  );
}

function standardDeviation(sample: boolean): AccumulatorFactory {
  return valueAccumulator(
    () => ({ count: 0, mean: 0, m2: 0 }),
    (state, value) => {
      if (!isNumeric(value)) return state;
      // Welford's online algorithm keeps the variance numerically stable.
      const x = toJsNumber(value);
      const count = state.count + 1;
      const delta = x - state.mean;
      const mean = state.mean + delta / count;
      return { count, mean, m2: state.m2 + delta * (x - mean) };
    },
    ({ count, m2 }) => {
      const divisor = sample ? count - 1 : count;
      return divisor <= 0 ? null : makeDouble(Math.sqrt(m2 / divisor));
    },
  );
}

function groupError(code: number, message: string): CommandError {
  return new CommandError(code, message);
}

/** The `n` of $firstN-style accumulators: a positive integral constant. */
function parseN(name: string, value: unknown): number {
  const evaluated = evaluateExpression(value, {});
  if (!isNumeric(evaluated) || !Number.isInteger(toJsNumber(evaluated))) {
    throw groupError(5787902, `Value for 'n' must be of integral type, but found ${String(evaluated)}`);
  }
  const n = toJsNumber(evaluated);
  if (n <= 0) throw groupError(5787908, `'n' must be greater than 0, found ${n}`);
  return n;
}

function namedArgument(name: string, arg: unknown, fields: string[]): Document {
  if (!isPlainObject(arg)) throw groupError(5787801, `specification must be an object; found ${String(arg)}`);
  for (const field of fields) {
    if (!(field in arg)) throw groupError(5787906, `Missing value for '${field}' in ${name}`);
  }
  for (const key of Object.keys(arg)) {
    if (!fields.includes(key)) throw groupError(5787901, `Unknown argument for '${name}': ${key}`);
  }
  return arg;
}

/** $firstN / $lastN / $minN / $maxN over `{input, n}`. */
function nAccumulator(name: string, pick: (values: unknown[], n: number) => unknown[]): AccumulatorFactory {
  return (arg) => {
    const spec = namedArgument(name, arg, ['input', 'n']);
    const n = parseN(name, spec.n);
    return () => {
      const values: unknown[] = [];
      return {
        add(doc, variables) {
          const value = evaluateExpression(spec.input, doc, variables);
          values.push(value === undefined ? null : value);
        },
        result: () => pick(values, n),
      };
    };
  };
}

function sortedNonNull(values: unknown[], direction: 1 | -1): unknown[] {
  return values.filter((value) => !isNullish(value)).sort((a, b) => compareValues(a, b) * direction);
}

/** $top / $bottom / $topN / $bottomN: order documents by `sortBy`, keep the first (last) n outputs. */
function topBottom(name: string, fromTop: boolean, withN: boolean): AccumulatorFactory {
  return (arg) => {
    const spec = namedArgument(name, arg, withN ? ['n', 'sortBy', 'output'] : ['sortBy', 'output']);
    if (!isPlainObject(spec.sortBy)) throw groupError(5788604, `${name} requires 'sortBy' to be an object`);
    const compare = compileSort(spec.sortBy) ?? (() => 0);
    const n = withN ? parseN(name, spec.n) : 1;
    return () => {
      const entries: { doc: Document; output: unknown }[] = [];
      return {
        add(doc, variables) {
          const output = evaluateExpression(spec.output, doc, variables);
          entries.push({ doc, output: output === undefined ? null : output });
        },
        result: () => {
          const ordered = entries.sort((a, b) => compare(a.doc, b.doc));
          const chosen = fromTop ? ordered.slice(0, n) : ordered.slice(Math.max(0, ordered.length - n));
          const outputs = chosen.map((entry) => entry.output);
          return withN ? outputs : (outputs[0] ?? null);
        },
      };
    };
  };
}

const ACCUMULATORS: Record<string, AccumulatorFactory> = {
  $sum: valueAccumulator<unknown>(
    () => makeInt(0),
    sumStep,
    (total) => total,
  ),
  $avg: valueAccumulator<AverageState>(
    () => ({ total: makeInt(0), count: 0 }),
    (state, value) =>
      isNumeric(value) ? { total: addNumbers(state.total, value), count: state.count + 1 } : state,
    averageResult,
  ),
  $min: extremum(-1),
  $max: extremum(1),
  $first: valueAccumulator<{ seen: boolean; value: unknown }>(
    () => ({ seen: false, value: null }),
    (state, value) => (state.seen ? state : { seen: true, value: value === undefined ? null : value }),
    (state) => state.value,
  ),
  $last: valueAccumulator<unknown>(
    () => null,
    (_, value) => (value === undefined ? null : value),
    (value) => value,
  ),
  $push: valueAccumulator<unknown[]>(
    () => [],
    (values, value) => {
      if (value !== undefined) values.push(value);
      return values;
    },
    (values) => values,
  ),
  $addToSet: valueAccumulator<Map<string, unknown>>(
    () => new Map(),
    (set, value) => {
      if (value !== undefined) {
        const key = keyString(value);
        if (!set.has(key)) set.set(key, value);
      }
      return set;
    },
    (set) => [...set.values()],
  ),
  $mergeObjects: valueAccumulator<Document>(
    () => ({}),
    (merged, value) => mergeDocuments(merged, value),
    (merged) => merged,
  ),
  $stdDevPop: standardDeviation(false),
  $stdDevSamp: standardDeviation(true),
  $count: (arg) => {
    if (!isPlainObject(arg) || Object.keys(arg).length > 0) {
      throw groupError(40434, '$count takes no arguments, i.e. $count:{}');
    }
    return ACCUMULATORS.$sum(1);
  },
  $firstN: nAccumulator('$firstN', (values, n) => values.slice(0, n)),
  $lastN: nAccumulator('$lastN', (values, n) => values.slice(Math.max(0, values.length - n))),
  $minN: nAccumulator('$minN', (values, n) => sortedNonNull(values, 1).slice(0, n)),
  $maxN: nAccumulator('$maxN', (values, n) => sortedNonNull(values, -1).slice(0, n)),
  $top: topBottom('$top', true, false),
  $bottom: topBottom('$bottom', false, false),
  $topN: topBottom('$topN', true, true),
  $bottomN: topBottom('$bottomN', false, true),
};

export interface AccumulatedField {
  field: string;
  create: () => Accumulator;
}

/** Parses `{field: {$acc: expr}}` entries of a $group-like spec (keys in `skip` are not fields). */
export function parseAccumulatedFields(spec: Document, skip: readonly string[] = []): AccumulatedField[] {
  const fields: AccumulatedField[] = [];
  for (const [field, value] of Object.entries(spec)) {
    if (skip.includes(field)) continue;
    if (field.includes('.')) throw groupError(40235, `The field name '${field}' cannot contain '.'`);
    if (field.startsWith('$'))
      throw groupError(40236, `The field name '${field}' cannot be an operator name`);
    if (!isPlainObject(value) || Object.keys(value).length !== 1) {
      throw groupError(40234, `The field '${field}' must be an accumulator object`);
    }
    const [operator] = Object.keys(value);
    const factory = ACCUMULATORS[operator];
    if (!factory) throw groupError(15952, `unknown group operator '${operator}'`);
    fields.push({ field, create: factory(value[operator]) });
  }
  return fields;
}

/** One group's accumulators, fed document by document. */
export class GroupState {
  private readonly accumulators: Accumulator[];

  constructor(
    readonly id: unknown,
    private readonly fields: AccumulatedField[],
  ) {
    this.accumulators = fields.map((field) => field.create());
  }

  add(doc: Document, variables: Document): void {
    for (const accumulator of this.accumulators) accumulator.add(doc, variables);
  }

  /** The output document: `_id` first (unless left out), then every accumulated field. */
  result(withId = true): Document {
    const doc: Document = withId ? { _id: this.id } : {};
    this.fields.forEach((field, i) => {
      const value = this.accumulators[i].result();
      if (value !== undefined) doc[field.field] = value;
    });
    return doc;
  }
}

/**
 * Group keys containing strings compare by the collation when there is one: they have no
 * canonical string key then, so those groups are kept sorted by their `_id` and found by bisection.
 */
class CollatedGroups {
  private readonly sorted: GroupState[] = [];

  constructor(private readonly collation: Collation) {}

  find(id: unknown): { group: GroupState | undefined; index: number } {
    let low = 0;
    let high = this.sorted.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const c = compareValues(this.sorted[middle].id, id, this.collation);
      if (c === 0) return { group: this.sorted[middle], index: middle };
      if (c < 0) low = middle + 1;
      else high = middle;
    }
    return { group: undefined, index: low };
  }

  insert(index: number, group: GroupState): void {
    this.sorted.splice(index, 0, group);
  }
}

export function compileGroupStage(
  spec: unknown,
  collation?: Collation,
): (input: Iterable<Document>, variables: Document) => Document[] {
  if (!isPlainObject(spec)) throw groupError(15947, "a group's fields must be specified in an object");
  if (!('_id' in spec)) throw groupError(15955, 'a group specification must include an _id');
  const fields = parseAccumulatedFields(spec, ['_id']);
  const idExpr = spec._id;
  return (input, variables) => {
    const groups = new Map<string, GroupState>();
    const collated = collation ? new CollatedGroups(collation) : undefined;
    const order: GroupState[] = [];
    for (const doc of input) {
      const evaluated = evaluateExpression(idExpr, doc, variables);
      const id = evaluated === undefined ? null : evaluated;
      let group: GroupState | undefined;
      if (collated && containsString(id)) {
        const found = collated.find(id);
        group = found.group;
        if (!group) {
          group = new GroupState(id, fields);
          collated.insert(found.index, group);
          order.push(group);
        }
      } else {
        const key = keyString(id);
        group = groups.get(key);
        if (!group) {
          group = new GroupState(id, fields);
          groups.set(key, group);
          order.push(group);
        }
      }
      group.add(doc, variables);
    }
    return order.map((group) => group.result());
  };
}
