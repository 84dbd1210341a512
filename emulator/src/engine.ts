// The emulated replica-set primary: cluster clock, catalog, oplog, sessions, cursors, users and
// write blocking, and the command pipeline every request goes through (envelope, authorization,
// sessions/transactions, retryable writes, error shaping, $clusterTime).
import { type Document, Binary, Long, Timestamp, ObjectId } from 'bson';
import { AuthManager, type AuthOptions } from './auth';
import { deserializeExact } from './bson';
import type { CommandContext, CommandTable, ConnectionState } from './commands/context';
import type { CursorSource } from './cursor';
import {
  CommandError,
  ErrorCodes,
  isResumableChangeStreamErrorCode,
  isRetryableWriteErrorCode,
  isTransientTransactionErrorCode,
} from './errors';
import { Oplog, type OplogEntry } from './oplog';
import {
  SessionManager,
  resolveTransaction,
  toLong,
  TransactionWait,
  type PendingOplogEntry,
  type SessionState,
  type TransactionState,
} from './sessions';
import { Catalog } from './storage/catalog';
import { FailPoints } from './failpoints';
import {
  failedStatementReply,
  mergeStatementReplies,
  splitStatements,
  statementFailed,
} from './retryable-statements';
import { ServerCounters } from './server-counters';
import { assertCommandBodyKnown, assertCommandKnown, type ServerVersion } from './version-gates';
import {
  assertSnapshotReadSupported,
  setSnapshotReadTime,
  snapshotReadTime,
  transactionReadTime,
  withSnapshotReadTime,
} from './snapshot-reads';

export type { ServerVersion };

export const SERVER_VERSIONS: Record<ServerVersion, { version: string; maxWireVersion: number }> = {
  '5.0': { version: '5.0.31', maxWireVersion: 13 },
  '6.0': { version: '6.0.20', maxWireVersion: 17 },
  '7.0': { version: '7.0.16', maxWireVersion: 21 },
  '8.0': { version: '8.0.4', maxWireVersion: 25 },
};

export interface EngineOptions {
  /** `host:port` as clients name this server (hello's `me`, `hosts`, `primary`). */
  hostAndPort: string;
  replSetName: string;
  version: ServerVersion;
  auth: AuthOptions;
  oplogSizeBytes: number;
  /**
   * Emulator-only test hook: the size of the data volume dbStats reports (`fsTotalSize`), its
   * used part being the data and indexes held. Unset, dbStats reports 0 for both (unknown).
   */
  testFilesystemSizeBytes?: number;
}

export interface RegisteredCursor {
  readonly id: Long;
  readonly ns: string;
  readonly source: CursorSource;
  readonly sessionKey: string | undefined;
  /** Change-stream cursors wait for data; others answer at once. */
  readonly awaitData: boolean;
}

/** Commands that may be retried with the same (lsid, txnNumber) and must then not apply twice. */
const RETRYABLE_WRITE_COMMANDS = new Set([
  'insert',
  'update',
  'delete',
  'findAndModify',
  'findandmodify',
  'bulkWrite',
]);
/** Databases exempt from user write blocking, as in mongod. */
export const INTERNAL_DATABASES = new Set(['admin', 'config', 'local']);
/** A transaction idle this long is aborted when a writer waits for it (`transactionLifetimeLimitSeconds`). */
export const TRANSACTION_LIFETIME_LIMIT_MS = 60_000;

export class Engine {
  readonly catalog = new Catalog();
  readonly oplog: Oplog;
  readonly sessions = new SessionManager();
  readonly cursors = new Map<string, RegisteredCursor>();
  readonly auth: AuthManager;
  readonly failPoints = new FailPoints();
  readonly electionId = new ObjectId('7fffffff0000000000000001');
  readonly startedAt = new Date();
  /** serverStatus `opcounters` and `connections`. */
  readonly counters = new ServerCounters();
  writeBlocked = false;
  private commands: CommandTable = {};
  private lastTime = new Timestamp({ t: Math.floor(Date.now() / 1000), i: 0 });
  private lastWallTime = new Date();
  private nextCursorId = 1n;

