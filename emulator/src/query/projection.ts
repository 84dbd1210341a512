// find() projections: inclusion or exclusion trees over dotted paths (applied through arrays of
// documents), `_id` included unless excluded, `$slice`, `$elemMatch`, positional `.$`, and
// aggregation expressions as computed fields.
import type { Document } from 'bson';
import { CommandError, badValue } from '../errors';
import { isPlainDocument, toNumber } from './compare';
import { evaluateExpression } from './expression';
import { compileFilter, positionalMatchIndex, type Matcher } from './match';

type Action =
  | { kind: 'include' }
  | { kind: 'exclude' }
  | { kind: 'slice'; skip: number | undefined; limit: number }
  | { kind: 'elemMatch'; matcher: Matcher; field: string }
  | { kind: 'positional' }
  | { kind: 'expression'; expression: unknown };

interface ProjectionNode {
  action?: Action;
  children: Map<string, ProjectionNode>;
}

export type Projector = (doc: Document) => Document;

function newNode(): ProjectionNode {
  return { children: new Map() };
}

function pathCollision(path: string): CommandError {
  return new CommandError(31250, `Path collision at ${path}`);
}

function addAction(root: ProjectionNode, parts: string[], action: Action): void {
  let node = root;
  for (let i = 0; i < parts.length; i++) {
    if (node.action) throw pathCollision(parts.slice(0, i + 1).join('.'));
    let child = node.children.get(parts[i]);
    if (!child) {
      child = newNode();
      node.children.set(parts[i], child);
    }
    node = child;
  }
  if (node.action || node.children.size > 0) throw pathCollision(parts.join('.'));
  node.action = action;
}

function isBooleanLike(value: unknown): boolean {
  return typeof value === 'boolean' || toNumber(value) !== undefined;
}

function sliceAction(arg: unknown): Action {
  if (Array.isArray(arg)) {
    if (arg.length !== 2) throw badValue('$slice array argument must have exactly 2 elements');
    const skip = toNumber(arg[0]);
    const limit = toNumber(arg[1]);
    if (skip === undefined || limit === undefined) throw badValue('$slice array elements must be numbers');
    if (limit <= 0) throw badValue('$slice limit must be positive');
    return { kind: 'slice', skip: Math.trunc(skip), limit: Math.trunc(limit) };
  }
  const limit = toNumber(arg);
  if (limit === undefined) throw badValue('$slice only supports numbers and [skip, limit] arrays');
  return { kind: 'slice', skip: undefined, limit: Math.trunc(limit) };
}

interface ParseState {
  root: ProjectionNode;
  includes: string[];
  excludes: string[];
  idSpecified: boolean;
}

function parse(spec: Document, prefix: string[], state: ParseState): void {
  for (const key of Object.keys(spec)) {
    const value = spec[key];
    if (key.startsWith('$'))
      throw badValue(`FieldPath field names may not start with '$'. Consider using $getField or $setField.`);
    let parts = [...prefix, ...key.split('.')];
    const fullPath = parts.join('.');
    if (fullPath === '_id') state.idSpecified = true;
    if (parts[parts.length - 1] === '$') {
      parts = parts.slice(0, -1);
      state.includes.push(fullPath);
      addAction(state.root, parts, { kind: 'positional' });
      continue;
    }
    if (isBooleanLike(value)) {
      const include = typeof value === 'boolean' ? value : toNumber(value) !== 0;
      (include ? state.includes : state.excludes).push(fullPath);
      addAction(state.root, parts, { kind: include ? 'include' : 'exclude' });
      continue;
    }
    if (isPlainDocument(value)) {
      const operator = Object.keys(value)[0];
      if (operator === undefined) {
        throw new CommandError(
          51270,
          `An empty sub-projection is not a valid value. Found empty object at path`,
        );
      }
      if (operator === '$slice') {
        addAction(state.root, parts, sliceAction(value.$slice));
        continue;
      }
      if (operator === '$elemMatch') {
        if (parts.length > 1) throw badValue('Cannot use $elemMatch projection on a nested field.');
        if (!isPlainDocument(value.$elemMatch))
          throw badValue('elemMatch: Invalid argument, object required.');
        state.includes.push(fullPath);
        const matcher = compileFilter({ [key]: { $elemMatch: value.$elemMatch } });
        addAction(state.root, parts, { kind: 'elemMatch', matcher, field: key });
        continue;
      }
      if (operator === '$meta') continue;
      if (!operator.startsWith('$')) {
        parse(value, parts, state);
        continue;
      }
    }
    state.includes.push(fullPath);
    addAction(state.root, parts, { kind: 'expression', expression: value });
  }
}

function sliced(value: unknown, action: Extract<Action, { kind: 'slice' }>): unknown {
  if (!Array.isArray(value)) return value;
  if (action.skip === undefined) {
    return action.limit >= 0
      ? value.slice(0, action.limit)
      : value.slice(Math.max(0, value.length + action.limit));
  }
  const start =
    action.skip >= 0 ? Math.min(action.skip, value.length) : Math.max(0, value.length + action.skip);
  return value.slice(start, start + action.limit);
}

