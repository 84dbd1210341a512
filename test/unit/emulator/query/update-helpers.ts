// The update helpers shared by update.test.ts and arith.test.ts: updates applied to exact BSON
// forms, as the emulator stores them.
import { BSON, type Document } from 'bson';
import { exactDeserializeOptions } from '../../../../emulator/src/bson';
import { applyUpdate, bsonTypeName } from '../../../../emulator/src/query';

export function exact(doc: Document): Document {
  return BSON.deserialize(BSON.serialize(doc), exactDeserializeOptions);
}

/** Applies an update to exact forms and returns the stored (round-tripped) result. */
export function update(
  doc: Document,
  spec: Document,
  options: { arrayFilters?: Document[]; query?: Document } = {},
) {
  const result = applyUpdate(exact(doc), exact(spec), {
    isInsert: false,
    arrayFilters: options.arrayFilters?.map(exact),
    query: options.query && exact(options.query),
  });
  const stored = exact(result.doc);
  return { doc: stored, plain: BSON.deserialize(BSON.serialize(stored)), modified: result.modified };
}

export function typeOf(doc: Document, field: string): string {
  return bsonTypeName(doc[field]);
}

export function expectCode(fn: () => unknown, code: number, message?: string | RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toMatchObject({ code });
  if (message) expect((caught as Error).message).toMatch(message);
}