  constructor(readonly options: EngineOptions) {
    this.oplog = new Oplog(options.oplogSizeBytes);
    this.auth = new AuthManager(options.auth);
  }

  get isReplicaSet(): boolean {
    return true;
  }

  get versionInfo(): { version: string; maxWireVersion: number } {
    return SERVER_VERSIONS[this.options.version];
  }

  registerCommands(table: CommandTable): void {
    for (const [name, handler] of Object.entries(table)) this.commands[name.toLowerCase()] = handler;
  }

  commandNames(): string[] {
    return Object.keys(this.commands);
  }

  /** A new cluster time, strictly greater than every earlier one. */
  tick(): Timestamp {
    const now = Math.floor(Date.now() / 1000);
    const last = this.lastTime;
    this.lastTime =
      now > last.high ? new Timestamp({ t: now, i: 1 }) : new Timestamp({ t: last.high, i: last.low + 1 });
    this.lastWallTime = new Date();
    return this.lastTime;
  }

  latestClusterTime(): Timestamp {
    return this.lastTime;
  }

  latestWallTime(): Date {
    return this.lastWallTime;
  }

  lookupDocument(db: string, coll: string, documentKey: Document): Document | undefined {
    const stored = this.catalog.collection(db, coll)?.readView(undefined).getById(documentKey._id);
    return stored ? deserializeExact(stored.raw) : undefined;
  }

  /**
   * Record a write in the history. Inside a transaction the entry waits for the commit and the
   * undo action is kept for an abort; otherwise the entry is appended at once with a new time.
   */
  recordWrite(ctx: CommandContext, entry: PendingOplogEntry, undo?: () => void): Timestamp {
    const txn = ctx.transaction;
    if (txn) {
      txn.pendingOplog.push(entry);
      if (undo) txn.undo.push(undo);
      return this.lastTime;
    }
    const ts = this.tick();
    // Completed in place (not spread): entries may carry lazily decoded document images.
    this.oplog.append(Object.assign(entry, { ts, wallTime: this.lastWallTime }) as OplogEntry);
    return ts;
  }

  commitTransaction(session: SessionState, txn: TransactionState): void {
    if (txn.state === 'committed') return;
    if (txn.pendingOplog.length > 0) {
      const ts = this.tick();
      txn.pendingOplog.forEach((entry, index) =>
        this.oplog.append(
          Object.assign(entry, {
            ts,
            wallTime: this.lastWallTime,
            lsid: session.lsid,
            txnNumber: txn.txnNumber,
            txnOpIndex: index,
          }) as OplogEntry,
        ),
      );
    }
    txn.pendingOplog.length = 0;
    txn.undo.length = 0;
    txn.state = 'committed';
    this.endTransaction(txn);
  }

  abortTransaction(txn: TransactionState): void {
    if (txn.state !== 'inProgress') return;
    for (let i = txn.undo.length - 1; i >= 0; i--) txn.undo[i]();
    txn.undo.length = 0;
    txn.pendingOplog.length = 0;
    txn.state = 'aborted';
    this.endTransaction(txn);
  }

  private endTransaction(txn: TransactionState): void {
    const callbacks = txn.onEnd.splice(0);
    for (const callback of callbacks) callback();
  }

