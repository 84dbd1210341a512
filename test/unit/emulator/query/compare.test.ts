import {
  Binary,
  BSONRegExp,
  Code,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
} from 'bson';
import {
  bsonTypeName,
  canonicalTypeOrder,
  compareValues,
  keyString,
  toNumber,
  valuesEqual,
} from '../../../../emulator/src/query';
import { identicalValues } from '../../../../emulator/src/query/compare';

describe('compareValues across types', () => {
  const ascending: unknown[] = [
    new MinKey(),
    null,
    new Double(NaN),
    new Int32(-5),
    new Double(1.5),
    new Long(2),
    Decimal128.fromString('2.5'),
    'abc',
    'abd',
    { a: 1 },
    [1, 2],
    new Binary(Buffer.from([1])),
    new Binary(Buffer.from([0, 0])),
    new ObjectId('000000000000000000000001'),
    new ObjectId('000000000000000000000002'),
    false,
    true,
    new Date(0),
    new Date(1000),
    new Timestamp({ t: 1, i: 5 }),
    new Timestamp({ t: 2, i: 0 }),
    new BSONRegExp('a', 'i'),
    new Code('function(){}'),
    new MaxKey(),
  ];

  it('orders every bracket as mongod does', () => {
    for (let i = 0; i < ascending.length; i++) {
      for (let j = 0; j < ascending.length; j++) {
        const expected = i < j ? -1 : i > j ? 1 : 0;
        expect([i, j, compareValues(ascending[i], ascending[j])]).toEqual([i, j, expected]);
      }
    }
  });

  it('sorts mixed-type _id values into type ranges', () => {
    const ids = [
      new ObjectId('000000000000000000000009'),
      'x',
      new Int32(3),
      new Double(2.5),
      null,
      new Long(10),
    ];
    const sorted = [...ids].sort(compareValues);
    expect(sorted.map(bsonTypeName)).toEqual(['null', 'double', 'int', 'long', 'string', 'objectId']);
  });

  it('puts undefined below null and compares objects by type, then name, then value', () => {
    expect(compareValues(undefined, null)).toBe(-1);
    expect(compareValues({ a: 1 }, { a: 'x' })).toBe(-1);
    expect(compareValues({ a: 1 }, { b: 1 })).toBe(-1);
    expect(compareValues({ a: 1 }, { a: 1, b: 0 })).toBe(-1);
    expect(compareValues([1, 2], [1, 3])).toBe(-1);
    expect(compareValues([2], [1, 3])).toBe(1);
  });

  it('compares strings by code point (UTF-8 byte) order', () => {
    expect(compareValues('\uffff', '\u{10000}')).toBe(-1);
    expect(compareValues('B', 'a')).toBe(-1);
  });

  it('compares binaries by length, then subtype, then bytes', () => {
    expect(compareValues(new Binary(Buffer.from([9]), 4), new Binary(Buffer.from([1, 1]), 0))).toBe(-1);
    expect(compareValues(new Binary(Buffer.from([9]), 0), new Binary(Buffer.from([1]), 4))).toBe(-1);
  });
});

describe('numeric equality and order', () => {
  it('equates Int32, Long, Double and Decimal128 of the same value', () => {
    const ones = [new Int32(1), new Long(1), new Double(1), Decimal128.fromString('1.000'), 1];
    for (const a of ones) for (const b of ones) expect(valuesEqual(a, b)).toBe(true);
    expect(new Set(ones.map(keyString)).size).toBe(1);
  });

  it('keeps Decimal128 0.1 and Double 0.1 apart, exactly as mongod', () => {
    expect(valuesEqual(Decimal128.fromString('0.1'), new Double(0.1))).toBe(false);
    expect(compareValues(Decimal128.fromString('0.1'), new Double(0.1))).toBe(-1);
    expect(keyString(Decimal128.fromString('0.1'))).not.toBe(keyString(new Double(0.1)));
    expect(valuesEqual(Decimal128.fromString('0.50'), new Double(0.5))).toBe(true);
    expect(keyString(Decimal128.fromString('0.50'))).toBe(keyString(new Double(0.5)));
  });

  it('compares large longs exactly against doubles', () => {
    const big = Long.fromString('9007199254740993');
    expect(compareValues(big, new Double(9007199254740992))).toBe(1);
    expect(valuesEqual(big, new Double(9007199254740992))).toBe(false);
    expect(compareValues(Long.fromString('9223372036854775807'), new Double(2 ** 63))).toBe(-1);
    expect(compareValues(new Long(3), new Double(3.5))).toBe(-1);
    expect(compareValues(new Long(-3), new Double(-3.5))).toBe(1);
  });

  it('puts NaN below every number and equal to itself', () => {
    expect(compareValues(new Double(NaN), new Double(-Infinity))).toBe(-1);
    expect(compareValues(new Double(NaN), Decimal128.fromString('NaN'))).toBe(0);
    expect(compareValues(Decimal128.fromString('-Infinity'), new Long(-5))).toBe(-1);
  });

  it('treats -0 and 0 as equal', () => {
    expect(valuesEqual(new Double(-0), new Int32(0))).toBe(true);
    expect(keyString(new Double(-0))).toBe(keyString(new Int32(0)));
  });

  it('converts numeric wrappers to JS numbers', () => {
    expect(toNumber(new Int32(7))).toBe(7);
    expect(toNumber(Long.fromNumber(8))).toBe(8);
    expect(toNumber(Decimal128.fromString('1.25'))).toBe(1.25);
    expect(toNumber('7')).toBeUndefined();
  });
});

describe('type names, brackets and keys', () => {
  it('names BSON types as $type does', () => {
    expect(
      [
        new Double(1),
        'a',
        {},
        [],
        new Binary(Buffer.alloc(0)),
        undefined,
        new ObjectId(),
        true,
        new Date(),
        null,
        new BSONRegExp('a'),
        new Code('x'),
        new Int32(1),
        new Timestamp({ t: 0, i: 0 }),
        new Long(1),
        Decimal128.fromString('1'),
        new MinKey(),
        new MaxKey(),
      ].map(bsonTypeName),
    ).toEqual([
      'double',
      'string',
      'object',
      'array',
      'binData',
      'undefined',
      'objectId',
      'bool',
      'date',
      'null',
      'regex',
      'javascript',
      'int',
      'timestamp',
      'long',
      'decimal',
      'minKey',
      'maxKey',
    ]);
  });

  it('gives numbers one bracket', () => {
    expect(canonicalTypeOrder(new Int32(1))).toBe(canonicalTypeOrder(Decimal128.fromString('3')));
    expect(canonicalTypeOrder(null)).toBeLessThan(canonicalTypeOrder(new Int32(1)));
  });

  it('builds equal keys exactly for equal values', () => {
    const values = [
      { a: new Int32(1), b: ['x', null] },
      { a: new Double(1), b: ['x', null] },
      { b: ['x', null], a: new Double(1) },
      { a: '1', b: ['x', null] },
      new ObjectId('000000000000000000000001'),
      new Date(5),
      new Timestamp({ t: 0, i: 5 }),
      'a"b',
      'a\\"b',
    ];
    for (const a of values) {
      for (const b of values) expect(keyString(a) === keyString(b)).toBe(valuesEqual(a, b));
    }
  });

  it('tells identical from merely equal values', () => {
    expect(identicalValues(new Int32(1), new Double(1))).toBe(false);
    expect(identicalValues({ a: new Double(1) }, { a: new Double(1) })).toBe(true);
    expect(identicalValues({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(false);
  });
});
