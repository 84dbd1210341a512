import {
  compareValues,
  parseCollation,
  parseCollationSpec,
  valuesEqual,
} from '../../../../emulator/src/query';
import { accentInsensitive, caseInsensitive, collation } from './collation-helpers';

function expectCode(fn: () => unknown, code: number): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toMatchObject({ code });
}

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