  /**
   * Waits until a transaction commits or aborts; one left idle past the lifetime limit is aborted
   * (as mongod's transaction reaper does), so a waiting writer never waits forever.
   */
  async waitForTransactionEnd(txn: TransactionState): Promise<void> {
    while (txn.state === 'inProgress') {
      const remaining = txn.lastActivity + TRANSACTION_LIFETIME_LIMIT_MS - Date.now();
      if (remaining <= 0) {
        this.abortTransaction(txn);
        return;
      }
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(done, remaining);
        txn.onEnd.push(done);
      });
    }
  }

  registerCursor(
    ns: string,
    source: CursorSource,
    session: SessionState | undefined,
    awaitData: boolean,
  ): Long {
    const id = Long.fromBigInt(this.nextCursorId++);
    this.cursors.set(id.toString(), { id, ns, source, sessionKey: session?.key, awaitData });
    return id;
  }

  closeCursor(id: Long): boolean {
    const cursor = this.cursors.get(id.toString());
    if (!cursor) return false;
    cursor.source.close();
    this.cursors.delete(id.toString());
    return true;
  }

  /** Whether writes by this connection to this database are refused by user write blocking. */
  writesBlockedFor(conn: ConnectionState, db: string): boolean {
    return (
      this.writeBlocked &&
      !INTERNAL_DATABASES.has(db) &&
      !this.auth.hasClusterAction(conn, 'bypassWriteBlockingMode')
    );
  }

  assertDdlAllowed(ctx: CommandContext, db: string): void {
    if (this.writesBlockedFor(ctx.conn, db)) throw userWritesBlocked();
  }

  /** Runs one command and returns its reply document (errors become `{ok: 0, ...}` replies). */
  async execute(conn: ConnectionState, command: Document): Promise<Document> {
    let reply: Document;
    let closeConnection = false;
    let labelsFromFailPoint: string[] | undefined;
    let transaction: TransactionState | undefined;
    try {
      const commandName = Object.keys(command)[0];
      if (commandName === undefined)
        throw new CommandError(ErrorCodes.CommandNotFound, 'no such command: ""');
      const handler = this.commands[commandName.toLowerCase()];
      if (!handler) {
        throw new CommandError(ErrorCodes.CommandNotFound, `no such command: '${commandName}'`);
      }
      assertCommandKnown(this.options.version, commandName);
      this.counters.countCommand(commandName, command);
      const dbName = typeof command.$db === 'string' ? command.$db : 'admin';
      const failure = await this.failPoints.beforeCommand(commandName, conn, command, dbName);
      if (failure?.closeConnection) {
        closeConnection = true;
        throw new ConnectionClosedSignal();
      }
      labelsFromFailPoint = failure?.errorLabels;
      if (!failure?.reply) assertCommandBodyKnown(this.options.version, commandName, command);
      if (failure?.reply) {
        // failCommand fails before any cursor is checked out, so mongod cannot know the command is
        // a change stream's and does not label it resumable; failGetMoreAfterCursorCheckout can.
        if (!labelsFromFailPoint)
          this.addErrorLabels(command, commandName, failure.reply, failure.afterCursorCheckout === true);
        return this.withClusterTime(failure.reply);
      }
      const session = command.lsid ? this.sessions.get(command.lsid as Document) : undefined;
      if (session && session.owner === undefined && conn.principals.length > 0) {
        const [{ user, db }] = conn.principals;
        session.owner = { user, db };
      }
      transaction = resolveTransaction(session, command, commandName, (txn) => this.abortTransaction(txn));
      if (transaction && !transaction.readTimestamp)
        transaction.readTimestamp = transactionReadTime(command, this.lastTime);
      assertSnapshotReadSupported(commandName, command, transaction !== undefined);
      const snapshotAt = snapshotReadTime(command, transaction !== undefined, this.lastTime);
      if (snapshotAt) setSnapshotReadTime(command, snapshotAt);
      const ctx: CommandContext = { engine: this, conn, dbName, command, commandName, session, transaction };
      this.auth.authorize(ctx);

      const retryKey =
        session &&
        !transaction &&
        RETRYABLE_WRITE_COMMANDS.has(commandName) &&
        command.txnNumber !== undefined
          ? toLong(command.txnNumber)?.toString()
          : undefined;
      const previous = retryKey !== undefined ? session?.retryableReplies.get(retryKey) : undefined;
      if (previous) {
        reply = previous;
      } else if (
        retryKey !== undefined &&
        session &&
        (this.failPoints.isActive('onPrimaryTransactionalWrite') ||
          session.executedStatements?.txnNumber === retryKey)
      ) {
        const outcome = await this.runRetryableStatements(handler, ctx, session, retryKey);
        reply = outcome.reply;
        if (outcome.closeConnection) {
          closeConnection = true;
          throw new ConnectionClosedSignal();
        }
        if (reply.ok === 1) session.retryableReplies.set(retryKey, reply);
      } else {
        reply = await this.runHandler(handler, ctx);
        if (reply.ok === undefined) reply.ok = 1;
        if (snapshotAt) reply = withSnapshotReadTime(reply, snapshotAt);
        if (retryKey !== undefined && session && reply.ok === 1)
          session.retryableReplies.set(retryKey, reply);
      }
      const unsatisfiable = reply.ok === 1 ? unsatisfiableWriteConcern(command, commandName) : undefined;
      if (unsatisfiable && !reply.writeConcernError) reply = { ...reply, writeConcernError: unsatisfiable };
      if (failure?.writeConcernError) {
        reply = { ...reply, writeConcernError: failure.writeConcernError };
        if (labelsFromFailPoint) {
          if (labelsFromFailPoint.length > 0) reply.errorLabels = labelsFromFailPoint;
        } else this.addErrorLabels(command, commandName, reply);
      }
    } catch (error) {
      if (error instanceof ConnectionClosedSignal || closeConnection) throw new ConnectionClosedSignal();
      if (error instanceof CommandError) {
        reply = error.toReply();
      } else {
        reply = {
          ok: 0,
          errmsg: error instanceof Error ? error.message : String(error),
          code: 1,
          codeName: 'InternalError',
        };
      }
      // As in mongod, a statement that fails aborts its transaction (the client retries it whole
      // after a transient error); commit and abort decide for themselves.
      const lower = (Object.keys(command)[0] ?? '').toLowerCase();
      if (transaction && lower !== 'committransaction' && lower !== 'aborttransaction')
        this.abortTransaction(transaction);
      if (command.autocommit === false && reply.code === ErrorCodes.NoSuchTransaction && !reply.errorLabels) {
        reply.errorLabels = ['TransientTransactionError'];
      }
      if (!labelsFromFailPoint) this.addErrorLabels(command, Object.keys(command)[0] ?? '', reply);
    }
    return this.withClusterTime(reply);
  }

  /**
   * A retryable write statement by statement (retryable-statements.ts): statements an earlier
   * attempt executed answer from memory, the others run, each consulting `onPrimaryTransactionalWrite`.
   */
  private async runRetryableStatements(
    handler: CommandTable[string],
    ctx: CommandContext,
    session: SessionState,
    txnNumber: string,
  ): Promise<{ reply: Document; closeConnection: boolean }> {
    if (session.executedStatements?.txnNumber !== txnNumber)
      session.executedStatements = { txnNumber, replies: new Map() };
    const executed = session.executedStatements.replies;
    const statements = splitStatements(ctx.commandName, ctx.command);
    const ordered = ctx.command.ordered !== false;
    const parts: Array<{ index: number; reply: Document }> = [];
    let closeConnection = false;
    for (const [index, command] of statements.entries()) {
      let reply = executed.get(index);
      if (!reply) {
        const failure = this.failPoints.onTransactionalWrite();
        if (failure?.closeConnection) closeConnection = true;
        if (failure?.failBeforeCommitExceptionCode !== undefined) {
          reply = failedStatementReply(
            ctx.commandName,
            failure.failBeforeCommitExceptionCode,
            `Failing write for ${ctx.commandName} statement ${index} due to failpoint. The write must not be reflected.`,
          );
        } else {
          try {
            reply = await this.runHandler(handler, { ...ctx, command });
          } catch (error) {
            if (!(error instanceof CommandError)) throw error;
            reply = error.toReply();
          }
          if (reply.ok === undefined) reply.ok = 1;
          if (!statementFailed(reply)) executed.set(index, reply);
        }
      }
      parts.push({ index, reply });
      if (statementFailed(reply) && (ordered || reply.ok !== 1)) break;
    }
    return { reply: mergeStatementReplies(ctx.commandName, parts), closeConnection };
  }

  /** Runs a handler; a write outside transactions that met an open transaction's document waits, then reruns. */
  private async runHandler(handler: CommandTable[string], ctx: CommandContext): Promise<Document> {
    for (;;) {
      try {
        return await handler(ctx);
      } catch (error) {
        if (!(error instanceof TransactionWait)) throw error;
        await this.waitForTransactionEnd(error.owner);
      }
    }
  }

  /**
   * The labels mongod adds to an error reply it did not label itself: `RetryableWriteError` for
   * a retryable write (or commit/abort) failing with a retryable code, and
   * `ResumableChangeStreamError` for a change stream's aggregate or getMore failing resumably.
   */
  private addErrorLabels(
    command: Document,
    commandName: string,
    reply: Document,
    changeStreamKnown = true,
  ): void {
    if (Array.isArray(reply.errorLabels) && reply.errorLabels.length > 0) return;
    const labels: string[] = [];
    const code = typeof reply.code === 'number' ? reply.code : undefined;
    const wceCode = (reply.writeConcernError as Document | undefined)?.code as number | undefined;
    const lower = commandName.toLowerCase();
    const commitOrAbort = lower === 'committransaction' || lower === 'aborttransaction';
    // TransientTransactionError and RetryableWriteError exclude each other (mongod's ErrorLabelBuilder).
    if (
      code !== undefined &&
      command.txnNumber !== undefined &&
      command.autocommit !== undefined &&
      isTransientTransactionErrorCode(code, wceCode !== undefined, commitOrAbort)
    ) {
      reply.errorLabels = ['TransientTransactionError'];
      return;
    }
    const retryableWrite =
      (RETRYABLE_WRITE_COMMANDS.has(commandName) &&
        command.txnNumber !== undefined &&
        command.autocommit !== false) ||
      lower === 'committransaction' ||
      lower === 'aborttransaction';
    if (
      retryableWrite &&
      ((code !== undefined && isRetryableWriteErrorCode(code)) ||
        (wceCode !== undefined && isRetryableWriteErrorCode(wceCode)))
    )
      labels.push('RetryableWriteError');
    if (
      changeStreamKnown &&
      code !== undefined &&
      isResumableChangeStreamErrorCode(code) &&
      this.isChangeStreamCommand(command, lower)
    )
      labels.push('ResumableChangeStreamError');
    if (labels.length > 0) reply.errorLabels = labels;
  }

  private isChangeStreamCommand(command: Document, lowerName: string): boolean {
    if (lowerName === 'aggregate') {
      const first = (command.pipeline as Document[] | undefined)?.[0];
      return first !== undefined && first.$changeStream !== undefined;
    }
    if (lowerName === 'getmore') {
      const id = command.getMore as { toString(): string } | undefined;
      return id !== undefined && this.cursors.get(id.toString())?.awaitData === true;
    }
    return false;
  }

  withClusterTime(reply: Document): Document {
    return {
      ...reply,
      $clusterTime: {
        clusterTime: this.lastTime,
        signature: { hash: new Binary(Buffer.alloc(20)), keyId: Long.fromNumber(0) },
      },
      operationTime: this.lastTime,
    };
  }
}

