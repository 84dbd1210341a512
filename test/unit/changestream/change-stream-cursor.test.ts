import { Binary, type Document, Long, Timestamp, UUID } from 'bson';
import { openChangeStream, type ChangeStreamEngine } from '../../../emulator/src/changestream';
import { decodeResumeToken } from '../../../emulator/src/changestream/resume-token';
import type { CommandContext } from '../../../emulator/src/commands/context';
import type { CursorSource } from '../../../emulator/src/cursor';
import { CommandError } from '../../../emulator/src/errors';
import { Oplog, type OplogEntry } from '../../../emulator/src/oplog';

/** A stand-in for the server core: a real history, a clock and a document store. */
class FakeEngine implements ChangeStreamEngine {
  readonly oplog: Oplog;
  isReplicaSet = true;
  readonly documents = new Map<string, Document>();
  private clock = new Timestamp({ t: 1_700_000_000, i: 0 });

  constructor(maxBytes = 1 << 30) {
    this.oplog = new Oplog(maxBytes);
  }

  latestClusterTime(): Timestamp {
    return this.clock;
  }

  lookupDocument(db: string, coll: string, documentKey: Document): Document | undefined {
    return this.documents.get(`${db}.${coll}.${String(documentKey._id)}`);
  }

  tick(): Timestamp {
    this.clock = new Timestamp({ t: this.clock.t, i: this.clock.i + 1 });
    return this.clock;
  }

  append(entry: Omit<OplogEntry, 'ts' | 'wallTime' | 'size'> & { size?: number }): Timestamp {
    const ts = this.tick();
    this.oplog.append({ size: 100, ...entry, ts, wallTime: new Date(1_700_000_000_000) });
    return ts;
  }

  appendTransaction(
    entries: Array<Omit<OplogEntry, 'ts' | 'wallTime' | 'size'>>,
    lsid: Document,
    txnNumber: Long,
  ): Timestamp {
    const ts = this.tick();
    entries.forEach((entry, txnOpIndex) =>
      this.oplog.append({
        size: 100,
        ...entry,
        ts,
        wallTime: new Date(1_700_000_000_000),
        lsid,
        txnNumber,
        txnOpIndex,
      }),
    );
    return ts;
  }
}

const uuidA = new UUID();
const uuidB = new UUID();

function insert(
  db: string,
  coll: string,
  doc: Document,
  uuid = uuidA,
): Omit<OplogEntry, 'ts' | 'wallTime' | 'size'> {
  return { op: 'insert', db, coll, uuid, documentKey: { _id: doc._id }, postImage: doc };
}

function open(
  engine: FakeEngine,
  stage: Document,
  scope: { db?: string; coll?: string } = { db: 'app', coll: 'users' },
  rest: Document[] = [],
): CursorSource {
  const ctx = { engine, transaction: undefined } as unknown as CommandContext;
  return openChangeStream(ctx, stage, rest, scope);
}

async function drain(source: CursorSource, batchSize?: number): Promise<Document[]> {
  const batch = await source.next(batchSize, 0);
  return batch.docs as Document[];
}

async function errorOfNext(source: CursorSource): Promise<CommandError> {
  try {
    await source.next(10, 0);
  } catch (error) {
    if (error instanceof CommandError) return error;
    throw error;
  }
  throw new Error('expected a CommandError');
}

function hex(value: number): string {
  return value.toString(16).toUpperCase().padStart(8, '0');
}

/** The `_data` of the event token for an entry outside transactions at `ts`. */
function tokenAt(ts: Timestamp): string {
  return '82' + hex(ts.t) + hex(ts.i) + '00000000' + '00';
}

function errorOf(fn: () => unknown): CommandError {
  try {
    fn();
  } catch (error) {
    if (error instanceof CommandError) return error;
    throw error;
  }
  throw new Error('expected a CommandError');
}

