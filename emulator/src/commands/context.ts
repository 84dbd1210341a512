// What every command handler receives, and the shape of a table of handlers.
import type { Document } from 'bson';
import type { Engine } from '../engine';
import type { SessionState, TransactionState } from '../sessions';

/** An authenticated user on a connection. */
export interface Principal {
  user: string;
  db: string;
}

export interface ConnectionState {
  readonly id: number;
  /** Users authenticated on this connection (normally zero or one). */
  principals: Principal[];
  /** SCRAM conversations in progress, by conversationId (owned by the auth module). */
  authConversations: Map<number, unknown>;
  readonly remoteAddress: string;
  /** `client.application.name` from the connection handshake (failCommand's `appName` filter). */
  appName?: string;
}

export interface CommandContext {
  readonly engine: Engine;
  readonly conn: ConnectionState;
  /** `$db` of the command. */
  readonly dbName: string;
  /** The command document in exact form, with OP_MSG kind-1 sections merged in as arrays. */
  readonly command: Document;
  /** The command name as the first key of the command document. */
  readonly commandName: string;
  /** The logical session named by `lsid`, if any. */
  readonly session: SessionState | undefined;
  /** The open multi-document transaction this command runs in, if any. */
  readonly transaction: TransactionState | undefined;
}

export type CommandHandler = (ctx: CommandContext) => Promise<Document> | Document;
export type CommandTable = Record<string, CommandHandler>;
