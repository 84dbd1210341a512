// `--hotDocIDs` values: which spellings name which `_id`, and which documents they match.
import { Double, Int32, Long, ObjectId } from 'bson';
import { HotDocuments, parseHotDocId } from '../../../src/activities/hotDocuments';

describe('parseHotDocId', () => {
  it.each([
    ['counter', '"counter"'],
    ['"counter"', '"counter"'],
    ['42', '{"$numberInt":"42"}'],
    ['4.5', '{"$numberDouble":"4.5"}'],
    ['{"$oid":"5f1d7f3e9d1b2c3a4b5c6d7e"}', '{"$oid":"5f1d7f3e9d1b2c3a4b5c6d7e"}'],
    ['{"region":"eu","n":1}', '{"region":"eu","n":{"$numberInt":"1"}}'],
    [7, '{"$numberInt":"7"}'],
    [{ $oid: '5f1d7f3e9d1b2c3a4b5c6d7e' }, '{"$oid":"5f1d7f3e9d1b2c3a4b5c6d7e"}'],
  ])('reads %j as %s', (value, canonical) => {
    expect(parseHotDocId(value)).toBe(canonical);
  });

  it.each([
    ['[1]', /array/],
    ['{"$regularExpression":{"pattern":"a","options":""}}', /regex/],
    ['{"$unknownType":1}', /Extended JSON/],
    ['{"$oid":"not hex"}', /hex/],
  ])('refuses %s', (value, message) => {
    expect(() => parseHotDocId(value)).toThrow(message);
  });
});

describe('HotDocuments', () => {
  const hot = new HotDocuments(['42', 'counter', '{"$oid":"5f1d7f3e9d1b2c3a4b5c6d7e"}'].map(parseHotDocId));

  it('matches an _id whatever numeric type the source stores it as', () => {
    for (const id of [new Int32(42), new Double(42), Long.fromNumber(42), 42])
      expect(hot.matches({ _id: id })).toBe(true);
    expect(hot.matches({ _id: new Int32(43) })).toBe(false);
  });

  it('matches strings and ObjectIds exactly, and ignores other fields of the document key', () => {
    expect(hot.matches({ _id: 'counter' })).toBe(true);
    expect(hot.matches({ _id: 'Counter' })).toBe(false);
    expect(hot.matches({ _id: new ObjectId('5f1d7f3e9d1b2c3a4b5c6d7e') })).toBe(true);
    expect(hot.matches({ _id: new ObjectId('5f1d7f3e9d1b2c3a4b5c6d7f') })).toBe(false);
    expect(hot.matches({ _id: 'counter', shard: 3 } as { _id: unknown })).toBe(true);
    expect(new HotDocuments().matches({ _id: 'counter' })).toBe(false);
  });
});
