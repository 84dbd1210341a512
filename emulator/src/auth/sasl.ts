// The saslStart / saslContinue commands (and hello's speculative saslStart) driving SCRAM
// conversations kept on the connection.
import { Binary, type Document } from 'bson';
import type { ConnectionState } from '../commands/context';
import { CommandError, ErrorCodes } from '../errors';
import {
  type ScramMechanism,
  ScramError,
  ScramServerConversation,
  isScramMechanism,
  parseClientFirstMessage,
} from './scram';
import type { UserStore } from './user-store';
import { isPlainObject, numberValue } from './values';

const MECHANISM_UNAVAILABLE = 334;
const PROTOCOL_ERROR = 17;

interface SaslConversation {
  mechanism: ScramMechanism;
  scram: ScramServerConversation;
  user: string;
  db: string;
  skipEmptyExchange: boolean;
  /** 'proof': waiting for the client-final message; 'empty': waiting for the closing empty message. */
  awaiting: 'proof' | 'empty';
}

let nextConversationId = 1;

function allocateConversationId(): number {
  const id = nextConversationId;
  nextConversationId = nextConversationId >= 0x7fffffff ? 1 : nextConversationId + 1;
  return id;
}

export function authenticationFailed(): CommandError {
  return new CommandError(ErrorCodes.AuthenticationFailed, 'Authentication failed.');
}

/** The text of a SASL payload, sent as BinData by drivers (a string by some tools). */
export function payloadText(payload: unknown): string {
  if (typeof payload === 'string') return payload;
  if (payload instanceof Binary)
    return Buffer.from(payload.buffer.subarray(0, payload.position)).toString('utf8');
  if (payload instanceof Uint8Array) return Buffer.from(payload).toString('utf8');
  throw new CommandError(ErrorCodes.BadValue, 'SASL payload must be BinData or a string');
}

function binaryPayload(text: string): Binary {
  return new Binary(Buffer.from(text, 'utf8'));
}

export class SaslService {
  constructor(private readonly store: UserStore) {}

  /** Mechanisms hello advertises for `saslSupportedMechs: "db.user"`, or undefined for unknown users. */
  supportedMechanisms(userSpec: string): string[] | undefined {
    const dot = userSpec.indexOf('.');
    if (dot <= 0) return undefined;
    const user = this.store.getUser(userSpec.slice(dot + 1), userSpec.slice(0, dot));
    if (user === undefined) return undefined;
    return (Object.keys(user.credentials) as ScramMechanism[]).sort();
  }

  /** Handles `saslStart` on database `db`; the reply carries the server-first message. */
  start(conn: ConnectionState, db: string, command: Document): Document {
    const mechanism = command.mechanism;
    if (!isScramMechanism(mechanism)) {
      throw new CommandError(
        MECHANISM_UNAVAILABLE,
        `Received authentication for mechanism ${String(mechanism)} which is not enabled`,
        { codeName: 'MechanismUnavailable' },
      );
    }
    let clientFirst;
    try {
      clientFirst = parseClientFirstMessage(payloadText(command.payload));
    } catch (error) {
      if (error instanceof ScramError) throw authenticationFailed();
      throw error;
    }
    const user = this.store.getUser(clientFirst.username, db);
    if (user === undefined) throw authenticationFailed();
    const credential = user.credentials[mechanism];
    if (credential === undefined) {
      throw new CommandError(
        MECHANISM_UNAVAILABLE,
        `Unable to use ${mechanism} based authentication for user without any ${mechanism} credentials registered`,
        { codeName: 'MechanismUnavailable' },
      );
    }
    const scram = new ScramServerConversation(mechanism, credential);
    const serverFirst = scram.start(clientFirst);
    const options = isPlainObject(command.options) ? command.options : {};
    const conversationId = allocateConversationId();
    const conversation: SaslConversation = {
      mechanism,
      scram,
      user: user.user,
      db,
      skipEmptyExchange: options.skipEmptyExchange === true,
      awaiting: 'proof',
    };
    conn.authConversations.set(conversationId, conversation);
    return { conversationId, done: false, payload: binaryPayload(serverFirst), ok: 1 };
  }

  /** Handles `saslContinue`: verifies the proof, then (unless skipped) the closing empty exchange. */
  continue(conn: ConnectionState, db: string, command: Document): Document {
    const conversationId = numberValue(command.conversationId);
    const conversation =
      conversationId === undefined
        ? undefined
        : (conn.authConversations.get(conversationId) as SaslConversation | undefined);
    if (conversationId === undefined || conversation === undefined || conversation.db !== db) {
      throw new CommandError(PROTOCOL_ERROR, 'No SASL session state found', { codeName: 'ProtocolError' });
    }
    if (conversation.awaiting === 'empty') {
      conn.authConversations.delete(conversationId);
      this.authenticate(conn, conversation);
      return { conversationId, done: true, payload: binaryPayload(''), ok: 1 };
    }
    let serverFinal: string;
    try {
      serverFinal = conversation.scram.finish(payloadText(command.payload));
    } catch (error) {
      conn.authConversations.delete(conversationId);
      if (error instanceof ScramError) throw authenticationFailed();
      throw error;
    }
    if (conversation.skipEmptyExchange) {
      conn.authConversations.delete(conversationId);
      this.authenticate(conn, conversation);
      return { conversationId, done: true, payload: binaryPayload(serverFinal), ok: 1 };
    }
    conversation.awaiting = 'empty';
    return { conversationId, done: false, payload: binaryPayload(serverFinal), ok: 1 };
  }

  /** hello's `speculativeAuthenticate`: a saslStart with `db`; undefined when it cannot start. */
  speculativeStart(conn: ConnectionState, request: Document): Document | undefined {
    if (request.saslStart === undefined || typeof request.db !== 'string') return undefined;
    try {
      return this.start(conn, request.db, request);
    } catch (error) {
      if (error instanceof CommandError) return undefined;
      throw error;
    }
  }

  private authenticate(conn: ConnectionState, conversation: SaslConversation): void {
    // The user may have been dropped while the handshake was in flight.
    if (this.store.getUser(conversation.user, conversation.db) === undefined) throw authenticationFailed();
    const already = conn.principals.some((p) => p.user === conversation.user && p.db === conversation.db);
    if (!already) conn.principals.push({ user: conversation.user, db: conversation.db });
  }
}
