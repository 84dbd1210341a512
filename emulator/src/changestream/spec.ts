// Parsing and validation of a `$changeStream` stage and of the namespace it is opened on, with
// mongod's error codes.
import { type Document, Timestamp } from 'bson';
import { CommandError, ErrorCodes, badValue } from '../errors';
import { decodeResumeToken, type ResumeTokenData, type ResumeTokenVersion } from './resume-token';

export type FullDocumentMode = 'default' | 'updateLookup' | 'whenAvailable' | 'required';
export type FullDocumentBeforeChangeMode = 'off' | 'whenAvailable' | 'required';

export type StreamScope =
  { kind: 'collection'; db: string; coll: string } | { kind: 'database'; db: string } | { kind: 'cluster' };

export type StartPoint =
  | { kind: 'now' }
  | { kind: 'atOperationTime'; ts: Timestamp }
  | { kind: 'resumeAfter'; token: ResumeTokenData }
  | { kind: 'startAfter'; token: ResumeTokenData };

export interface ChangeStreamSpec {
  fullDocument: FullDocumentMode;
  fullDocumentBeforeChange: FullDocumentBeforeChangeMode;
  showExpandedEvents: boolean;
  /** The resume token version the stream writes (mongod 6.1+ writes v2 unless told otherwise). */
  tokenVersion: ResumeTokenVersion;
  start: StartPoint;
}

const FULL_DOCUMENT_MODES: readonly FullDocumentMode[] = [
  'default',
  'updateLookup',
  'whenAvailable',
  'required',
];
const BEFORE_CHANGE_MODES: readonly FullDocumentBeforeChangeMode[] = ['off', 'whenAvailable', 'required'];

/** Options mongod's $changeStream parser accepts (the internal ones are accepted and ignored). */
const KNOWN_OPTIONS = new Set([
  'fullDocument',
  'fullDocumentBeforeChange',
  'resumeAfter',
  'startAfter',
  'startAtOperationTime',
  'allChangesForCluster',
  'showExpandedEvents',
  'showMigrationEvents',
  'showSystemEvents',
  'showRawUpdateDescription',
  'allowToRunOnConfigDB',
  'allowToRunOnSystemNS',
  '$_generateV2ResumeTokens',
]);

export const INTERNAL_DATABASES = new Set(['admin', 'config', 'local']);

function isObject(value: unknown): value is Document {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isTimestamp(value: unknown): value is Timestamp {
  return value instanceof Timestamp || (isObject(value) && value._bsontype === 'Timestamp');
}

function booleanOption(spec: Document, name: string): boolean {
  const value = spec[name];
  if (value === undefined) return false;
  if (typeof value !== 'boolean') {
    throw new CommandError(
      ErrorCodes.TypeMismatch,
      `BSON field '$changeStream.${name}' is the wrong type '${typeof value}', expected type 'bool'`,
    );
  }
  return value;
}

function enumOption<T extends string>(spec: Document, name: string, allowed: readonly T[], fallback: T): T {
  const value = spec[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw badValue(
      `Enumeration value '${String(value)}' for field '$changeStream.${name}' is not a valid value.`,
    );
  }
  return value as T;
}

/** Scope from what the aggregate named; `{}` is the whole cluster (admin + allChangesForCluster). */
export function resolveScope(scope: { db?: string; coll?: string }, spec: Document): StreamScope {
  if (scope.db === undefined) return { kind: 'cluster' };
  const { db, coll } = scope;
  if (db === 'admin' && coll === undefined && spec.allChangesForCluster === true) return { kind: 'cluster' };
  if (spec.allChangesForCluster === true) {
    throw new CommandError(
      ErrorCodes.InvalidOptions,
      `A $changeStream with 'allChangesForCluster:true' may only be opened on the 'admin' database, and with no collection name; found ${coll === undefined ? `${db}.$cmd.aggregate` : `${db}.${coll}`}`,
    );
  }
  if (INTERNAL_DATABASES.has(db)) {
    throw new CommandError(
      ErrorCodes.InvalidNamespace,
      `$changeStream may not be opened on the internal ${db} database`,
    );
  }
  if (coll === undefined) return { kind: 'database', db };
  if (coll.startsWith('system.')) {
    throw new CommandError(
      ErrorCodes.InvalidNamespace,
      `$changeStream may not be opened on the internal ${db}.${coll} collection`,
    );
  }
  return { kind: 'collection', db, coll };
}

/** The modes of a $changeStream stage: unknown options (40415) and bad values fail here. */
export function parseChangeStreamModes(
  raw: unknown,
  serverVersion = '8.0',
): Omit<ChangeStreamSpec, 'start'> & { raw: Document } {
  if (!isObject(raw)) {
    throw new CommandError(50808, '$changeStream stage expects a document as argument');
  }
  for (const name of Object.keys(raw)) {
    if (!KNOWN_OPTIONS.has(name))
      throw new CommandError(40415, `BSON field '$changeStream.${name}' is an unknown field.`);
  }
  const fullDocument = enumOption(raw, 'fullDocument', FULL_DOCUMENT_MODES, 'default');
  const fullDocumentBeforeChange = enumOption(raw, 'fullDocumentBeforeChange', BEFORE_CHANGE_MODES, 'off');
  const showExpandedEvents = booleanOption(raw, 'showExpandedEvents');
  booleanOption(raw, 'allChangesForCluster');
  const v2ByDefault = parseFloat(serverVersion) >= 6.1;
  const tokenVersion = (raw.$_generateV2ResumeTokens ?? v2ByDefault) === true ? 2 : 1;
  return { fullDocument, fullDocumentBeforeChange, showExpandedEvents, tokenVersion, raw };
}

/** Where the stream starts: resumeAfter/startAfter/startAtOperationTime, validated together. */
export function parseStartPoint(raw: Document): StartPoint {
  const { resumeAfter, startAfter, startAtOperationTime } = raw;
  if (resumeAfter !== undefined && startAfter !== undefined) {
    throw new CommandError(
      50865,
      "Do not specify both 'resumeAfter' and 'startAfter' in a $changeStream stage",
    );
  }
  const tokenValue = resumeAfter ?? startAfter;
  const token = tokenValue !== undefined ? decodeResumeToken(tokenValue) : undefined;
  if (startAtOperationTime !== undefined && token !== undefined) {
    throw new CommandError(40674, 'Only one type of resume option is allowed, but multiple were found.');
  }
  if (startAtOperationTime !== undefined) {
    if (!isTimestamp(startAtOperationTime)) {
      throw new CommandError(
        ErrorCodes.TypeMismatch,
        "BSON field '$changeStream.startAtOperationTime' is the wrong type, expected type 'timestamp'",
      );
    }
    return { kind: 'atOperationTime', ts: startAtOperationTime };
  }
  if (token === undefined) return { kind: 'now' };
  if (resumeAfter !== undefined && token.kind === 'invalidate') {
    throw new CommandError(
      ErrorCodes.InvalidResumeToken,
      "Attempting to resume a change stream using 'resumeAfter' is not allowed from an invalidate notification.",
    );
  }
  return resumeAfter !== undefined ? { kind: 'resumeAfter', token } : { kind: 'startAfter', token };
}
