import { Decimal128, Double, Int32, Long, ObjectId, type Document } from 'bson';
import { deserializeExact, serialize } from '../../../emulator/src/bson';
import { runPipeline, validatePipeline, type PipelineContext } from '../../../emulator/src/query/aggregate';

/** Runs a pipeline and round-trips the output through BSON so result types are checked as sent. */
function run(input: Document[], pipeline: Document[], ctx: PipelineContext = {}): Document[] {
  return runPipeline(input, pipeline, ctx).map((doc) => deserializeExact(serialize(doc)));
}

function errorCode(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: number }).code;
  }
  return undefined;
}

const int = (n: number) => new Int32(n);

const people: Document[] = [
  { _id: int(1), name: 'ann', age: int(30), city: 'oslo', tags: ['a', 'b'], score: new Double(1.5) },
  { _id: int(2), name: 'bob', age: int(25), city: 'rome', tags: [], score: new Double(2.5) },
  { _id: int(3), name: 'cid', age: int(35), city: 'oslo', score: new Double(3) },
  { _id: int(4), name: 'dan', age: int(25), city: null, tags: ['c'], score: int(4) },
];

describe('validatePipeline', () => {
  it('reports MongoDB shape errors', () => {
    expect(errorCode(() => validatePipeline({}))).toBe(14);
    expect(errorCode(() => validatePipeline([{ $match: {}, $limit: 1 }]))).toBe(40323);
    expect(errorCode(() => validatePipeline([{ $bogus: {} }]))).toBe(40324);
    expect(errorCode(() => validatePipeline([{ $out: 'x' }, { $match: {} }]))).toBe(40601);
    expect(validatePipeline([{ $match: {} }])).toEqual([{ $match: {} }]);
  });

  it('refuses $out reaching the pipeline runner', () => {
    expect(() => runPipeline([], [{ $out: 'x' }], {})).toThrow(/\$out/);
  });
});

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

describe('$project, $addFields, $unset', () => {
  it('includes fields in input order, computed fields after', () => {
    const [doc] = run(people.slice(0, 1), [{ $project: { upper: { $toUpper: '$name' }, age: 1, name: 1 } }]);
    expect(Object.keys(doc)).toEqual(['_id', 'name', 'age', 'upper']);
    expect(doc.upper).toBe('ANN');
    const [renamed] = run(people.slice(0, 1), [{ $project: { name: 1, _id: '$age' } }]);
    expect(Object.keys(renamed)).toEqual(['_id', 'name']);
    expect(renamed._id).toEqual(int(30));
  });

  it('excludes fields, including nested ones and _id', () => {
    const input = [{ _id: 1, a: { b: 1, c: 2 }, arr: [{ b: 1, c: 2 }, 5], d: 3 }];
    expect(run(input, [{ $project: { 'a.b': 0, 'arr.c': 0, _id: 0 } }])).toEqual([
      { a: { c: int(2) }, arr: [{ b: int(1) }, int(5)], d: int(3) },
    ]);
    expect(run(input, [{ $project: { 'a.c': 1, 'arr.b': 1, _id: 0 } }])).toEqual([
      { a: { c: int(2) }, arr: [{ b: int(1) }] },
    ]);
    expect(run(input, [{ $unset: ['a', 'd'] }])).toEqual([
      { _id: int(1), arr: [{ b: int(1), c: int(2) }, int(5)] },
    ]);
  });

  it('rejects mixed projections', () => {
    expect(errorCode(() => run(people, [{ $project: { a: 1, b: 0 } }]))).toBe(31254);
    expect(errorCode(() => run(people, [{ $project: { a: 0, b: 1 } }]))).toBe(31253);
    expect(errorCode(() => run(people, [{ $project: {} }]))).toBe(51272);
  });

  it('adds and merges fields, removing with $$REMOVE', () => {
    const input = [{ _id: 1, a: { x: 1 }, gone: true }];
    expect(run(input, [{ $addFields: { 'a.y': 2, total: { $add: [1, 2] }, gone: '$$REMOVE' } }])).toEqual([
      { _id: int(1), a: { x: int(1), y: int(2) }, total: int(3) },
    ]);
    expect(run(input, [{ $set: { a: { z: 3 } } }])).toEqual([
      { _id: int(1), a: { x: int(1), z: int(3) }, gone: true },
    ]);
  });
});

