import {
  Binary,
  BSON,
  BSONRegExp,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  type Document,
} from 'bson';
import { exactDeserializeOptions } from '../../../../emulator/src/bson';
import { compileFilter } from '../../../../emulator/src/query';
import { caseInsensitive, collatedMatches } from './collation-helpers';

/** Round-trips through BSON so documents and filters have the stored (exact) form. */
function exact(doc: Document): Document {
  return BSON.deserialize(BSON.serialize(doc), exactDeserializeOptions);
}

function matches(filter: Document, doc: Document, variables?: Document): boolean {
  return compileFilter(exact(filter), { variables })(exact(doc));
}

function expectCode(fn: () => unknown, code: number, message?: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toMatchObject(message ? { code, message } : { code });
}

describe('equality', () => {
  it('matches numbers across Int32, Long, Double and Decimal128', () => {
    expect(matches({ n: new Int32(1) }, { n: new Double(1) })).toBe(true);
    expect(matches({ n: new Double(1) }, { n: new Long(1) })).toBe(true);
    expect(matches({ n: Decimal128.fromString('1.0') }, { n: new Int32(1) })).toBe(true);
    expect(matches({ n: new Int32(1) }, { n: '1' })).toBe(false);
  });

  it('matches array members and whole arrays', () => {
    expect(matches({ a: 2 }, { a: [1, 2, 3] })).toBe(true);
    expect(matches({ a: [1, 2] }, { a: [1, 2] })).toBe(true);
    expect(matches({ a: [1, 2] }, { a: [[1, 2], 3] })).toBe(true);
    expect(matches({ a: [2, 1] }, { a: [1, 2] })).toBe(false);
    expect(matches({ a: 1 }, { a: [[1]] })).toBe(false);
  });

  it('matches null against null and missing, not against empty arrays', () => {
    expect(matches({ a: null }, {})).toBe(true);
    expect(matches({ a: null }, { a: null })).toBe(true);
    expect(matches({ a: null }, { a: [1, null] })).toBe(true);
    expect(matches({ a: null }, { a: 0 })).toBe(false);
    expect(matches({ a: null }, { a: [] })).toBe(false);
    expect(matches({ 'a.b': null }, { a: [{ b: 1 }, { c: 1 }] })).toBe(true);
  });

  it('walks dotted paths through arrays of documents', () => {
    expect(matches({ 'a.b': 2 }, { a: [{ b: 1 }, { b: [2] }] })).toBe(true);
    expect(matches({ 'a.0.b': 1 }, { a: [{ b: 1 }] })).toBe(true);
    expect(matches({ 'a.1.b': 1 }, { a: [{ b: 1 }] })).toBe(false);
    expect(matches({ 'a.b.c': 1 }, { a: { b: 5 } })).toBe(false);
  });

  it('matches embedded documents by exact field order', () => {
    expect(matches({ a: { x: 1, y: 2 } }, { a: { x: 1, y: 2 } })).toBe(true);
    expect(matches({ a: { x: 1, y: 2 } }, { a: { y: 2, x: 1 } })).toBe(false);
  });

  it('does not confuse inherited properties with fields', () => {
    expect(matches({ constructor: null }, {})).toBe(true);
    expect(matches({ toString: { $exists: true } }, {})).toBe(false);
  });
});

