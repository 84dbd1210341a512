import { Binary, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp } from 'bson';
import {
  bracketOf,
  bsonTypeName,
  decodeBound,
  encodeBound,
  partitionIdCondition,
} from '../../../src/activities/idBounds';

describe('partition bounds', () => {
  it.each([
    new Int32(7),
    new Double(1),
    Long.fromString('9007199254740993'),
    Decimal128.fromString('1.50'),
    'text',
    new ObjectId('64b7f0c2a1b2c3d4e5f60718'),
    new Date('2024-01-02T03:04:05.678Z'),
    new Binary(Buffer.from('abc'), 0),
    { nested: new Int32(1) },
    new Timestamp({ t: 5, i: 6 }),
    true,
    null,
  ])('round-trips %p with its exact BSON type', (id) => {
    const bound = encodeBound(id);
    expect(encodeBound(decodeBound(bound))).toBe(bound);
  });

  it('keeps a Double 1.0 distinct from an Int32 1', () => {
    expect(encodeBound(new Double(1))).toBe('{"v":{"$numberDouble":"1.0"}}');
    expect(encodeBound(new Int32(1))).toBe('{"v":{"$numberInt":"1"}}');
  });

  it('restricts a range to the type bracket of its bounds', () => {
    expect(partitionIdCondition(new Int32(1), new Double(5))).toEqual({
      $gte: new Int32(1),
      $lt: new Double(5),
      $type: ['int', 'long', 'double', 'decimal'],
    });
    expect(partitionIdCondition('a', undefined)).toEqual({ $gte: 'a', $type: ['string', 'symbol'] });
    expect(partitionIdCondition(undefined, undefined)).toBeNull();
  });

  it('matches MinKey and MaxKey only by type, and nothing after them', () => {
    expect(partitionIdCondition(new MinKey(), undefined)).toEqual({ $type: 'minKey' });
    expect(partitionIdCondition(new MaxKey(), undefined, new MaxKey())).toEqual({ $exists: false });
  });

  it('resumes after a value by replacing the lower bound, keeping the upper one', () => {
    expect(partitionIdCondition(new Int32(1), new Int32(9), new Int32(4))).toEqual({
      $gt: new Int32(4),
      $lt: new Int32(9),
      $type: ['int', 'long', 'double', 'decimal'],
    });
  });
});

describe('BSON type names', () => {
  it.each([
    [new Int32(1), 'int'],
    [1, 'int'],
    [1.5, 'double'],
    [new Double(1), 'double'],
    [Long.fromNumber(1), 'long'],
    [Decimal128.fromString('1'), 'decimal'],
    ['s', 'string'],
    [null, 'null'],
    [true, 'bool'],
    [new Date(0), 'date'],
    [new ObjectId('64b7f0c2a1b2c3d4e5f60718'), 'objectId'],
    [new Binary(Buffer.from('a'), 0), 'binData'],
    [new Timestamp({ t: 1, i: 1 }), 'timestamp'],
    [{ a: 1 }, 'object'],
    [new MinKey(), 'minKey'],
  ])('names %p %s', (value, name) => {
    expect(bsonTypeName(value)).toBe(name);
  });

  it('puts every number type in one bracket', () => {
    expect(bracketOf(new Int32(1))).toBe(bracketOf(Long.fromNumber(2)));
    expect(bracketOf('a')).toEqual(['string', 'symbol']);
  });
});
