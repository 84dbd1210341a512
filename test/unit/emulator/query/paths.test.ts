import { getPath, getPathValues } from '../../../../emulator/src/query';

describe('paths', () => {
  const doc = { a: [{ b: 1 }, { b: [2, 3] }, { c: 4 }], d: { e: 5 } };

  it('getPathValues expands arrays and leaves out missing branches', () => {
    expect(getPathValues(doc, 'a.b')).toEqual([1, 2, 3]);
    expect(getPathValues(doc, 'd.e')).toEqual([5]);
    expect(getPathValues(doc, 'a.1.b')).toEqual([2, 3]);
    expect(getPathValues(doc, 'x')).toEqual([]);
  });

  it('getPath follows numeric components only', () => {
    expect(getPath(doc, 'a.1.b')).toEqual([2, 3]);
    expect(getPath(doc, 'a.b')).toBeUndefined();
    expect(getPath(doc, 'd.e')).toBe(5);
    expect(getPath({}, 'constructor')).toBeUndefined();
  });
});
