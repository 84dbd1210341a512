// Applying a `$v: 2` update diff (the `o` of an oplog update entry) to a document:
// `d` deletes fields, `u` sets them, `i` adds them (at the end), `s<field>` recurses into a
// sub-document or (with `a: true`) an array, where `l` resizes and `u<index>`/`s<index>` change
// elements.
import type { Document } from 'bson';
import { CommandError, ErrorCodes } from './errors';

function isObject(value: unknown): value is Document {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function badDiff(message: string): CommandError {
  return new CommandError(ErrorCodes.BadValue, `Invalid $v:2 diff: ${message}`);
}

function applyArrayDiff(input: unknown, diff: Document): unknown[] {
  if (!Array.isArray(input)) throw badDiff('array diff applied to a non-array');
  const out = [...input];
  if (diff.l !== undefined) {
    const length = Number(diff.l);
    if (!Number.isInteger(length) || length < 0) throw badDiff("bad array length 'l'");
    if (length < out.length) out.length = length;
    else while (out.length < length) out.push(null);
  }
  for (const [key, value] of Object.entries(diff)) {
    if (key === 'a' || key === 'l') continue;
    const index = Number(key.slice(1));
    if (!Number.isInteger(index) || index < 0) throw badDiff(`bad array field '${key}'`);
    while (out.length <= index) out.push(null);
    if (key[0] === 'u') out[index] = value;
    else if (key[0] === 's') out[index] = applySubDiff(out[index], value as Document);
    else throw badDiff(`bad array field '${key}'`);
  }
  return out;
}

function applySubDiff(input: unknown, diff: Document): unknown {
  if (!isObject(diff)) throw badDiff('sub-diff must be an object');
  return diff.a === true ? applyArrayDiff(input, diff) : applyObjectDiff(input, diff);
}

function applyObjectDiff(input: unknown, diff: Document): Document {
  if (!isObject(input)) throw badDiff('object diff applied to a non-object');
  const deleted = (diff.d as Document | undefined) ?? {};
  const updated = (diff.u as Document | undefined) ?? {};
  const inserted = (diff.i as Document | undefined) ?? {};
  const out: Document = {};
  for (const [key, value] of Object.entries(input)) {
    if (key in deleted || key in inserted) continue;
    if (key in updated) out[key] = updated[key];
    else if (`s${key}` in diff) out[key] = applySubDiff(value, diff[`s${key}`] as Document);
    else out[key] = value;
  }
  for (const [key, value] of Object.entries(updated)) if (!(key in out)) out[key] = value;
  for (const [key, value] of Object.entries(inserted)) out[key] = value;
  for (const key of Object.keys(diff)) {
    if (!['d', 'u', 'i'].includes(key) && !key.startsWith('s')) throw badDiff(`unknown section '${key}'`);
  }
  return out;
}

/** The document after applying a `$v: 2` diff. */
export function applyUpdateDiff(doc: Document, diff: Document): Document {
  return applyObjectDiff(doc, diff);
}
