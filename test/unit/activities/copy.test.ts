import { Int32 } from 'bson';
import { partitionFilter } from '../../../src/activities/copy';
import { encodeBound } from '../../../src/activities/idBounds';
import type { Partition } from '../../../src/activities/contract';

const partition: Partition = {
  id: 'p',
  db: 'd',
  coll: 'c',
  lower: encodeBound('a'),
  upper: encodeBound('m'),
  naturalOrder: false,
  estimatedBytes: 0,
};

describe('partition filter', () => {
  it('resumes strictly after the last copied _id', () => {
    const filter = partitionFilter(partition, encodeBound('f'));
    expect(filter).toEqual({ _id: { $gt: 'f', $lt: 'm', $type: ['string', 'symbol'] } });
  });

  it('starts at the inclusive lower bound on a first attempt', () => {
    expect(partitionFilter(partition, null)).toEqual({
      _id: { $gte: 'a', $lt: 'm', $type: ['string', 'symbol'] },
    });
  });

  it('selects everything for an unbounded partition, and keeps exact types of bounds', () => {
    expect(partitionFilter({ ...partition, lower: null, upper: null }, null)).toEqual({});
    expect(partitionFilter({ ...partition, lower: encodeBound(new Int32(3)), upper: null }, null)).toEqual({
      _id: { $gte: new Int32(3), $type: ['int', 'long', 'double', 'decimal'] },
    });
  });
});
