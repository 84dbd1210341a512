import { CLUSTER_NAMES, swapped } from '../../src/domain';

describe('domain', () => {
  it('names the two clusters', () => {
    expect(CLUSTER_NAMES).toEqual(['cluster0', 'cluster1']);
  });

  it('swaps a direction for a reverse, and back', () => {
    const forward = { source: 'cluster0' as const, destination: 'cluster1' as const };
    expect(swapped(forward)).toEqual({ source: 'cluster1', destination: 'cluster0' });
    expect(swapped(swapped(forward))).toEqual(forward);
  });
});
