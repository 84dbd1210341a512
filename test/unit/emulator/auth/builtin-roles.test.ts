import { builtinRolePrivileges } from '../../../../emulator/src/auth/builtin-roles';
import { PrivilegeSet } from '../../../../emulator/src/auth/privileges';

describe('privilege coverage', () => {
  const covers = (role: string, db: string, resource: object, ...actions: string[]) =>
    new PrivilegeSet(builtinRolePrivileges(role, db)).covers({ resource: resource as never, actions });

  it('confines database roles to their database and normal collections', () => {
    expect(covers('read', 'app', { db: 'app', collection: 'c' }, 'find')).toBe(true);
    expect(covers('read', 'app', { db: 'other', collection: 'c' }, 'find')).toBe(false);
    expect(covers('read', 'app', { db: 'app', collection: 'c' }, 'insert')).toBe(false);
    expect(covers('readWrite', 'app', { db: 'app', collection: 'c' }, 'insert', 'update', 'remove')).toBe(
      true,
    );
    expect(covers('readWrite', 'app', { db: 'app', collection: 'system.users' }, 'find')).toBe(false);
  });

  it('keeps any-database roles out of local and config', () => {
    expect(covers('readAnyDatabase', 'admin', { db: 'x', collection: 'c' }, 'find')).toBe(true);
    expect(covers('readAnyDatabase', 'admin', { db: 'local', collection: 'oplog.rs' }, 'find')).toBe(false);
    expect(covers('clusterMonitor', 'admin', { db: 'local', collection: 'oplog.rs' }, 'find')).toBe(true);
    expect(covers('readAnyDatabase', 'admin', { db: '', collection: '' }, 'changeStream', 'find')).toBe(true);
    expect(covers('read', 'app', { db: '', collection: '' }, 'find')).toBe(false);
  });

  it('grants write-blocking actions to restore, backup and root only', () => {
    expect(
      covers('restore', 'admin', { cluster: true }, 'bypassWriteBlockingMode', 'setUserWriteBlockMode'),
    ).toBe(true);
    expect(covers('backup', 'admin', { cluster: true }, 'setUserWriteBlockMode')).toBe(true);
    expect(covers('backup', 'admin', { cluster: true }, 'bypassWriteBlockingMode')).toBe(false);
    expect(
      covers('root', 'admin', { cluster: true }, 'bypassWriteBlockingMode', 'setUserWriteBlockMode'),
    ).toBe(true);
    expect(covers('clusterManager', 'admin', { cluster: true }, 'setUserWriteBlockMode')).toBe(false);
    expect(covers('readWriteAnyDatabase', 'admin', { cluster: true }, 'bypassWriteBlockingMode')).toBe(false);
  });

  it('makes admin-only roles unavailable elsewhere', () => {
    expect(builtinRolePrivileges('root', 'app')).toBeUndefined();
    expect(builtinRolePrivileges('read', 'app')).toBeDefined();
  });
});
