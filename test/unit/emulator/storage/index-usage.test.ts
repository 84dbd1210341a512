import { indexUsage, noteIndexUse, startIndexUsage } from '../../../../emulator/src/storage/index-usage';

describe('index usage', () => {
  test('counts uses since the index started; since is stable', () => {
    const spec = { v: 2, key: { a: 1 }, name: 'a_1' };
    startIndexUsage(spec);
    const { since } = indexUsage(spec);
    noteIndexUse(spec);
    noteIndexUse(spec);
    noteIndexUse(undefined);
    expect(indexUsage(spec)).toEqual({ ops: 2, since });
  });

  test('an index never started reports 0 from its first look', () => {
    const spec = { v: 2, key: { b: 1 }, name: 'b_1' };
    const first = indexUsage(spec);
    expect(first.ops).toBe(0);
    expect(indexUsage(spec).since).toBe(first.since);
  });
});
