// Logical sessions: retryable-write memory and multi-document transactions. A transaction's
// writes are applied as they come with an undo log; their oplog entries are held back and
// appended together, under one cluster time, at commit (so change streams see them atomically).
// Until then the collections keep each touched document's committed version for other readers.
import { type Document, Long, Binary, type Timestamp } from 'bson';
import { CommandError, ErrorCodes } from './errors';
import type { OplogEntry } from './oplog';

export type PendingOplogEntry = Omit<OplogEntry, 'ts' | 'wallTime'>;

export interface TransactionState {
  readonly txnNumber: Long;
  state: 'inProgress' | 'committed' | 'aborted';
  readonly undo: Array<() => void>;
  readonly pendingOplog: PendingOplogEntry[];
  /** When a command of this transaction last ran (idle transactions are aborted by waiting writers). */
  lastActivity: number;
  /** Called when the transaction commits or aborts (releases the documents it owns, wakes waiters). */
  readonly onEnd: Array<() => void>;
  /**
   * The cluster time the transaction reads at (its snapshot): set by its first command, so
   * writes other sessions commit later stay invisible to it, as in mongod.
   */
  readTimestamp?: Timestamp;
}

export interface SessionState {
  readonly key: string;
  readonly lsid: Document;
  lastUsed: number;
  /** The user who started the session (none without authentication): $listLocalSessions' owner. */
  owner?: { user: string; db: string };
  /** Replies of retryable writes by txnNumber, so a retry is answered without applying again. */
  readonly retryableReplies: Map<string, Document>;
  /**
   * The statements of a retryable write executed so far, by statement index, for the last
   * txnNumber that ran statement by statement (see retryable-statements.ts).
   */
  executedStatements?: { txnNumber: string; replies: Map<number, Document> };
  transaction: TransactionState | undefined;
}

/**
 * Thrown, before anything changed, by a write outside any transaction that meets a document an
 * open transaction changed: the command (or statement) waits for that transaction's end and retries.
 */
export class TransactionWait extends Error {
  constructor(readonly owner: TransactionState) {
    super('write waits for an open transaction');
  }
}

export function sessionKey(lsid: Document): string {
  const id = lsid.id as Binary | undefined;
  if (!(id instanceof Binary)) throw new CommandError(ErrorCodes.BadValue, 'lsid.id must be a UUID');
  return Buffer.from(id.buffer).toString('hex');
}

export class SessionManager {
  private readonly sessions = new Map<string, SessionState>();

  get(lsid: Document): SessionState {
    const key = sessionKey(lsid);
    let session = this.sessions.get(key);
    if (!session) {
      session = {
        key,
        lsid: { id: lsid.id },
        lastUsed: Date.now(),
        retryableReplies: new Map(),
        transaction: undefined,
      };
      this.sessions.set(key, session);
    }
    session.lastUsed = Date.now();
    return session;
  }

  end(lsid: Document, abort: (txn: TransactionState) => void): void {
    const key = sessionKey(lsid);
    const session = this.sessions.get(key);
    if (session?.transaction?.state === 'inProgress') abort(session.transaction);
    this.sessions.delete(key);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Every session the server knows, in the order they were first used. */
  all(): IterableIterator<SessionState> {
    return this.sessions.values();
  }
}

/**
 * Resolves the transaction a command runs in from its envelope (`txnNumber`, `autocommit`,
 * `startTransaction`), starting one when asked. Returns undefined for commands outside a transaction.
 */
/** The commands mongod runs inside a multi-document transaction (its transaction allowlist). */
const TRANSACTION_COMMANDS = new Set(
  [
    'abortTransaction',
    'aggregate',
    'commitTransaction',
    'coordinateCommitTransaction',
    'create',
    'createIndexes',
    'delete',
    'distinct',
    'find',
    'findAndModify',
    'getMore',
    'insert',
    'killCursors',
    'prepareTransaction',
    'update',
    'bulkWrite',
  ].map((name) => name.toLowerCase()),
);

export function resolveTransaction(
  session: SessionState | undefined,
  command: Document,
  commandName: string,
  abort: (txn: TransactionState) => void,
): TransactionState | undefined {
  if (command.autocommit === undefined) return undefined;
  if (!TRANSACTION_COMMANDS.has(commandName.toLowerCase()))
    throw new CommandError(
      ErrorCodes.OperationNotSupportedInTransaction,
      `Cannot run '${commandName}' in a multi-document transaction.`,
    );
  if (!session) throw new CommandError(ErrorCodes.InvalidOptions, 'Transactions require a session (lsid)');
  if (command.autocommit !== false) {
    throw new CommandError(ErrorCodes.InvalidOptions, 'autocommit must be false when specified');
  }
  const txnNumber = toLong(command.txnNumber);
  if (!txnNumber)
    throw new CommandError(ErrorCodes.InvalidOptions, 'txnNumber is required with autocommit: false');
  const current = session.transaction;
  if (command.startTransaction === true) {
    if (current && current.txnNumber.equals(txnNumber) && current.state !== 'inProgress') {
      throw new CommandError(
        ErrorCodes.ConflictingOperationInProgress,
        `Transaction ${txnNumber} has already been started`,
      );
    }
    if (current && current.txnNumber.greaterThan(txnNumber)) {
      throw new CommandError(
        ErrorCodes.TransactionTooOld,
        `Cannot start transaction ${txnNumber} on session because a newer transaction ${current.txnNumber} has already started`,
      );
    }
    if (current?.state === 'inProgress') abort(current);
    session.transaction = {
      txnNumber,
      state: 'inProgress',
      undo: [],
      pendingOplog: [],
      lastActivity: Date.now(),
      onEnd: [],
    };
    return session.transaction;
  }
  if (!current || !current.txnNumber.equals(txnNumber)) {
    throw new CommandError(ErrorCodes.NoSuchTransaction, `Transaction ${txnNumber} has been aborted.`, {
      errorLabels: ['TransientTransactionError'],
    });
  }
  if (current.state === 'aborted' && commandName !== 'abortTransaction') {
    throw new CommandError(ErrorCodes.NoSuchTransaction, `Transaction ${txnNumber} has been aborted.`, {
      errorLabels: ['TransientTransactionError'],
    });
  }
  if (
    current.state === 'committed' &&
    commandName !== 'commitTransaction' &&
    commandName !== 'abortTransaction'
  ) {
    throw new CommandError(ErrorCodes.TransactionCommitted, `Transaction ${txnNumber} has been committed.`);
  }
  current.lastActivity = Date.now();
  return current;
}

export function toLong(value: unknown): Long | undefined {
  if (value instanceof Long) return value;
  if (typeof value === 'number') return Long.fromNumber(value);
  const wrapped = value as { _bsontype?: string; valueOf(): number } | undefined;
  if (wrapped && (wrapped._bsontype === 'Int32' || wrapped._bsontype === 'Double'))
    return Long.fromNumber(wrapped.valueOf());
  return undefined;
}
