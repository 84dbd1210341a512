import { Long, Timestamp, UUID } from 'bson';
import { Oplog, type OplogEntry } from '../../../emulator/src/oplog';
import { compareTimestamps, indexAfter, oplogDocuments, updateDiff } from '../../../emulator/src/oplog-view';

const ts = (i: number): Timestamp => new Timestamp({ t: 100, i });

function entry(i: number, fields: Partial<OplogEntry>): OplogEntry {
  return { ts: ts(i), wallTime: new Date(0), op: 'insert', db: 'd', coll: 'c', size: 10, ...fields };
}

describe('updateDiff', () => {
  test('updated, inserted and removed fields, nested as sub-diffs', () => {
    const before = { _id: 1, a: 1, n: { x: 1 } };
    const after = { _id: 1, a: 2, b: 3, n: { y: 1 } };
    const diff = updateDiff(
      { updatedFields: { a: 2, b: 3, 'n.y': 1 }, removedFields: ['n.x'], truncatedArrays: [] },
      before,
      after,
    );
    expect(diff).toEqual({ $v: 2, diff: { u: { a: 2 }, i: { b: 3 }, sn: { d: { x: false }, i: { y: 1 } } } });
  });

  test('array elements and truncation', () => {
    const diff = updateDiff(
      { updatedFields: { 'arr.0': 5 }, removedFields: [], truncatedArrays: [{ field: 'arr', newSize: 1 }] },
      { arr: [1, 2] },
      { arr: [5] },
    );
    expect(diff).toEqual({ $v: 2, diff: { sarr: { a: true, l: 1, u0: 5 } } });
  });
});

describe('oplogDocuments', () => {
  test('folds a transaction into one applyOps entry', () => {
    const oplog = new Oplog(1 << 20);
    const uuid = new UUID();
    oplog.append(entry(1, { uuid, documentKey: { _id: 1 }, postImage: { _id: 1 } }));
    const lsid = { id: new UUID() };
    const txnNumber = Long.fromNumber(3) as unknown as OplogEntry['txnNumber'];
    oplog.append(
      entry(2, { documentKey: { _id: 2 }, postImage: { _id: 2 }, lsid, txnNumber, txnOpIndex: 0 }),
    );
    oplog.append(entry(2, { op: 'delete', documentKey: { _id: 1 }, lsid, txnNumber, txnOpIndex: 1 }));
    oplog.append(entry(3, { op: 'noop', coll: undefined }));
    const { docs, next } = oplogDocuments(oplog);
    expect(next).toBe(4);
    expect(docs.map((doc) => doc.op)).toEqual(['i', 'c', 'n']);
    expect(docs[0]).toMatchObject({ ns: 'd.c', ui: uuid, o: { _id: 1 }, o2: { _id: 1 } });
    expect(docs[1].o.applyOps).toEqual([
      { op: 'i', ns: 'd.c', o: { _id: 2 }, o2: { _id: 2 } },
      { op: 'd', ns: 'd.c', o: { _id: 1 } },
    ]);
    expect(docs[1].lsid).toBe(lsid);
    expect(indexAfter(oplog, ts(2))).toBe(3);
    expect(compareTimestamps(ts(1), ts(2))).toBeLessThan(0);
  });
});
