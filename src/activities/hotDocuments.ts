import { BSONRegExp, EJSON } from 'bson';

/**
 * mongosync's `--hotDocIDs`: `_id`s of documents the source updates very often (counters,
 * sequence documents). Their events get a lane of their own, so a hot document's long run of
 * ordered writes holds up no other document's, and a full-document event (insert, replace,
 * delete) supersedes that document's events still waiting in the lane.
 *
 * An `_id` matches in every namespace. Numbers match whatever numeric type the source stores
 * (42, 42.0 and NumberLong(42) are one `_id` to MongoDB too).
 */
export class HotDocuments {
  private readonly keys: ReadonlySet<string>;

  /** `ids`: Extended JSON of each `_id`, as `parseHotDocId` returns them. */
  constructor(ids: readonly string[] = []) {
    this.keys = new Set(
      ids.map((id) => matchKey((EJSON.parse(`{"v":${id}}`, { relaxed: false }) as { v: unknown }).v)),
    );
  }

  get size(): number {
    return this.keys.size;
  }

  /** Whether an event's document key names a hot document. */
  matches(documentKey: { _id?: unknown }): boolean {
    return this.keys.size > 0 && '_id' in documentKey && this.keys.has(matchKey(documentKey._id));
  }
}

/** Relaxed Extended JSON writes every number as a plain number, so numeric types compare equal. */
function matchKey(id: unknown): string {
  return EJSON.stringify({ v: id }, { relaxed: true });
}

/**
 * A `--hotDocIDs` value as canonical Extended JSON. The value is Extended JSON of the `_id`
 * (`'{"$oid":"…"}'`, `42`, `'"counter"'`); text that is not JSON is taken as a string `_id`.
 * From a YAML file the value may also be a number or a mapping such as `{$oid: …}`.
 */
export function parseHotDocId(value: unknown): string {
  const id =
    typeof value === 'string' ? idFromText(value) : EJSON.deserialize({ v: value }, { relaxed: false }).v;
  const rejected = `not a document _id: ${JSON.stringify(value)}`;
  if (id === undefined || Array.isArray(id)) throw new Error(`${rejected} (an _id cannot be an array)`);
  if (id instanceof RegExp || id instanceof BSONRegExp)
    throw new Error(`${rejected} (an _id cannot be a regex)`);
  if (
    typeof id === 'object' &&
    id !== null &&
    isPlainObject(id) &&
    Object.keys(id).some((k) => k.startsWith('$'))
  )
    throw new Error(`${rejected} (an unknown Extended JSON type)`);
  return EJSON.stringify({ v: id }, { relaxed: false }).slice('{"v":'.length, -1);
}

/** JSON text is read as Extended JSON; anything else is a string `_id`. */
function idFromText(text: string): unknown {
  try {
    JSON.parse(text);
  } catch {
    return text;
  }
  return (EJSON.parse(`{"v":${text}}`, { relaxed: false }) as { v: unknown }).v;
}

function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}
