import { Timestamp, deserialize } from 'bson';
import { serialize } from '../../../emulator/src/bson';
import { CommandError } from '../../../emulator/src/errors';
import type { OplogEntry } from '../../../emulator/src/oplog';
import {
  assertSnapshotReadSupported,
  snapshotReadTime,
  snapshotSource,
  transactionReadTime,
  withSnapshotReadTime,
} from '../../../emulator/src/snapshot-reads';
import { Collection } from '../../../emulator/src/storage/collection';

const entry = (op: OplogEntry['op'], id: number, pre?: object): OplogEntry =>
  ({
    ts: new Timestamp({ t: 10, i: id }),
    wallTime: new Date(),
    op,
    db: 'db',
    coll: 'c',
    documentKey: { _id: id },
    preImage: pre,
    size: 1,
  }) as OplogEntry;

describe('snapshot reads', () => {
  it('undoes later inserts, updates and deletes', () => {
    const coll = new Collection('db', 'c');
    coll.insert({ _id: 1, x: 12 }, serialize({ _id: 1, x: 12 }));
    coll.insert({ _id: 3, x: 33 }, serialize({ _id: 3, x: 33 }));
    const later = [
      entry('update', 1, { _id: 1, x: 11 }),
      entry('delete', 2, { _id: 2, x: 22 }),
      entry('insert', 3),
    ];
    const view = snapshotSource(coll, later);
    const docs = [...view.idOrder()].map((stored) => deserialize(stored.raw));
    expect(docs).toEqual([
      { _id: 1, x: 11 },
      { _id: 2, x: 22 },
    ]);
    expect(view.getById(3)).toBeUndefined();
    expect(view.count).toBe(2);
  });

  it('keeps the pre-image of the first later write of a document', () => {
    const coll = new Collection('db', 'c');
    coll.insert({ _id: 1, x: 13 }, serialize({ _id: 1, x: 13 }));
    const later = [entry('update', 1, { _id: 1, x: 11 }), entry('update', 1, { _id: 1, x: 12 })];
    expect(deserialize(snapshotSource(coll, later).getById(1)!.raw)).toEqual({ _id: 1, x: 11 });
  });

  it('reads at atClusterTime or the latest time, and refuses a future time', () => {
    const latest = new Timestamp({ t: 100, i: 1 });
    const at = new Timestamp({ t: 90, i: 1 });
    expect(snapshotReadTime({ find: 'c', readConcern: { level: 'snapshot' } }, false, latest)).toBe(latest);
    expect(
      snapshotReadTime({ find: 'c', readConcern: { level: 'snapshot', atClusterTime: at } }, false, latest),
    ).toBe(at);
    expect(snapshotReadTime({ find: 'c', readConcern: { level: 'snapshot' } }, true, latest)).toBeUndefined();
    expect(snapshotReadTime({ find: 'c' }, false, latest)).toBeUndefined();
    expect(() =>
      snapshotReadTime(
        { find: 'c', readConcern: { level: 'snapshot', atClusterTime: new Timestamp({ t: 200, i: 0 }) } },
        false,
        latest,
      ),
    ).toThrow(CommandError);
  });

  it('refuses snapshot read concern outside transactions for commands other than find, aggregate, distinct', () => {
    const command = { insert: 'c', readConcern: { level: 'snapshot' } };
    expect(() => assertSnapshotReadSupported('insert', command, false)).toThrow(/does not support/);
    expect(() => assertSnapshotReadSupported('insert', command, true)).not.toThrow();
    expect(() =>
      assertSnapshotReadSupported('find', { find: 'c', readConcern: { level: 'snapshot' } }, false),
    ).not.toThrow();
  });

  it("takes a transaction's snapshot at atClusterTime or the latest time", () => {
    const latest = new Timestamp({ t: 100, i: 1 });
    const at = new Timestamp({ t: 90, i: 1 });
    expect(transactionReadTime({ insert: 'c' }, latest)).toBe(latest);
    expect(
      transactionReadTime({ find: 'c', readConcern: { level: 'snapshot', atClusterTime: at } }, latest),
    ).toBe(at);
  });

  it('reports the read time in the cursor or at the top level', () => {
    const at = new Timestamp({ t: 1, i: 1 });
    expect(withSnapshotReadTime({ cursor: { id: 0 }, ok: 1 }, at).cursor.atClusterTime).toBe(at);
    expect(withSnapshotReadTime({ values: [], ok: 1 }, at).atClusterTime).toBe(at);
  });
});