describe('comparison operators', () => {
  it('stay inside one type bracket', () => {
    expect(matches({ a: { $gt: 5 } }, { a: 'x' })).toBe(false);
    expect(matches({ a: { $gt: 5 } }, { a: new Long(6) })).toBe(true);
    expect(matches({ a: { $lt: 'b' } }, { a: 'a' })).toBe(true);
    expect(matches({ a: { $lt: 'b' } }, { a: 1 })).toBe(false);
    expect(matches({ a: { $gte: new Double(2.5) } }, { a: Decimal128.fromString('2.5') })).toBe(true);
  });

  it('select mixed-type _id ranges', () => {
    const ids: unknown[] = [
      new Int32(1),
      new Double(2.5),
      new Long(40),
      'a',
      'b',
      new ObjectId(),
      true,
      null,
    ];
    const inRange = (filter: Document) => ids.filter((id) => matches(filter, { _id: id }));
    expect(inRange({ _id: { $gte: new MinKey(), $lt: new MaxKey() } })).toHaveLength(ids.length);
    expect(inRange({ _id: { $gt: new Int32(1), $lte: new Long(40) } })).toEqual([
      new Double(2.5),
      new Long(40),
    ]);
    expect(inRange({ _id: { $gte: '' } })).toEqual(['a', 'b']);
    expect(inRange({ _id: { $lt: new MaxKey() } })).toHaveLength(ids.length);
    expect(inRange({ _id: { $gte: null } })).toEqual([null]);
  });

  it('apply to any array element, each operator independently', () => {
    expect(matches({ a: { $gt: 1, $lt: 3 } }, { a: [0, 5] })).toBe(true);
    expect(matches({ a: { $elemMatch: { $gt: 1, $lt: 3 } } }, { a: [0, 5] })).toBe(false);
    expect(matches({ a: { $elemMatch: { $gt: 1, $lt: 3 } } }, { a: [0, 2] })).toBe(true);
  });

  it('treat NaN as equal only to NaN', () => {
    expect(matches({ a: { $lt: 0 } }, { a: new Double(NaN) })).toBe(false);
    expect(matches({ a: { $gte: new Double(NaN) } }, { a: new Double(NaN) })).toBe(true);
    expect(matches({ a: { $gt: new Double(NaN) } }, { a: 1 })).toBe(false);
  });

  it('$ne and $nin negate, matching missing fields', () => {
    expect(matches({ a: { $ne: 1 } }, {})).toBe(true);
    expect(matches({ a: { $ne: 1 } }, { a: [1, 2] })).toBe(false);
    expect(matches({ a: { $ne: null } }, {})).toBe(false);
    expect(matches({ a: { $nin: [1, 2] } }, { a: 3 })).toBe(true);
    expect(matches({ a: { $nin: [1, 2] } }, { a: [3, 2] })).toBe(false);
  });

  it('$in handles regexes, null and long lists', () => {
    expect(matches({ a: { $in: [new BSONRegExp('^x'), 5] } }, { a: 'xyz' })).toBe(true);
    expect(matches({ a: { $in: [null] } }, {})).toBe(true);
    const many = Array.from({ length: 50 }, (_, i) => new Int32(i));
    expect(matches({ a: { $in: many } }, { a: new Double(49) })).toBe(true);
    expect(matches({ a: { $in: many } }, { a: [100, 7] })).toBe(true);
    expect(matches({ a: { $in: many } }, { a: 50 })).toBe(false);
    expectCode(() => compileFilter({ a: { $in: 5 } }), 2, '$in needs an array');
  });
});

describe('element and array operators', () => {
  it('$exists', () => {
    expect(matches({ a: { $exists: true } }, { a: null })).toBe(true);
    expect(matches({ a: { $exists: false } }, { a: null })).toBe(false);
    expect(matches({ 'a.b': { $exists: true } }, { a: [1, { b: 0 }] })).toBe(true);
    expect(matches({ 'a.b': { $exists: false } }, { a: [1, 2] })).toBe(true);
  });

  it('$type by name, number, alias "number" and arrays', () => {
    expect(matches({ a: { $type: 'double' } }, { a: new Double(1) })).toBe(true);
    expect(matches({ a: { $type: 'int' } }, { a: new Double(1) })).toBe(false);
    expect(matches({ a: { $type: 16 } }, { a: new Int32(1) })).toBe(true);
    expect(matches({ a: { $type: 'number' } }, { a: new Long(1) })).toBe(true);
    expect(matches({ a: { $type: ['string', 'null'] } }, { a: null })).toBe(true);
    expect(matches({ a: { $type: 'array' } }, { a: [] })).toBe(true);
    expect(matches({ a: { $type: 'string' } }, { a: [1, 'x'] })).toBe(true);
    expect(matches({ a: { $type: 'null' } }, {})).toBe(false);
    expectCode(() => compileFilter({ a: { $type: 'nope' } }), 2, 'Unknown type name alias: nope');
    expectCode(() => compileFilter({ a: { $type: 99 } }), 2);
  });

  it('$size', () => {
    expect(matches({ a: { $size: 2 } }, { a: [1, [2, 3]] })).toBe(true);
    expect(matches({ a: { $size: 0 } }, { a: 'x' })).toBe(false);
    expectCode(() => compileFilter({ a: { $size: -1 } }), 2);
  });

  it('$all, including $elemMatch entries', () => {
    expect(matches({ a: { $all: [1, 2] } }, { a: [2, 3, 1] })).toBe(true);
    expect(matches({ a: { $all: [1, 4] } }, { a: [2, 3, 1] })).toBe(false);
    expect(matches({ a: { $all: [] } }, { a: [1] })).toBe(false);
    expect(
      matches(
        { a: { $all: [{ $elemMatch: { x: 1 } }, { $elemMatch: { y: 2 } }] } },
        { a: [{ x: 1 }, { y: 2 }] },
      ),
    ).toBe(true);
  });

  it('$elemMatch in document form', () => {
    const doc = {
      a: [
        { x: 1, y: 1 },
        { x: 2, y: 2 },
      ],
    };
    expect(matches({ a: { $elemMatch: { x: 1, y: 2 } } }, doc)).toBe(false);
    expect(matches({ a: { $elemMatch: { x: 2, y: 2 } } }, doc)).toBe(true);
    expect(matches({ a: { $elemMatch: { $or: [{ x: 5 }, { y: 1 }] } } }, doc)).toBe(true);
    expect(matches({ a: { $elemMatch: { x: 1 } } }, { a: { x: 1 } })).toBe(false);
  });

  it('$mod', () => {
    expect(matches({ a: { $mod: [4, 1] } }, { a: new Double(5.9) })).toBe(true);
    expect(matches({ a: { $mod: [4, 1] } }, { a: new Long(9) })).toBe(true);
    expect(matches({ a: { $mod: [4, 0] } }, { a: 'x' })).toBe(false);
    expectCode(() => compileFilter({ a: { $mod: [0, 1] } }), 2, 'divisor cannot be 0');
    expectCode(() => compileFilter({ a: { $mod: [1] } }), 2, 'malformed mod, not enough elements');
  });

  it('bit tests on numbers and binary data', () => {
    expect(matches({ a: { $bitsAllSet: [0, 2] } }, { a: new Int32(5) })).toBe(true);
    expect(matches({ a: { $bitsAllSet: 6 } }, { a: new Int32(5) })).toBe(false);
    expect(matches({ a: { $bitsAnySet: 6 } }, { a: new Int32(5) })).toBe(true);
    expect(matches({ a: { $bitsAllClear: [1, 3] } }, { a: new Long(5) })).toBe(true);
    expect(matches({ a: { $bitsAnyClear: [0] } }, { a: new Int32(5) })).toBe(false);
    expect(matches({ a: { $bitsAllSet: [70] } }, { a: new Int32(-1) })).toBe(true);
    expect(matches({ a: { $bitsAllSet: [9] } }, { a: new Binary(Buffer.from([0, 2])) })).toBe(true);
    expect(matches({ a: { $bitsAnySet: 1 } }, { a: new Double(1.5) })).toBe(false);
  });
});

