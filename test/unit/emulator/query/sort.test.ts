import { BSON, Double, Int32, Long, MinKey, type Document } from 'bson';
import { exactDeserializeOptions } from '../../../../emulator/src/bson';
import { compileSort } from '../../../../emulator/src/query';
import { collation } from './collation-helpers';

function exact(doc: Document): Document {
  return BSON.deserialize(BSON.serialize(doc), exactDeserializeOptions);
}

function plain(doc: Document): Document {
  return BSON.deserialize(BSON.serialize(doc));
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

describe('collated sorts', () => {
  const docs = [{ s: 'b' }, { s: 'A' }, { s: 'a' }, { s: 'B' }, { s: 'c' }];

  it('sorts strings by the collation', () => {
    const binary = [...docs].sort(compileSort({ s: 1 })!).map((d) => d.s);
    expect(binary).toEqual(['A', 'B', 'a', 'b', 'c']);
    const en = [...docs].sort(compileSort({ s: 1 }, collation({ locale: 'en' }))!).map((d) => d.s);
    expect(en).toEqual(['a', 'A', 'b', 'B', 'c']);
    const desc = [...docs].sort(compileSort({ s: -1 }, collation({ locale: 'en' }))!).map((d) => d.s);
    expect(desc).toEqual(['c', 'B', 'b', 'A', 'a']);
  });
});
