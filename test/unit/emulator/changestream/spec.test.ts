import { Timestamp } from 'bson';
import { parseChangeStreamModes } from '../../../../emulator/src/changestream/spec';
import { FakeEngine, uuidA, insert, open, errorOf, insertToken } from './fake-engine';
import { entryToken } from '../../../../emulator/src/changestream/resume-token';
import type { OplogEntry } from '../../../../emulator/src/oplog';

describe('openChangeStream validation', () => {
  const engine = new FakeEngine();

  it('rejects bad specs and namespaces with mongod codes', () => {
    expect(errorOf(() => open(engine, { bogus: 1 })).code).toBe(40415);
    expect(errorOf(() => open(engine, { fullDocument: 'sometimes' })).code).toBe(2);
    expect(errorOf(() => open(engine, { fullDocumentBeforeChange: 'yes' })).code).toBe(2);
    const token = insertToken(new Timestamp({ t: 0x6553f100, i: 0 }), 1);
    expect(errorOf(() => open(engine, { resumeAfter: token, startAfter: token })).code).toBe(50865);
    expect(
      errorOf(() => open(engine, { resumeAfter: token, startAtOperationTime: new Timestamp({ t: 1, i: 1 }) }))
        .code,
    ).toBe(40674);
    expect(errorOf(() => open(engine, {}, { db: 'admin' })).code).toBe(73);
    expect(errorOf(() => open(engine, {}, { db: 'admin', coll: 'x' })).code).toBe(73);
    expect(errorOf(() => open(engine, {}, { db: 'local' })).code).toBe(73);
    expect(errorOf(() => open(engine, {}, { db: 'config', coll: 'x' })).code).toBe(73);
    expect(errorOf(() => open(engine, {}, { db: 'app', coll: 'system.views' })).code).toBe(73);
    expect(errorOf(() => open(engine, {}, {}, [{ $unsupported: 'foo' }])).code).toBe(40324);
    expect(errorOf(() => open(engine, {}, {}, [{ $group: { _id: null } }])).code).toBe(20);
    expect(() => open(engine, { allChangesForCluster: true }, { db: 'admin' })).not.toThrow();
  });

  it('requires a replica set', () => {
    const standalone = new FakeEngine();
    standalone.isReplicaSet = false;
    expect(errorOf(() => open(standalone, {})).code).toBe(40573);
  });

  it('rejects resumeAfter an invalidate token', () => {
    const local = new FakeEngine();
    local.append(insert('app', 'users', { _id: 1 }));
    const ts = local.append({ op: 'drop', db: 'app', coll: 'users', uuid: uuidA });
    expect(ts).toBeDefined();
    const invalidateToken = entryToken(local.oplog.newest() as OplogEntry, 2, 'invalidate');
    expect(errorOf(() => open(local, { resumeAfter: invalidateToken })).code).toBe(260);
    expect(() => open(local, { startAfter: invalidateToken })).not.toThrow();
  });
});

describe('resume token version', () => {
  it('is 2 from 6.1 on (the emulator: 7.0 and 8.0), 1 before, unless $_generateV2ResumeTokens says', () => {
    expect(parseChangeStreamModes({}, '8.0').tokenVersion).toBe(2);
    expect(parseChangeStreamModes({}, '7.0').tokenVersion).toBe(2);
    expect(parseChangeStreamModes({}, '6.0').tokenVersion).toBe(1);
    expect(parseChangeStreamModes({}, '5.0').tokenVersion).toBe(1);
    expect(parseChangeStreamModes({ $_generateV2ResumeTokens: false }, '8.0').tokenVersion).toBe(1);
    expect(parseChangeStreamModes({ $_generateV2ResumeTokens: true }, '6.0').tokenVersion).toBe(2);
  });
});
