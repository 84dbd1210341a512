// Shared machinery of the expression evaluator: the evaluation scope (document, variables and the
// operator table), field-path resolution, argument helpers and MongoDB's error shapes.
import type { Document } from 'bson';
import { CommandError } from '../errors';
import { compareDecimalToZero, numericKind, toJsNumber } from './expr-numeric';
import { getField } from './paths';
import type { Decimal128 } from 'bson';

export type OperatorFn = (args: unknown, scope: Scope) => unknown;
export type OperatorTable = ReadonlyMap<string, OperatorFn>;

export function expressionError(code: number, message: string): CommandError {
  return new CommandError(code, message);
}

/** An embedded document: a plain object, not an array, Date, RegExp or BSON value class. */
export function isPlainObject(value: unknown): value is Document {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Missing (undefined), null, or BSON undefined. */
export function isNullish(value: unknown): boolean {
  return value === undefined || value === null;
}

/** MongoDB's truthiness: false, null, missing and numeric zero are false. */
export function isTruthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return false;
  const kind = numericKind(value);
  if (kind === 'decimal') return compareDecimalToZero(value as Decimal128) !== 0;
  if (kind !== undefined) return toJsNumber(value) !== 0;
  return true;
}

/** Field path resolution as aggregation does it: arrays map over their elements. */
export function resolveFieldPath(value: unknown, parts: readonly string[], start = 0): unknown {
  let current = value;
  for (let i = start; i < parts.length; i++) {
    if (Array.isArray(current)) return resolveArrayPath(current, parts, i);
    if (!isPlainObject(current)) return undefined;
    current = getField(current, parts[i]);
  }
  return current;
}

function resolveArrayPath(array: unknown[], parts: readonly string[], index: number): unknown[] {
  const results: unknown[] = [];
  for (const element of array) {
    if (Array.isArray(element)) {
      results.push(resolveArrayPath(element, parts, index));
    } else if (isPlainObject(element)) {
      const resolved = resolveFieldPath(getField(element, parts[index]), parts, index + 1);
      if (resolved !== undefined) results.push(resolved);
    }
  }
  return results;
}

const SYSTEM_VARIABLES = new Set([
  'ROOT',
  'CURRENT',
  'REMOVE',
  'NOW',
  'CLUSTER_TIME',
  'DESCEND',
  'PRUNE',
  'KEEP',
]);

export function validateVariableName(name: string): void {
  if (!/^[a-z\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*$/.test(name) && !SYSTEM_VARIABLES.has(name)) {
    throw expressionError(16867, `'${name}' starts with an invalid character for a user variable name`);
  }
}

export class Scope {
  constructor(
    readonly root: Document,
    readonly variables: Document,
    private readonly operators: OperatorTable,
  ) {}

  /** A scope with extra variables bound (for $let, $map, $filter, $reduce). */
  bind(bindings: Document): Scope {
    return new Scope(this.root, { ...this.variables, ...bindings }, this.operators);
  }

  get current(): unknown {
    return 'CURRENT' in this.variables ? this.variables.CURRENT : this.root;
  }

  evaluate(expr: unknown): unknown {
    if (typeof expr === 'string') return expr.startsWith('$') ? this.evaluatePath(expr) : expr;
    if (Array.isArray(expr)) return expr.map((element) => this.evaluate(element) ?? null);
    if (isPlainObject(expr)) return this.evaluateObject(expr);
    return expr;
  }

  private evaluatePath(path: string): unknown {
    if (!path.startsWith('$$')) {
      if (path.length === 1) throw expressionError(16872, "'$' by itself is not a valid FieldPath");
      return resolveFieldPath(this.current, path.slice(1).split('.'));
    }
    const [name, ...rest] = path.slice(2).split('.');
    return resolveFieldPath(this.variable(name), rest);
  }

  variable(name: string): unknown {
    switch (name) {
      case 'ROOT':
        return this.root;
      case 'CURRENT':
        return this.current;
      case 'REMOVE':
        return undefined;
      case 'NOW':
        return this.variables.NOW ?? new Date();
      case 'DESCEND':
      case 'PRUNE':
      case 'KEEP':
        return `$$${name}`;
      default:
        if (!(name in this.variables)) throw expressionError(17276, `Use of undefined variable: ${name}`);
        return this.variables[name];
    }
  }

  private evaluateObject(expr: Document): unknown {
    const keys = Object.keys(expr);
    if (keys.length > 1 && keys[0].startsWith('$')) {
      throw expressionError(
        15983,
        `an expression specification must contain exactly one field, the name of the expression. Found ${keys.length} fields in ${JSON.stringify(expr)}`,
      );
    }
    if (keys.length === 1 && keys[0].startsWith('$')) {
      const operator = this.operators.get(keys[0]);
      if (!operator) throw expressionError(168, `Unrecognized expression '${keys[0]}'`);
      return operator(expr[keys[0]], this);
    }
    const result: Document = {};
    for (const key of keys) {
      if (key.startsWith('$')) {
        throw expressionError(
          16410,
          `FieldPath field names may not start with '$'. Consider using $getField or $setField.`,
        );
      }
      const value = this.evaluate(expr[key]);
      if (value !== undefined) result[key] = value;
    }
    return result;
  }
}

/** The argument expressions of an operator: an array, or one non-array expression. */
export function operatorArgs(name: string, args: unknown, min: number, max = min): unknown[] {
  const list = Array.isArray(args) ? args : [args];
  if (list.length < min || list.length > max) {
    const expected =
      min === max ? `exactly ${min}` : max === Infinity ? `at least ${min}` : `between ${min} and ${max}`;
    throw expressionError(
      16020,
      `Expression ${name} takes ${expected} arguments. ${list.length} were passed in.`,
    );
  }
  return list;
}

/** Evaluated arguments of an operator. */
export function evaluatedArgs(name: string, args: unknown, scope: Scope, min: number, max = min): unknown[] {
  return operatorArgs(name, args, min, max).map((arg) => scope.evaluate(arg));
}

/** The named-argument object of operators such as $filter, checking unknown and required fields. */
export function namedArgs(
  name: string,
  args: unknown,
  allowed: readonly string[],
  required: readonly string[],
): Document {
  if (!isPlainObject(args)) throw expressionError(2, `${name} only supports an object as its argument`);
  for (const key of Object.keys(args)) {
    if (!allowed.includes(key)) throw expressionError(2, `Unrecognized parameter to ${name}: ${key}`);
  }
  for (const key of required) {
    if (!(key in args)) throw expressionError(2, `Missing '${key}' parameter to ${name}`);
  }
  return args;
}

export function operatorTable(...groups: Record<string, OperatorFn>[]): OperatorTable {
  return new Map(groups.flatMap((group) => Object.entries(group)));
}
