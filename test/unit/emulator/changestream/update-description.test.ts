import { Double, Int32, Long, ObjectId } from 'bson';
import { computeUpdateDescription } from '../../../../emulator/src/changestream/update-description';

describe('computeUpdateDescription', () => {
  it('reports changed, added and removed top-level fields', () => {
    const before = { _id: 1, a: 1, b: 'x', gone: true };
    const after = { _id: 1, a: 2, b: 'x', added: [1] };
    expect(computeUpdateDescription(before, after)).toEqual({
      updatedFields: { a: 2, added: [1] },
      removedFields: ['gone'],
      truncatedArrays: [],
    });
  });

  it('recurses into subdocuments present on both sides', () => {
    const before = { _id: 1, a: { b: 1, c: { d: 1, e: 2 }, f: 0 } };
    const after = { _id: 1, a: { b: 1, c: { d: 5, e: 2, g: 3 } } };
    expect(computeUpdateDescription(before, after)).toEqual({
      updatedFields: { 'a.c.d': 5, 'a.c.g': 3 },
      removedFields: ['a.f'],
      truncatedArrays: [],
    });
  });

  it('compares arrays element-wise and reports truncation', () => {
    expect(computeUpdateDescription({ _id: 1, arr: [1, 2, 3] }, { _id: 1, arr: [1, 2, 3, 4] })).toEqual({
      updatedFields: { 'arr.3': 4 },
      removedFields: [],
      truncatedArrays: [],
    });
    expect(computeUpdateDescription({ _id: 1, arr: [1, 2, 3] }, { _id: 1, arr: [1, 9] })).toEqual({
      updatedFields: { 'arr.1': 9 },
      removedFields: [],
      truncatedArrays: [{ field: 'arr', newSize: 2 }],
    });
    expect(
      computeUpdateDescription({ _id: 1, arr: [{ x: 1 }, { x: 2 }] }, { _id: 1, arr: [{ x: 1 }, { x: 3 }] }),
    ).toEqual({
      updatedFields: { 'arr.1.x': 3 },
      removedFields: [],
      truncatedArrays: [],
    });
  });

  it('replaces the whole value when the type changes', () => {
    expect(computeUpdateDescription({ _id: 1, a: { b: 1 } }, { _id: 1, a: [1] }).updatedFields).toEqual({
      a: [1],
    });
    expect(computeUpdateDescription({ _id: 1, a: [1] }, { _id: 1, a: 'x' }).updatedFields).toEqual({
      a: 'x',
    });
  });

  it('treats numeric types exactly: Int32(1) to Double(1) is a change, plain 1 equals Int32(1)', () => {
    const changed = computeUpdateDescription({ _id: 1, n: new Int32(1) }, { _id: 1, n: new Double(1) });
    expect(Object.keys(changed.updatedFields)).toEqual(['n']);
    expect(computeUpdateDescription({ _id: 1, n: new Int32(1) }, { _id: 1, n: 1 }).updatedFields).toEqual({});
    expect(
      computeUpdateDescription({ _id: 1, n: Long.fromNumber(5) }, { _id: 1, n: Long.fromNumber(5) })
        .updatedFields,
    ).toEqual({});
    const id = new ObjectId();
    expect(
      computeUpdateDescription(
        { _id: 1, o: id, d: new Date(5) },
        { _id: 1, o: new ObjectId(id.toHexString()), d: new Date(5) },
      ).updatedFields,
    ).toEqual({});
  });

  it('adds disambiguatedPaths for numeric or dotted field names, array indexes as numbers', () => {
    expect(computeUpdateDescription({ _id: 1, a: { '1': 1 } }, { _id: 1, a: { '1': 2 } })).toEqual({
      updatedFields: { 'a.1': 2 },
      removedFields: [],
      truncatedArrays: [],
      disambiguatedPaths: { 'a.1': ['a', '1'] },
    });
    expect(
      computeUpdateDescription({ _id: 1, a: [{ '1': 1 }] }, { _id: 1, a: [{ '1': 2 }] }).disambiguatedPaths,
    ).toEqual({
      'a.0.1': ['a', 0, '1'],
    });
    expect(computeUpdateDescription({ _id: 1, 'x.y': 1 }, { _id: 1 }).disambiguatedPaths).toEqual({
      'x.y': ['x.y'],
    });
    expect(
      computeUpdateDescription({ _id: 1, a: [1] }, { _id: 1, a: [2] }).disambiguatedPaths,
    ).toBeUndefined();
  });
});
