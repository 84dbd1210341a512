// Resume tokens as mongod writes them (resume_token.cpp): `{_data, _typeBits?}` where `_data` is
// the uppercase hex of a KeyString (V1) of the token's fields, in order: cluster time, version,
// token type (128 event, 0 high-water mark), txnOpIndex, fromInvalidate, the collection UUID
// (null in v2 tokens without one), the event identifier and, for split events, the fragment
// number. The event identifier is the documentKey in v1 tokens; in v2 it is
// `{operationType, documentKey}` or `{operationType, operationDescription}`. `_typeBits` (BinData)
// is present only when some value's exact type is not implied by the bytes (a double or long in a
// documentKey). KeyString bytes sort as values do, so tokens compare as strings in event order: a
// high-water mark at T sorts before every event at T and means "resume from T, inclusive".
import { Binary, type Document, Int32, Timestamp } from 'bson';
import { CommandError, ErrorCodes } from '../errors';
import type { OplogEntry } from '../oplog';
import { decodeKeyString, encodeKeyString } from './key-string';

export type ResumeTokenKind = 'event' | 'invalidate' | 'highWaterMark';
export type ResumeTokenVersion = 0 | 1 | 2;

export interface ResumeTokenData {
  clusterTime: Timestamp;
  version: ResumeTokenVersion;
  /** 'invalidate' is an event token with fromInvalidate set. */
  kind: ResumeTokenKind;
  /** Index within the transaction (0 outside transactions and for high-water marks). */
  txnOpIndex: number;
  uuid?: Binary;
  eventIdentifier?: Document;
  /** For a fragment of a split event ($changeStreamSplitLargeEvent). */
  fragmentNum?: number;
}

export interface ResumeToken {
  _data: string;
  _typeBits?: Binary;
}

export const EVENT_TOKEN_TYPE = 128;
export const HIGH_WATER_MARK_TOKEN_TYPE = 0;
const MAX_UINT32 = 0xffffffff;

export function encodeResumeToken(data: ResumeTokenData): ResumeToken {
  const highWaterMark = data.kind === 'highWaterMark';
  const values: unknown[] = [data.clusterTime, new Int32(data.version)];
  if (data.version >= 1)
    values.push(new Int32(highWaterMark ? HIGH_WATER_MARK_TOKEN_TYPE : EVENT_TOKEN_TYPE));
  values.push(new Int32(highWaterMark ? 0 : data.txnOpIndex));
  if (data.version >= 1) values.push(data.kind === 'invalidate');
  if (!highWaterMark && data.uuid !== undefined) values.push(data.uuid);
  else if (data.version >= 2) values.push(null);
  if (!highWaterMark && data.eventIdentifier !== undefined) {
    values.push(data.eventIdentifier);
    if (data.fragmentNum !== undefined && data.version >= 2) values.push(new Int32(data.fragmentNum));
  }
  const { bytes, typeBits } = encodeKeyString(values);
  const token: ResumeToken = { _data: bytes.toString('hex').toUpperCase() };
  if (typeBits !== undefined) token._typeBits = new Binary(typeBits, 0);
  return token;
}

/**
 * mongod's event identifier for an entry: v1 tokens carry the documentKey (CRUD events only);
 * v2 tokens `{operationType, documentKey}` or `{operationType, operationDescription}`.
 */
export function eventIdentifierOf(entry: OplogEntry, version: ResumeTokenVersion): Document | undefined {
  const isCrud =
    entry.op === 'insert' || entry.op === 'update' || entry.op === 'replace' || entry.op === 'delete';
  const documentKey = isCrud ? entry.documentKey : undefined;
  const classic = isCrud || entry.op === 'drop' || entry.op === 'rename' || entry.op === 'dropDatabase';
  if (version <= 1 && classic) return documentKey;
  if (documentKey !== undefined) return { operationType: entry.op, documentKey };
  const description =
    entry.op === 'rename' && entry.to !== undefined
      ? { to: { db: entry.to.db, coll: entry.to.coll } }
      : entry.op === 'drop' || entry.op === 'dropDatabase'
        ? undefined
        : entry.operationDescription;
  return description !== undefined
    ? { operationType: entry.op, operationDescription: description }
    : { operationType: entry.op };
}

/** The token of the event (or, with kind 'invalidate', of the invalidate) an entry produces. */
export function entryTokenData(
  entry: OplogEntry,
  version: ResumeTokenVersion,
  kind: 'event' | 'invalidate' = 'event',
  fragmentNum?: number,
): ResumeTokenData {
  const data: ResumeTokenData = {
    clusterTime: entry.ts,
    version,
    kind,
    txnOpIndex: entry.txnOpIndex ?? 0,
    eventIdentifier: eventIdentifierOf(entry, version),
  };
  if (entry.uuid !== undefined && entry.op !== 'dropDatabase') data.uuid = entry.uuid;
  if (fragmentNum !== undefined) data.fragmentNum = fragmentNum;
  return data;
}

