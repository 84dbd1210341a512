// Collections and indexes created inside a multi-document transaction stay invisible to other
// readers (listCollections, listIndexes) until the transaction commits, as in mongod; an abort
// drops them through the transaction's undo log.
import type { TransactionState } from './sessions';

const creators = new WeakMap<object, TransactionState>();

/** Records that a catalog object (collection or index spec) was created by this transaction. */
export function markCreatedInTransaction(created: object, txn: TransactionState | undefined): void {
  if (txn) creators.set(created, txn);
}

/** Whether another, still open transaction created the object (so this reader must not see it). */
export function hiddenFromReader(created: object, reader: TransactionState | undefined): boolean {
  const creator = creators.get(created);
  return creator !== undefined && creator !== reader && creator.state === 'inProgress';
}
