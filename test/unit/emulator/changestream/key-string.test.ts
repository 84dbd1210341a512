import { Binary, BSONRegExp, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp } from 'bson';
import { decodeKeyString, encodeKeyString } from '../../../../emulator/src/changestream/key-string';

const hex = (values: unknown[]): string => encodeKeyString(values).bytes.toString('hex').toUpperCase();

describe('KeyString V1', () => {
  it('encodes values with mongod type bytes (key_string.cpp)', () => {
    expect(hex([new Timestamp({ t: 1, i: 2 })])).toBe('82000000010000000204');
    expect(hex([new Int32(0)])).toBe('2904');
    expect(hex([new Int32(1)])).toBe('2B0204');
    expect(hex([new Int32(128)])).toBe('2C010004');
    expect(hex([new Int32(-1)])).toBe('27FD04');
    expect(hex([false, true, null])).toBe('6E6F1404');
    expect(hex(['a\u0000b'])).toBe('3C6100FF620004');
    expect(hex([{ _id: new Int32(1) }])).toBe('461E5F6964002B020004');
    expect(hex([[new Int32(1), 'x']])).toBe('502B023C78000004');
    expect(hex([new MinKey(), new MaxKey()])).toBe('0AF004');
  });

  it('orders bytes as values compare', () => {
    const values = [-1e20, -300, -1.5, -1, -0.5, 0, 1e-310, 0.5, 1, 1.5, 2, 255, 256, 1e15, 2 ** 63, 1e300];
    const encoded = values.map((value) => hex([new Double(value)]));
    expect([...encoded].sort()).toEqual(encoded);
  });

  it('round-trips what tokens may hold, exact types included', () => {
    const values = [
      new Timestamp({ t: 1_700_000_000, i: 7 }),
      new Int32(-42),
      Long.fromString('9007199254740993'),
      new Double(2.5),
      new Double(-0.125),
      'text',
      { nested: { a: [new Int32(1), 'b', null] }, d: new Date(1_600_000_000_000) },
      new ObjectId('635019a078be67426d7cf4d2'),
      new Binary(Buffer.alloc(300, 7), 0),
      new BSONRegExp('^a', 'i'),
      true,
    ];
    const { bytes, typeBits } = encodeKeyString(values);
    expect(decodeKeyString(bytes, typeBits)).toEqual(values);
  });

  it('returns undefined for bytes that are not a KeyString', () => {
    expect(decodeKeyString(Buffer.from('8265A1B2C300', 'hex'))).toBeUndefined();
    expect(decodeKeyString(Buffer.from('FF', 'hex'))).toBeUndefined();
  });
});
