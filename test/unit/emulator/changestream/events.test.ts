import { Binary, Long, Timestamp, UUID } from 'bson';
import type { CursorSource } from '../../../../emulator/src/cursor';
import type { OplogEntry } from '../../../../emulator/src/oplog';
import { FakeEngine, uuidA, uuidB, insert, open, drain } from './fake-engine';

describe('change events', () => {
  it('shapes CRUD events as mongod does, in field order', async () => {
    const engine = new FakeEngine();
    const stream = open(engine, {});
    engine.append(insert('app', 'users', { _id: 1, name: 'a' }));
    engine.append({
      op: 'update',
      db: 'app',
      coll: 'users',
      uuid: uuidA,
      documentKey: { _id: 1 },
      preImage: { _id: 1, name: 'a' },
      postImage: { _id: 1, name: 'b' },
      updateDescription: { updatedFields: { name: 'b' }, removedFields: [], truncatedArrays: [] },
    });
    engine.append({
      op: 'replace',
      db: 'app',
      coll: 'users',
      uuid: uuidA,
      documentKey: { _id: 1 },
      postImage: { _id: 1, x: 1 },
    });
    engine.append({ op: 'delete', db: 'app', coll: 'users', uuid: uuidA, documentKey: { _id: 1 } });
    const events = await drain(stream);
    expect(events.map((e) => e.operationType)).toEqual(['insert', 'update', 'replace', 'delete']);
    expect(Object.keys(events[0])).toEqual([
      '_id',
      'operationType',
      'clusterTime',
      'wallTime',
      'fullDocument',
      'ns',
      'documentKey',
    ]);
    expect(events[0]).toMatchObject({
      fullDocument: { _id: 1, name: 'a' },
      ns: { db: 'app', coll: 'users' },
      documentKey: { _id: 1 },
    });
    expect(events[0].clusterTime).toBeInstanceOf(Timestamp);
    expect(events[0].wallTime).toBeInstanceOf(Date);
    expect(Object.keys(events[1])).toEqual([
      '_id',
      'operationType',
      'clusterTime',
      'wallTime',
      'ns',
      'documentKey',
      'updateDescription',
    ]);
    expect(events[1].updateDescription).toEqual({
      updatedFields: { name: 'b' },
      removedFields: [],
      truncatedArrays: [],
    });
    expect(Object.keys(events[3])).toEqual([
      '_id',
      'operationType',
      'clusterTime',
      'wallTime',
      'ns',
      'documentKey',
    ]);
  });

  it('reports transaction identity with a Long txnNumber and a 32-byte uid', async () => {
    const engine = new FakeEngine();
    const stream = open(engine, {});
    const lsid = { id: new UUID() };
    engine.appendTransaction(
      [insert('app', 'users', { _id: 1 }), insert('app', 'users', { _id: 2 })],
      lsid,
      Long.fromNumber(7),
    );
    const events = await drain(stream);
    expect(events).toHaveLength(2);
    expect(Object.keys(events[0]).slice(0, 3)).toEqual(['txnNumber', 'lsid', '_id']);
    expect(events[1].txnNumber).toEqual(Long.fromNumber(7));
    expect((events[1].lsid.uid as Binary).length()).toBe(32);
    expect(events[0].clusterTime.equals(events[1].clusterTime)).toBe(true);
    expect(events[0]._id._data < events[1]._id._data).toBe(true);
  });

  it('shows only the namespaces in scope, never internal ones', async () => {
    const engine = new FakeEngine();
    const coll = open(engine, {}, { db: 'app', coll: 'users' });
    const db = open(engine, {}, { db: 'app' });
    const cluster = open(engine, { allChangesForCluster: true }, { db: 'admin' });
    engine.append(insert('app', 'users', { _id: 1 }));
    engine.append(insert('app', 'orders', { _id: 2 }, uuidB));
    engine.append(insert('other', 'users', { _id: 3 }));
    engine.append(insert('admin', 'x', { _id: 4 }));
    engine.append(insert('config', 'x', { _id: 5 }));
    engine.append(insert('local', 'x', { _id: 6 }));
    engine.append(insert('app', 'system.js', { _id: 7 }));
    engine.append({ op: 'noop', db: 'admin', size: 10 });
    const ids = async (source: CursorSource) => (await drain(source)).map((e) => e.documentKey._id);
    expect(await ids(coll)).toEqual([1]);
    expect(await ids(db)).toEqual([1, 2]);
    expect(await ids(cluster)).toEqual([1, 2, 3]);
  });

  it('shows expanded events only with showExpandedEvents', async () => {
    const engine = new FakeEngine();
    const plain = open(engine, {}, { db: 'app' });
    const expanded = open(engine, { showExpandedEvents: true }, { db: 'app' });
    engine.append({
      op: 'create',
      db: 'app',
      coll: 'c',
      uuid: uuidA,
      operationDescription: { idIndex: { v: 2, key: { _id: 1 }, name: '_id_' } },
    });
    engine.append({
      op: 'createIndexes',
      db: 'app',
      coll: 'c',
      uuid: uuidA,
      operationDescription: { indexes: [{ v: 2, key: { x: 1 }, name: 'x_1' }] },
    });
    engine.append(insert('app', 'c', { _id: 1 }));
    engine.append({
      op: 'update',
      db: 'app',
      coll: 'c',
      uuid: uuidA,
      documentKey: { _id: 1 },
      updateDescription: {
        updatedFields: { 'a.1': 2 },
        removedFields: [],
        truncatedArrays: [],
        disambiguatedPaths: { 'a.1': ['a', '1'] },
      },
    });
    engine.append({
      op: 'dropIndexes',
      db: 'app',
      coll: 'c',
      uuid: uuidA,
      operationDescription: { indexes: [{ v: 2, key: { x: 1 }, name: 'x_1' }] },
    });
    engine.append({
      op: 'modify',
      db: 'app',
      coll: 'c',
      uuid: uuidA,
      operationDescription: { index: { name: 'x_1', hidden: true } },
      stateBeforeChange: { indexOptions: { hidden: false } },
    });
    engine.append({
      op: 'rename',
      db: 'app',
      coll: 'c',
      uuid: uuidA,
      to: { db: 'app', coll: 'd' },
      operationDescription: { to: { db: 'app', coll: 'd' } },
    });
    const plainEvents = await drain(plain);
    expect(plainEvents.map((e) => e.operationType)).toEqual(['insert', 'update', 'rename']);
    expect(plainEvents[0].collectionUUID).toBeUndefined();
    expect(plainEvents[1].updateDescription.disambiguatedPaths).toBeUndefined();
    expect(plainEvents[2].operationDescription).toBeUndefined();
    expect(plainEvents[2].to).toEqual({ db: 'app', coll: 'd' });

    const events = await drain(expanded);
    expect(events.map((e) => e.operationType)).toEqual([
      'create',
      'createIndexes',
      'insert',
      'update',
      'dropIndexes',
      'modify',
      'rename',
    ]);
    expect(Object.keys(events[0])).toEqual([
      '_id',
      'operationType',
      'clusterTime',
      'collectionUUID',
      'wallTime',
      'ns',
      'operationDescription',
      'nsType',
    ]);
    expect(events[0].nsType).toBe('collection');
    expect(events[2].collectionUUID).toEqual(uuidA);
    expect(events[3].updateDescription.disambiguatedPaths).toEqual({ 'a.1': ['a', '1'] });
    expect(events[5].stateBeforeChange).toEqual({ indexOptions: { hidden: false } });
    expect(events[6].operationDescription).toEqual({ to: { db: 'app', coll: 'd' } });
  });
});

