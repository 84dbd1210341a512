import { Int32 } from 'bson';
import { MongoBulkWriteError, MongoServerError, type BulkWriteResult, type WriteError } from 'mongodb';
import {
  isChangeStreamHistoryLost,
  isDuplicateKey,
  isIndexNotFound,
  isNamespaceExists,
  isNamespaceNotFound,
  SERVER_ERROR_CODES,
  serverErrorCode,
  ServerWriteError,
  writeErrorsOf,
} from '../../../src/activities/serverErrors';

function serverError(code: unknown): MongoServerError {
  return new MongoServerError({ message: `error ${String(code)}`, code, errmsg: 'failed' });
}

/** A bulk write error as the driver builds it from a reply's write errors. */
function bulkWriteError(writeErrors: { index: number; code: unknown; errmsg?: string }[]) {
  return new MongoBulkWriteError(
    { message: 'bulk write failed', code: 11000, writeErrors: writeErrors as unknown as WriteError[] },
    {} as BulkWriteResult,
  );
}

describe('serverErrorCode', () => {
  it('reads codes kept as Int32 by exact-type reads, and plain numbers', () => {
    expect(serverErrorCode({ code: new Int32(286) })).toBe(286);
    expect(serverErrorCode({ code: 11000 })).toBe(11000);
    expect(serverErrorCode({})).toBeUndefined();
    expect(serverErrorCode(null)).toBeUndefined();
  });

  it('has no number for codes that are not numbers', () => {
    expect(serverErrorCode({ code: 'ECONNRESET' })).toBeUndefined();
    expect(serverErrorCode(undefined)).toBeUndefined();
  });
});

describe('server error predicates', () => {
  it.each([
    ['NamespaceNotFound', 26, isNamespaceNotFound],
    ['IndexNotFound', 27, isIndexNotFound],
    ['NamespaceExists', 48, isNamespaceExists],
    ['DuplicateKey', 11000, isDuplicateKey],
    ['ChangeStreamHistoryLost', 286, isChangeStreamHistoryLost],
  ] as const)('names %s (%d)', (name, code, predicate) => {
    expect(SERVER_ERROR_CODES[name]).toBe(code);
    expect(predicate(serverError(code))).toBe(true);
    expect(predicate(serverError(new Int32(code)))).toBe(true);
    expect(predicate(serverError(code + 1))).toBe(false);
    expect(predicate(serverError(undefined))).toBe(false);
  });

  it('treats ChangeStreamFatalError as history loss too (the resume token is not in the history)', () => {
    expect(SERVER_ERROR_CODES.ChangeStreamFatalError).toBe(280);
    expect(isChangeStreamHistoryLost(serverError(280))).toBe(true);
    expect(isChangeStreamHistoryLost(serverError(new Int32(280)))).toBe(true);
    expect(isChangeStreamHistoryLost(serverError(26))).toBe(false);
  });

  it('only believes errors the server reported', () => {
    const lookalike = Object.assign(new Error('not from a server'), { code: 26 });
    expect(isNamespaceNotFound(lookalike)).toBe(false);
    expect(isNamespaceNotFound({ code: 26 })).toBe(false);
    expect(isNamespaceNotFound(null)).toBe(false);
    expect(isDuplicateKey(new ServerWriteError(0, 11000, 'E11000'))).toBe(true);
  });
});

describe('writeErrorsOf', () => {
  it('always gives an array sorted by index, each code a number', () => {
    const error = bulkWriteError([
      { index: 4, code: new Int32(11000), errmsg: 'E11000 dup' },
      { index: 1, code: 121, errmsg: 'validation' },
      { index: 2, code: 11000 },
    ]);
    const writeErrors = writeErrorsOf(error);
    expect(writeErrors.map((e) => [e.index, e.code])).toEqual([
      [1, 121],
      [2, 11000],
      [4, 11000],
    ]);
    expect(writeErrors[0].errmsg).toBe('validation');
    expect(writeErrors.map(isDuplicateKey)).toEqual([false, true, true]);
  });

  it('wraps a single write error in an array', () => {
    const error = bulkWriteError([]);
    error.writeErrors = { index: 3, code: 11000, errmsg: 'dup' } as unknown as WriteError;
    expect(writeErrorsOf(error)).toEqual([new ServerWriteError(3, 11000, 'dup')]);
  });

  it('gives no write errors when the bulk write failed otherwise, and NaN for a missing code', () => {
    expect(writeErrorsOf(bulkWriteError([]))).toEqual([]);
    const [withoutCode] = writeErrorsOf(bulkWriteError([{ index: 0, code: undefined }]));
    expect(withoutCode.code).toBeNaN();
    expect(isDuplicateKey(withoutCode)).toBe(false);
  });
});
