// Comparison, boolean, conditional and variable-binding expression operators, plus the small
// miscellaneous ones ($literal, $rand, $bsonSize).
import { BSON, type Document } from 'bson';
import { compareValues } from './compare';
import {
  evaluatedArgs,
  expressionError,
  isNullish,
  isPlainObject,
  isTruthy,
  namedArgs,
  operatorArgs,
  validateVariableName,
  type OperatorFn,
} from './expr-core';
import { makeDouble, makeInt } from './expr-numeric';

/** Missing sorts before null here, as in mongod ({$lte: ['$x', null]} is true for missing x). */
function compareForExpression(left: unknown, right: unknown): number {
  return compareValues(left, right);
}

function comparison(name: string, test: (order: number) => boolean): OperatorFn {
  return (args, scope) => {
    const [left, right] = evaluatedArgs(name, args, scope, 2);
    return test(compareForExpression(left, right));
  };
}

const cond: OperatorFn = (args, scope) => {
  let ifExpr: unknown;
  let thenExpr: unknown;
  let elseExpr: unknown;
  if (isPlainObject(args)) {
    namedArgs('$cond', args, ['if', 'then', 'else'], []);
    for (const key of ['if', 'then', 'else']) {
      if (!(key in args)) throw expressionError(17080, `Missing '${key}' parameter to $cond`);
    }
    ({ if: ifExpr, then: thenExpr, else: elseExpr } = args);
  } else {
    [ifExpr, thenExpr, elseExpr] = operatorArgs('$cond', args, 3);
  }
  return isTruthy(scope.evaluate(ifExpr)) ? scope.evaluate(thenExpr) : scope.evaluate(elseExpr);
};

const ifNull: OperatorFn = (args, scope) => {
  const list = operatorArgs('$ifNull', args, 2, Infinity);
  for (let i = 0; i < list.length - 1; i++) {
    const value = scope.evaluate(list[i]);
    if (!isNullish(value)) return value;
  }
  return scope.evaluate(list[list.length - 1]);
};

const switchOperator: OperatorFn = (args, scope) => {
  const spec = namedArgs('$switch', args, ['branches', 'default'], []);
  if (!Array.isArray(spec.branches)) throw expressionError(40061, "$switch expected an array for 'branches'");
  for (const branch of spec.branches) {
    if (!isPlainObject(branch) || !('case' in branch) || !('then' in branch)) {
      throw expressionError(
        40064,
        "$switch requires each branch have a 'case' expression and a 'then' expression",
      );
    }
    if (isTruthy(scope.evaluate(branch.case))) return scope.evaluate(branch.then);
  }
  if (!('default' in spec)) {
    throw expressionError(
      40066,
      '$switch could not find a matching branch for an input, and no default was specified.',
    );
  }
  return scope.evaluate(spec.default);
};

const letOperator: OperatorFn = (args, scope) => {
  const spec = namedArgs('$let', args, ['vars', 'in'], ['vars', 'in']);
  if (!isPlainObject(spec.vars)) throw expressionError(16866, 'invalid parameter: expected an object (vars)');
  const bindings: Document = {};
  for (const [name, expr] of Object.entries(spec.vars)) {
    validateVariableName(name);
    bindings[name] = scope.evaluate(expr);
  }
  return scope.bind(bindings).evaluate(spec.in);
};

const bsonSize: OperatorFn = (args, scope) => {
  const [value] = evaluatedArgs('$bsonSize', args, scope, 1);
  if (isNullish(value)) return null;
  if (!isPlainObject(value))
    throw expressionError(31393, `$bsonSize requires a document input, found: ${typeof value}`);
  return makeInt(BSON.calculateObjectSize(value, { ignoreUndefined: false }));
};

export const logicOperators: Record<string, OperatorFn> = {
  $eq: comparison('$eq', (order) => order === 0),
  $ne: comparison('$ne', (order) => order !== 0),
  $gt: comparison('$gt', (order) => order > 0),
  $gte: comparison('$gte', (order) => order >= 0),
  $lt: comparison('$lt', (order) => order < 0),
  $lte: comparison('$lte', (order) => order <= 0),
  $cmp: (args, scope) => {
    const [left, right] = evaluatedArgs('$cmp', args, scope, 2);
    return makeInt(Math.sign(compareForExpression(left, right)));
  },
  $and: (args, scope) =>
    operatorArgs('$and', args, 0, Infinity).every((arg) => isTruthy(scope.evaluate(arg))),
  $or: (args, scope) => operatorArgs('$or', args, 0, Infinity).some((arg) => isTruthy(scope.evaluate(arg))),
  $not: (args, scope) => !isTruthy(evaluatedArgs('$not', args, scope, 1)[0]),
  $cond: cond,
  $ifNull: ifNull,
  $switch: switchOperator,
  $let: letOperator,
  $literal: (args) => args,
  $rand: (args) => {
    if (!isPlainObject(args) || Object.keys(args).length > 0) {
      throw expressionError(3040500, '$rand not expecting any arguments');
    }
    return makeDouble(Math.random());
  },
  $bsonSize: bsonSize,
};
