import { BSONRegExp, Decimal128, Double, Int32, Long, ObjectId, Timestamp, type Document } from 'bson';
import { deserializeExact, serialize } from '../../../emulator/src/bson';
import { evaluateExpression } from '../../../emulator/src/query/expression';

/** Evaluates and round-trips the result through BSON, so types are what the wire would carry. */
function evaluate(expr: unknown, doc: Document = {}, variables?: Document): unknown {
  const value = evaluateExpression(expr, doc, variables);
  return deserializeExact(serialize({ v: value })).v;
}

function typeOf(value: unknown): string {
  return (value as { _bsontype?: string })?._bsontype ?? typeof value;
}

function errorCode(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: number }).code;
  }
  return undefined;
}

const doc = {
  _id: new ObjectId('64b7f0000000000000000001'),
  i: new Int32(7),
  j: new Int32(2),
  big: new Int32(2147483647),
  l: Long.fromNumber(10),
  d: new Double(1.5),
  dec: Decimal128.fromString('0.1'),
  s: 'Hello World',
  a: [new Int32(1), new Int32(2), new Int32(3)],
  o: { x: new Int32(1), y: { z: 'deep' } },
  arr: [{ b: new Int32(1) }, { b: new Int32(2) }, { c: new Int32(3) }, [{ b: new Int32(4) }]],
  date: new Date('2024-03-05T06:07:08.009Z'),
  n: null,
};

describe('field paths and variables', () => {
  it('resolves nested paths, array traversal and system variables', () => {
    expect(evaluate('$o.y.z', doc)).toBe('deep');
    expect(evaluate('$arr.b', doc)).toEqual([new Int32(1), new Int32(2), [new Int32(4)]]);
    expect(evaluateExpression('$missing', doc)).toBeUndefined();
    expect(evaluate('$$ROOT.s', doc)).toBe('Hello World');
    expect(evaluate('$$CURRENT.i', doc)).toEqual(new Int32(7));
    expect(evaluateExpression('$$REMOVE', doc)).toBeUndefined();
    expect(evaluate('$$NOW', doc)).toBeInstanceOf(Date);
    expect(evaluate('$$v.k', doc, { v: { k: 'bound' } })).toBe('bound');
    expect(errorCode(() => evaluate('$$nope', doc))).toBe(17276);
  });

  it('evaluates object and array literals, dropping missing fields', () => {
    expect(evaluate({ a: '$s', b: '$missing', c: { $literal: '$notAPath' } }, doc)).toEqual({
      a: 'Hello World',
      c: '$notAPath',
    });
    expect(evaluate(['$i', '$missing'], doc)).toEqual([new Int32(7), null]);
  });

  it('rejects unknown operators with 168 and operator objects with extra fields', () => {
    expect(errorCode(() => evaluate({ $foo: 1 }))).toBe(168);
    expect(errorCode(() => evaluate({ $add: [1], x: 1 }))).toBe(15983);
    expect(errorCode(() => evaluate({ $add: 1, $subtract: 1 }))).toBe(15983);
  });

  it('binds $let variables', () => {
    expect(evaluate({ $let: { vars: { x: '$i' }, in: { $multiply: ['$$x', 2] } } }, doc)).toEqual(
      new Int32(14),
    );
  });
});

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

