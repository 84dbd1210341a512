import {
  InvalidRequestError,
  parseEmptyRequest,
  parseJsonBody,
  parseStartRequest,
} from '../../../src/api/startRequest';

const base = { source: 'cluster0', destination: 'cluster1' };

function rejection(body: unknown): string {
  try {
    parseStartRequest(body);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidRequestError);
    return (err as Error).message;
  }
  throw new Error('expected the request to be rejected');
}

describe('parseStartRequest', () => {
  it('applies the contract defaults', () => {
    expect(parseStartRequest(base)).toEqual({
      direction: { source: 'cluster0', destination: 'cluster1' },
      options: {
        reversible: false,
        writeBlocking: 'destinationOnly',
        buildIndexes: 'afterDataCopy',
        includeNamespaces: [],
        excludeNamespaces: [],
        verificationEnabled: true,
        preExistingDestinationData: false,
        detectRandomId: true,
        copyInNaturalOrder: [],
        skipDiskSpaceCheck: false,
      },
    });
  });

  it('takes mongosync 1.20+ fields, and refuses sharding with a clear error', () => {
    const options = parseStartRequest({
      ...base,
      detectRandomId: false,
      copyInNaturalOrder: [{ database: 'shop', collections: ['events', 'logs'] }],
      skipDiskSpaceCheck: true,
      enableUserWriteBlocking: true,
    }).options;
    expect(options).toMatchObject({
      detectRandomId: false,
      copyInNaturalOrder: [{ database: 'shop', collections: ['events', 'logs'] }],
      skipDiskSpaceCheck: true,
      writeBlocking: 'sourceAndDestination',
    });
    expect(rejection({ ...base, detectRandomId: 'yes' })).toMatch(/detectRandomId/);
    expect(rejection({ ...base, copyInNaturalOrder: [{ database: 'shop', collections: [] }] })).toMatch(
      /copyInNaturalOrder\.0\.collections: name at least one collection/,
    );
    expect(rejection({ ...base, copyInNaturalOrder: [{ collections: ['a'] }] })).toMatch(
      /copyInNaturalOrder\.0\.database: required/,
    );
    expect(rejection({ ...base, skipDiskSpaceCheck: 1 })).toMatch(/skipDiskSpaceCheck/);
    const sharding = { createSupportingIndexes: true, shardingEntries: [] };
    expect(rejection({ ...base, sharding })).toMatch(/sharding: .*sharded cluster is not supported yet/);
  });

  it('runs the verifier unless the body or --disableVerification turns it off', () => {
    expect(parseStartRequest(base).options.verificationEnabled).toBe(true);
    expect(parseStartRequest({ ...base, verification: { enabled: false } }).options.verificationEnabled).toBe(
      false,
    );
    expect(parseStartRequest(base, false).options.verificationEnabled).toBe(false);
    expect(
      parseStartRequest({ ...base, verification: { enabled: true } }, false).options.verificationEnabled,
    ).toBe(true);
  });

  it.each([
    [true, 'sourceAndDestination'],
    [false, 'none'],
    ['destinationOnly', 'destinationOnly'],
    ['sourceAndDestination', 'sourceAndDestination'],
    ['none', 'none'],
  ])('maps enableUserWriteBlocking %p to %s', (value, mode) => {
    expect(parseStartRequest({ ...base, enableUserWriteBlocking: value }).options.writeBlocking).toBe(mode);
  });

  it('accepts every buildIndexes value, filters and verification', () => {
    for (const buildIndexes of [
      'beforeDataCopy',
      'afterDataCopy',
      'never',
      'excludeHashed',
      'excludeHashedAfterCopy',
    ]) {
      expect(parseStartRequest({ ...base, buildIndexes }).options.buildIndexes).toBe(buildIndexes);
    }
    const parsed = parseStartRequest({
      ...base,
      includeNamespaces: [
        { database: 'shop', collections: ['orders'] },
        { databaseRegex: { pattern: '^app', options: 'i' }, collectionsRegex: { pattern: 'log$' } },
      ],
      excludeNamespaces: [{ database: 'shop', collections: ['tmp'] }],
      verification: { enabled: false },
      preExistingDestinationData: true,
    });
    expect(parsed.options.includeNamespaces).toHaveLength(2);
    expect(parsed.options.verificationEnabled).toBe(false);
    expect(parsed.options.preExistingDestinationData).toBe(true);
    expect(parseStartRequest({ source: 'cluster1', destination: 'cluster0' }).direction.source).toBe(
      'cluster1',
    );
  });

  it.each([
    ['a missing source', { destination: 'cluster1' }, /source: required/],
    ['a missing destination', { source: 'cluster0' }, /destination: required/],
    ['an unknown cluster', { ...base, source: 'cluster2' }, /source/],
    ['the same cluster twice', { source: 'cluster0', destination: 'cluster0' }, /different clusters/],
    ['an unknown field', { ...base, colour: 'red' }, /unknown field "colour"/],
    ['a non-boolean reversible', { ...base, reversible: 'yes' }, /reversible/],
    ['a bad write blocking mode', { ...base, enableUserWriteBlocking: 'always' }, /enableUserWriteBlocking/],
    ['a bad buildIndexes', { ...base, buildIndexes: 'sometimes' }, /buildIndexes/],
    ['verification without enabled', { ...base, verification: {} }, /verification.enabled/],
    [
      'verification with extra fields',
      { ...base, verification: { enabled: true, fast: 1 } },
      /unknown field "fast"/,
    ],
    [
      'a filter without database',
      { ...base, includeNamespaces: [{ collections: ['a'] }] },
      /"database" or "databaseRegex"/,
    ],
    [
      'a filter with database and databaseRegex',
      { ...base, includeNamespaces: [{ database: 'a', databaseRegex: { pattern: 'a' } }] },
      /not both/,
    ],
    [
      'a filter with an unknown field',
      { ...base, excludeNamespaces: [{ database: 'a', table: 'b' }] },
      /unknown field "table"/,
    ],
    [
      'an invalid regex',
      { ...base, includeNamespaces: [{ databaseRegex: { pattern: '(' } }] },
      /invalid regular expression/,
    ],
    [
      'bad regex options',
      { ...base, includeNamespaces: [{ databaseRegex: { pattern: 'a', options: 'g' } }] },
      /options/,
    ],
    ['filters that are not arrays', { ...base, includeNamespaces: { database: 'a' } }, /includeNamespaces/],
    ['a non-object body', [base], /body/],
    [
      'preExistingDestinationData without a filter',
      { ...base, preExistingDestinationData: true },
      /requires includeNamespaces/,
    ],
    [
      'reversible without source write blocking',
      { ...base, reversible: true },
      /reversible requires enableUserWriteBlocking/,
    ],
    [
      'reversible with filters',
      { ...base, reversible: true, enableUserWriteBlocking: true, includeNamespaces: [{ database: 'a' }] },
      /reversible cannot be combined with includeNamespaces/,
    ],
    [
      'reversible with buildIndexes never',
      { ...base, reversible: true, enableUserWriteBlocking: true, buildIndexes: 'never' },
      /buildIndexes "never"/,
    ],
    [
      'reversible with preExistingDestinationData',
      { ...base, reversible: true, enableUserWriteBlocking: true, preExistingDestinationData: true },
      /reversible cannot be combined with preExistingDestinationData/,
    ],
  ])('rejects %s', (_name, body, message) => {
    expect(rejection(body)).toMatch(message);
  });
});

describe('request bodies', () => {
  it('parses JSON whatever the content type, an empty body as {}', () => {
    expect(parseJsonBody('{ }')).toEqual({});
    expect(parseJsonBody('')).toEqual({});
    expect(parseJsonBody(undefined)).toEqual({});
    expect(parseJsonBody(' {"a": 1} ')).toEqual({ a: 1 });
    expect(() => parseJsonBody('{a:1}')).toThrow(/not valid JSON/);
  });

  it('accepts only an empty object for commands without parameters', () => {
    expect(() => parseEmptyRequest({})).not.toThrow();
    expect(() => parseEmptyRequest({ force: true })).toThrow(/unknown field "force"/);
    expect(() => parseEmptyRequest([])).toThrow(InvalidRequestError);
    expect(() => parseEmptyRequest('x')).toThrow(InvalidRequestError);
  });
});
