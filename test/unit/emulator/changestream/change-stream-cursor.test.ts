import { type Document, Long, Timestamp, UUID } from 'bson';
import {
  decodeResumeToken,
  highWaterMarkAt,
  nextTick,
} from '../../../../emulator/src/changestream/resume-token';
import type { CursorSource } from '../../../../emulator/src/cursor';
import { FakeEngine, uuidA, insert, open, drain, errorOfNext, insertToken, newestToken } from './fake-engine';

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
    const mark = highWaterMarkAt(new Timestamp({ t: 0x5f5e1000, i: 1 }), 2);
    expect(await drain(open(engine, { resumeAfter: mark }))).toHaveLength(1);
  });

  it('fails with ChangeStreamFatalError at the first entry past a token this history never had', async () => {
    const engine = new FakeEngine();
    engine.append(insert('app', 'users', { _id: 1 }));
    const inserted = engine.append(insert('app', 'users', { _id: 2 }));
    engine.append(insert('app', 'users', { _id: 3 }));
    // An event at a time that is in the history, but at an index no entry has.
    const fabricated = insertToken(inserted, 2, 5);
    for (const option of ['resumeAfter', 'startAfter']) {
      const error = await errorOfNext(open(engine, { [option]: fabricated }));
      expect(error.code).toBe(280);
      expect(error.codeName).toBe('ChangeStreamFatalError');
      expect(error.errorLabels).toEqual(['NonResumableChangeStreamError']);
      const next = newestToken(engine)._data;
      expect(error.message).toBe(`cannot resume stream; the resume token was not found. {_data: "${next}"}`);
    }
    // A token older than every entry of a history never trimmed: the first entry surpasses it.
    const older = insertToken(new Timestamp({ t: 0x5f5e1000, i: 1 }), 1);
    expect((await errorOfNext(open(engine, { resumeAfter: older }))).code).toBe(280);
    // The right position with another document (or collection) is not this history's token either.
    const firstTs = engine.oplog.oldest()?.ts as Timestamp;
    expect((await errorOfNext(open(engine, { resumeAfter: insertToken(firstTs, 99) }))).code).toBe(280);
    expect(await drain(open(engine, { resumeAfter: insertToken(firstTs, 1) }))).toHaveLength(2);
  });

  it('needs the token entry to be one the stream shows, expanded events included', async () => {
    const engine = new FakeEngine();
    const elsewhere = engine.append(insert('app', 'other', { _id: 1 }));
    const otherToken = insertToken(elsewhere, 1);
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
    const future = insertToken(new Timestamp({ t: now.t, i: now.i + 2 }), 2, 1);
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
    const mark = highWaterMarkAt(later, 2);
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
    // mongod starts a new stream at the tick after the latest time, and reports a mark there.
    const latest = engine.latestClusterTime();
    expect(initialToken.clusterTime.equals(nextTick(latest.t, latest.i))).toBe(true);

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