describe('strings', () => {
  it('concatenates, slices and measures', () => {
    expect(evaluate({ $concat: ['$s', '!'] }, doc)).toBe('Hello World!');
    expect(evaluate({ $concat: ['$s', '$missing'] }, doc)).toBeNull();
    expect(errorCode(() => evaluate({ $concat: ['a', 1] }))).toBe(16702);
    expect(evaluate({ $substr: ['$s', 0, 5] }, doc)).toBe('Hello');
    expect(evaluate({ $substrCP: ['héllo', 1, 3] })).toBe('éll');
    expect(evaluate({ $substrBytes: ['héllo', 1, 2] })).toBe('é');
    expect(evaluate({ $strLenCP: 'héllo' })).toEqual(new Int32(5));
    expect(evaluate({ $strLenBytes: 'héllo' })).toEqual(new Int32(6));
    expect(evaluate({ $toUpper: '$s' }, doc)).toBe('HELLO WORLD');
    expect(evaluate({ $toLower: '$missing' }, doc)).toBe('');
  });

  it('splits, trims and searches', () => {
    expect(evaluate({ $split: ['a,b,c', ','] })).toEqual(['a', 'b', 'c']);
    expect(evaluate({ $trim: { input: '  x y  ' } })).toBe('x y');
    expect(evaluate({ $ltrim: { input: 'xxhixx', chars: 'x' } })).toBe('hixx');
    expect(evaluate({ $indexOfCP: ['$s', 'World'] }, doc)).toEqual(new Int32(6));
    expect(evaluate({ $indexOfCP: ['$s', 'nope'] }, doc)).toEqual(new Int32(-1));
    expect(evaluate({ $regexMatch: { input: '$s', regex: /world/i } }, doc)).toBe(true);
    expect(evaluate({ $regexMatch: { input: '$s', regex: new BSONRegExp('^hello', 'i') } }, doc)).toBe(true);
    expect(evaluate({ $regexFind: { input: 'abc123', regex: '(\\d)(\\d)' } })).toEqual({
      match: '12',
      idx: new Int32(3),
      captures: ['1', '2'],
    });
    expect(evaluate({ $replaceAll: { input: 'a-b-c', find: '-', replacement: '+' } })).toBe('a+b+c');
  });
});

describe('arrays and sets', () => {
  it('indexes, slices and measures arrays', () => {
    expect(evaluate({ $size: '$a' }, doc)).toEqual(new Int32(3));
    expect(evaluate({ $arrayElemAt: ['$a', -1] }, doc)).toEqual(new Int32(3));
    expect(evaluateExpression({ $arrayElemAt: ['$a', 5] }, doc)).toBeUndefined();
    expect(evaluate({ $first: '$a' }, doc)).toEqual(new Int32(1));
    expect(evaluate({ $last: '$a' }, doc)).toEqual(new Int32(3));
    expect(evaluate({ $slice: ['$a', -2] }, doc)).toEqual([new Int32(2), new Int32(3)]);
    expect(evaluate({ $slice: ['$a', 1, 1] }, doc)).toEqual([new Int32(2)]);
    expect(evaluate({ $concatArrays: ['$a', [4]] }, doc)).toEqual([
      new Int32(1),
      new Int32(2),
      new Int32(3),
      new Int32(4),
    ]);
    expect(evaluate({ $reverseArray: '$a' }, doc)).toEqual([new Int32(3), new Int32(2), new Int32(1)]);
    expect(evaluate({ $range: [0, 6, 2] })).toEqual([new Int32(0), new Int32(2), new Int32(4)]);
    expect(evaluate({ $isArray: '$a' }, doc)).toBe(true);
    expect(evaluate({ $in: [new Double(2), '$a'] }, doc)).toBe(true);
    expect(evaluate({ $indexOfArray: ['$a', Long.fromNumber(3)] }, doc)).toEqual(new Int32(2));
    expect(errorCode(() => evaluate({ $size: '$missing' }, doc))).toBe(17124);
  });

  it('maps, filters and reduces with variables', () => {
    expect(evaluate({ $map: { input: '$a', as: 'x', in: { $multiply: ['$$x', 10] } } }, doc)).toEqual([
      new Int32(10),
      new Int32(20),
      new Int32(30),
    ]);
    expect(evaluate({ $filter: { input: '$a', cond: { $gte: ['$$this', 2] } } }, doc)).toEqual([
      new Int32(2),
      new Int32(3),
    ]);
    expect(
      evaluate({ $reduce: { input: '$a', initialValue: 0, in: { $add: ['$$value', '$$this'] } } }, doc),
    ).toEqual(new Int32(6));
  });

  it('computes set operations with numeric equality', () => {
    expect(
      evaluate({
        $setUnion: [
          [1, 2],
          [new Double(2), 3],
        ],
      }),
    ).toEqual([new Int32(1), new Int32(2), new Int32(3)]);
    expect(
      evaluate({
        $setIntersection: [
          [1, 2, 3],
          [2, 3, 4],
        ],
      }),
    ).toEqual([new Int32(2), new Int32(3)]);
    expect(evaluate({ $setDifference: [[1, 2, 3], [2]] })).toEqual([new Int32(1), new Int32(3)]);
    expect(evaluate({ $setIsSubset: [[1], [1, 2]] })).toBe(true);
    expect(evaluate({ $allElementsTrue: [[1, true, 'x']] })).toBe(true);
    expect(evaluate({ $anyElementTrue: [[0, false]] })).toBe(false);
  });
});

