import { Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId } from 'bson';
import { decimalToHashLong, hashedIndexKey } from '../../../../emulator/src/query/hashed';

describe('hashedIndexKey', () => {
  test('matches the values mongod publishes', () => {
    // hasher.cpp's startup check: hash64 of the element {check: 42} is -944302157085130861.
    expect(hashedIndexKey(new Int32(42))).toEqual(Long.fromString('-944302157085130861'));
    // The $toHashedIndexKey documentation example.
    expect(hashedIndexKey('string to hash')).toEqual(Long.fromString('763543691661428748'));
  });

  test('numbers hash as the same 64-bit integer whatever their type', () => {
    const expected = hashedIndexKey(new Int32(42));
    expect(hashedIndexKey(new Double(42))).toEqual(expected);
    expect(hashedIndexKey(Long.fromNumber(42))).toEqual(expected);
    expect(hashedIndexKey(Decimal128.fromString('42'))).toEqual(expected);
    // Doubles truncate toward zero; NaN hashes as 0.
    expect(hashedIndexKey(new Double(42.9))).toEqual(expected);
    expect(hashedIndexKey(new Double(NaN))).toEqual(hashedIndexKey(new Int32(0)));
    // 2^63 wraps to INT64_MIN (safeNumberLongForHash); larger values clamp to INT64_MAX.
    expect(hashedIndexKey(new Double(2 ** 63))).toEqual(hashedIndexKey(Long.MIN_VALUE));
    expect(hashedIndexKey(new Double(2 ** 64))).toEqual(hashedIndexKey(Long.MAX_VALUE));
    expect(hashedIndexKey(new Double(-Infinity))).toEqual(hashedIndexKey(Long.MIN_VALUE));
  });

  test('missing hashes as null; other types are distinct', () => {
    expect(hashedIndexKey(undefined)).toEqual(hashedIndexKey(null));
    const values = [
      null,
      new MinKey(),
      new MaxKey(),
      true,
      'a',
      { a: 1 },
      [1],
      new ObjectId('5b2be413c06d924ab26ff9ca'),
      new Date(0),
    ];
    const hashes = values.map((value) => hashedIndexKey(value).toString());
    expect(new Set(hashes).size).toBe(values.length);
  });

  test('decimal to Int64: half to even, clamped, NaN 0', () => {
    expect(decimalToHashLong('2.5')).toBe(2n);
    expect(decimalToHashLong('3.5')).toBe(4n);
    expect(decimalToHashLong('-2.51')).toBe(-3n);
    expect(decimalToHashLong('1E+30')).toBe((1n << 63n) - 1n);
    expect(decimalToHashLong('NaN')).toBe(0n);
  });
});
