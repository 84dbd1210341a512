import { ObjectId } from 'bson';
import { run, errorCode, int, people } from './pipeline-helpers';

describe('$bucket and $bucketAuto', () => {
  it('buckets by boundaries with a default', () => {
    expect(
      run(people, [
        {
          $bucket: {
            groupBy: '$age',
            boundaries: [20, 30, 40],
            default: 'other',
            output: { names: { $push: '$name' } },
          },
        },
      ]),
    ).toEqual([
      { _id: int(20), names: ['bob', 'dan'] },
      { _id: int(30), names: ['ann', 'cid'] },
    ]);
    expect(run(people, [{ $bucket: { groupBy: '$age', boundaries: [26, 31], default: 'other' } }])).toEqual([
      { _id: int(26), count: int(1) },
      { _id: 'other', count: int(3) },
    ]);
    expect(errorCode(() => run(people, [{ $bucket: { groupBy: '$age', boundaries: [26, 31] } }]))).toBe(
      40066,
    );
    expect(errorCode(() => run(people, [{ $bucket: { groupBy: '$age', boundaries: [31, 26] } }]))).toBe(
      40194,
    );
  });

  it('partitions ObjectIds into contiguous buckets', () => {
    const ids = Array.from(
      { length: 10 },
      (_, i) => new ObjectId(`64b7f00000000000000000${String(i).padStart(2, '0')}`),
    );
    const docs = [...ids].reverse().map((_id) => ({ _id }));
    const buckets = run(docs, [{ $bucketAuto: { groupBy: '$_id', buckets: 3 } }]);
    expect(buckets).toEqual([
      { _id: { min: ids[0], max: ids[3] }, count: int(3) },
      { _id: { min: ids[3], max: ids[6] }, count: int(3) },
      { _id: { min: ids[6], max: ids[9] }, count: int(4) },
    ]);
  });

  it('keeps equal values in one bucket and honours output', () => {
    const docs = [1, 1, 1, 2, 3, 4].map((v) => ({ v: int(v) }));
    expect(
      run(docs, [{ $bucketAuto: { groupBy: '$v', buckets: 3, output: { total: { $sum: '$v' } } } }]),
    ).toEqual([
      { _id: { min: int(1), max: int(2) }, total: int(3) },
      { _id: { min: int(2), max: int(4) }, total: int(5) },
      { _id: { min: int(4), max: int(4) }, total: int(4) },
    ]);
    expect(run([{ v: int(1) }], [{ $bucketAuto: { groupBy: '$v', buckets: 5 } }])).toEqual([
      { _id: { min: int(1), max: int(1) }, count: int(1) },
    ]);
    expect(errorCode(() => run(docs, [{ $bucketAuto: { groupBy: '$v', buckets: 0 } }]))).toBe(40243);
  });
});
