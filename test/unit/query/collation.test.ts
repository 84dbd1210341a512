import { BSON, type Document } from 'bson';
import { exactDeserializeOptions } from '../../../emulator/src/bson';
import {
  compareValues,
  compileFilter,
  compileSort,
  parseCollation,
  parseCollationSpec,
  valuesEqual,
  type Collation,
} from '../../../emulator/src/query';
import { runPipeline } from '../../../emulator/src/query/aggregate';

function exact(doc: Document): Document {
  return BSON.deserialize(BSON.serialize(doc), exactDeserializeOptions);
}

function collation(spec: Document): Collation {
  const parsed = parseCollation(spec);
  if (!parsed) throw new Error(`expected a non-simple collation for ${JSON.stringify(spec)}`);
  return parsed;
}

function matches(filter: Document, doc: Document, spec?: Document): boolean {
  return compileFilter(exact(filter), { collation: spec ? collation(spec) : undefined })(exact(doc));
}

function expectCode(fn: () => unknown, code: number): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toMatchObject({ code });
}

const caseInsensitive = { locale: 'en_US', strength: 2 };
const accentInsensitive = { locale: 'en', strength: 1 };

describe('collation specs', () => {
  it('fills in the defaults mongod reports', () => {
    expect(parseCollationSpec({ locale: 'fr' })).toEqual({
      locale: 'fr',
      caseLevel: false,
      caseFirst: 'off',
      strength: 3,
      numericOrdering: false,
      alternate: 'non-ignorable',
      maxVariable: 'punct',
      normalization: false,
      backwards: false,
    });
  });

  it('treats locale simple as binary comparison', () => {
    expect(parseCollation({ locale: 'simple' })).toBeUndefined();
    expectCode(() => parseCollation({ locale: 'simple', strength: 2 }), 9);
  });

  it('accepts ICU locale ids with scripts, regions and collation keywords', () => {
    for (const locale of ['en_US', 'zh_Hant', 'de@collation=phonebook', 'en_US_POSIX', 'es']) {
      expect(parseCollation({ locale })?.spec.locale).toBe(locale);
    }
  });

  it('refuses malformed specs with mongod codes', () => {
    expectCode(() => parseCollation({}), 40414);
    expectCode(() => parseCollation({ locale: 3 }), 14);
    expectCode(() => parseCollation({ locale: 'en', unknown: 1 }), 40415);
    expectCode(() => parseCollation('en'), 14);
    for (const locale of [
      '',
      'garbage',
      'en-US',
      'en_us',
      'xx_US',
      'en_ZZ',
      'root',
      'en_US@collation=nope',
    ]) {
      expectCode(() => parseCollation({ locale }), 2);
    }
    expectCode(() => parseCollation({ locale: 'en', strength: 0 }), 2);
    expectCode(() => parseCollation({ locale: 'en', strength: 6 }), 2);
    expectCode(() => parseCollation({ locale: 'en', strength: 'high' }), 14);
    expectCode(() => parseCollation({ locale: 'en', caseFirst: 'sideways' }), 2);
    expectCode(() => parseCollation({ locale: 'en', alternate: 'ignore' }), 2);
    expectCode(() => parseCollation({ locale: 'en', numericOrdering: 1 }), 14);
  });
});

describe('collated comparison', () => {
  it('strength 1 ignores case and accents, 2 only case, 3 neither', () => {
    expect(collation(accentInsensitive).compare('café', 'CAFE')).toBe(0);
    expect(collation(caseInsensitive).compare('café', 'CAFÉ')).toBe(0);
    expect(collation(caseInsensitive).compare('café', 'cafe')).not.toBe(0);
    expect(collation({ locale: 'en' }).compare('a', 'A')).not.toBe(0);
  });

  it('orders by the locale rather than by code point', () => {
    const en = collation({ locale: 'en' });
    expect(compareValues('B', 'a')).toBe(-1);
    expect(compareValues('B', 'a', en)).toBe(1);
    expect(compareValues('é', 'f', en)).toBe(-1);
    expect(compareValues('é', 'f')).toBe(1);
  });

  it('numericOrdering compares digit runs as numbers', () => {
    expect(compareValues('10', '9', collation({ locale: 'en', numericOrdering: true }))).toBe(1);
    expect(compareValues('10', '9', collation({ locale: 'en' }))).toBe(-1);
  });

  it('caseFirst decides which case sorts first', () => {
    expect(compareValues('A', 'a', collation({ locale: 'en', caseFirst: 'upper' }))).toBe(-1);
    expect(compareValues('A', 'a', collation({ locale: 'en', caseFirst: 'lower' }))).toBe(1);
  });

  it('applies inside documents and arrays but keeps type order and field names binary', () => {
    const ci = collation(caseInsensitive);
    expect(valuesEqual({ a: 'X', b: ['Y'] }, { a: 'x', b: ['y'] }, ci)).toBe(true);
    expect(valuesEqual({ a: 'X' }, { A: 'x' }, ci)).toBe(false);
    expect(compareValues('a', 1, ci)).toBe(1);
    expect(valuesEqual('x', 'X')).toBe(false);
  });
});

