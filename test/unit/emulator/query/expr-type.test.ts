import { Decimal128, Double, Int32, Long } from 'bson';
import { evaluate, errorCode, doc } from './expression-helpers';

describe('types and conversion', () => {
  it('names types', () => {
    expect(evaluate({ $type: '$i' }, doc)).toBe('int');
    expect(evaluate({ $type: '$d' }, doc)).toBe('double');
    expect(evaluate({ $type: '$l' }, doc)).toBe('long');
    expect(evaluate({ $type: '$dec' }, doc)).toBe('decimal');
    expect(evaluate({ $type: '$missing' }, doc)).toBe('missing');
    expect(evaluate({ $type: '$_id' }, doc)).toBe('objectId');
    expect(evaluate({ $isNumber: '$s' }, doc)).toBe(false);
  });

  it('converts between types', () => {
    expect(evaluate({ $toInt: '42' })).toEqual(new Int32(42));
    expect(evaluate({ $toInt: new Double(4.9) })).toEqual(new Int32(4));
    expect(evaluate({ $toLong: '$date' }, doc)).toEqual(Long.fromNumber(doc.date.getTime()));
    expect(evaluate({ $toDouble: '1.5' })).toEqual(new Double(1.5));
    expect((evaluate({ $toDecimal: '$i' }, doc) as Decimal128).toString()).toBe('7');
    expect(evaluate({ $toString: '$_id' }, doc)).toBe('64b7f0000000000000000001');
    expect(evaluate({ $toString: new Double(2.5) })).toBe('2.5');
    expect(evaluate({ $toBool: 0 })).toBe(false);
    expect(evaluate({ $toDate: '2024-01-01T00:00:00Z' })).toEqual(new Date('2024-01-01T00:00:00Z'));
    expect(evaluate({ $toObjectId: '64b7f0000000000000000001' })).toEqual(doc._id);
    expect(errorCode(() => evaluate({ $toInt: 'abc' }))).toBe(241);
    expect(evaluate({ $convert: { input: 'abc', to: 'int', onError: -1 } })).toEqual(new Int32(-1));
    expect(evaluate({ $convert: { input: '$missing', to: 'int', onNull: 0 } }, doc)).toEqual(new Int32(0));
    expect(evaluate({ $convert: { input: '5', to: 18 } })).toEqual(Long.fromNumber(5));
  });
});