export function entryToken(
  entry: OplogEntry,
  version: ResumeTokenVersion,
  kind: 'event' | 'invalidate' = 'event',
  fragmentNum?: number,
): ResumeToken {
  return encodeResumeToken(entryTokenData(entry, version, kind, fragmentNum));
}

function badToken(code: number, message: string): CommandError {
  return new CommandError(code, message);
}

function isInt(value: unknown): value is Int32 {
  return value instanceof Int32;
}

/** Parses a token as received in `resumeAfter`/`startAfter`, with mongod's error codes. */
export function decodeResumeToken(token: unknown): ResumeTokenData {
  if (token === null || typeof token !== 'object' || Array.isArray(token)) {
    throw badToken(
      ErrorCodes.TypeMismatch,
      "BSON field 'resumeAfter' is the wrong type, expected type 'object'",
    );
  }
  const raw = token as Document;
  const data = raw._data;
  if (typeof data !== 'string') {
    throw badToken(
      40647,
      `Bad resume token: _data of missing or of wrong type. Expected string, got ${JSON.stringify(raw)}`,
    );
  }
  const typeBitsValue = raw._typeBits as unknown;
  if (typeBitsValue !== undefined && !(typeBitsValue instanceof Binary && typeBitsValue.sub_type === 0)) {
    throw badToken(40648, `Bad resume token: _typeBits of wrong type ${JSON.stringify(raw)}`);
  }
  if (data.length % 2 !== 0 || !/^[0-9A-Fa-f]*$/.test(data)) {
    throw badToken(ErrorCodes.FailedToParse, 'resume token string was not a valid hex string');
  }
  const typeBits = typeBitsValue instanceof Binary ? Buffer.from(typeBitsValue.value()) : undefined;
  const values = decodeKeyString(Buffer.from(data, 'hex'), typeBits);
  if (values === undefined)
    throw badToken(ErrorCodes.BadValue, `KeyString format error in resume token '${data}'`);
  let index = 0;
  const next = (): unknown => values[index++];
  const more = (): boolean => index < values.length;

  if (!more()) throw badToken(40649, 'invalid empty resume token');
  const clusterTime = next();
  if (!(clusterTime instanceof Timestamp))
    throw badToken(ErrorCodes.BadValue, 'Resume token clusterTime is not a timestamp');
  if (!more()) throw badToken(50796, 'Resume Token does not contain version');
  const version = next();
  if (!isInt(version)) throw badToken(50854, 'Invalid resume token: wrong type for version');
  if (version.value !== 0 && version.value !== 1 && version.value !== 2) {
    throw badToken(50795, 'Invalid Resume Token: only supports version 0, 1 and 2');
  }
  const result: ResumeTokenData = {
    clusterTime,
    version: version.value,
    kind: 'event',
    txnOpIndex: 0,
  };
  if (result.version >= 1) {
    if (!more()) throw badToken(51055, 'Resume Token does not contain tokenType');
    const tokenType = next();
    if (!isInt(tokenType)) throw badToken(51056, 'Resume Token tokenType is not an int.');
    if (tokenType.value !== EVENT_TOKEN_TYPE && tokenType.value !== HIGH_WATER_MARK_TOKEN_TYPE) {
      throw badToken(51057, `Token type ${tokenType.value} not recognized`);
    }
    if (tokenType.value === HIGH_WATER_MARK_TOKEN_TYPE) result.kind = 'highWaterMark';
  }
  if (!more()) throw badToken(50793, 'Resume Token does not contain txnOpIndex');
  const txnOpIndex = next();
  if (!isInt(txnOpIndex)) throw badToken(50855, 'Resume Token txnOpIndex is not an integer');
  if (txnOpIndex.value < 0) throw badToken(50794, 'Invalid Resume Token: txnOpIndex should be non-negative');
  result.txnOpIndex = txnOpIndex.value;
  if (result.version >= 1) {
    if (!more()) throw badToken(50872, 'Resume Token does not contain fromInvalidate');
    const fromInvalidate = next();
    if (typeof fromInvalidate !== 'boolean')
      throw badToken(50870, 'Resume Token fromInvalidate is not a boolean.');
    if (fromInvalidate && result.kind === 'event') result.kind = 'invalidate';
  }
  if (!more()) {
    if (result.version >= 2) throw badToken(6189500, 'Expected UUID or null');
    return result;
  }
  const uuid = next();
  if (uuid !== null) {
    if (!(uuid instanceof Binary) || uuid.sub_type !== 4 || uuid.position !== 16) {
      throw badToken(207 /* InvalidUUID */, 'Invalid UUID in resume token');
    }
    result.uuid = uuid;
  }
  if (result.kind === 'highWaterMark' && (more() || result.uuid !== undefined || result.txnOpIndex > 0)) {
    throw badToken(6189504, 'Invalid high water mark token');
  }
  if (!more()) {
    if (result.kind !== 'highWaterMark' && result.version >= 2) {
      throw badToken(6189501, 'Expected an eventIdentifier for an event resume token');
    }
    return result;
  }
  const eventIdentifier = next();
  if (eventIdentifier === null || typeof eventIdentifier !== 'object' || Array.isArray(eventIdentifier)) {
    throw badToken(6189503, 'Resume Token eventIdentifier is not an object');
  }
  result.eventIdentifier = eventIdentifier as Document;
  if (more() && result.version >= 2) {
    const fragmentNum = next();
    if (!isInt(fragmentNum) || fragmentNum.value < 0) {
      throw badToken(7182501, "Resume token 'fragmentNum' must be a non-negative integer.");
    }
    result.fragmentNum = fragmentNum.value;
  }
  if (more()) throw badToken(40646, 'invalid oversized resume token');
  return result;
}

