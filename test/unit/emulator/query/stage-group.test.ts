import { Decimal128, Double, Long } from 'bson';
import { run, errorCode, int, people } from './pipeline-helpers';

describe('$group', () => {
  it('counts like countDocuments does, as int32', () => {
    const result = run(people, [
      { $match: { age: { $gte: 25 } } },
      { $skip: 1 },
      { $limit: 10 },
      { $group: { _id: 1, n: { $sum: 1 } } },
    ]);
    expect(result).toEqual([{ _id: int(1), n: int(3) }]);
  });

  it('groups by null and compound keys with every accumulator', () => {
    const [all] = run(people, [
      {
        $group: {
          _id: null,
          total: { $sum: '$age' },
          avg: { $avg: '$age' },
          min: { $min: '$age' },
          max: { $max: '$age' },
          first: { $first: '$name' },
          last: { $last: '$name' },
          names: { $push: '$name' },
          cities: { $addToSet: '$city' },
          count: { $count: {} },
          merged: { $mergeObjects: { $arrayToObject: [[['k', '$name']]] } },
          scores: { $sum: '$score' },
        },
      },
    ]);
    expect(all).toEqual({
      _id: null,
      total: int(115),
      avg: new Double(28.75),
      min: int(25),
      max: int(35),
      first: 'ann',
      last: 'dan',
      names: ['ann', 'bob', 'cid', 'dan'],
      cities: ['oslo', 'rome', null],
      count: int(4),
      merged: { k: 'dan' },
      scores: new Double(11),
    });
    const byKey = run(people, [
      { $group: { _id: { city: '$city', age: '$age' }, n: { $sum: 1 } } },
      { $sort: { '_id.age': -1 } },
    ]);
    expect(byKey[0]).toEqual({ _id: { city: 'oslo', age: int(35) }, n: int(1) });
    expect(byKey).toHaveLength(4);
  });

  it('widens $sum on overflow and keeps decimal', () => {
    const big = [{ v: int(2147483647) }, { v: int(1) }];
    expect(run(big, [{ $group: { _id: null, s: { $sum: '$v' } } }])[0].s).toEqual(
      Long.fromNumber(2147483648),
    );
    const decimals = [{ v: Decimal128.fromString('0.1') }, { v: Decimal128.fromString('0.2') }];
    expect(
      (run(decimals, [{ $group: { _id: null, s: { $sum: '$v' } } }])[0].s as Decimal128).toString(),
    ).toBe('0.3');
  });

  it('supports $top, $bottomN and $firstN', () => {
    const [result] = run(people, [
      {
        $group: {
          _id: null,
          oldest: { $top: { sortBy: { age: -1 }, output: '$name' } },
          youngest: { $bottomN: { n: 2, sortBy: { age: -1, _id: 1 }, output: '$name' } },
          firstTwo: { $firstN: { input: '$name', n: 2 } },
        },
      },
    ]);
    expect(result).toEqual({ _id: null, oldest: 'cid', youngest: ['bob', 'dan'], firstTwo: ['ann', 'bob'] });
  });

  it('rejects malformed specs', () => {
    expect(errorCode(() => run(people, [{ $group: { n: { $sum: 1 } } }]))).toBe(15955);
    expect(errorCode(() => run(people, [{ $group: { _id: null, n: { $nope: 1 } } }]))).toBe(15952);
    expect(errorCode(() => run(people, [{ $group: { _id: null, n: 1 } }]))).toBe(40234);
  });
});
