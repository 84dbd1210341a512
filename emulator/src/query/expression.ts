// MongoDB aggregation expressions evaluated directly over exact BSON values (Int32, Double, Long,
// Decimal128 wrappers stay what they are; results get MongoDB's types).
import type { Document } from 'bson';
import { arithmeticOperators } from './expr-arith';
import { arrayOperators } from './expr-array';
import { operatorTable, Scope } from './expr-core';
import { dateOperators } from './expr-date';
import { logicOperators } from './expr-logic';
import { objectOperators } from './expr-object';
import { stringOperators } from './expr-string';
import { typeOperators } from './expr-type';

export { isTruthy } from './expr-core';

const OPERATORS = operatorTable(
  arithmeticOperators,
  logicOperators,
  stringOperators,
  arrayOperators,
  objectOperators,
  typeOperators,
  dateOperators,
);

/** Whether `name` is a known expression operator such as `$add`. */
export function isExpressionOperator(name: string): boolean {
  return OPERATORS.has(name);
}

/**
 * Evaluates an aggregation expression against `root` (also `$$CURRENT` unless `variables`
 * binds CURRENT). `variables` holds `let` variables and system ones such as NOW, without `$$`.
 * Returns undefined for a missing value.
 */
export function evaluateExpression(expr: unknown, root: Document, variables: Document = {}): unknown {
  return new Scope(root, variables, OPERATORS).evaluate(expr);
}

/** A command's `let` document: each value is an expression, evaluated once (no current document). */
export function evaluateLet(spec: Document | undefined): Document | undefined {
  if (!spec) return undefined;
  const variables: Document = {};
  for (const [name, value] of Object.entries(spec)) variables[name] = evaluateExpression(value, {}, {});
  return variables;
}
