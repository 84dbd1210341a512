// Resume tokens and stream positions. A token is `{_data: "82" + hex}` where the hex spells, in
// order: the cluster time (8 bytes, big-endian: seconds then increment), the entry's index within
// its transaction (4 bytes) and a kind byte (00 event, 01 the invalidate that follows an event,
// FF high-water mark). Fixed width and uppercase hex, so tokens compare as strings in event order.
// A high-water mark at time T means "every event at or before T has been seen": it sorts after all
// events at T.
import { type Document, Timestamp } from 'bson';
import { CommandError, ErrorCodes } from '../errors';
import type { OplogEntry } from '../oplog';

export type ResumeTokenKind = 'event' | 'invalidate' | 'highWaterMark';

export interface ResumeTokenData {
  clusterTime: Timestamp;
  /** Index within the transaction (0 outside transactions); meaningless for high-water marks. */
  txnOpIndex: number;
  kind: ResumeTokenKind;
}

const TOKEN_PREFIX = '82';
const KIND_BYTES: Record<ResumeTokenKind, string> = { event: '00', invalidate: '01', highWaterMark: 'FF' };
const MAX_UINT32 = 0xffffffff;
/** "82" + 16 hex of time + 8 hex of txnOpIndex + 2 hex of kind. */
const TOKEN_LENGTH = 2 + 16 + 8 + 2;

function hex32(value: number): string {
  return (value >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

export function encodeResumeToken(data: ResumeTokenData): { _data: string } {
  const opIndex = data.kind === 'highWaterMark' ? MAX_UINT32 : data.txnOpIndex;
  return {
    _data:
      TOKEN_PREFIX +
      hex32(data.clusterTime.t) +
      hex32(data.clusterTime.i) +
      hex32(opIndex) +
      KIND_BYTES[data.kind],
  };
}

function invalidToken(detail: string): CommandError {
  return new CommandError(ErrorCodes.BadValue, `Invalid resume token: ${detail}`);
}

/** Parses a token as received in `resumeAfter`/`startAfter`; malformed tokens are a BadValue. */
export function decodeResumeToken(token: unknown): ResumeTokenData {
  if (token === null || typeof token !== 'object' || Array.isArray(token)) {
    throw invalidToken('the resume token must be an object');
  }
  const data = (token as Document)._data;
  if (typeof data !== 'string') throw invalidToken("the '_data' field must be a hex string");
  if (data.length !== TOKEN_LENGTH || !/^82[0-9A-Fa-f]+$/.test(data)) {
    throw invalidToken(`'${data}' was not produced by this server`);
  }
  const upper = data.toUpperCase();
  const t = parseInt(upper.slice(2, 10), 16);
  const i = parseInt(upper.slice(10, 18), 16);
  const txnOpIndex = parseInt(upper.slice(18, 26), 16);
  const kindByte = upper.slice(26, 28);
  const kind = (Object.keys(KIND_BYTES) as ResumeTokenKind[]).find((k) => KIND_BYTES[k] === kindByte);
  if (kind === undefined) throw invalidToken(`unknown token kind ${kindByte}`);
  return {
    clusterTime: new Timestamp({ t, i }),
    txnOpIndex: kind === 'highWaterMark' ? 0 : txnOpIndex,
    kind,
  };
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

/** The start position a token names: just after the event (or everything up to the mark). */
export function positionAfterToken(data: ResumeTokenData): StreamPosition {
  return data.kind === 'highWaterMark'
    ? positionThrough(data.clusterTime)
    : { t: data.clusterTime.t, i: data.clusterTime.i, op: data.txnOpIndex };
}

/** The cluster time immediately before `ts` (one increment earlier). */
function previousTick(t: number, i: number): Timestamp {
  if (i > 0) return new Timestamp({ t, i: i - 1 });
  return t > 0 ? new Timestamp({ t: t - 1, i: MAX_UINT32 }) : new Timestamp({ t: 0, i: 0 });
}

/** A token that resumes exactly at `position` (used as postBatchResumeToken when nothing was returned). */
export function tokenForPosition(position: StreamPosition): { _data: string } {
  if (position.op === AFTER_ALL_OPS) {
    return encodeResumeToken({
      clusterTime: new Timestamp({ t: position.t, i: position.i }),
      txnOpIndex: 0,
      kind: 'highWaterMark',
    });
  }
  if (position.op === BEFORE_ALL_OPS) {
    return encodeResumeToken({
      clusterTime: previousTick(position.t, position.i),
      txnOpIndex: 0,
      kind: 'highWaterMark',
    });
  }
  return encodeResumeToken({
    clusterTime: new Timestamp({ t: position.t, i: position.i }),
    txnOpIndex: position.op,
    kind: 'event',
  });
}
