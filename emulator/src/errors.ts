// MongoDB server error codes the emulator returns, and the error type command handlers throw.
import type { Document } from 'bson';

export const ErrorCodes = {
  InternalError: 1,
  BadValue: 2,
  NoSuchKey: 4,
  FailedToParse: 9,
  Unauthorized: 13,
  TypeMismatch: 14,
  AuthenticationFailed: 18,
  IllegalOperation: 20,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  PathNotViable: 28,
  ConflictingUpdateOperators: 40,
  CursorNotFound: 43,
  NamespaceExists: 48,
  MaxTimeMSExpired: 50,
  DollarPrefixedFieldName: 52,
  InvalidIdField: 53,
  NotSingleValueField: 54,
  CommandNotFound: 59,
  ImmutableField: 66,
  CannotCreateIndex: 67,
  IndexAlreadyExists: 68,
  InvalidOptions: 72,
  SnapshotTooOld: 239,
  InvalidNamespace: 73,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  NotWritablePrimary: 10107,
  WriteConflict: 112,
  DocumentValidationFailure: 121,
  CommandNotSupportedOnView: 166,
  OptionNotSupportedOnView: 167,
  NoSuchTransaction: 251,
  ConflictingOperationInProgress: 117,
  InvalidIndexSpecificationOption: 197,
  CannotConvertIndexToUnique: 359,
  InvalidPipelineOperator: 168,
  TransactionTooOld: 225,
  TransactionCommitted: 256,
  InvalidResumeToken: 260,
  OperationNotSupportedInTransaction: 263,
  ChangeStreamFatalError: 280,
  ChangeStreamHistoryLost: 286,
  UserWritesBlocked: 371,
  Location40573: 40573,
  Location50865: 50865,
  Location40674: 40674,
  DuplicateKey: 11000,
  UnknownError: 8,
  UserNotFound: 11,
  RoleNotFound: 31,
  CappedPositionLost: 136,
  InvalidViewDefinition: 182,
  QueryPlanKilled: 175,
  Interrupted: 11601,
  NotImplemented: 238,
  APIStrictError: 323,
  Location16410: 16410,
  // Codes clients inject with fail points (named as mongod names them).
  HostUnreachable: 6,
  HostNotFound: 7,
  WriteConcernTimeout: 64,
  UnknownReplWriteConcern: 79,
  NetworkTimeout: 89,
  ShutdownInProgress: 91,
  UnsatisfiableWriteConcern: 100,
  FailedToSatisfyReadPreference: 133,
  ReadConcernMajorityNotAvailableYet: 134,
  StaleEpoch: 150,
  PrimarySteppedDown: 189,
  RetryChangeStream: 234,
  CursorKilled: 237,
  ExceededTimeLimit: 262,
  SocketException: 9001,
  InterruptedAtShutdown: 11600,
  InterruptedDueToReplStateChange: 11602,
  NotPrimaryNoSecondaryOk: 13435,
  NotPrimaryOrSecondary: 13436,
  StaleConfig: 13388,
} as const;

/** Codes of mongod's RetriableError / NetworkError / NotPrimaryError categories. */
const RETRIABLE_CODES = new Set<number>([
  6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 134,
]);

/** Whether mongod labels this error on a retryable write `RetryableWriteError`. */
export function isRetryableWriteErrorCode(code: number): boolean {
  return RETRIABLE_CODES.has(code);
}

/**
 * Codes that are transient for a transaction whatever the command: WriteConflict, LockTimeout,
 * PreparedTransactionInProgress, the snapshot errors (SnapshotTooOld, SnapshotUnavailable,
 * StaleChunkHistory), the re-targeting errors (StaleShardVersion, StaleEpoch,
 * StaleConfig), ShardInvalidatedForTargeting and StaleDbVersion.
 */
const TRANSIENT_TRANSACTION_CODES = new Set<number>([112, 24, 267, 239, 246, 283, 63, 150, 13388, 304, 249]);

/**
 * Whether mongod labels an error of a command in a transaction `TransientTransactionError`
 * (mongod's `isTransientTransactionError`): for commitTransaction/abortTransaction also
 * NoSuchTransaction without a write concern error; for other commands also NoSuchTransaction and
 * every retriable code.
 */
export function isTransientTransactionErrorCode(
  code: number,
  hasWriteConcernError: boolean,
  isCommitOrAbort: boolean,
): boolean {
  if (TRANSIENT_TRANSACTION_CODES.has(code)) return true;
  if (isCommitOrAbort) return code === ErrorCodes.NoSuchTransaction && !hasWriteConcernError;
  return RETRIABLE_CODES.has(code) || code === ErrorCodes.NoSuchTransaction;
}

/** Whether mongod labels this error on a change stream `ResumableChangeStreamError`. */
export function isResumableChangeStreamErrorCode(code: number): boolean {
  return RETRIABLE_CODES.has(code) || [133, 150, 234, 13388, 63].includes(code);
}

const codeNames = new Map<number, string>(Object.entries(ErrorCodes).map(([name, code]) => [code, name]));

export function codeNameOf(code: number): string {
  const name = codeNames.get(code);
  return name === undefined || name.startsWith('Location') ? `Location${code}` : name;
}

/** A command failure reported to the client as `{ok: 0, errmsg, code, codeName, ...extra}`. */
export class CommandError extends Error {
  readonly code: number;
  readonly codeName: string;
  readonly errorLabels: string[];
  readonly extra: Document;

  constructor(
    code: number,
    message: string,
    options: { codeName?: string; errorLabels?: string[]; extra?: Document } = {},
  ) {
    super(message);
    this.code = code;
    this.codeName = options.codeName ?? codeNameOf(code);
    this.errorLabels = options.errorLabels ?? [];
    this.extra = options.extra ?? {};
  }

  toReply(): Document {
    const reply: Document = {
      ok: 0,
      errmsg: this.message,
      code: this.code,
      codeName: this.codeName,
      ...this.extra,
    };
    if (this.errorLabels.length > 0) reply.errorLabels = this.errorLabels;
    return reply;
  }
}

export function badValue(message: string): CommandError {
  return new CommandError(ErrorCodes.BadValue, message);
}
