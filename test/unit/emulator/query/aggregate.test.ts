import { runPipeline, validatePipeline } from '../../../../emulator/src/query/aggregate';
import { caseInsensitive, collation } from './collation-helpers';
import { errorCode } from './pipeline-helpers';

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

describe('collated pipelines', () => {
  const docs = [{ s: 'b' }, { s: 'A' }, { s: 'a' }, { s: 'B' }, { s: 'c' }];

  it('$match, $group and $sortByCount use the pipeline collation', () => {
    const ctx = { collation: collation(caseInsensitive) };
    expect(runPipeline(docs, [{ $match: { s: 'A' } }], ctx).map((d) => d.s)).toEqual(['A', 'a']);
    expect(runPipeline(docs, [{ $match: { s: 'A' } }], {}).map((d) => d.s)).toEqual(['A']);
    const grouped = runPipeline(docs, [{ $group: { _id: '$s', n: { $sum: 1 } } }], ctx);
    expect(grouped.map((g) => [g._id, Number(g.n)])).toEqual([
      ['b', 2],
      ['A', 2],
      ['c', 1],
    ]);
    expect(runPipeline(docs, [{ $group: { _id: '$s' } }], {})).toHaveLength(5);
    const counted = runPipeline(docs, [{ $sortByCount: '$s' }], ctx);
    expect(counted.map((g) => Number(g.count))).toEqual([2, 2, 1]);
  });
});
