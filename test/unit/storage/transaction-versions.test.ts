// A collection's committed versions while a transaction is open, and the lifetime limit that
// aborts an idle transaction a writer waits for.
import { Long, deserialize } from 'bson';
import { Engine, TRANSACTION_LIFETIME_LIMIT_MS } from '../../../emulator/src/engine';
import type { TransactionState } from '../../../emulator/src/sessions';
import { Collection } from '../../../emulator/src/storage/collection';

function transaction(): TransactionState {
  return {
    txnNumber: Long.fromNumber(1),
    state: 'inProgress',
    undo: [],
    pendingOplog: [],
    lastActivity: Date.now(),
    onEnd: [],
  };
}

const docs = (docs: Iterable<{ raw: Buffer }>): unknown[] =>
  [...docs].map((stored) => deserialize(stored.raw));

describe('collection versions under an open transaction', () => {
  test('readers outside see committed versions, the owner its own writes', () => {
    const collection = new Collection('db', 'c');
    const a = collection.insert({ _id: 1, v: 'a' });
    const b = collection.insert({ _id: 2, v: 'b' });
    expect(collection.readView(undefined)).toBe(collection); // no transaction: no indirection
    const txn = transaction();
    const a2 = collection.replace(a, { _id: 1, v: 'a' }, { _id: 1, v: 'A' });
    expect(collection.noteTransactionWrite(txn, 1, a)).toBe(true);
    collection.remove(b, { _id: 2, v: 'b' });
    expect(collection.noteTransactionWrite(txn, 2, b)).toBe(false);
    collection.insert({ _id: 0, v: 'new' });
    collection.noteTransactionWrite(txn, 0, undefined);

    const outside = collection.readView(undefined);
    expect(outside.count).toBe(2);
    expect(docs(outside.naturalOrder())).toEqual([
      { _id: 1, v: 'a' },
      { _id: 2, v: 'b' },
    ]);
    expect(docs(outside.idOrder({ descending: true }))).toEqual([
      { _id: 2, v: 'b' },
      { _id: 1, v: 'a' },
    ]);
    expect(docs(outside.idOrder({ lower: 1, lowerInclusive: false }))).toEqual([{ _id: 2, v: 'b' }]);
    expect(outside.getById(0)).toBeUndefined();
    expect(outside.getById(2)).toBe(b);

    const inside = collection.readView(txn);
    expect(inside.count).toBe(2);
    expect(docs(inside.idOrder())).toEqual([
      { _id: 0, v: 'new' },
      { _id: 1, v: 'A' },
    ]);
    expect(inside.getById(1)).toBe(a2);
    expect(collection.transactionOwner(1)).toBe(txn);

    collection.releaseTransaction(txn);
    expect(collection.transactionOwner(1)).toBeUndefined();
    expect(collection.readView(undefined)).toBe(collection);
  });
});

describe('transaction lifetime limit', () => {
  test('a writer waiting for an idle transaction aborts it and runs its undo', async () => {
    const engine = new Engine({
      hostAndPort: 'localhost:1',
      replSetName: 'rs',
      version: '7.0',
      auth: { enabled: false },
      oplogSizeBytes: 1 << 20,
    });
    const txn = transaction();
    const undone: string[] = [];
    txn.undo.push(() => undone.push('undo'));
    txn.onEnd.push(() => undone.push('released'));
    txn.lastActivity = Date.now() - TRANSACTION_LIFETIME_LIMIT_MS - 1;
    await engine.waitForTransactionEnd(txn);
    expect(txn.state).toBe('aborted');
    expect(undone).toEqual(['undo', 'released']);
  });

  test('a writer waiting for an active transaction resumes when it commits', async () => {
    const engine = new Engine({
      hostAndPort: 'localhost:1',
      replSetName: 'rs',
      version: '7.0',
      auth: { enabled: false },
      oplogSizeBytes: 1 << 20,
    });
    const txn = transaction();
    let resumed = false;
    const waiting = engine.waitForTransactionEnd(txn).then(() => (resumed = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(resumed).toBe(false);
    engine.commitTransaction(
      { key: 'k', lsid: {}, lastUsed: 0, retryableReplies: new Map(), transaction: txn },
      txn,
    );
    await waiting;
    expect(resumed).toBe(true);
    expect(txn.state).toBe('committed');
  });
});
