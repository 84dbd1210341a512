import { Int32 } from 'bson';
import { ROOT_ONLY, requiredPrivileges } from '../../../../emulator/src/auth/required-privileges';

describe('requiredPrivileges', () => {
  it('maps CRUD commands to actions on their namespace', () => {
    expect(requiredPrivileges('find', 'app', { find: 'c' })).toEqual([
      [{ resource: { db: 'app', collection: 'c' }, actions: ['find'] }],
    ]);
    expect(requiredPrivileges('insert', 'app', { insert: 'c' })).toEqual([
      [{ resource: { db: 'app', collection: 'c' }, actions: ['insert'] }],
    ]);
    expect(requiredPrivileges('delete', 'app', { delete: 'c' })[0][0].actions).toEqual(['remove']);
    expect(
      requiredPrivileges('update', 'app', { update: 'c', updates: [{ q: {}, u: {}, upsert: true }] })[0][0]
        .actions,
    ).toEqual(['update', 'insert']);
    expect(
      requiredPrivileges('findAndModify', 'app', { findAndModify: 'c', remove: true })[0][0].actions,
    ).toEqual(['find', 'remove']);
  });

  it('maps change streams by scope', () => {
    const collection = requiredPrivileges('aggregate', 'app', {
      aggregate: 'c',
      pipeline: [{ $changeStream: {} }],
    });
    expect(collection).toEqual([
      [{ resource: { db: 'app', collection: 'c' }, actions: ['changeStream', 'find'] }],
    ]);
    const database = requiredPrivileges('aggregate', 'app', {
      aggregate: new Int32(1),
      pipeline: [{ $changeStream: {} }],
    });
    expect(database[0][0].resource).toEqual({ db: 'app', collection: '' });
    const cluster = requiredPrivileges('aggregate', 'admin', {
      aggregate: new Int32(1),
      pipeline: [{ $changeStream: { allChangesForCluster: true } }],
    });
    expect(cluster[0][0].resource).toEqual({ db: '', collection: '' });
  });

  it('adds $out, $merge and $lookup targets to aggregations', () => {
    const [privileges] = requiredPrivileges('aggregate', 'app', {
      aggregate: 'c',
      pipeline: [{ $lookup: { from: 'other' } }, { $merge: { into: { db: 'dst', coll: 'out' } } }],
    });
    expect(privileges).toEqual([
      { resource: { db: 'app', collection: 'c' }, actions: ['find'] },
      { resource: { db: 'app', collection: 'other' }, actions: ['find'] },
      { resource: { db: 'dst', collection: 'out' }, actions: ['insert', 'update'] },
    ]);
  });

  it('maps bulkWrite per namespace of nsInfo', () => {
    const [privileges] = requiredPrivileges('bulkWrite', 'admin', {
      bulkWrite: 1,
      ops: [
        { insert: new Int32(0), document: {} },
        { update: new Int32(1), upsert: true },
        { delete: new Int32(0) },
      ],
      nsInfo: [{ ns: 'a.x' }, { ns: 'b.y' }],
    });
    expect(privileges).toEqual([
      { resource: { db: 'a', collection: 'x' }, actions: ['insert', 'remove'] },
      { resource: { db: 'b', collection: 'y' }, actions: ['update', 'insert'] },
    ]);
  });

  it('offers the same-database or cross-database route for renameCollection', () => {
    const sameDb = requiredPrivileges('renameCollection', 'admin', { renameCollection: 'a.x', to: 'a.y' });
    expect(sameDb).toHaveLength(2);
    expect(sameDb[0]).toEqual([
      { resource: { db: 'a', collection: '' }, actions: ['renameCollectionSameDB'] },
    ]);
    const crossDb = requiredPrivileges('renameCollection', 'admin', { renameCollection: 'a.x', to: 'b.y' });
    expect(crossDb).toEqual([
      [
        { resource: { db: 'a', collection: 'x' }, actions: ['find', 'dropCollection'] },
        { resource: { db: 'b', collection: 'y' }, actions: ['insert', 'createIndex'] },
      ],
    ]);
  });

  it('maps cluster commands, open commands and unknown commands', () => {
    expect(requiredPrivileges('setUserWriteBlockMode', 'admin', {})).toEqual([
      [{ resource: { cluster: true }, actions: ['setUserWriteBlockMode'] }],
    ]);
    expect(requiredPrivileges('serverStatus', 'admin', {})[0][0].actions).toEqual(['serverStatus']);
    for (const open of [
      'ping',
      'hello',
      'commitTransaction',
      'endSessions',
      'killCursors',
      'getMore',
      'listDatabases',
    ]) {
      expect(requiredPrivileges(open, 'admin', {})).toEqual([[]]);
    }
    expect(requiredPrivileges('configureFailPoint', 'admin', {})).toEqual([[ROOT_ONLY]]);
    expect(requiredPrivileges('somethingNew', 'admin', {})).toEqual([[ROOT_ONLY]]);
    expect(requiredPrivileges('explain', 'app', { explain: { find: 'c' } })[0][0].actions).toEqual(['find']);
  });
});
