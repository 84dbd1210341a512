import { BSONRegExp, Double, Int32, Timestamp } from 'bson';
import {
  applyReplacement,
  applyUpdate,
  bsonTypeName,
  isOperatorUpdate,
  upsertSeedFromQuery,
  validateStorableDocument,
} from '../../../../emulator/src/query';
import { exact, update, typeOf, expectCode } from './update-helpers';

describe('isOperatorUpdate', () => {
  it('tells operator updates from replacements and pipelines', () => {
    expect(isOperatorUpdate({ $set: { a: 1 } })).toBe(true);
    expect(isOperatorUpdate({ a: 1 })).toBe(false);
    expect(isOperatorUpdate({})).toBe(false);
    expect(isOperatorUpdate([{ $set: { a: 1 } }])).toBe(false);
  });
});

describe('$set, $unset and paths', () => {
  it('keeps existing field positions and appends new fields in name order', () => {
    const { doc } = update({ _id: 1, b: 1, a: 1 }, { $set: { z: 1, c: 1, a: 2 } });
    expect(Object.keys(doc)).toEqual(['_id', 'b', 'a', 'c', 'z']);
  });

  it('creates intermediate documents and pads arrays with null', () => {
    expect(update({ _id: 1 }, { $set: { 'a.b.c': 1 } }).plain).toEqual({ _id: 1, a: { b: { c: 1 } } });
    expect(update({ _id: 1, a: [1] }, { $set: { 'a.3': 9 } }).plain.a).toEqual([1, null, null, 9]);
    expect(update({ _id: 1, a: [{ b: 1 }] }, { $set: { 'a.0.c': 2 } }).plain.a).toEqual([{ b: 1, c: 2 }]);
  });

  it('reports paths through scalars and arrays as PathNotViable', () => {
    expectCode(
      () => update({ _id: 1, a: 5 }, { $set: { 'a.b': 1 } }),
      28,
      "Cannot create field 'b' in element {a: 5}",
    );
    expectCode(() => update({ _id: 1, a: [1] }, { $set: { 'a.b': 1 } }), 28);
  });

  it('reports a no-op as unmodified, but a type change as modified', () => {
    expect(update({ _id: 1, a: new Int32(1) }, { $set: { a: new Int32(1) } }).modified).toBe(false);
    const changed = update({ _id: 1, a: new Int32(1) }, { $set: { a: new Double(1) } });
    expect(changed.modified).toBe(true);
    expect(typeOf(changed.doc, 'a')).toBe('double');
    expect(update({ _id: 1 }, { $unset: { a: '' } }).modified).toBe(false);
  });

  it('$unset removes fields and nulls array elements', () => {
    expect(update({ _id: 1, a: 1, b: { c: 1, d: 2 } }, { $unset: { a: 1, 'b.c': 1 } }).plain).toEqual({
      _id: 1,
      b: { d: 2 },
    });
    expect(update({ _id: 1, a: [1, 2] }, { $unset: { 'a.0': 1 } }).plain.a).toEqual([null, 2]);
  });

  it('rejects conflicting paths, unknown modifiers and dollar fields', () => {
    expectCode(() => update({ _id: 1 }, { $set: { a: 1 }, $inc: { 'a.b': 1 } }), 40, /conflict at 'a'/);
    expectCode(() => update({ _id: 1 }, { $set: { a: 1 }, $unset: { a: 1 } }), 40);
    expectCode(() => update({ _id: 1 }, { $foo: { a: 1 } }), 9, /Unknown modifier: \$foo/);
    expectCode(() => update({ _id: 1 }, { $set: 1 }), 9);
    expectCode(() => update({ _id: 1 }, { $set: { $a: 1 } }), 52);
    expectCode(() => update({ _id: 1 }, { $set: { 'a..b': 1 } }), 56);
  });

  it('keeps _id immutable', () => {
    expectCode(() => update({ _id: 1 }, { $set: { _id: 2 } }), 66, /immutable field '_id'/);
    expectCode(() => update({ _id: { x: 1 } }, { $set: { '_id.x': 2 } }), 66);
    expect(update({ _id: 1, a: 1 }, { $set: { _id: 1, a: 2 } }).plain).toEqual({ _id: 1, a: 2 });
  });
});

describe('$min and $max', () => {
  it('$min and $max compare across types', () => {
    const { doc } = update(
      { _id: 1, a: new Int32(5), b: new Int32(5) },
      { $min: { a: new Double(2) }, $max: { b: 'x', c: 1 } },
    );
    expect(typeOf(doc, 'a')).toBe('double');
    expect(doc.b).toBe('x');
    expect(doc.c).toEqual(new Int32(1));
    expect(update({ _id: 1, a: new Int32(5) }, { $min: { a: new Int32(9) } }).modified).toBe(false);
  });
});