/**
 * Where a stream stands: everything at or before (t, i, op) has been consumed. `op` is -1 for
 * "nothing at this time yet" and AFTER_ALL_OPS for "all entries at this time".
 */
export interface StreamPosition {
  t: number;
  i: number;
  op: number;
}

export const BEFORE_ALL_OPS = -1;
export const AFTER_ALL_OPS = MAX_UINT32 + 1;

export function entryOpIndex(entry: OplogEntry): number {
  return entry.txnOpIndex ?? 0;
}

/** Compares a timestamp-with-index key against a position: negative when the key comes first. */
export function comparePositionKey(t: number, i: number, op: number, position: StreamPosition): number {
  if (t !== position.t) return t < position.t ? -1 : 1;
  if (i !== position.i) return i < position.i ? -1 : 1;
  if (op !== position.op) return op < position.op ? -1 : 1;
  return 0;
}

export function isEntryAfter(entry: OplogEntry, position: StreamPosition): boolean {
  return comparePositionKey(entry.ts.t, entry.ts.i, entryOpIndex(entry), position) > 0;
}

export function positionOfEntry(entry: OplogEntry): StreamPosition {
  return { t: entry.ts.t, i: entry.ts.i, op: entryOpIndex(entry) };
}

/** The position right before any event at `ts` (an inclusive start). */
export function positionBefore(ts: Timestamp): StreamPosition {
  return { t: ts.t, i: ts.i, op: BEFORE_ALL_OPS };
}

/** The position after every event at `ts` (an exclusive start). */
export function positionThrough(ts: Timestamp): StreamPosition {
  return { t: ts.t, i: ts.i, op: AFTER_ALL_OPS };
}

/** The start position a token names: just after the event, or from the mark's time on. */
export function positionAfterToken(data: ResumeTokenData): StreamPosition {
  return data.kind === 'highWaterMark'
    ? positionBefore(data.clusterTime)
    : { t: data.clusterTime.t, i: data.clusterTime.i, op: data.txnOpIndex };
}

/** The cluster time immediately after `(t, i)` (one increment later). */
export function nextTick(t: number, i: number): Timestamp {
  return i < MAX_UINT32 ? new Timestamp({ t, i: i + 1 }) : new Timestamp({ t: t + 1, i: 0 });
}

/** The high-water mark that resumes from `ts` inclusive. */
export function highWaterMarkAt(ts: Timestamp, version: ResumeTokenVersion): ResumeToken {
  return encodeResumeToken({ clusterTime: ts, version, kind: 'highWaterMark', txnOpIndex: 0 });
}

/**
 * A high-water mark for a position at a time boundary: "before anything at T" is the mark at T,
 * "after everything at T" the mark at the next tick. Positions inside a time have no mark.
 */
export function highWaterMarkForPosition(
  position: StreamPosition,
  version: ResumeTokenVersion,
): ResumeToken | undefined {
  if (position.op === AFTER_ALL_OPS) return highWaterMarkAt(nextTick(position.t, position.i), version);
  if (position.op === BEFORE_ALL_OPS)
    return highWaterMarkAt(new Timestamp({ t: position.t, i: position.i }), version);
  return undefined;
}