describe('collated filters', () => {
  it('equality, $ne, $in and $nin', () => {
    expect(matches({ x: 'PING' }, { x: 'ping' })).toBe(false);
    expect(matches({ x: 'PING' }, { x: 'ping' }, caseInsensitive)).toBe(true);
    expect(matches({ x: { $ne: 'PING' } }, { x: 'ping' }, caseInsensitive)).toBe(false);
    expect(matches({ x: 'PING' }, { x: ['pong', 'Ping'] }, caseInsensitive)).toBe(true);
    expect(matches({ x: { $in: ['PING', 'PONG'] } }, { x: 'pong' }, caseInsensitive)).toBe(true);
    const many = Array.from({ length: 20 }, (_, i) => `V${i}`);
    expect(matches({ x: { $in: many } }, { x: 'v7' }, caseInsensitive)).toBe(true);
    expect(matches({ x: { $in: many } }, { x: 'v7' })).toBe(false);
    expect(matches({ x: { $nin: many } }, { x: 'v7' }, caseInsensitive)).toBe(false);
    expect(matches({ x: { $all: ['A', 'B'] } }, { x: ['b', 'a'] }, caseInsensitive)).toBe(true);
    expect(matches({ x: { $elemMatch: { $eq: 'A' } } }, { x: ['a'] }, caseInsensitive)).toBe(true);
  });

  it('ranges compare by the collation', () => {
    expect(matches({ x: { $gt: 'a' } }, { x: 'B' })).toBe(false);
    expect(matches({ x: { $gt: 'a' } }, { x: 'B' }, { locale: 'en' })).toBe(true);
    expect(matches({ x: { $lte: 'PING' } }, { x: 'ping' }, caseInsensitive)).toBe(true);
    expect(matches({ x: { $lt: 'PING' } }, { x: 'ping' }, caseInsensitive)).toBe(false);
  });

  it('does not apply to regular expressions or non-strings', () => {
    expect(matches({ x: { $regex: '^P' } }, { x: 'ping' }, caseInsensitive)).toBe(false);
    expect(matches({ x: 1 }, { x: 1 }, caseInsensitive)).toBe(true);
    expect(matches({ x: 1 }, { x: '1' }, caseInsensitive)).toBe(false);
  });
});

describe('collated sorts and pipelines', () => {
  const docs = [{ s: 'b' }, { s: 'A' }, { s: 'a' }, { s: 'B' }, { s: 'c' }];

  it('sorts strings by the collation', () => {
    const binary = [...docs].sort(compileSort({ s: 1 })!).map((d) => d.s);
    expect(binary).toEqual(['A', 'B', 'a', 'b', 'c']);
    const en = [...docs].sort(compileSort({ s: 1 }, collation({ locale: 'en' }))!).map((d) => d.s);
    expect(en).toEqual(['a', 'A', 'b', 'B', 'c']);
    const desc = [...docs].sort(compileSort({ s: -1 }, collation({ locale: 'en' }))!).map((d) => d.s);
    expect(desc).toEqual(['c', 'B', 'b', 'A', 'a']);
  });

  it('$match, $group and $sortByCount use the pipeline collation', () => {
    const ctx = { collation: collation(caseInsensitive) };
    expect(runPipeline(docs, [{ $match: { s: 'A' } }], ctx).map((d) => d.s)).toEqual(['A', 'a']);
    expect(runPipeline(docs, [{ $match: { s: 'A' } }], {}).map((d) => d.s)).toEqual(['A']);
    const grouped = runPipeline(docs, [{ $group: { _id: '$s', n: { $sum: 1 } } }], ctx);
    expect(grouped.map((g) => [g._id, Number(g.n)])).toEqual([
      ['b', 2],
      ['A', 2],
      ['c', 1],
    ]);
    expect(runPipeline(docs, [{ $group: { _id: '$s' } }], {})).toHaveLength(5);
    const counted = runPipeline(docs, [{ $sortByCount: '$s' }], ctx);
    expect(counted.map((g) => Number(g.count))).toEqual([2, 2, 1]);
  });
});
