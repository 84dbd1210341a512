import { Long } from 'bson';
import type { TransactionState } from '../../../emulator/src/sessions';
import { hiddenFromReader, markCreatedInTransaction } from '../../../emulator/src/transaction-catalog';

const txn = (): TransactionState => ({
  txnNumber: Long.fromNumber(1),
  state: 'inProgress',
  undo: [],
  pendingOplog: [],
  lastActivity: 0,
  onEnd: [],
});

describe('catalog objects created in a transaction', () => {
  it('are hidden from other readers while the transaction is open', () => {
    const creator = txn();
    const created = {};
    markCreatedInTransaction(created, creator);
    expect(hiddenFromReader(created, undefined)).toBe(true);
    expect(hiddenFromReader(created, txn())).toBe(true);
    expect(hiddenFromReader(created, creator)).toBe(false);
    creator.state = 'committed';
    expect(hiddenFromReader(created, undefined)).toBe(false);
  });

  it('outside transactions are visible to everyone', () => {
    const created = {};
    markCreatedInTransaction(created, undefined);
    expect(hiddenFromReader(created, txn())).toBe(false);
  });
});
