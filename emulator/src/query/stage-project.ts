// $project, $addFields/$set and $unset: a spec is parsed into a tree of field nodes (include,
// exclude, computed expression, nested) and applied to each document the way mongod does:
// inclusion keeps input field order and appends computed fields in spec order.
import type { Document } from 'bson';
import { CommandError } from '../errors';
import { isPlainObject } from './expr-core';
import { evaluateExpression } from './expression';
import { isNumeric, toJsNumber } from './expr-numeric';
import { getField } from './paths';

type FieldNode =
  | { kind: 'include' }
  | { kind: 'exclude' }
  | { kind: 'computed'; expr: unknown }
  | { kind: 'nested'; children: Map<string, FieldNode> };

type NestedNode = Extract<FieldNode, { kind: 'nested' }>;

export type DocumentTransform = (doc: Document, variables: Document) => Document;

function projectError(stage: string, code: number, message: string): CommandError {
  return new CommandError(code, `Invalid ${stage} :: caused by :: ${message}`);
}

function isOperatorObject(value: Document): boolean {
  const keys = Object.keys(value);
  return keys.length > 0 && keys[0].startsWith('$');
}

/** Parses a spec into a nested-node tree; `flags` says whether 0/1/true/false mean exclude/include. */
function parseSpec(stage: string, spec: Document, flags: boolean): NestedNode {
  const root: NestedNode = { kind: 'nested', children: new Map() };
  const add = (parent: NestedNode, path: string, value: unknown) => {
    if (path === '') throw projectError(stage, 40352, 'FieldPath cannot be constructed with empty string');
    if (path.startsWith('$')) {
      throw projectError(
        stage,
        16410,
        `FieldPath field names may not start with '$'. Consider using $getField or $setField.`,
      );
    }
    const parts = path.split('.');
    let node = parent;
    for (const part of parts.slice(0, -1)) {
      if (part === '') throw projectError(stage, 15998, 'FieldPath field names may not be empty strings.');
      const existing = node.children.get(part);
      if (existing && existing.kind !== 'nested')
        throw projectError(stage, 31250, `Path collision at ${path}`);
      if (!existing) node.children.set(part, { kind: 'nested', children: new Map() });
      node = node.children.get(part) as NestedNode;
    }
    const leaf = parts[parts.length - 1];
    if (node.children.has(leaf)) throw projectError(stage, 31250, `Path collision at ${path}`);
    if (isPlainObject(value) && !isOperatorObject(value) && (flags || Object.keys(value).length > 0)) {
      if (Object.keys(value).length === 0) {
        throw projectError(
          stage,
          51270,
          `An empty sub-projection is not a valid value. Found empty object at path`,
        );
      }
      const nested: NestedNode = { kind: 'nested', children: new Map() };
      node.children.set(leaf, nested);
      for (const [key, child] of Object.entries(value)) add(nested, key, child);
    } else if (flags && (typeof value === 'boolean' || isNumeric(value))) {
      const included = typeof value === 'boolean' ? value : toJsNumber(value) !== 0;
      node.children.set(leaf, { kind: included ? 'include' : 'exclude' });
    } else {
      node.children.set(leaf, { kind: 'computed', expr: value });
    }
  };
  for (const [path, value] of Object.entries(spec)) add(root, path, value);
  return root;
}

function hasKind(node: FieldNode, kind: FieldNode['kind']): boolean {
  if (node.kind === kind) return true;
  return node.kind === 'nested' && [...node.children.values()].some((child) => hasKind(child, kind));
}

function firstPathOf(node: NestedNode, kind: FieldNode['kind'], prefix = ''): string | undefined {
  for (const [name, child] of node.children) {
    const path = prefix ? `${prefix}.${name}` : name;
    if (child.kind === kind) return path;
    if (child.kind === 'nested') {
      const found = firstPathOf(child, kind, path);
      if (found) return found;
    }
  }
  return undefined;
}

function firstFlagKind(node: NestedNode): 'include' | 'exclude' | undefined {
  for (const child of node.children.values()) {
    if (child.kind === 'include' || child.kind === 'exclude') return child.kind;
    if (child.kind === 'nested') {
      const found = firstFlagKind(child);
      if (found) return found;
    }
  }
  return undefined;
}

// ---- inclusion ----

function includeValue(value: unknown, node: NestedNode, root: Document, variables: Document): unknown {
  if (Array.isArray(value)) {
    return value
      .map((element) =>
        isPlainObject(element) || Array.isArray(element)
          ? includeValue(element, node, root, variables)
          : hasKind(node, 'computed')
            ? includeDocument({}, node, root, variables)
            : undefined,
      )
      .filter((element) => element !== undefined);
  }
  if (isPlainObject(value)) return includeDocument(value, node, root, variables);
  return hasKind(node, 'computed') ? includeDocument({}, node, root, variables) : undefined;
}

