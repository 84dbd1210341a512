// The lifetime limit that aborts an idle transaction a writer waits for.
import { Long } from 'bson';
import { Engine, TRANSACTION_LIFETIME_LIMIT_MS } from '../../../emulator/src/engine';
import type { TransactionState } from '../../../emulator/src/sessions';

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