describe('openChangeStream validation', () => {
  const engine = new FakeEngine();

  it('rejects bad specs and namespaces with mongod codes', () => {
    expect(errorOf(() => open(engine, { bogus: 1 })).code).toBe(40415);
    expect(errorOf(() => open(engine, { fullDocument: 'sometimes' })).code).toBe(2);
    expect(errorOf(() => open(engine, { fullDocumentBeforeChange: 'yes' })).code).toBe(2);
    const token = { _data: '82' + '6553F100'.padEnd(26, '0') };
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
    const invalidateToken = {
      _data:
        '82' +
        ts.t.toString(16).toUpperCase().padStart(8, '0') +
        ts.i.toString(16).padStart(8, '0') +
        '00000000' +
        '01',
    };
    expect(errorOf(() => open(local, { resumeAfter: invalidateToken })).code).toBe(260);
    expect(() => open(local, { startAfter: invalidateToken })).not.toThrow();
  });
});

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

describe('invalidation', () => {
  it('ends a collection stream after a drop, with an invalidate following the drop', async () => {
    const engine = new FakeEngine();
    const stream = open(engine, {});
    engine.append(insert('app', 'users', { _id: 1 }));
    engine.append({ op: 'drop', db: 'app', coll: 'users', uuid: uuidA });
    engine.append(insert('app', 'users', { _id: 2 }));
    const batch = await stream.next(undefined, 0);
    expect((batch.docs as Document[]).map((e) => e.operationType)).toEqual(['insert', 'drop', 'invalidate']);
    expect(batch.exhausted).toBe(true);
    const [, drop, invalidate] = batch.docs as Document[];
    expect(Object.keys(invalidate)).toEqual(['_id', 'operationType', 'clusterTime', 'wallTime']);
    expect(drop._id._data < invalidate._id._data).toBe(true);
    expect(batch.postBatchResumeToken).toEqual(invalidate._id);

    // resumeAfter the drop gives the invalidate again; startAfter the invalidate continues.
    const resumed = open(engine, { resumeAfter: drop._id });
    expect((await drain(resumed)).map((e) => e.operationType)).toEqual(['invalidate']);
    const restarted = open(engine, { startAfter: invalidate._id });
    expect((await drain(restarted)).map((e) => e.documentKey?._id)).toEqual([2]);
  });

  it('invalidates on rename of (or onto) the collection; database streams on dropDatabase', async () => {
    const engine = new FakeEngine();
    const source = open(engine, {}, { db: 'app', coll: 'users' });
    const target = open(engine, {}, { db: 'app', coll: 'people' });
    const db = open(engine, {}, { db: 'app' });
    const cluster = open(engine, { allChangesForCluster: true }, { db: 'admin' });
    engine.append({ op: 'rename', db: 'app', coll: 'users', uuid: uuidA, to: { db: 'app', coll: 'people' } });
    engine.append({ op: 'drop', db: 'app', coll: 'people', uuid: uuidA });
    engine.append({ op: 'dropDatabase', db: 'app' });
    engine.append(insert('app', 'users', { _id: 9 }));
    const types = async (s: CursorSource) => (await drain(s)).map((e) => e.operationType);
    expect(await types(source)).toEqual(['rename', 'invalidate']);
    expect(await types(target)).toEqual(['rename', 'invalidate']);
    expect(await types(db)).toEqual(['rename', 'drop', 'dropDatabase', 'invalidate']);
    const clusterEvents = await drain(cluster);
    expect(clusterEvents.map((e) => e.operationType)).toEqual(['rename', 'drop', 'dropDatabase', 'insert']);
    expect(clusterEvents[2].ns).toEqual({ db: 'app' });
  });

  it('returns the invalidate in the next batch when the drop fills a batch', async () => {
    const engine = new FakeEngine();
    const stream = open(engine, {});
    engine.append({ op: 'drop', db: 'app', coll: 'users', uuid: uuidA });
    const first = await stream.next(1, 0);
    expect((first.docs as Document[]).map((e) => e.operationType)).toEqual(['drop']);
    expect(first.exhausted).toBe(false);
    const second = await stream.next(1, 0);
    expect((second.docs as Document[]).map((e) => e.operationType)).toEqual(['invalidate']);
    expect(second.exhausted).toBe(true);
  });
});