describe('$rename, $setOnInsert, $currentDate', () => {
  it('$rename moves values', () => {
    const { plain } = update({ _id: 1, a: 1, b: { c: 2 } }, { $rename: { a: 'x', 'b.c': 'b.d' } });
    expect(plain).toEqual({ _id: 1, b: { d: 2 }, x: 1 });
    expect(update({ _id: 1 }, { $rename: { a: 'b' } }).modified).toBe(false);
    expectCode(() => update({ _id: 1 }, { $rename: { a: 'a' } }), 2);
    expectCode(() => update({ _id: 1 }, { $rename: { a: 'a.b' } }), 2);
    expectCode(() => update({ _id: 1, a: [{ b: 1 }] }, { $rename: { 'a.0.b': 'c' } }), 2);
  });

  it('$setOnInsert applies only on insert', () => {
    expect(update({ _id: 1 }, { $setOnInsert: { a: 1 } }).modified).toBe(false);
    const inserted = applyUpdate({ a: 1 }, { $setOnInsert: { b: 2 }, $set: { _id: 5 } }, { isInsert: true });
    expect(Object.keys(inserted.doc)).toEqual(['_id', 'a', 'b']);
  });

  it('$currentDate sets a date or a timestamp', () => {
    const { doc } = update({ _id: 1 }, { $currentDate: { d: true, t: { $type: 'timestamp' } } });
    expect(doc.d).toBeInstanceOf(Date);
    expect(doc.t).toBeInstanceOf(Timestamp);
    expectCode(() => update({ _id: 1 }, { $currentDate: { d: { $type: 'x' } } }), 2);
  });
});

describe('array operators', () => {
  it('$push with $each, $position, $sort and $slice', () => {
    expect(update({ _id: 1, a: [1] }, { $push: { a: 2 } }).plain.a).toEqual([1, 2]);
    expect(update({ _id: 1 }, { $push: { a: [1] } }).plain.a).toEqual([[1]]);
    expect(update({ _id: 1, a: [1, 4] }, { $push: { a: { $each: [2, 3], $position: 1 } } }).plain.a).toEqual([
      1, 2, 3, 4,
    ]);
    expect(
      update({ _id: 1, a: [5, 1] }, { $push: { a: { $each: [3], $sort: -1, $slice: 2 } } }).plain.a,
    ).toEqual([5, 3]);
    expect(
      update(
        { _id: 1, a: [{ s: 2 }, { s: 9 }] },
        { $push: { a: { $each: [{ s: 5 }], $sort: { s: 1 }, $slice: -2 } } },
      ).plain.a,
    ).toEqual([{ s: 5 }, { s: 9 }]);
    expectCode(() => update({ _id: 1, a: 1 }, { $push: { a: 2 } }), 2, /must be an array/);
    expectCode(() => update({ _id: 1 }, { $push: { a: { $each: 1 } } }), 2);
  });

  it('$addToSet adds only missing values (numerically equal counts as present)', () => {
    expect(update({ _id: 1, a: [new Int32(1)] }, { $addToSet: { a: new Double(1) } }).modified).toBe(false);
    expect(update({ _id: 1, a: [1] }, { $addToSet: { a: { $each: [1, 2, 2, 3] } } }).plain.a).toEqual([
      1, 2, 3,
    ]);
    expectCode(() => update({ _id: 1, a: 1 }, { $addToSet: { a: 2 } }), 2);
  });

  it('$pop removes from either end', () => {
    expect(update({ _id: 1, a: [1, 2, 3] }, { $pop: { a: 1 } }).plain.a).toEqual([1, 2]);
    expect(update({ _id: 1, a: [1, 2, 3] }, { $pop: { a: -1 } }).plain.a).toEqual([2, 3]);
    expect(update({ _id: 1, a: [] }, { $pop: { a: 1 } }).modified).toBe(false);
    expectCode(() => update({ _id: 1, a: 1 }, { $pop: { a: 1 } }), 14);
    expectCode(() => update({ _id: 1 }, { $pop: { a: 2 } }), 2);
  });

  it('$pull with values, conditions and documents; $pullAll', () => {
    expect(update({ _id: 1, a: [1, 2, 3, 2] }, { $pull: { a: 2 } }).plain.a).toEqual([1, 3]);
    expect(update({ _id: 1, a: [1, 5, 7] }, { $pull: { a: { $gte: 5 } } }).plain.a).toEqual([1]);
    expect(update({ _id: 1, a: [{ x: 1, y: 1 }, { x: 2 }] }, { $pull: { a: { x: 1 } } }).plain.a).toEqual([
      { x: 2 },
    ]);
    expect(update({ _id: 1, a: ['ab', 'cd'] }, { $pull: { a: new BSONRegExp('^a') } }).plain.a).toEqual([
      'cd',
    ]);
    expect(update({ _id: 1, a: [1, 2, 3] }, { $pullAll: { a: [new Double(1), 3] } }).plain.a).toEqual([2]);
    expect(update({ _id: 1, a: [1] }, { $pull: { a: 5 } }).modified).toBe(false);
  });
});

