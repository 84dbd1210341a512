import { BSON, Decimal128, Double, Int32, Long } from 'bson';
import { exactDeserializeOptions } from '../../../../emulator/src/bson';
import { bsonTypeName } from '../../../../emulator/src/query';
import { update, typeOf, expectCode } from './update-helpers';

describe('arithmetic keeps BSON types', () => {
  it('$inc follows mongod type promotion', () => {
    const { doc } = update(
      {
        _id: 1,
        i: new Int32(1),
        d: new Double(1.5),
        l: new Long(5),
        big: new Int32(2147483647),
        dec: Decimal128.fromString('1.1'),
      },
      {
        $inc: {
          i: new Int32(2),
          d: new Int32(1),
          l: new Int32(1),
          big: new Int32(1),
          dec: new Int32(1),
          n: new Double(2),
        },
      },
    );
    expect(doc.i).toEqual(new Int32(3));
    expect(typeOf(doc, 'd')).toBe('double');
    expect(doc.d.value).toBe(2.5);
    expect(typeOf(doc, 'l')).toBe('long');
    expect(typeOf(doc, 'big')).toBe('long');
    expect(doc.big.toString()).toBe('2147483648');
    expect(typeOf(doc, 'dec')).toBe('decimal');
    expect(doc.dec.toString()).toBe('2.1');
    expect(typeOf(doc, 'n')).toBe('double');
  });

  it('a Double stays a Double, even with an integral value', () => {
    const { doc } = update({ _id: 1, d: new Double(1) }, { $inc: { d: new Int32(1) } });
    const bytes = BSON.serialize(doc);
    expect(bsonTypeName(BSON.deserialize(bytes, exactDeserializeOptions).d)).toBe('double');
  });

  it('$inc Int32 + Double gives Double; long overflow is an error', () => {
    expect(typeOf(update({ _id: 1, a: new Int32(1) }, { $inc: { a: new Double(0.5) } }).doc, 'a')).toBe(
      'double',
    );
    expectCode(
      () => update({ _id: 1, a: Long.MAX_VALUE }, { $inc: { a: new Int32(1) } }),
      2,
      /Failed to apply \$inc/,
    );
  });

  it('$inc and $mul reject non-numbers', () => {
    expectCode(() => update({ _id: 1, a: 'x' }, { $inc: { a: 1 } }), 14, /non-numeric type string/);
    expectCode(
      () => update({ _id: 1 }, { $inc: { a: 'x' } }),
      14,
      /Cannot increment with non-numeric argument/,
    );
    expectCode(() => update({ _id: 1 }, { $mul: { a: 'x' } }), 14);
  });

  it('$mul multiplies and creates a typed zero', () => {
    const { doc } = update(
      { _id: 1, a: new Int32(3), b: new Int32(100000) },
      {
        $mul: { a: new Int32(2), b: new Int32(100000), c: new Long(5), d: new Double(2) },
      },
    );
    expect(doc.a).toEqual(new Int32(6));
    expect(typeOf(doc, 'b')).toBe('long');
    expect(typeOf(doc, 'c')).toBe('long');
    expect(typeOf(doc, 'd')).toBe('double');
    expect(doc.d.value).toBe(0);
  });

  it('$bit and/or/xor', () => {
    const { doc } = update(
      { _id: 1, a: new Int32(13), b: new Long(1) },
      {
        $bit: {
          a: { and: new Int32(10), or: new Int32(1) },
          b: { xor: new Int32(3) },
          c: { or: new Int32(4) },
        },
      },
    );
    expect(doc.a).toEqual(new Int32(9));
    expect(typeOf(doc, 'b')).toBe('long');
    expect(doc.b.toString()).toBe('2');
    expect(doc.c).toEqual(new Int32(4));
    expectCode(() => update({ _id: 1 }, { $bit: { a: { and: new Double(1) } } }), 2);
    expectCode(() => update({ _id: 1, a: new Double(1) }, { $bit: { a: { and: new Int32(1) } } }), 14);
  });
});
