import { Int32 } from 'bson';
import { evaluate, doc } from './expression-helpers';

describe('objects', () => {
  it('merges, splits and rebuilds documents', () => {
    expect(evaluate({ $mergeObjects: ['$o', { x: 2 }, null] }, doc)).toEqual({
      x: new Int32(2),
      y: { z: 'deep' },
    });
    expect(evaluate({ $objectToArray: { a: 1 } })).toEqual([{ k: 'a', v: new Int32(1) }]);
    expect(
      evaluate({
        $arrayToObject: [
          [
            ['a', 1],
            ['b', 2],
          ],
        ],
      }),
    ).toEqual({ a: new Int32(1), b: new Int32(2) });
    expect(evaluate({ $arrayToObject: [[{ k: 'a', v: 1 }]] })).toEqual({ a: new Int32(1) });
    expect(evaluate({ $getField: { field: 'a.b', input: { 'a.b': 5 } } })).toEqual(new Int32(5));
    expect(evaluate({ $setField: { field: 'n', input: '$o', value: 9 } }, doc)).toEqual({
      x: new Int32(1),
      y: { z: 'deep' },
      n: new Int32(9),
    });
  });
});