interface ApplyState {
  root: Document;
  query: Document | undefined;
}

function applyLeaf(
  action: Action,
  value: unknown,
  path: string,
  state: ApplyState,
  out: Document,
  key: string,
): void {
  switch (action.kind) {
    case 'include':
      out[key] = value;
      return;
    case 'slice':
      out[key] = sliced(value, action);
      return;
    case 'elemMatch': {
      if (!Array.isArray(value)) return;
      const element = value.find((e) => action.matcher({ [action.field]: [e] }));
      if (element !== undefined) out[key] = [element];
      return;
    }
    case 'positional': {
      if (!Array.isArray(value)) {
        out[key] = value;
        return;
      }
      const index = positionalMatchIndex(state.query, state.root, path);
      if (index === undefined || index >= value.length) {
        throw new CommandError(
          51246,
          "positional operator '.$' couldn't find a matching element in the array",
        );
      }
      out[key] = [value[index]];
      return;
    }
    default:
      return;
  }
}

function projectInclusive(doc: Document, node: ProjectionNode, prefix: string, state: ApplyState): Document {
  const out: Document = {};
  for (const key of Object.keys(doc)) {
    const child = node.children.get(key);
    if (!child) continue;
    const value = doc[key];
    const path = prefix ? `${prefix}.${key}` : key;
    if (child.action) {
      applyLeaf(child.action, value, path, state, out, key);
    } else if (isPlainDocument(value)) {
      out[key] = projectInclusive(value, child, path, state);
    } else if (Array.isArray(value)) {
      out[key] = inclusiveArray(value, child, path, state);
    }
  }
  return out;
}

function inclusiveArray(array: unknown[], node: ProjectionNode, path: string, state: ApplyState): unknown[] {
  const out: unknown[] = [];
  for (const element of array) {
    if (isPlainDocument(element)) out.push(projectInclusive(element, node, path, state));
    else if (Array.isArray(element)) out.push(inclusiveArray(element, node, path, state));
  }
  return out;
}

function projectExclusive(doc: Document, node: ProjectionNode): Document {
  const out: Document = {};
  for (const key of Object.keys(doc)) {
    const child = node.children.get(key);
    const value = doc[key];
    if (!child) {
      out[key] = value;
    } else if (child.action?.kind === 'slice') {
      out[key] = sliced(value, child.action);
    } else if (child.action) {
      continue;
    } else {
      out[key] = exclusiveValue(value, child);
    }
  }
  return out;
}

function exclusiveValue(value: unknown, node: ProjectionNode): unknown {
  if (isPlainDocument(value)) return projectExclusive(value, node);
  if (Array.isArray(value)) return value.map((element) => exclusiveValue(element, node));
  return value;
}

/** Computed fields, written after the inclusion pass in projection order. */
function collectExpressions(
  node: ProjectionNode,
  prefix: string[],
  found: { parts: string[]; expression: unknown }[],
): void {
  for (const [key, child] of node.children) {
    const parts = [...prefix, key];
    if (child.action?.kind === 'expression') found.push({ parts, expression: child.action.expression });
    else collectExpressions(child, parts, found);
  }
}

function writeComputed(out: Document, parts: string[], value: unknown): void {
  let container = out;
  for (let i = 0; i < parts.length - 1; i++) {
    const next = container[parts[i]];
    if (!isPlainDocument(next)) container[parts[i]] = {};
    container = container[parts[i]] as Document;
  }
  container[parts[parts.length - 1]] = value;
}

export function compileProjection(
  projection: Document | undefined,
  options: { query?: Document } = {},
): Projector {
  if (!projection || Object.keys(projection).length === 0) return (doc) => doc;
  const state: ParseState = { root: newNode(), includes: [], excludes: [], idSpecified: false };
  parse(projection, [], state);
  const includes = state.includes.filter((path) => path !== '_id');
  const excludes = state.excludes.filter((path) => path !== '_id');
  if (includes.length > 0 && excludes.length > 0) {
    throw new CommandError(31254, `Cannot do exclusion on field ${excludes[0]} in inclusion projection`);
  }
  const inclusive = includes.length > 0 || (state.excludes.length === 0 && state.includes.includes('_id'));
  const root = state.root;
  if (!inclusive) return (doc) => projectExclusive(doc, root);

  if (!state.idSpecified && !root.children.has('_id')) addAction(root, ['_id'], { kind: 'include' });
  const expressions: { parts: string[]; expression: unknown }[] = [];
  collectExpressions(root, [], expressions);
  const query = options.query;
  return (doc) => {
    const out = projectInclusive(doc, root, '', { root: doc, query });
    for (const { parts, expression } of expressions) {
      const value = evaluateExpression(expression, doc);
      if (value !== undefined) writeComputed(out, parts, value);
    }
    return out;
  };
}