/**
 * The write concern error mongod reports, after the write, for a write concern this one-member
 * replica set cannot satisfy: `w` above the number of data-bearing members
 * (UnsatisfiableWriteConcern) or a `w` mode the configuration does not define
 * (UnknownReplWriteConcern). Statements inside a transaction carry no write concern of their own.
 */
export function unsatisfiableWriteConcern(command: Document, commandName: string): Document | undefined {
  const wc = command.writeConcern as Document | undefined;
  if (!wc || typeof wc !== 'object') return undefined;
  const lower = commandName.toLowerCase();
  if (command.autocommit !== undefined && lower !== 'committransaction' && lower !== 'aborttransaction')
    return undefined;
  const w: unknown = wc.w;
  const n =
    typeof w === 'number' ? w : (w as { _bsontype?: string } | undefined)?._bsontype ? Number(w) : undefined;
  if (n !== undefined && n > 1)
    return {
      code: ErrorCodes.UnsatisfiableWriteConcern,
      codeName: 'UnsatisfiableWriteConcern',
      errmsg: 'Not enough data-bearing nodes',
    };
  if (typeof w === 'string' && w !== 'majority')
    return {
      code: ErrorCodes.UnknownReplWriteConcern,
      codeName: 'UnknownReplWriteConcern',
      errmsg: `No write concern mode named '${w}' found in replica set configuration`,
    };
  return undefined;
}

/** Thrown to make the server close the connection without replying (fail points). */
export class ConnectionClosedSignal extends Error {
  constructor() {
    super('connection closed by fail point');
  }
}

export function userWritesBlocked(): CommandError {
  return new CommandError(ErrorCodes.UserWritesBlocked, 'User writes blocked');
}