describe('regular expressions', () => {
  it('$regex with $options and BSONRegExp values', () => {
    expect(matches({ a: { $regex: '^ab', $options: 'i' } }, { a: 'ABC' })).toBe(true);
    expect(matches({ a: new BSONRegExp('c$') }, { a: ['x', 'abc'] })).toBe(true);
    expect(matches({ a: /b/ }, { a: 5 })).toBe(false);
    expect(matches({ a: { $regex: 'a b # comment\n c', $options: 'x' } }, { a: 'abc' })).toBe(true);
    expect(matches({ a: { $regex: '^b', $options: 'm' } }, { a: 'a\nb' })).toBe(true);
  });

  it('$not with a regex and with operators', () => {
    expect(matches({ a: { $not: /^x/ } }, { a: 'yes' })).toBe(true);
    expect(matches({ a: { $not: /^x/ } }, { a: 'xyz' })).toBe(false);
    expect(matches({ a: { $not: { $gt: 5 } } }, { a: 3 })).toBe(true);
    expect(matches({ a: { $not: { $gt: 5 } } }, {})).toBe(true);
    expect(matches({ a: { $not: { $gt: 5, $lt: 10 } } }, { a: 7 })).toBe(false);
    expectCode(() => compileFilter({ a: { $not: 5 } }), 2, '$not needs a regex or a document');
  });

  it('reports bad options and a lone $options', () => {
    expectCode(() => compileFilter({ a: { $options: 'i' } }), 2, '$options needs a $regex');
    expectCode(() => compileFilter({ a: { $regex: 'x', $options: 'q' } }), 51108);
  });
});

