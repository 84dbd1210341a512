import { storedIndexSpec, isTextKey } from '../../../../emulator/src/storage/index-spec';

describe('storedIndexSpec', () => {
  test('puts v, key and name first and keeps the other options', () => {
    expect(
      storedIndexSpec({ name: 'a_1', key: { a: 1 }, unique: true, background: true, ns: 'x.y' }),
    ).toEqual({
      v: 2,
      key: { a: 1 },
      name: 'a_1',
      unique: true,
    });
  });

  test('text: wildcard weights, byte-sorted weights, integer weights, given fields kept in place', () => {
    expect(storedIndexSpec({ key: { '$**': 'text' }, name: 't' })).toMatchObject({
      key: { _fts: 'text', _ftsx: 1 },
      weights: { '$**': 1 },
    });
    const spec = storedIndexSpec({
      key: { b: 'text', a: 'text' },
      name: 't',
      language_override: 'lang',
      weights: { a: 2.9, Z: 3 },
    });
    expect(Object.keys(spec)).toEqual([
      'v',
      'key',
      'name',
      'language_override',
      'weights',
      'default_language',
      'textIndexVersion',
    ]);
    expect(spec.weights).toEqual({ Z: 3, a: 2, b: 1 });
    expect(Object.keys(spec.weights)).toEqual(['Z', 'a', 'b']);
  });

  test('text: a stored spec normalizes to itself', () => {
    const stored = storedIndexSpec({ key: { x: 1, t: 'text' }, name: 'i' });
    expect(storedIndexSpec(stored)).toEqual(stored);
  });

  test.each([
    [{ key: { a: 'text', b: 1, c: 'text' }, name: 'i' }, "'text' fields in index must all be adjacent"],
    [{ key: { a: 'text' }, name: 'i', default_language: 'klingon' }, 'default_language is not valid'],
    [{ key: { a: 'text' }, name: 'i', language_override: '$x' }, 'language_override is not valid'],
    [
      { key: { a: 'text' }, name: 'i', weights: { a: 0 } },
      'text index weight must be in the exclusive interval',
    ],
    [{ key: { a: 'text' }, name: 'i', textIndexVersion: 1 }, 'bad textIndexVersion: 1'],
    [{ key: { a: 'text', b: 2 }, name: 'i' }, 'expected value 1 or -1 for non-text key in compound index'],
  ])('text: refuses %j', (raw, message) => {
    expect(() => storedIndexSpec(raw)).toThrow(
      expect.objectContaining({ code: 67, message: expect.stringContaining(message) }),
    );
  });

  test('2dsphere: the version is added, or checked when given', () => {
    expect(storedIndexSpec({ key: { p: '2dsphere' }, name: 'p' })['2dsphereIndexVersion']).toBe(3);
    expect(
      storedIndexSpec({ key: { p: '2dsphere' }, name: 'p', '2dsphereIndexVersion': 2 })[
        '2dsphereIndexVersion'
      ],
    ).toBe(2);
    expect(() => storedIndexSpec({ key: { p: '2dsphere' }, name: 'p', '2dsphereIndexVersion': 7 })).toThrow(
      expect.objectContaining({ code: 67 }),
    );
  });

  test('collation: simple dropped, others filled in, the collection default inherited', () => {
    expect(storedIndexSpec({ key: { a: 1 }, name: 'a', collation: { locale: 'simple' } })).toEqual({
      v: 2,
      key: { a: 1 },
      name: 'a',
    });
    expect(
      storedIndexSpec({ key: { a: 1 }, name: 'a', collation: { locale: 'th' } }).collation,
    ).toMatchObject({
      locale: 'th',
      alternate: 'shifted',
      version: '57.1',
    });
    const inherited = { locale: 'de', strength: 1 };
    expect(storedIndexSpec({ key: { a: 1 }, name: 'a' }, inherited).collation).toBe(inherited);
    expect(() => storedIndexSpec({ key: { a: '2d' }, name: 'a' }, inherited)).toThrow(
      expect.objectContaining({ code: 67 }),
    );
  });

  test('isTextKey', () => {
    expect(isTextKey({ a: 'text' })).toBe(true);
    expect(isTextKey({ _fts: 'text', _ftsx: 1 })).toBe(true);
    expect(isTextKey({ a: 1 })).toBe(false);
  });
});
