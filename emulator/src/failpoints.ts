// Fault injection as mongod's test builds provide it: `configureFailPoint` with `failCommand`
// (fail, block or drop the connection for chosen commands) and `failGetMoreAfterCursorCheckout`.
import type { Document } from 'bson';
import { CommandError, ErrorCodes, codeNameOf } from './errors';
import type { ConnectionState } from './commands/context';

type Mode =
  | { kind: 'off' }
  | { kind: 'alwaysOn' }
  | { kind: 'times'; remaining: number }
  | { kind: 'skip'; remaining: number };

interface FailPointState {
  mode: Mode;
  data: Document;
}

export interface InjectedFailure {
  reply?: Document;
  closeConnection?: boolean;
  writeConcernError?: Document;
  /** `errorLabels` from the fail point: replaces the labels the server would add (may be empty). */
  errorLabels?: string[];
  /** The failure happens after the command's cursor was checked out (getMore fail point). */
  afterCursorCheckout?: boolean;
}

const SUPPORTED = new Set(['failCommand', 'failGetMoreAfterCursorCheckout', 'onPrimaryTransactionalWrite']);

/** What `onPrimaryTransactionalWrite` does to one statement of a retryable write. */
export interface TransactionalWriteFailure {
  /** Close the connection before the reply (default true). */
  closeConnection: boolean;
  /** Fail the statement with this code, not committing it (`failBeforeCommitExceptionCode`). */
  failBeforeCommitExceptionCode?: number;
}

function toInt(value: unknown): number {
  return typeof value === 'number' ? value : Number((value as { valueOf(): unknown }).valueOf());
}

export class FailPoints {
  private readonly points = new Map<string, FailPointState>();
  /** How often each fail point fired since it was last configured (mongod's `timesEntered`). */
  private readonly entered = new Map<string, number>();

  /** The `configureFailPoint` command. */
  configure(command: Document): Document {
    const name = command.configureFailPoint;
    if (typeof name !== 'string' || !SUPPORTED.has(name)) {
      throw new CommandError(ErrorCodes.BadValue, `Cannot find failpoint: ${String(name)}`);
    }
    const mode = parseMode(command.mode);
    const previous = this.points.get(name);
    // As mongod: the reply's count is how often the fail point fired under its previous setting,
    // also when a `times` mode has run out and switched itself off.
    const count = this.entered.get(name) ?? 0;
    this.entered.set(name, 0);
    if (mode.kind === 'off') this.points.delete(name);
    else this.points.set(name, { mode, data: (command.data as Document) ?? {} });
    return { count, mode: command.mode, data: previous?.data ?? {}, ok: 1 };
  }

  isActive(name: string): boolean {
    return this.points.has(name);
  }

  /**
   * `onPrimaryTransactionalWrite`, consulted for each statement of a retryable write (lsid and
   * txnNumber, outside a transaction) before it is committed; counts against the fail point's mode.
   */
  onTransactionalWrite(): TransactionalWriteFailure | undefined {
    const state = this.points.get('onPrimaryTransactionalWrite');
    if (!state || !this.consume('onPrimaryTransactionalWrite', state)) return undefined;
    const code = state.data.failBeforeCommitExceptionCode;
    return {
      closeConnection: state.data.closeConnection !== false,
      failBeforeCommitExceptionCode: code !== undefined ? toInt(code) : undefined,
    };
  }

  /** Consulted before every command; returns what to inject, after any requested blocking. */
  async beforeCommand(
    commandName: string,
    conn: ConnectionState,
    command: Document = {},
    dbName = 'admin',
  ): Promise<InjectedFailure | undefined> {
    if (this.points.size === 0 || commandName === 'configureFailPoint') return undefined;
    const lower = commandName.toLowerCase();
    let failure: InjectedFailure | undefined;
    const failCommand = this.points.get('failCommand');
    if (failCommand && this.failCommandApplies(failCommand.data, lower, conn, command, dbName)) {
      if (this.consume('failCommand', failCommand)) {
        failure = await this.applyFailCommand(failCommand.data);
      }
    }
    const getMore = this.points.get('failGetMoreAfterCursorCheckout');
    if (
      !failure &&
      getMore &&
      lower === 'getmore' &&
      this.consume('failGetMoreAfterCursorCheckout', getMore)
    ) {
      const code =
        getMore.data.errorCode !== undefined ? toInt(getMore.data.errorCode) : ErrorCodes.InternalError;
      failure = {
        reply: errorReply(code, 'Failing command due to failGetMoreAfterCursorCheckout', undefined),
        afterCursorCheckout: true,
      };
    }
    return failure;
  }

