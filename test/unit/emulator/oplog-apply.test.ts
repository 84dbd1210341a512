import { applyUpdateDiff } from '../../../emulator/src/oplog-apply';

describe('applyUpdateDiff', () => {
  test('deletes, updates in place, inserts at the end and recurses', () => {
    const doc = { _id: 1, a: 1, b: 2, n: { x: 1, y: 1 } };
    expect(applyUpdateDiff(doc, { d: { b: false }, u: { a: 3 }, i: { c: 4 }, sn: { u: { y: 2 } } })).toEqual({
      _id: 1,
      a: 3,
      n: { x: 1, y: 2 },
      c: 4,
    });
    expect(Object.keys(applyUpdateDiff(doc, { i: { a: 9 } }))).toEqual(['_id', 'b', 'n', 'a']);
  });

  test('array diffs resize and change elements', () => {
    expect(applyUpdateDiff({ v: [1, 2, 3] }, { sv: { a: true, l: 2, u0: 7 } })).toEqual({ v: [7, 2] });
    expect(applyUpdateDiff({ v: [1] }, { sv: { a: true, u2: 5 } })).toEqual({ v: [1, null, 5] });
    expect(applyUpdateDiff({ v: [{ x: 1 }] }, { sv: { a: true, s0: { u: { x: 2 } } } })).toEqual({
      v: [{ x: 2 }],
    });
  });

  test('rejects malformed diffs', () => {
    expect(() => applyUpdateDiff({ v: 1 }, { sv: { a: true, u0: 1 } })).toThrow('$v:2');
    expect(() => applyUpdateDiff({}, { q: {} })).toThrow('unknown section');
  });
});
