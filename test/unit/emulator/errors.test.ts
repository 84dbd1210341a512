import { isTransientTransactionErrorCode } from '../../../emulator/src/errors';

describe('TransientTransactionError codes (mongod isTransientTransactionError)', () => {
  it('labels WriteConflict, LockTimeout and snapshot errors for any command', () => {
    for (const code of [112, 24, 267, 246, 239]) {
      expect(isTransientTransactionErrorCode(code, false, false)).toBe(true);
      expect(isTransientTransactionErrorCode(code, false, true)).toBe(true);
    }
  });

  it('labels NoSuchTransaction on commit/abort only without a write concern error', () => {
    expect(isTransientTransactionErrorCode(251, false, true)).toBe(true);
    expect(isTransientTransactionErrorCode(251, true, true)).toBe(false);
    expect(isTransientTransactionErrorCode(251, true, false)).toBe(true);
  });

  it('labels retriable codes for statements in a transaction, not for commit/abort', () => {
    expect(isTransientTransactionErrorCode(91, false, false)).toBe(true);
    expect(isTransientTransactionErrorCode(91, false, true)).toBe(false);
    expect(isTransientTransactionErrorCode(11000, false, false)).toBe(false);
  });
});