  /**
   * Whether failCommand's filters select this command: the command name (`failCommands`), the
   * client's `appName` and the `namespace`. Every client of the emulator is external, so
   * `failInternalCommands` never widens the selection.
   */
  private failCommandApplies(
    data: Document,
    lowerName: string,
    conn: ConnectionState,
    command: Document,
    dbName: string,
  ): boolean {
    const commands = (data.failCommands as string[] | undefined) ?? [];
    if (!commands.some((name) => name.toLowerCase() === lowerName)) return false;
    if (typeof data.appName === 'string' && conn.appName !== data.appName) return false;
    if (typeof data.namespace === 'string') {
      const target = command[Object.keys(command)[0]];
      const ns = typeof target === 'string' ? `${dbName}.${target}` : dbName;
      if (ns !== data.namespace) return false;
    }
    return true;
  }

  /** As mongod: block first, then close the connection, else fail with the code, else let the
   * command run and attach the write concern error. `errorLabels` replaces the server's own. */
  private async applyFailCommand(data: Document): Promise<InjectedFailure> {
    if (data.blockConnection === true) {
      const ms = data.blockTimeMS !== undefined ? toInt(data.blockTimeMS) : 0;
      await new Promise((resolve) => setTimeout(resolve, ms));
    }
    if (data.closeConnection === true) return { closeConnection: true };
    const errorLabels = Array.isArray(data.errorLabels) ? (data.errorLabels as string[]) : undefined;
    if (data.errorCode !== undefined) {
      return {
        reply: errorReply(toInt(data.errorCode), "Failing command via 'failCommand' failpoint", errorLabels),
        errorLabels,
      };
    }
    if (data.writeConcernError) {
      const wce = { ...(data.writeConcernError as Document) };
      if (wce.code !== undefined && wce.codeName === undefined) wce.codeName = codeNameOf(toInt(wce.code));
      return { writeConcernError: wce, errorLabels };
    }
    return { errorLabels };
  }

  private consume(name: string, state: FailPointState): boolean {
    const fires = this.fires(name, state.mode);
    if (fires) this.entered.set(name, (this.entered.get(name) ?? 0) + 1);
    return fires;
  }

  private fires(name: string, mode: Mode): boolean {
    switch (mode.kind) {
      case 'alwaysOn':
        return true;
      case 'times':
        mode.remaining--;
        if (mode.remaining <= 0) this.points.delete(name);
        return true;
      case 'skip':
        if (mode.remaining > 0) {
          mode.remaining--;
          return false;
        }
        return true;
      default:
        return false;
    }
  }
}

function errorReply(code: number, errmsg: string, labels: string[] | undefined): Document {
  const reply: Document = { ok: 0, errmsg, code, codeName: codeNameOf(code) };
  if (labels && labels.length > 0) reply.errorLabels = labels;
  return reply;
}

function parseMode(mode: unknown): Mode {
  if (mode === 'off') return { kind: 'off' };
  if (mode === 'alwaysOn') return { kind: 'alwaysOn' };
  if (mode && typeof mode === 'object') {
    const doc = mode as Document;
    if (doc.times !== undefined) {
      const times = toInt(doc.times);
      return times <= 0 ? { kind: 'off' } : { kind: 'times', remaining: times };
    }
    if (doc.skip !== undefined) return { kind: 'skip', remaining: toInt(doc.skip) };
  }
  throw new CommandError(ErrorCodes.BadValue, `Unsupported failpoint mode: ${JSON.stringify(mode)}`);
}
