// A collection's committed versions while a transaction is open.
import { Long, deserialize } from 'bson';
import type { TransactionState } from '../../../../emulator/src/sessions';
import { Collection } from '../../../../emulator/src/storage/collection';

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