describe('logical operators, $expr and $jsonSchema', () => {
  it('$and, $or, $nor', () => {
    const doc = { a: 1, b: 2 };
    expect(matches({ $and: [{ a: 1 }, { b: 2 }] }, doc)).toBe(true);
    expect(matches({ $or: [{ a: 2 }, { b: 2 }] }, doc)).toBe(true);
    expect(matches({ $nor: [{ a: 2 }, { b: 3 }] }, doc)).toBe(true);
    expect(matches({ $nor: [{ a: 1 }] }, doc)).toBe(false);
    expectCode(() => compileFilter({ $or: [] }), 2, '$or must be a nonempty array');
    expectCode(() => compileFilter({ $and: [1] }), 2, '$or/$and/$nor entries need to be full objects');
  });

  it('$expr with variables', () => {
    expect(matches({ $expr: { $gt: ['$a', '$b'] } }, { a: 3, b: 2 })).toBe(true);
    expect(matches({ $expr: { $gt: ['$a', '$b'] } }, { a: 1, b: 2 })).toBe(false);
    expect(matches({ $expr: { $eq: ['$a', '$$target'] } }, { a: 4 }, { target: new Int32(4) })).toBe(true);
    expect(matches({ $expr: '$missing' }, { a: 1 })).toBe(false);
  });

  it('$jsonSchema with required, bsonType and nested properties', () => {
    const schema = {
      $jsonSchema: {
        bsonType: 'object',
        required: ['name'],
        properties: {
          name: { bsonType: 'string', minLength: 2 },
          age: { bsonType: ['int', 'long'], minimum: 0 },
        },
      },
    };
    expect(matches(schema, { name: 'ab', age: new Int32(3) })).toBe(true);
    expect(matches(schema, { age: new Int32(3) })).toBe(false);
    expect(matches(schema, { name: 'ab', age: new Double(3) })).toBe(false);
    expect(matches(schema, { name: 'a' })).toBe(false);
    expect(matches(schema, { name: 'ab', age: new Int32(-1) })).toBe(false);
  });

  it('ignores $comment and rejects unknown operators', () => {
    expect(matches({ $comment: 'hi', a: 1 }, { a: 1 })).toBe(true);
    expectCode(() => compileFilter({ a: { $foo: 1 } }), 2, 'unknown operator: $foo');
    expectCode(() => compileFilter({ $foo: 1 }), 2, 'unknown top level operator: $foo');
    expectCode(() => compileFilter({ a: { $gt: 1, b: 1 } }), 2, 'unknown operator: b');
  });

  it('an empty filter matches everything', () => {
    expect(matches({}, { a: 1 })).toBe(true);
  });
});

describe('collated filters', () => {
  it('equality, $ne, $in and $nin', () => {
    expect(collatedMatches({ x: 'PING' }, { x: 'ping' })).toBe(false);
    expect(collatedMatches({ x: 'PING' }, { x: 'ping' }, caseInsensitive)).toBe(true);
    expect(collatedMatches({ x: { $ne: 'PING' } }, { x: 'ping' }, caseInsensitive)).toBe(false);
    expect(collatedMatches({ x: 'PING' }, { x: ['pong', 'Ping'] }, caseInsensitive)).toBe(true);
    expect(collatedMatches({ x: { $in: ['PING', 'PONG'] } }, { x: 'pong' }, caseInsensitive)).toBe(true);
    const many = Array.from({ length: 20 }, (_, i) => `V${i}`);
    expect(collatedMatches({ x: { $in: many } }, { x: 'v7' }, caseInsensitive)).toBe(true);
    expect(collatedMatches({ x: { $in: many } }, { x: 'v7' })).toBe(false);
    expect(collatedMatches({ x: { $nin: many } }, { x: 'v7' }, caseInsensitive)).toBe(false);
    expect(collatedMatches({ x: { $all: ['A', 'B'] } }, { x: ['b', 'a'] }, caseInsensitive)).toBe(true);
    expect(collatedMatches({ x: { $elemMatch: { $eq: 'A' } } }, { x: ['a'] }, caseInsensitive)).toBe(true);
  });

  it('ranges compare by the collation', () => {
    expect(collatedMatches({ x: { $gt: 'a' } }, { x: 'B' })).toBe(false);
    expect(collatedMatches({ x: { $gt: 'a' } }, { x: 'B' }, { locale: 'en' })).toBe(true);
    expect(collatedMatches({ x: { $lte: 'PING' } }, { x: 'ping' }, caseInsensitive)).toBe(true);
    expect(collatedMatches({ x: { $lt: 'PING' } }, { x: 'ping' }, caseInsensitive)).toBe(false);
  });

  it('does not apply to regular expressions or non-strings', () => {
    expect(collatedMatches({ x: { $regex: '^P' } }, { x: 'ping' }, caseInsensitive)).toBe(false);
    expect(collatedMatches({ x: 1 }, { x: 1 }, caseInsensitive)).toBe(true);
    expect(collatedMatches({ x: 1 }, { x: '1' }, caseInsensitive)).toBe(false);
  });
});

describe('throughput', () => {
  it('matches 100k documents well within a second', () => {
    const docs = Array.from({ length: 100_000 }, (_, i) =>
      exact({ _id: new Int32(i), n: new Double(i / 2), s: `k${i % 100}`, sub: { x: [new Int32(i % 7)] } }),
    );
    const matcher = compileFilter(
      exact({ n: { $gte: 100, $lt: 40000 }, s: { $in: ['k1', 'k2'] }, 'sub.x': 3 }),
    );
    const start = process.hrtime.bigint();
    let count = 0;
    for (const doc of docs) if (matcher(doc)) count++;
    const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
    expect(count).toBeGreaterThan(0);
    expect(elapsedMs).toBeLessThan(1000);
  });
});
