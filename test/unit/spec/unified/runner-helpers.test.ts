// Pure helpers of the unified-format runner (test/spec/unified): transaction state names and the
// one tolerated driver difference in commit/abort write concerns.
import { transactionStateMatches } from '../../../spec/unified/operations';
import { withoutDriverCommitWtimeout } from '../../../spec/unified/runner';

describe('unified runner helpers', () => {
  it("maps the format's transaction states onto the driver's", () => {
    expect(transactionStateMatches('none', 'NO_TRANSACTION')).toBe(true);
    expect(transactionStateMatches('starting', 'STARTING_TRANSACTION')).toBe(true);
    expect(transactionStateMatches('in_progress', 'TRANSACTION_IN_PROGRESS')).toBe(true);
    expect(transactionStateMatches('committed', 'TRANSACTION_COMMITTED_EMPTY')).toBe(true);
    expect(transactionStateMatches('aborted', 'TRANSACTION_ABORTED')).toBe(true);
    expect(transactionStateMatches('committed', 'TRANSACTION_ABORTED')).toBe(false);
    expect(() => transactionStateMatches('bogus', 'NO_TRANSACTION')).toThrow(/unknown transaction state/);
  });

  it("drops the driver's default wtimeout from commit/abort only when the test expects none", () => {
    const observed = {
      type: 'commandStartedEvent' as const,
      commandName: 'commitTransaction',
      databaseName: 'admin',
      command: { commitTransaction: 1, writeConcern: { w: 'majority', wtimeout: 10000 } },
    };
    expect(withoutDriverCommitWtimeout({ writeConcern: { w: 'majority' } }, observed)).toEqual({
      commitTransaction: 1,
      writeConcern: { w: 'majority' },
    });
    // Expected explicitly (a retried commit): kept.
    expect(withoutDriverCommitWtimeout({ writeConcern: { w: 'majority', wtimeout: 10000 } }, observed)).toBe(
      observed.command,
    );
    // Another wtimeout, or another command: kept.
    const other = { ...observed, command: { commitTransaction: 1, writeConcern: { w: 1, wtimeout: 5 } } };
    expect(withoutDriverCommitWtimeout({ writeConcern: { w: 1 } }, other)).toBe(other.command);
    const insert = { ...observed, commandName: 'insert' };
    expect(withoutDriverCommitWtimeout({ writeConcern: { w: 'majority' } }, insert)).toBe(insert.command);
  });
});