describe('objects', () => {
  it('merges, splits and rebuilds documents', () => {
    expect(evaluate({ $mergeObjects: ['$o', { x: 2 }, null] }, doc)).toEqual({
      x: new Int32(2),
      y: { z: 'deep' },
    });
    expect(evaluate({ $objectToArray: { a: 1 } })).toEqual([{ k: 'a', v: new Int32(1) }]);
    expect(
      evaluate({
        $arrayToObject: [
          [
            ['a', 1],
            ['b', 2],
          ],
        ],
      }),
    ).toEqual({ a: new Int32(1), b: new Int32(2) });
    expect(evaluate({ $arrayToObject: [[{ k: 'a', v: 1 }]] })).toEqual({ a: new Int32(1) });
    expect(evaluate({ $getField: { field: 'a.b', input: { 'a.b': 5 } } })).toEqual(new Int32(5));
    expect(evaluate({ $setField: { field: 'n', input: '$o', value: 9 } }, doc)).toEqual({
      x: new Int32(1),
      y: { z: 'deep' },
      n: new Int32(9),
    });
  });
});

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

describe('dates', () => {
  it('extracts parts in UTC and other time zones', () => {
    expect(evaluate({ $year: '$date' }, doc)).toEqual(new Int32(2024));
    expect(evaluate({ $month: '$date' }, doc)).toEqual(new Int32(3));
    expect(evaluate({ $dayOfMonth: '$date' }, doc)).toEqual(new Int32(5));
    expect(evaluate({ $hour: '$date' }, doc)).toEqual(new Int32(6));
    expect(evaluate({ $minute: '$date' }, doc)).toEqual(new Int32(7));
    expect(evaluate({ $second: '$date' }, doc)).toEqual(new Int32(8));
    expect(evaluate({ $millisecond: '$date' }, doc)).toEqual(new Int32(9));
    expect(evaluate({ $dayOfWeek: '$date' }, doc)).toEqual(new Int32(3));
    expect(evaluate({ $dayOfYear: '$date' }, doc)).toEqual(new Int32(65));
    expect(evaluate({ $hour: { date: '$date', timezone: '+05:30' } }, doc)).toEqual(new Int32(11));
    expect(evaluate({ $hour: { date: '$date', timezone: 'America/New_York' } }, doc)).toEqual(new Int32(1));
    expect(evaluate({ $year: { $literal: new Timestamp({ t: 0, i: 1 }) } })).toEqual(new Int32(1970));
  });

  it('formats dates', () => {
    expect(evaluate({ $dateToString: { date: '$date' } }, doc)).toBe('2024-03-05T06:07:08.009Z');
    expect(evaluate({ $dateToString: { date: '$date', format: '%Y/%m/%d %j %%' } }, doc)).toBe(
      '2024/03/05 065 %',
    );
    expect(evaluate({ $dateToString: { date: '$missing', onNull: 'none' } }, doc)).toBe('none');
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
