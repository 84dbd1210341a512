import { BSON, Double, type Document } from 'bson';
import { exactDeserializeOptions } from '../../../../emulator/src/bson';
import { bsonTypeName, compileProjection } from '../../../../emulator/src/query';

function exact(doc: Document): Document {
  return BSON.deserialize(BSON.serialize(doc), exactDeserializeOptions);
}

function plain(doc: Document): Document {
  return BSON.deserialize(BSON.serialize(doc));
}

function project(projection: Document, doc: Document, query?: Document): Document {
  return plain(compileProjection(exact(projection), { query: query && exact(query) })(exact(doc)));
}

function expectCode(fn: () => unknown, code: number): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toMatchObject({ code });
}

describe('compileProjection', () => {
  const doc = { _id: 1, a: 1, b: { c: 2, d: 3 }, e: [{ f: 1, g: 2 }, { f: 3 }, 7], h: [1, 2, 3, 4, 5] };

  it('returns documents unchanged without a projection', () => {
    const stored = exact(doc);
    expect(compileProjection(undefined)(stored)).toBe(stored);
    expect(compileProjection({})(stored)).toBe(stored);
  });

  it('includes fields in document order, with _id unless excluded', () => {
    expect(project({ b: 1, a: 1 }, doc)).toEqual({ _id: 1, a: 1, b: { c: 2, d: 3 } });
    expect(project({ a: 1, _id: 0 }, doc)).toEqual({ a: 1 });
    expect(project({ _id: 1 }, doc)).toEqual({ _id: 1 });
    expect(project({ zz: 1 }, doc)).toEqual({ _id: 1 });
  });

  it('includes dotted paths, through arrays of documents', () => {
    expect(project({ 'b.c': 1 }, doc)).toEqual({ _id: 1, b: { c: 2 } });
    expect(project({ 'e.f': 1 }, doc)).toEqual({ _id: 1, e: [{ f: 1 }, { f: 3 }] });
    expect(project({ b: { d: 1 } }, doc)).toEqual({ _id: 1, b: { d: 3 } });
  });

  it('excludes fields and dotted paths', () => {
    expect(project({ a: 0, 'b.c': 0, 'e.g': 0, h: 0 }, doc)).toEqual({
      _id: 1,
      b: { d: 3 },
      e: [{ f: 1 }, { f: 3 }, 7],
    });
    expect(project({ _id: 0 }, { _id: 1, a: 1 })).toEqual({ a: 1 });
  });

  it('keeps exact value types', () => {
    const out = compileProjection({ d: 1 })(exact({ _id: 1, d: new Double(2) }));
    expect(bsonTypeName(out.d)).toBe('double');
  });

  it('rejects mixing inclusion and exclusion, and path collisions', () => {
    expectCode(() => compileProjection({ a: 1, b: 0 }), 31254);
    expectCode(() => compileProjection({ a: 1, 'a.b': 1 }), 31250);
  });

  it('$slice by count and by [skip, limit]', () => {
    expect(project({ h: { $slice: 2 } }, doc).h).toEqual([1, 2]);
    expect(project({ h: { $slice: -2 } }, doc).h).toEqual([4, 5]);
    expect(project({ h: { $slice: [1, 2] } }, doc).h).toEqual([2, 3]);
    expect(project({ h: { $slice: [-2, 5] } }, doc).h).toEqual([4, 5]);
    expect(Object.keys(project({ h: { $slice: 1 } }, doc))).toEqual(['_id', 'a', 'b', 'e', 'h']);
    expect(project({ a: 1, h: { $slice: 1 } }, doc)).toEqual({ _id: 1, a: 1, h: [1] });
  });

  it('$elemMatch returns the first matching element', () => {
    expect(project({ e: { $elemMatch: { f: 3 } } }, doc)).toEqual({ _id: 1, e: [{ f: 3 }] });
    expect(project({ e: { $elemMatch: { f: 9 } } }, doc)).toEqual({ _id: 1 });
  });

  it('positional .$ returns the element the query matched', () => {
    expect(project({ 'h.$': 1 }, doc, { h: { $gt: 3 } })).toEqual({ _id: 1, h: [4] });
    expect(project({ 'e.$': 1 }, doc, { 'e.f': 3 })).toEqual({ _id: 1, e: [{ f: 3 }] });
  });

  it('evaluates expressions as computed fields', () => {
    expect(project({ a: 1, sum: { $add: ['$a', '$b.c'] }, lit: { $literal: 'x' } }, doc)).toEqual({
      _id: 1,
      a: 1,
      sum: 3,
      lit: 'x',
    });
  });
});