describe('images', () => {
  function updateEntry(prePostImagesEnabled: boolean): Omit<OplogEntry, 'ts' | 'wallTime' | 'size'> {
    return {
      op: 'update',
      db: 'app',
      coll: 'users',
      uuid: uuidA,
      documentKey: { _id: 1 },
      preImage: { _id: 1 },
      postImage: { _id: 1, x: 1 },
      updateDescription: { updatedFields: { x: 1 }, removedFields: [], truncatedArrays: [] },
      prePostImagesEnabled,
    };
  }

  it('updateLookup returns the current document or null', async () => {
    const engine = new FakeEngine();
    const stream = open(engine, { fullDocument: 'updateLookup' });
    engine.documents.set('app.users.1', { _id: 1, x: 42 });
    engine.append(updateEntry(false));
    engine.append({ ...updateEntry(false), documentKey: { _id: 2 } });
    const events = await drain(stream);
    expect(events[0].fullDocument).toEqual({ _id: 1, x: 42 });
    expect(Object.keys(events[0]).pop()).toBe('fullDocument');
    expect(events[1].fullDocument).toBeNull();
  });

  it('whenAvailable/required use the recorded images only when the collection enables them', async () => {
    const engine = new FakeEngine();
    const whenAvailable = open(engine, {
      fullDocument: 'whenAvailable',
      fullDocumentBeforeChange: 'whenAvailable',
    });
    const required = open(engine, { fullDocument: 'required', fullDocumentBeforeChange: 'required' });
    const off = open(engine, { fullDocumentBeforeChange: 'off' });
    engine.append(updateEntry(true));
    const [enabled] = await drain(whenAvailable);
    expect(enabled).toMatchObject({ fullDocument: { _id: 1, x: 1 }, fullDocumentBeforeChange: { _id: 1 } });
    expect(Object.keys(enabled).slice(-2)).toEqual(['fullDocumentBeforeChange', 'fullDocument']);
    expect((await drain(required))[0]).toMatchObject({
      fullDocument: { _id: 1, x: 1 },
      fullDocumentBeforeChange: { _id: 1 },
    });
    expect('fullDocumentBeforeChange' in (await drain(off))[0]).toBe(false);

    engine.append(updateEntry(false));
    const [disabled] = await drain(whenAvailable);
    expect(disabled.fullDocument).toBeNull();
    expect(disabled.fullDocumentBeforeChange).toBeNull();
    await expect(required.next(10, 0)).rejects.toMatchObject({ code: 47 });
  });

  it('adds fullDocumentBeforeChange to deletes and replaces, not inserts', async () => {
    const engine = new FakeEngine();
    const stream = open(engine, { fullDocumentBeforeChange: 'whenAvailable' });
    engine.append({ ...insert('app', 'users', { _id: 1 }), prePostImagesEnabled: true });
    engine.append({
      op: 'replace',
      db: 'app',
      coll: 'users',
      uuid: uuidA,
      documentKey: { _id: 1 },
      preImage: { _id: 1 },
      postImage: { _id: 1, y: 1 },
      prePostImagesEnabled: true,
    });
    engine.append({
      op: 'delete',
      db: 'app',
      coll: 'users',
      uuid: uuidA,
      documentKey: { _id: 1 },
      preImage: { _id: 1, y: 1 },
      prePostImagesEnabled: true,
    });
    const [ins, rep, del] = await drain(stream);
    expect('fullDocumentBeforeChange' in ins).toBe(false);
    expect(rep.fullDocumentBeforeChange).toEqual({ _id: 1 });
    expect(del.fullDocumentBeforeChange).toEqual({ _id: 1, y: 1 });
  });
});
