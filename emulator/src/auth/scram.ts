// Server side of SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802 / RFC 7677) as MongoDB runs it: credentials
// derivation, and a two-step conversation that checks the client proof and signs the exchange.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { saslprep } from '@mongodb-js/saslprep';

export type ScramMechanism = 'SCRAM-SHA-1' | 'SCRAM-SHA-256';

export const SCRAM_MECHANISMS: readonly ScramMechanism[] = ['SCRAM-SHA-1', 'SCRAM-SHA-256'];

/** mongod's defaults (scramSHA1IterationCount / scramSHA256IterationCount). */
export const DEFAULT_ITERATIONS: Readonly<Record<ScramMechanism, number>> = {
  'SCRAM-SHA-1': 10000,
  'SCRAM-SHA-256': 15000,
};

/** What a server stores per user and mechanism; the password itself is never kept. */
export interface ScramCredential {
  iterationCount: number;
  salt: string; // base64
  storedKey: string; // base64
  serverKey: string; // base64
}

interface HashSpec {
  algorithm: 'sha1' | 'sha256';
  length: number;
}

const HASHES: Record<ScramMechanism, HashSpec> = {
  'SCRAM-SHA-1': { algorithm: 'sha1', length: 20 },
  'SCRAM-SHA-256': { algorithm: 'sha256', length: 32 },
};

export function isScramMechanism(value: unknown): value is ScramMechanism {
  return value === 'SCRAM-SHA-1' || value === 'SCRAM-SHA-256';
}

/**
 * The string SCRAM hashes as "the password": SHA-1 uses MongoDB's legacy MD5 digest of
 * `user:mongo:password`, SHA-256 uses the SASLprep-normalised password.
 */
export function scramPasswordInput(mechanism: ScramMechanism, username: string, password: string): string {
  if (mechanism === 'SCRAM-SHA-1') {
    return createHash('md5').update(`${username}:mongo:${password}`, 'utf8').digest('hex');
  }
  return saslprep(password);
}

export function deriveScramCredential(
  mechanism: ScramMechanism,
  username: string,
  password: string,
  options: { iterationCount?: number; salt?: Buffer } = {},
): ScramCredential {
  const hash = HASHES[mechanism];
  const iterationCount = options.iterationCount ?? DEFAULT_ITERATIONS[mechanism];
  const salt = options.salt ?? randomBytes(hash.length === 20 ? 16 : 28);
  const saltedPassword = pbkdf2Sync(
    scramPasswordInput(mechanism, username, password),
    salt,
    iterationCount,
    hash.length,
    hash.algorithm,
  );
  const clientKey = hmac(hash, saltedPassword, 'Client Key');
  return {
    iterationCount,
    salt: salt.toString('base64'),
    storedKey: digest(hash, clientKey).toString('base64'),
    serverKey: hmac(hash, saltedPassword, 'Server Key').toString('base64'),
  };
}

/** Thrown for any malformed message or failed proof; callers map it to AuthenticationFailed. */
export class ScramError extends Error {}

/** Parses `a=1,b=2` SCRAM attribute lists (values may themselves contain `=`). */
export function parseScramAttributes(message: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const part of message.split(',')) {
    const separator = part.indexOf('=');
    if (separator < 1) throw new ScramError(`Malformed SCRAM message part "${part}"`);
    attributes.set(part.slice(0, separator), part.slice(separator + 1));
  }
  return attributes;
}

/** SCRAM escapes `,` and `=` in user names as `=2C` and `=3D`. */
export function decodeScramUsername(encoded: string): string {
  return encoded.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

export interface ClientFirstMessage {
  gs2Header: string;
  bare: string;
  username: string;
  clientNonce: string;
}

export function parseClientFirstMessage(message: string): ClientFirstMessage {
  // gs2-header is "<cbind-flag>,[a=authzid]," — channel binding is not supported by MongoDB.
  const firstComma = message.indexOf(',');
  const secondComma = message.indexOf(',', firstComma + 1);
  if (firstComma < 0 || secondComma < 0) throw new ScramError('Malformed SCRAM client-first message');
  const cbindFlag = message.slice(0, firstComma);
  if (cbindFlag !== 'n' && cbindFlag !== 'y') throw new ScramError('SCRAM channel binding is not supported');
  const gs2Header = message.slice(0, secondComma + 1);
  const bare = message.slice(secondComma + 1);
  const attributes = parseScramAttributes(bare);
  const username = attributes.get('n');
  const clientNonce = attributes.get('r');
  if (username === undefined || clientNonce === undefined || clientNonce.length === 0) {
    throw new ScramError('SCRAM client-first message lacks a user name or nonce');
  }
  return { gs2Header, bare, username: decodeScramUsername(username), clientNonce };
}

/**
 * One server-side SCRAM exchange. `start` answers the client-first message, `finish` verifies
 * the client-final message and returns the server-final message (`v=<ServerSignature>`).
 */
export class ScramServerConversation {
  private readonly hash: HashSpec;
  private serverFirst: string | undefined;
  private clientFirstBare: string | undefined;
  private gs2Header: string | undefined;
  private combinedNonce: string | undefined;

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly credential: ScramCredential,
    private readonly serverNonce: string = randomBytes(24).toString('base64'),
  ) {
    this.hash = HASHES[mechanism];
  }

  start(clientFirst: ClientFirstMessage): string {
    this.clientFirstBare = clientFirst.bare;
    this.gs2Header = clientFirst.gs2Header;
    this.combinedNonce = clientFirst.clientNonce + this.serverNonce;
    this.serverFirst = `r=${this.combinedNonce},s=${this.credential.salt},i=${this.credential.iterationCount}`;
    return this.serverFirst;
  }

  finish(clientFinal: string): string {
    if (
      this.serverFirst === undefined ||
      this.clientFirstBare === undefined ||
      this.gs2Header === undefined
    ) {
      throw new ScramError('SCRAM conversation was not started');
    }
    const proofStart = clientFinal.lastIndexOf(',p=');
    if (proofStart < 0) throw new ScramError('SCRAM client-final message lacks a proof');
    const withoutProof = clientFinal.slice(0, proofStart);
    const attributes = parseScramAttributes(withoutProof);
    if (attributes.get('c') !== Buffer.from(this.gs2Header, 'utf8').toString('base64')) {
      throw new ScramError('SCRAM channel binding data does not match');
    }
    if (attributes.get('r') !== this.combinedNonce) throw new ScramError('SCRAM nonce does not match');
    const proof = Buffer.from(clientFinal.slice(proofStart + 3), 'base64');

    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const storedKey = Buffer.from(this.credential.storedKey, 'base64');
    const clientSignature = hmac(this.hash, storedKey, authMessage);
    if (proof.length !== clientSignature.length) throw new ScramError('SCRAM proof has the wrong length');
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i] ^ clientSignature[i];
    if (!timingSafeEqual(digest(this.hash, clientKey), storedKey))
      throw new ScramError('SCRAM proof is wrong');

    const serverSignature = hmac(this.hash, Buffer.from(this.credential.serverKey, 'base64'), authMessage);
    return `v=${serverSignature.toString('base64')}`;
  }
}

function hmac(hash: HashSpec, key: Buffer, text: string): Buffer {
  return createHmac(hash.algorithm, key).update(text, 'utf8').digest();
}

function digest(hash: HashSpec, data: Buffer): Buffer {
  return createHash(hash.algorithm).update(data).digest();
}
