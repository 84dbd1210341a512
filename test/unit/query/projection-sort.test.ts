import { BSON, Double, Int32, Long, MinKey, type Document } from 'bson';
import { exactDeserializeOptions } from '../../../emulator/src/bson';
import { bsonTypeName, compileProjection, compileSort } from '../../../emulator/src/query';

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

describe('compileSort', () => {
  const sortDocs = (spec: Document | undefined, docs: Document[]) => {
    const comparator = compileSort(spec && exact(spec));
    const stored = docs.map(exact);
    return (comparator ? [...stored].sort(comparator) : stored).map((d) => plain(d)._id);
  };

  it('returns undefined for no sort', () => {
    expect(compileSort(undefined)).toBeUndefined();
    expect(compileSort({})).toBeUndefined();
    expect(compileSort({ score: { $meta: 'textScore' } })).toBeUndefined();
  });

  it('sorts mixed numeric types by value and types by bracket', () => {
    const docs = [
      { _id: 'str', v: 'a' },
      { _id: 'long', v: new Long(3) },
      { _id: 'double', v: new Double(2.5) },
      { _id: 'missing' },
      { _id: 'int', v: new Int32(1) },
      { _id: 'min', v: new MinKey() },
    ];
    expect(sortDocs({ v: 1 }, docs)).toEqual(['min', 'missing', 'int', 'double', 'long', 'str']);
    expect(sortDocs({ v: -1 }, docs)).toEqual(['str', 'long', 'double', 'int', 'missing', 'min']);
  });

  it('uses the smallest array element ascending and the largest descending', () => {
    const docs = [
      { _id: 'a', v: [5, 1] },
      { _id: 'b', v: 3 },
      { _id: 'c', v: [2, 9] },
      { _id: 'empty', v: [] },
      { _id: 'null', v: null },
    ];
    expect(sortDocs({ v: 1 }, docs)).toEqual(['empty', 'null', 'a', 'c', 'b']);
    expect(sortDocs({ v: -1 }, docs)).toEqual(['c', 'a', 'b', 'null', 'empty']);
  });

  it('sorts by several keys and dotted paths', () => {
    const docs = [
      { _id: 1, k: 1, s: { t: 2 } },
      { _id: 2, k: 0, s: { t: 5 } },
      { _id: 3, k: 1, s: { t: 1 } },
    ];
    expect(sortDocs({ k: -1, 's.t': 1 }, docs)).toEqual([3, 1, 2]);
    expect(sortDocs({ 's.t': -1 }, docs)).toEqual([2, 1, 3]);
  });

  it('rejects invalid directions', () => {
    expectCode(() => compileSort({ a: 2 }), 15975);
    expectCode(() => compileSort({ a: 'up' }), 15974);
  });
});