function includeDocument(doc: Document, node: NestedNode, root: Document, variables: Document): Document {
  const result: Document = {};
  for (const key of Object.keys(doc)) {
    const child = node.children.get(key);
    if (!child) continue;
    const value = getField(doc, key);
    if (child.kind === 'include' && value !== undefined) result[key] = value;
    else if (child.kind === 'nested' && value !== undefined) {
      const projected = includeValue(value, child, root, variables);
      if (projected !== undefined) result[key] = projected;
    }
  }
  for (const [key, child] of node.children) {
    if (child.kind === 'computed') {
      const value = evaluateExpression(child.expr, root, variables);
      if (value === undefined) delete result[key];
      else result[key] = value;
    } else if (child.kind === 'nested' && !(key in result) && hasKind(child, 'computed')) {
      result[key] = includeDocument({}, child, root, variables);
    }
  }
  return result;
}

// ---- exclusion ----

function excludeValue(value: unknown, node: NestedNode): unknown {
  if (Array.isArray(value)) return value.map((element) => excludeValue(element, node));
  if (isPlainObject(value)) return excludeDocument(value, node);
  return value;
}

function excludeDocument(doc: Document, node: NestedNode): Document {
  const result: Document = {};
  for (const key of Object.keys(doc)) {
    const child = node.children.get(key);
    const value = getField(doc, key);
    if (child?.kind === 'exclude') continue;
    result[key] = child?.kind === 'nested' ? excludeValue(value, child) : value;
  }
  return result;
}

// ---- $addFields ----

function addFieldsValue(value: unknown, node: NestedNode, root: Document, variables: Document): unknown {
  if (Array.isArray(value)) return value.map((element) => addFieldsValue(element, node, root, variables));
  return addFieldsDocument(isPlainObject(value) ? value : {}, node, root, variables);
}

function addFieldsDocument(doc: Document, node: NestedNode, root: Document, variables: Document): Document {
  const result: Document = { ...doc };
  for (const [key, child] of node.children) {
    const value =
      child.kind === 'computed'
        ? evaluateExpression(child.expr, root, variables)
        : addFieldsValue(getField(doc, key), child as NestedNode, root, variables);
    if (value === undefined) delete result[key];
    else result[key] = value;
  }
  return result;
}

export function compileProjectStage(spec: unknown): DocumentTransform {
  if (!isPlainObject(spec)) throw new CommandError(15969, '$project specification must be an object');
  if (Object.keys(spec).length === 0) {
    throw projectError('$project', 51272, 'projection specification must have at least one field');
  }
  const tree = parseSpec('$project', spec, true);
  const idNode = tree.children.get('_id');
  const withoutId: NestedNode = { kind: 'nested', children: new Map(tree.children) };
  withoutId.children.delete('_id');
  // The first include/exclude flag decides the projection's kind, as in mongod's error messages.
  const firstFlag = firstFlagKind(withoutId);
  const excluding =
    firstFlag === 'exclude' ||
    (firstFlag === undefined && !hasKind(tree, 'computed') && idNode?.kind === 'exclude');
  if (excluding) {
    const included = firstPathOf(withoutId, 'include');
    if (included)
      throw projectError(
        '$project',
        31253,
        `Cannot do inclusion on field ${included} in exclusion projection`,
      );
    if (hasKind(tree, 'computed')) {
      throw projectError('$project', 31252, 'Cannot use expression other than $meta in exclusion projection');
    }
    return (doc) => excludeDocument(doc, tree);
  }
  const excluded = firstPathOf(withoutId, 'exclude');
  if (excluded)
    throw projectError('$project', 31254, `Cannot do exclusion on field ${excluded} in inclusion projection`);
  if (!idNode) {
    // _id is kept unless excluded; put it first so it keeps its usual position.
    tree.children = new Map([['_id', { kind: 'include' } as FieldNode], ...tree.children]);
  } else if (idNode.kind === 'exclude') {
    tree.children.delete('_id');
  }
  return (doc, variables) => {
    const projected = includeDocument(doc, tree, doc, variables);
    // _id leads the output even when it is computed.
    return '_id' in projected ? { _id: projected._id, ...projected } : projected;
  };
}

export function compileAddFieldsStage(stage: string, spec: unknown): DocumentTransform {
  if (!isPlainObject(spec))
    throw new CommandError(40272, `${stage} specification stage must be an object, got ${typeof spec}`);
  const tree = parseSpec(stage, spec, false);
  return (doc, variables) => (tree.children.size === 0 ? doc : addFieldsDocument(doc, tree, doc, variables));
}

export function compileUnsetStage(spec: unknown): DocumentTransform {
  const paths = typeof spec === 'string' ? [spec] : spec;
  if (!Array.isArray(paths) || paths.length === 0 || paths.some((path) => typeof path !== 'string')) {
    throw new CommandError(
      31002,
      '$unset specification must be a string or an array containing only string values',
    );
  }
  const tree = parseSpec('$unset', Object.fromEntries(paths.map((path: string) => [path, 0])), true);
  return (doc) => excludeDocument(doc, tree);
}