describe('streaming and reshaping stages', () => {
  it('sorts, skips, limits and counts', () => {
    expect(run(people, [{ $sort: { age: 1, _id: -1 } }, { $project: { _id: 1 } }])).toEqual([
      { _id: int(4) },
      { _id: int(2) },
      { _id: int(1) },
      { _id: int(3) },
    ]);
    expect(run(people, [{ $skip: 3 }]).map((d) => d._id)).toEqual([int(4)]);
    expect(run(people, [{ $limit: 2 }])).toHaveLength(2);
    expect(run(people, [{ $count: 'total' }])).toEqual([{ total: int(4) }]);
    expect(run([], [{ $count: 'total' }])).toEqual([]);
    expect(errorCode(() => run(people, [{ $limit: 0 }]))).toBe(15958);
    expect(errorCode(() => run(people, [{ $skip: -1 }]))).toBe(15956);
  });

  it('does not read past a $limit', () => {
    let read = 0;
    function* source() {
      for (let i = 0; i < 1000; i++) {
        read++;
        yield { i };
      }
    }
    runPipeline(source(), [{ $match: {} }, { $project: { i: 1 } }, { $limit: 5 }], {});
    expect(read).toBe(5);
  });

  it('unwinds arrays with index and preservation', () => {
    expect(run(people, [{ $unwind: '$tags' }, { $project: { _id: 1, tags: 1 } }])).toEqual([
      { _id: int(1), tags: 'a' },
      { _id: int(1), tags: 'b' },
      { _id: int(4), tags: 'c' },
    ]);
    const preserved = run(people, [
      { $unwind: { path: '$tags', includeArrayIndex: 'i', preserveNullAndEmptyArrays: true } },
      { $project: { tags: 1, i: 1 } },
    ]);
    expect(preserved).toEqual([
      { _id: int(1), tags: 'a', i: Long.fromNumber(0) },
      { _id: int(1), tags: 'b', i: Long.fromNumber(1) },
      { _id: int(2), i: null },
      { _id: int(3), i: null },
      { _id: int(4), tags: 'c', i: Long.fromNumber(0) },
    ]);
    expect(errorCode(() => run(people, [{ $unwind: 'tags' }]))).toBe(28818);
  });

  it('samples, replaces roots and counts by value', () => {
    expect(run(people, [{ $sample: { size: 2 } }])).toHaveLength(2);
    expect(run(people, [{ $sample: { size: 10 } }])).toHaveLength(4);
    expect(run([{ a: { b: 1 } }], [{ $replaceRoot: { newRoot: '$a' } }])).toEqual([{ b: int(1) }]);
    expect(run([{ a: { b: 1 } }], [{ $replaceWith: { x: '$a.b' } }])).toEqual([{ x: int(1) }]);
    expect(errorCode(() => run([{}], [{ $replaceWith: '$missing' }]))).toBe(40228);
    expect(run(people, [{ $sortByCount: '$age' }])[0]).toEqual({ _id: int(25), count: int(2) });
  });

  it('redacts subdocuments', () => {
    const input = [{ _id: 1, level: 1, sub: { level: 5, secret: true }, list: [{ level: 0 }, { level: 9 }] }];
    const redacted = run(input, [{ $redact: { $cond: [{ $gt: ['$level', 3] }, '$$PRUNE', '$$DESCEND'] } }]);
    expect(redacted).toEqual([{ _id: int(1), level: int(1), list: [{ level: int(0) }] }]);
  });
});

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

describe('$lookup, $unionWith, $facet, $collStats', () => {
  const orders: Document[] = [
    { _id: int(10), person: int(1), item: 'x' },
    { _id: int(11), person: int(1), item: 'y' },
    { _id: int(12), person: int(3), item: 'z' },
    { _id: int(13), item: 'orphan' },
  ];
  const ctx: PipelineContext = { loadCollection: (coll) => (coll === 'orders' ? orders : []) };

  it('joins on local and foreign fields', () => {
    const result = run(
      people,
      [
        { $lookup: { from: 'orders', localField: '_id', foreignField: 'person', as: 'orders' } },
        { $project: { n: { $size: '$orders' } } },
      ],
      ctx,
    );
    expect(result.map((d) => d.n)).toEqual([int(2), int(0), int(1), int(0)]);
    const missingLocal = run(
      [{ _id: 1 }],
      [{ $lookup: { from: 'orders', localField: 'nope', foreignField: 'person', as: 'o' } }],
      ctx,
    );
    expect(missingLocal[0].o.map((d: Document) => d.item)).toEqual(['orphan']);
  });

  it('runs pipeline lookups with let variables', () => {
    const result = run(
      people.slice(0, 1),
      [
        {
          $lookup: {
            from: 'orders',
            let: { pid: '$_id' },
            pipeline: [
              { $match: { $expr: { $eq: ['$person', '$$pid'] } } },
              { $project: { _id: 0, item: 1 } },
            ],
            as: 'items',
          },
        },
      ],
      ctx,
    );
    expect(result[0].items).toEqual([{ item: 'x' }, { item: 'y' }]);
  });

  it('unions collections and facets', () => {
    expect(
      run(
        people,
        [{ $unionWith: { coll: 'orders', pipeline: [{ $match: { item: 'z' } }] } }, { $count: 'n' }],
        ctx,
      ),
    ).toEqual([{ n: int(5) }]);
    expect(
      run(people, [
        {
          $facet: {
            count: [{ $count: 'n' }],
            oslo: [{ $match: { city: 'oslo' } }, { $project: { _id: 1 } }],
          },
        },
      ]),
    ).toEqual([{ count: [{ n: int(4) }], oslo: [{ _id: int(1) }, { _id: int(3) }] }]);
  });

  it('emits the collStats document from the context', () => {
    const stats = { ns: 'db.c', storageStats: { count: int(4) } };
    expect(run([], [{ $collStats: { storageStats: {} } }], { collStats: () => stats })).toEqual([stats]);
  });
});