describe('start points and history', () => {
  it('starts after the latest entry by default', async () => {
    const engine = new FakeEngine();
    engine.append(insert('app', 'users', { _id: 1 }));
    const stream = open(engine, {});
    engine.append(insert('app', 'users', { _id: 2 }));
    expect((await drain(stream)).map((e) => e.documentKey._id)).toEqual([2]);
  });

  it('startAtOperationTime is inclusive; resumeAfter/startAfter are exclusive', async () => {
    const engine = new FakeEngine();
    engine.append(insert('app', 'users', { _id: 1 }));
    const second = engine.append(insert('app', 'users', { _id: 2 }));
    engine.append(insert('app', 'users', { _id: 3 }));
    const at = open(engine, { startAtOperationTime: second });
    const events = await drain(at);
    expect(events.map((e) => e.documentKey._id)).toEqual([2, 3]);
    expect((await drain(open(engine, { resumeAfter: events[0]._id }))).map((e) => e.documentKey._id)).toEqual(
      [3],
    );
    expect((await drain(open(engine, { startAfter: events[0]._id }))).map((e) => e.documentKey._id)).toEqual([
      3,
    ]);
    expect(await drain(open(engine, { resumeAfter: events[1]._id }))).toEqual([]);
  });

  it('resumes inside a transaction after the right entry', async () => {
    const engine = new FakeEngine();
    const stream = open(engine, { startAtOperationTime: new Timestamp({ t: 1, i: 0 }) });
    engine.appendTransaction(
      [1, 2, 3].map((id) => insert('app', 'users', { _id: id })),
      { id: new UUID() },
      Long.fromNumber(1),
    );
    const events = await drain(stream);
    expect((await drain(open(engine, { resumeAfter: events[0]._id }))).map((e) => e.documentKey._id)).toEqual(
      [2, 3],
    );
  });

  it('fails with ChangeStreamHistoryLost when the start point fell off the history', async () => {
    const engine = new FakeEngine(1000);
    const first = engine.append(insert('app', 'users', { _id: 0 }));
    const stream = open(engine, {});
    const events: Document[] = [];
    engine.append(insert('app', 'users', { _id: 1 }));
    events.push(...(await drain(stream)));
    for (let id = 2; id < 40; id++) engine.append(insert('app', 'users', { _id: id }));
    const lost = await errorOfNext(open(engine, { startAtOperationTime: first }));
    expect(lost.code).toBe(286);
    expect(lost.codeName).toBe('ChangeStreamHistoryLost');
    expect(lost.errorLabels).toEqual(['NonResumableChangeStreamError']);
    expect(lost.message).toBe(
      'Resume of change stream was not possible, as the resume point may no longer be in the oplog.',
    );
    expect((await errorOfNext(open(engine, { resumeAfter: events[0]._id }))).code).toBe(286);
    expect((await errorOfNext(open(engine, { startAfter: events[0]._id }))).code).toBe(286);
    await expect(stream.next(10, 0)).rejects.toMatchObject({ code: 286 });
    // A recent point is fine.
    const newest = engine.oplog.newest();
    await expect(open(engine, { startAtOperationTime: newest?.ts }).next(10, 0)).resolves.toBeDefined();
  });

  it('checks the start point with the first batch: after batchSize 0, in the first getMore', async () => {
    const engine = new FakeEngine(1000);
    const first = engine.append(insert('app', 'users', { _id: 0 }));
    for (let id = 1; id < 40; id++) engine.append(insert('app', 'users', { _id: id }));
    const stream = open(engine, { startAtOperationTime: first });
    expect((await stream.next(0, 0)).docs).toEqual([]);
    await expect(stream.next(10, 0)).rejects.toMatchObject({ code: 286 });
  });

  it('is lost as soon as the oldest retained entry is later than the start time', async () => {
    const engine = new FakeEngine(350);
    for (let id = 0; id < 4; id++) engine.append(insert('app', 'users', { _id: id }));
    // Three entries of 100 bytes fit: the first fell off, the second is the oldest retained.
    const oldest = engine.oplog.oldest()?.ts as Timestamp;
    const beforeOldest = new Timestamp({ t: oldest.t, i: oldest.i - 1 });
    expect((await errorOfNext(open(engine, { startAtOperationTime: beforeOldest }))).code).toBe(286);
    const fromOldest = await drain(open(engine, { startAtOperationTime: oldest }));
    expect(fromOldest.map((e) => e.documentKey._id)).toEqual([1, 2, 3]);
    // The token for "everything before the oldest entry" (what an idle stream started there
    // reports) still resumes.
    const idle = open(engine, { startAtOperationTime: engine.tick() });
    const mark = (await idle.next(10, 0)).postBatchResumeToken as Document;
    await expect(open(engine, { resumeAfter: mark }).next(10, 0)).resolves.toMatchObject({ docs: [] });
  });

  it('accepts any start time while nothing was trimmed (the history begins with the cluster)', async () => {
    const engine = new FakeEngine();
    engine.append(insert('app', 'users', { _id: 1 }));
    const longAgo = new Timestamp({ t: 1_600_000_000, i: 1 });
    expect(
      (await drain(open(engine, { startAtOperationTime: longAgo }))).map((e) => e.documentKey._id),
    ).toEqual([1]);
    const mark = { _data: '82' + '5F5E1000' + '00000001' + 'FFFFFFFF' + 'FF' };
    expect(await drain(open(engine, { resumeAfter: mark }))).toHaveLength(1);
  });

  it('fails with ChangeStreamFatalError at the first entry past a token this history never had', async () => {
    const engine = new FakeEngine();
    engine.append(insert('app', 'users', { _id: 1 }));
    const inserted = engine.append(insert('app', 'users', { _id: 2 }));
    engine.append(insert('app', 'users', { _id: 3 }));
    // An event at a time that is in the history, but at an index no entry has.
    const fabricated = {
      _data: '82' + hex(inserted.t) + hex(inserted.i) + '00000005' + '00',
    };
    for (const option of ['resumeAfter', 'startAfter']) {
      const error = await errorOfNext(open(engine, { [option]: fabricated }));
      expect(error.code).toBe(280);
      expect(error.codeName).toBe('ChangeStreamFatalError');
      expect(error.errorLabels).toEqual(['NonResumableChangeStreamError']);
      const next = tokenAt(engine.oplog.newest()?.ts as Timestamp);
      expect(error.message).toBe(`cannot resume stream; the resume token was not found. {_data: "${next}"}`);
    }
    // A token older than every entry of a history never trimmed: the first entry surpasses it.
    const older = { _data: '82' + '5F5E1000' + '00000001' + '00000000' + '00' };
    expect((await errorOfNext(open(engine, { resumeAfter: older }))).code).toBe(280);
  });

  it('needs the token entry to be one the stream shows, expanded events included', async () => {
    const engine = new FakeEngine();
    const elsewhere = engine.append(insert('app', 'other', { _id: 1 }));
    const otherToken = { _data: tokenAt(elsewhere) };
    const stream = open(engine, { resumeAfter: otherToken });
    // Entries of other namespaces are passed over: nothing shows yet that the token is foreign.
    expect(await stream.next(10, 0)).toMatchObject({ docs: [], postBatchResumeToken: otherToken });
    engine.append({ op: 'create', db: 'app', coll: 'users', uuid: uuidA });
    await expect(stream.next(10, 0)).rejects.toMatchObject({ code: 280 });
  });

  it('waits at a token from the future, reporting it as postBatchResumeToken, until passed', async () => {
    const engine = new FakeEngine();
    engine.append(insert('app', 'users', { _id: 1 }));
    const now = engine.latestClusterTime();
    // The second entry of a transaction two ticks ahead: no entry will have that position.
    const future = { _data: '82' + hex(now.t) + hex(now.i + 2) + '00000001' + '00' };
    const stream = open(engine, { resumeAfter: future });
    expect(await stream.next(10, 0)).toMatchObject({ docs: [], postBatchResumeToken: future });
    engine.append(insert('app', 'users', { _id: 2 }));
    expect(await stream.next(10, 0)).toMatchObject({ docs: [], postBatchResumeToken: future });
    engine.append(insert('app', 'users', { _id: 3 }));
    engine.append(insert('app', 'users', { _id: 4 }));
    await expect(stream.next(10, 0)).rejects.toMatchObject({ code: 280 });
    // A start time or a high-water mark in the future just waits for it.
    const later = new Timestamp({ t: now.t + 10, i: 0 });
    const atTime = open(engine, { startAtOperationTime: later });
    const mark = { _data: '82' + hex(later.t) + hex(0) + 'FFFFFFFF' + 'FF' };
    const afterMark = open(engine, { resumeAfter: mark });
    engine.append(insert('app', 'users', { _id: 5 }));
    expect((await atTime.next(10, 0)).docs).toEqual([]);
    expect((await afterMark.next(10, 0)).docs).toEqual([]);
  });

  it('resumes from a token named in the first batch of an idle pending stream', async () => {
    const engine = new FakeEngine();
    const stream = open(engine, {});
    engine.append(insert('app', 'users', { _id: 1 }));
    const [event] = await drain(stream);
    engine.append(insert('app', 'other', { _id: 9 }));
    const resumed = open(engine, { resumeAfter: event._id });
    expect(await resumed.next(10, 0)).toMatchObject({ docs: [] });
    engine.append(insert('app', 'users', { _id: 2 }));
    expect((await drain(resumed)).map((e) => e.documentKey._id)).toEqual([2]);
  });
});

