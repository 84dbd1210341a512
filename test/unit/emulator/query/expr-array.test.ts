import { Double, Int32, Long } from 'bson';
import { evaluateExpression } from '../../../../emulator/src/query/expression';
import { evaluate, errorCode, doc } from './expression-helpers';

describe('arrays and sets', () => {
  it('indexes, slices and measures arrays', () => {
    expect(evaluate({ $size: '$a' }, doc)).toEqual(new Int32(3));
    expect(evaluate({ $arrayElemAt: ['$a', -1] }, doc)).toEqual(new Int32(3));
    expect(evaluateExpression({ $arrayElemAt: ['$a', 5] }, doc)).toBeUndefined();
    expect(evaluate({ $first: '$a' }, doc)).toEqual(new Int32(1));
    expect(evaluate({ $last: '$a' }, doc)).toEqual(new Int32(3));
    expect(evaluate({ $slice: ['$a', -2] }, doc)).toEqual([new Int32(2), new Int32(3)]);
    expect(evaluate({ $slice: ['$a', 1, 1] }, doc)).toEqual([new Int32(2)]);
    expect(evaluate({ $concatArrays: ['$a', [4]] }, doc)).toEqual([
      new Int32(1),
      new Int32(2),
      new Int32(3),
      new Int32(4),
    ]);
    expect(evaluate({ $reverseArray: '$a' }, doc)).toEqual([new Int32(3), new Int32(2), new Int32(1)]);
    expect(evaluate({ $range: [0, 6, 2] })).toEqual([new Int32(0), new Int32(2), new Int32(4)]);
    expect(evaluate({ $isArray: '$a' }, doc)).toBe(true);
    expect(evaluate({ $in: [new Double(2), '$a'] }, doc)).toBe(true);
    expect(evaluate({ $indexOfArray: ['$a', Long.fromNumber(3)] }, doc)).toEqual(new Int32(2));
    expect(errorCode(() => evaluate({ $size: '$missing' }, doc))).toBe(17124);
  });

  it('maps, filters and reduces with variables', () => {
    expect(evaluate({ $map: { input: '$a', as: 'x', in: { $multiply: ['$$x', 10] } } }, doc)).toEqual([
      new Int32(10),
      new Int32(20),
      new Int32(30),
    ]);
    expect(evaluate({ $filter: { input: '$a', cond: { $gte: ['$$this', 2] } } }, doc)).toEqual([
      new Int32(2),
      new Int32(3),
    ]);
    expect(
      evaluate({ $reduce: { input: '$a', initialValue: 0, in: { $add: ['$$value', '$$this'] } } }, doc),
    ).toEqual(new Int32(6));
  });

  it('computes set operations with numeric equality', () => {
    expect(
      evaluate({
        $setUnion: [
          [1, 2],
          [new Double(2), 3],
        ],
      }),
    ).toEqual([new Int32(1), new Int32(2), new Int32(3)]);
    expect(
      evaluate({
        $setIntersection: [
          [1, 2, 3],
          [2, 3, 4],
        ],
      }),
    ).toEqual([new Int32(2), new Int32(3)]);
    expect(evaluate({ $setDifference: [[1, 2, 3], [2]] })).toEqual([new Int32(1), new Int32(3)]);
    expect(evaluate({ $setIsSubset: [[1], [1, 2]] })).toBe(true);
    expect(evaluate({ $allElementsTrue: [[1, true, 'x']] })).toBe(true);
    expect(evaluate({ $anyElementTrue: [[0, false]] })).toBe(false);
  });
});
