import { Double, Int32 } from 'bson';
import { evaluate, typeOf, errorCode, doc } from './expression-helpers';

describe('comparison, boolean and conditional', () => {
  it('compares across numeric types and BSON order', () => {
    expect(evaluate({ $eq: ['$l', new Double(10)] }, doc)).toBe(true);
    expect(evaluate({ $gt: ['$s', 5] }, doc)).toBe(true);
    expect(evaluate({ $cmp: ['$i', '$j'] }, doc)).toEqual(new Int32(1));
    expect(evaluate({ $eq: ['$missing', null] }, doc)).toBe(false);
    expect(evaluate({ $lte: ['$missing', null] }, doc)).toBe(true);
  });

  it('applies truthiness', () => {
    expect(evaluate({ $and: [1, 'x', []] })).toBe(true);
    expect(evaluate({ $or: [0, null, '$missing'] })).toBe(false);
    expect(evaluate({ $not: [new Double(0)] })).toBe(true);
  });

  it('evaluates $cond, $ifNull and $switch', () => {
    expect(evaluate({ $cond: [{ $gt: ['$i', 5] }, 'big', 'small'] }, doc)).toBe('big');
    expect(evaluate({ $cond: { if: false, then: 1, else: 'no' } })).toBe('no');
    expect(evaluate({ $ifNull: ['$missing', '$n', 'fallback'] }, doc)).toBe('fallback');
    expect(
      evaluate({ $switch: { branches: [{ case: { $eq: ['$i', 1] }, then: 'one' }], default: 'other' } }, doc),
    ).toBe('other');
    expect(errorCode(() => evaluate({ $switch: { branches: [] } }))).toBe(40066);
  });
});

describe('miscellaneous', () => {
  it('measures BSON size and draws random doubles', () => {
    expect(evaluate({ $bsonSize: { $literal: { a: 1 } } })).toEqual(new Int32(12));
    const random = evaluate({ $rand: {} });
    expect(typeOf(random)).toBe('Double');
    expect((random as Double).value).toBeGreaterThanOrEqual(0);
  });
});
