import {
  compileNamespaceFilter,
  isNeverSynced,
  isNeverSyncedDatabase,
  isSyncedNamespace,
} from '../../../src/activities/namespaces';

describe('namespaces', () => {
  it.each([
    ['admin', 'x'],
    ['config', 'x'],
    ['local', 'oplog.rs'],
    ['__mdb_internal_x', 'x'],
    ['app', 'system.views'],
    ['mongosync_reserved_for_internal_use', 'state'],
  ])('never syncs %s.%s', (db, coll) => {
    expect(isNeverSynced(db, coll)).toBe(true);
    expect(isSyncedNamespace(db, coll)).toBe(false);
    expect(compileNamespaceFilter().includes(db, coll)).toBe(false);
  });

  it('syncs user collections', () => expect(isSyncedNamespace('app', 'users')).toBe(true));

  it('applies include then exclude filters', () => {
    const filters = {
      includeNamespaces: [{ database: 'app' }, { databaseRegex: { pattern: '^log' }, collections: ['a'] }],
      excludeNamespaces: [{ database: 'app', collectionsRegex: { pattern: '^tmp', options: 'i' } }],
    };
    expect(isSyncedNamespace('app', 'users', filters)).toBe(true);
    expect(isSyncedNamespace('app', 'TMP_1', filters)).toBe(false);
    expect(isSyncedNamespace('logs', 'a', filters)).toBe(true);
    expect(isSyncedNamespace('logs', 'b', filters)).toBe(false);
    expect(isSyncedNamespace('other', 'a', filters)).toBe(false);
  });
});

describe('compiled namespace filter', () => {
  const filters = {
    includeNamespaces: [{ database: 'app' }, { databaseRegex: { pattern: '^log' }, collections: ['a'] }],
    excludeNamespaces: [
      { database: 'app', collectionsRegex: { pattern: '^tmp', options: 'i' } },
      { database: 'logs_old' },
    ],
  };

  it('answers like the one-off check, again and again', () => {
    const namespaces = compileNamespaceFilter(filters);
    for (let round = 0; round < 3; round++) {
      expect(namespaces.includes('app', 'users')).toBe(true);
      expect(namespaces.includes('app', 'TMP_1')).toBe(false);
      expect(namespaces.includes('app', 'tmp_2')).toBe(false);
      expect(namespaces.includes('logs', 'a')).toBe(true);
      expect(namespaces.includes('logs', 'b')).toBe(false);
      expect(namespaces.includes('logs_old', 'a')).toBe(false);
      expect(namespaces.includes('other', 'a')).toBe(false);
    }
  });

  it('builds its regexes once, when compiled', () => {
    const spy = jest.spyOn(global, 'RegExp');
    try {
      const namespaces = compileNamespaceFilter(filters);
      const built = spy.mock.calls.length;
      expect(built).toBe(2);
      for (let event = 0; event < 100; event++) namespaces.includes('logs', `c${event}`);
      expect(spy.mock.calls.length).toBe(built);
    } finally {
      spy.mockRestore();
    }
  });

  it('rejects an invalid regex when compiled, not when first asked', () => {
    expect(() =>
      compileNamespaceFilter({
        includeNamespaces: [{ databaseRegex: { pattern: '(' } }],
        excludeNamespaces: [],
      }),
    ).toThrow(SyntaxError);
  });

  it('drops the stateful flags g and y, so a shared regex answers the same every time', () => {
    const namespaces = compileNamespaceFilter({
      includeNamespaces: [{ databaseRegex: { pattern: '^app', options: 'g' } }],
      excludeNamespaces: [],
    });
    expect([1, 2, 3].map(() => namespaces.includes('app', 'c'))).toEqual([true, true, true]);
  });

  it('tells which databases may hold synced collections', () => {
    const namespaces = compileNamespaceFilter(filters);
    expect(namespaces.mayIncludeDatabase('app')).toBe(true);
    expect(namespaces.mayIncludeDatabase('logs')).toBe(true);
    // Excluded as a whole database, so no collection of it is synced.
    expect(namespaces.mayIncludeDatabase('logs_old')).toBe(false);
    expect(namespaces.mayIncludeDatabase('other')).toBe(false);
    expect(namespaces.mayIncludeDatabase('admin')).toBe(false);
    expect(compileNamespaceFilter().mayIncludeDatabase('anything')).toBe(true);
  });

  it('says whether it restricts anything', () => {
    expect(compileNamespaceFilter().restricts).toBe(false);
    expect(compileNamespaceFilter({ includeNamespaces: [], excludeNamespaces: [] }).restricts).toBe(false);
    expect(compileNamespaceFilter(filters).restricts).toBe(true);
  });

  it('keeps system databases out of the never-synced check of databases', () => {
    expect(isNeverSyncedDatabase('local')).toBe(true);
    expect(isNeverSyncedDatabase('app')).toBe(false);
  });
});