describe('positional updates', () => {
  it('$ uses the element the query matched', () => {
    const result = update(
      { _id: 1, a: [{ b: 1 }, { b: 2 }] },
      { $set: { 'a.$.c': 9 } },
      { query: { 'a.b': 2 } },
    );
    expect(result.plain.a).toEqual([{ b: 1 }, { b: 2, c: 9 }]);
    const scalar = update({ _id: 1, a: [4, 5, 6] }, { $inc: { 'a.$': 10 } }, { query: { a: 5 } });
    expect(scalar.plain.a).toEqual([4, 15, 6]);
    expectCode(
      () => update({ _id: 1, a: [1] }, { $set: { 'a.$': 2 } }, { query: {} }),
      2,
      /positional operator/,
    );
  });

  it('$[] updates every element', () => {
    expect(update({ _id: 1, a: [{ b: 1 }, { b: 2 }] }, { $inc: { 'a.$[].b': 1 } }).plain.a).toEqual([
      { b: 2 },
      { b: 3 },
    ]);
    expectCode(() => update({ _id: 1 }, { $set: { 'a.$[]': 1 } }), 2, /must exist/);
  });

  it('$[id] with arrayFilters, nested', () => {
    const doc = {
      _id: 1,
      g: [
        { n: 1, s: [1, 5] },
        { n: 2, s: [6, 7] },
      ],
    };
    const result = update(
      doc,
      { $set: { 'g.$[x].s.$[y]': 0 } },
      { arrayFilters: [{ 'x.n': 2 }, { y: { $gt: 6 } }] },
    );
    expect(result.plain.g).toEqual([
      { n: 1, s: [1, 5] },
      { n: 2, s: [6, 0] },
    ]);
    expectCode(
      () => update(doc, { $set: { 'g.$[x]': 0 } }, { arrayFilters: [] }),
      2,
      /No array filter found/,
    );
    expectCode(() => update(doc, { $set: { a: 0 } }, { arrayFilters: [{ x: 1 }] }), 9, /was not used/);
  });
});

describe('replacement, upsert seed and storage validation', () => {
  it('applyReplacement keeps _id first and rejects changing it', () => {
    const result = applyReplacement(exact({ _id: 1, a: 1 }), exact({ b: new Double(2) }));
    expect(result.modified).toBe(true);
    expect(Object.keys(result.doc)).toEqual(['_id', 'b']);
    expect(bsonTypeName(result.doc.b)).toBe('double');
    expect(applyReplacement(exact({ _id: 1, a: 1 }), exact({ a: 1 })).modified).toBe(false);
    expectCode(() => applyReplacement({ _id: 1 }, { _id: 2 }), 66);
    expectCode(() => applyReplacement({ _id: 1 }, { a: 1, $set: { b: 1 } }), 52);
  });

  it('upsertSeedFromQuery takes equality fields and expands dotted paths', () => {
    expect(
      upsertSeedFromQuery({ a: 1, 'b.c': 2, d: { $eq: 3 }, e: { $gt: 1 }, $and: [{ f: 4 }], g: /x/, _id: 7 }),
    ).toEqual({ _id: 7, a: 1, b: { c: 2 }, d: 3, f: 4 });
    expectCode(() => upsertSeedFromQuery({ a: 1, $and: [{ a: 2 }] }), 54);
    expectCode(() => upsertSeedFromQuery({ a: 1, 'a.b': 2 }), 54);
  });

  it('upsert: seed plus update, _id first', () => {
    const seed = upsertSeedFromQuery({ x: 1 });
    const result = applyUpdate(seed, { $set: { _id: 3, y: 2 } }, { isInsert: true, query: { x: 1 } });
    expect(result.doc).toEqual({ _id: 3, x: 1, y: 2 });
    expect(Object.keys(result.doc)[0]).toBe('_id');
  });

  it('validateStorableDocument accepts top-level $-prefixed names (5.0+), rejects bad _id types', () => {
    expect(() => validateStorableDocument({ $a: 1 })).not.toThrow();
    expectCode(() => validateStorableDocument({ _id: { $a: 1 } }), 52);
    expectCode(() => validateStorableDocument({ _id: [1] }), 53);
    expectCode(() => validateStorableDocument({ _id: new BSONRegExp('x') }), 53);
    expect(() => validateStorableDocument({ _id: { a: 1 }, b: { $c: 1 } })).not.toThrow();
  });
});
