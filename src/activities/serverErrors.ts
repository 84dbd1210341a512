// The server errors the activities act on, by name (modelled on the Node driver's src/error.ts).
// Every other activity module asks these predicates instead of comparing codes itself.
import { MongoBulkWriteError, MongoServerError, type Document } from 'mongodb';

/** Server error codes (src/mongo/base/error_codes.yml in the server's source). */
export const SERVER_ERROR_CODES = Object.freeze({
  Unauthorized: 13,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  NamespaceExists: 48,
  ChangeStreamFatalError: 280,
  ChangeStreamHistoryLost: 286,
  UserWritesBlocked: 371,
  DuplicateKey: 11000,
} as const);

/**
 * A server error's code as a number. Replies read with EXACT_TYPES keep the code as an Int32, so
 * a plain `===` against a number or a `typeof code === 'number'` check would miss it.
 */
export function serverErrorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === undefined || code === null) return undefined;
  const value = Number(typeof code === 'object' ? (code as { valueOf(): unknown }).valueOf() : code);
  return Number.isFinite(value) ? value : undefined;
}

/** One write error of a bulk write as the server reported it, its code always a number. */
export class ServerWriteError {
  constructor(
    /** Position of the failed operation in the bulk write. */
    readonly index: number,
    /** The server's code; NaN when the reply carried none (matches no predicate). */
    readonly code: number,
    readonly errmsg: string | undefined,
  ) {}
}

/**
 * The write errors of a bulk write error: always an array (the driver gives one error or several),
 * sorted by the failed operation's index, each with a numeric code.
 */
export function writeErrorsOf(error: MongoBulkWriteError): ServerWriteError[] {
  const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
  return writeErrors
    .filter((writeError) => writeError !== undefined && writeError !== null)
    .map(
      (writeError) =>
        new ServerWriteError(
          Number(writeError.index),
          serverErrorCode(writeError) ?? Number.NaN,
          writeError.errmsg,
        ),
    )
    .sort((a, b) => a.index - b.index);
}

/** The write errors in a write command's reply (ok: 1 with `writeErrors`), sorted by index. */
export function writeErrorsOfReply(reply: Document): ServerWriteError[] {
  const writeErrors: unknown[] = Array.isArray(reply.writeErrors) ? reply.writeErrors : [];
  return writeErrors
    .map((writeError) => {
      const { index, errmsg } = writeError as { index?: unknown; errmsg?: string };
      return new ServerWriteError(Number(index), serverErrorCode(writeError) ?? Number.NaN, errmsg);
    })
    .sort((a, b) => a.index - b.index);
}

/** The code of an error the server reported (a command's error or one write error), else undefined. */
function reportedCode(error: unknown): number | undefined {
  if (error instanceof ServerWriteError) return error.code;
  if (error instanceof MongoServerError) return serverErrorCode(error);
  return undefined;
}

/** The collection (or database) does not exist. */
export function isNamespaceNotFound(error: unknown): boolean {
  return reportedCode(error) === SERVER_ERROR_CODES.NamespaceNotFound;
}

/** The index to drop or modify does not exist. */
export function isIndexNotFound(error: unknown): boolean {
  return reportedCode(error) === SERVER_ERROR_CODES.IndexNotFound;
}

/** A collection or view of that name already exists. */
export function isNamespaceExists(error: unknown): boolean {
  return reportedCode(error) === SERVER_ERROR_CODES.NamespaceExists;
}

/** A user write refused because user write blocking is on (setUserWriteBlockMode). */
export function isUserWritesBlocked(error: unknown): boolean {
  return reportedCode(error) === SERVER_ERROR_CODES.UserWritesBlocked;
}

/** A write violated a unique index (`_id` or another). */
export function isDuplicateKey(error: unknown): boolean {
  return reportedCode(error) === SERVER_ERROR_CODES.DuplicateKey;
}

/**
 * The change stream's resume point is no longer in the source's history: ChangeStreamHistoryLost,
 * or ChangeStreamFatalError, which servers raise when the resume token cannot be found.
 */
export function isChangeStreamHistoryLost(error: unknown): boolean {
  const code = reportedCode(error);
  return (
    code === SERVER_ERROR_CODES.ChangeStreamHistoryLost || code === SERVER_ERROR_CODES.ChangeStreamFatalError
  );
}

/** The user lacks a privilege the command needs. */
export function isUnauthorized(error: unknown): boolean {
  return error instanceof MongoServerError && serverErrorCode(error) === SERVER_ERROR_CODES.Unauthorized;
}
