// The verifier's `_id` segments: what a partition, and the check outside a collection's plan, read.
import { Int32, ObjectId } from 'mongodb';
import type { Partition } from '../../../src/activities/contract';
import { encodeBound, TYPE_BRACKETS } from '../../../src/activities/idBounds';
import { segmentsOf } from '../../../src/activities/verifyDocuments';

const base: Partition = {
  id: 'db.c#0',
  db: 'db',
  coll: 'c',
  lower: null,
  upper: null,
  naturalOrder: false,
  estimatedBytes: 0,
};

describe('segmentsOf', () => {
  const a = new ObjectId('000000000000000000000001');
  const b = new ObjectId('000000000000000000000005');
  const c = new ObjectId('000000000000000000000009');

  test('a planned partition is its own range', () => {
    expect(segmentsOf({ ...base, lower: encodeBound(a), upper: encodeBound(b) })).toEqual([
      { _id: { $gte: a, $lt: b, $type: ['objectId'] } },
    ]);
    // Unbounded (a collection empty when planned, or capped): one segment per type bracket.
    const everyBracket = TYPE_BRACKETS.map((bracket) => ({ _id: { $type: [...bracket] } }));
    expect(segmentsOf({ ...base, naturalOrder: true })).toEqual(everyBracket);
    expect(segmentsOf(base)).toEqual(everyBracket);
  });

  test('outside a plan: below its first bound, the gaps between ranges, past a last bound, and unseen brackets', () => {
    const outside: Partition = {
      ...base,
      id: 'db.c#outside',
      outsideOf: [
        { lower: encodeBound(a), upper: encodeBound(b) },
        { lower: encodeBound(c), upper: null },
        { lower: encodeBound(new Int32(3)), upper: encodeBound(new Int32(10)) },
      ],
    };
    const segments = segmentsOf(outside);
    expect(segments).toContainEqual({ _id: { $lt: a, $type: ['objectId'] } });
    expect(segments).toContainEqual({ _id: { $gte: b, $lt: c, $type: ['objectId'] } });
    expect(segments).toContainEqual({
      _id: { $lt: new Int32(3), $type: ['int', 'long', 'double', 'decimal'] },
    });
    expect(segments).toContainEqual({
      _id: { $gte: new Int32(10), $type: ['int', 'long', 'double', 'decimal'] },
    });
    expect(segments).toContainEqual({ _id: { $type: ['string', 'symbol'] } });
    // Every other bracket whole, and nothing inside the planned ranges.
    expect(segments).toHaveLength(4 + TYPE_BRACKETS.length - 2);
    expect(segments).not.toContainEqual({ _id: { $type: ['objectId'] } });
  });

  test('outside a whole-collection partition there is nothing', () => {
    expect(segmentsOf({ ...base, outsideOf: [{ lower: null, upper: null }] })).toEqual([]);
  });
});
