import { Decimal128, Double, Int32, Long } from 'bson';
import { evaluate, typeOf, errorCode, doc } from './expression-helpers';

describe('arithmetic result types', () => {
  it('keeps int32 and widens on overflow', () => {
    expect(typeOf(evaluate({ $add: ['$i', '$j'] }, doc))).toBe('Int32');
    expect(evaluate({ $add: ['$big', 1] }, doc)).toEqual(Long.fromNumber(2147483648));
    expect(typeOf(evaluate({ $add: ['$i', '$l'] }, doc))).toBe('Long');
    expect(evaluate({ $add: ['$i', '$d'] }, doc)).toEqual(new Double(8.5));
    expect(typeOf(evaluate({ $multiply: ['$big', '$big'] }, doc))).toBe('Long');
  });

  it('computes decimals exactly and lets decimal win', () => {
    const sum = evaluate({ $add: ['$dec', { $literal: Decimal128.fromString('0.2') }] }, doc) as Decimal128;
    expect(typeOf(sum)).toBe('Decimal128');
    expect(sum.toString()).toBe('0.3');
    expect((evaluate({ $multiply: ['$dec', '$i'] }, doc) as Decimal128).toString()).toBe('0.7');
  });

  it('adds milliseconds to dates and subtracts dates', () => {
    expect(evaluate({ $add: ['$date', 1000] }, doc)).toEqual(new Date('2024-03-05T06:07:09.009Z'));
    expect(
      evaluate({ $subtract: ['$date', { $literal: new Date('2024-03-05T06:07:08.000Z') }] }, doc),
    ).toEqual(Long.fromNumber(9));
    expect(errorCode(() => evaluate({ $add: ['$date', '$date'] }, doc))).toBe(16612);
    expect(errorCode(() => evaluate({ $add: ['$s', 1] }, doc))).toBe(14);
  });

  it('divides to double and reports division by zero', () => {
    expect(evaluate({ $divide: ['$i', '$j'] }, doc)).toEqual(new Double(3.5));
    expect(errorCode(() => evaluate({ $divide: [1, 0] }))).toBe(2);
    expect(evaluate({ $mod: ['$i', '$j'] }, doc)).toEqual(new Int32(1));
    expect(errorCode(() => evaluate({ $mod: [1, 0] }))).toBe(16610);
  });

  it('propagates null', () => {
    expect(evaluate({ $add: [1, '$missing'] }, doc)).toBeNull();
    expect(evaluate({ $abs: '$n' }, doc)).toBeNull();
  });

  it('rounds half to even and truncates', () => {
    expect(evaluate({ $round: [new Double(2.5), 0] })).toEqual(new Double(2));
    expect(evaluate({ $round: [new Double(3.5), 0] })).toEqual(new Double(4));
    expect(evaluate({ $round: [new Double(1.2345), 2] })).toEqual(new Double(1.23));
    expect(evaluate({ $round: [new Int32(1250), -2] })).toEqual(new Int32(1200));
    expect(evaluate({ $trunc: [new Double(-1.7)] })).toEqual(new Double(-1));
    expect(evaluate({ $ceil: new Double(1.2) })).toEqual(new Double(2));
    expect(evaluate({ $floor: '$i' }, doc)).toEqual(new Int32(7));
  });

  it('computes powers, roots and logarithms', () => {
    expect(evaluate({ $pow: [2, 10] })).toEqual(new Int32(1024));
    expect(evaluate({ $pow: [2, -1] })).toEqual(new Double(0.5));
    expect(evaluate({ $sqrt: 16 })).toEqual(new Double(4));
    expect(errorCode(() => evaluate({ $sqrt: -1 }))).toBe(28714);
    expect(evaluate({ $log10: 1000 })).toEqual(new Double(3));
    expect(evaluate({ $log: [8, 2] })).toEqual(new Double(3));
    expect(evaluate({ $abs: new Int32(-2147483648) })).toEqual(Long.fromNumber(2147483648));
  });
});
