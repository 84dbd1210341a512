import { Long } from 'bson';
import { runPipeline } from '../../../../emulator/src/query/aggregate';
import { run, errorCode, int, people } from './pipeline-helpers';

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