describe('batches and waiting', () => {
  it('waits for new entries up to maxAwaitMS, then returns an empty batch', async () => {
    const engine = new FakeEngine();
    const stream = open(engine, {});
    const started = Date.now();
    const empty = await stream.next(10, 150);
    expect(empty.docs).toHaveLength(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    const pending = stream.next(10, 5000);
    setTimeout(() => engine.append(insert('app', 'users', { _id: 1 })), 30);
    const woken = Date.now();
    const batch = await pending;
    expect(batch.docs).toHaveLength(1);
    expect(Date.now() - woken).toBeLessThan(2000);
  });

  it('keeps waiting through entries for other namespaces', async () => {
    const engine = new FakeEngine();
    const stream = open(engine, {});
    setTimeout(() => engine.append(insert('app', 'other', { _id: 1 })), 10);
    setTimeout(() => engine.append(insert('app', 'users', { _id: 2 })), 60);
    const batch = await stream.next(10, 3000);
    expect((batch.docs as Document[]).map((e) => e.documentKey._id)).toEqual([2]);
  });

  it('advances postBatchResumeToken: last event, else a high-water mark of what was read', async () => {
    const engine = new FakeEngine();
    const stream = open(engine, {});
    const initial = await stream.next(10, 0);
    const initialToken = decodeResumeToken(initial.postBatchResumeToken);
    expect(initialToken.kind).toBe('highWaterMark');
    expect(initialToken.clusterTime.equals(engine.latestClusterTime())).toBe(true);

    engine.append(insert('app', 'users', { _id: 1 }));
    const withEvent = await stream.next(10, 0);
    expect(withEvent.postBatchResumeToken).toEqual((withEvent.docs[0] as Document)._id);

    const otherTs = engine.append(insert('app', 'other', { _id: 2 }));
    const idle = await stream.next(10, 0);
    expect(idle.docs).toHaveLength(0);
    const mark = decodeResumeToken(idle.postBatchResumeToken);
    expect(mark.kind).toBe('highWaterMark');
    expect(mark.clusterTime.equals(otherTs)).toBe(true);
    expect(idle.postBatchResumeToken!._data > withEvent.postBatchResumeToken!._data).toBe(true);

    // Resuming from the mark skips what was already read.
    engine.append(insert('app', 'users', { _id: 3 }));
    expect(
      (await drain(open(engine, { resumeAfter: idle.postBatchResumeToken }))).map((e) => e.documentKey._id),
    ).toEqual([3]);
  });

  it('honours batchSize and resumes each batch where the last ended', async () => {
    const engine = new FakeEngine();
    const stream = open(engine, {});
    for (let id = 0; id < 25; id++) engine.append(insert('app', 'users', { _id: id }));
    const seen: number[] = [];
    for (let k = 0; k < 3; k++)
      seen.push(...(await drain(stream, 10)).map((e) => e.documentKey._id as number));
    expect(seen).toEqual(Array.from({ length: 25 }, (_, id) => id));
  });

  it('returns an empty first batch for batchSize 0 without consuming events', async () => {
    const engine = new FakeEngine();
    const stream = open(engine, { startAtOperationTime: new Timestamp({ t: 1, i: 0 }) });
    engine.append(insert('app', 'users', { _id: 1 }));
    const first = await stream.next(0, 0);
    expect(first.docs).toEqual([]);
    expect(first.exhausted).toBe(false);
    expect((await drain(stream)).map((e) => e.documentKey._id)).toEqual([1]);
  });

  it('close() ends a waiting next()', async () => {
    const engine = new FakeEngine();
    const stream = open(engine, {});
    const pending = stream.next(10, 10_000);
    stream.close();
    const batch = await pending;
    expect(batch.exhausted).toBe(true);
  });

  it('delivers 20,000 events quickly while other traffic interleaves', async () => {
    const engine = new FakeEngine(64 * 1024 * 1024);
    const stream = open(engine, {}, { db: 'app', coll: 'users' }, [{ $match: { operationType: 'insert' } }]);
    for (let id = 0; id < 20_000; id++) {
      engine.append(insert('app', 'users', { _id: id, payload: 'x'.repeat(50) }));
      engine.append(insert('app', 'other', { _id: id }));
    }
    // Small batches: re-scanning from the start on each call would be quadratic and far slower.
    const started = Date.now();
    let count = 0;
    while (count < 20_000) count += (await stream.next(100, 0)).docs.length;
    expect(count).toBe(20_000);
    expect(Date.now() - started).toBeLessThan(2000);
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

describe('user stages', () => {
  it('filters with $match and reshapes with $project/$addFields/$unset', async () => {
    const engine = new FakeEngine();
    const stream = open(engine, {}, { db: 'app', coll: 'users' }, [
      { $match: { 'fullDocument.keep': true } },
      { $project: { operationType: 1, fullDocument: 1 } },
      { $addFields: { tag: 'x' } },
      { $unset: 'fullDocument.keep' },
    ]);
    engine.append(insert('app', 'users', { _id: 1, keep: true, v: 1 }));
    engine.append(insert('app', 'users', { _id: 2, keep: false }));
    const events = await drain(stream);
    expect(events).toHaveLength(1);
    expect(events[0]).toEqual({
      _id: expect.any(Object),
      operationType: 'insert',
      fullDocument: { _id: 1, v: 1 },
      tag: 'x',
    });
  });

  it('fails with ChangeStreamFatalError when the pipeline modifies _id', async () => {
    const engine = new FakeEngine();
    const stream = open(engine, {}, { db: 'app', coll: 'users' }, [{ $project: { _id: 0 } }]);
    engine.append(insert('app', 'users', { _id: 1 }));
    await expect(stream.next(10, 0)).rejects.toMatchObject({ code: 280 });
    const replaced = open(
      engine,
      { startAtOperationTime: new Timestamp({ t: 1, i: 0 }) },
      { db: 'app', coll: 'users' },
      [{ $replaceRoot: { newRoot: '$fullDocument' } }],
    );
    await expect(replaced.next(10, 0)).rejects.toMatchObject({ code: 280 });
  });
});
