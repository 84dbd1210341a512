import { Int32 } from 'bson';
import {
  failedStatementReply,
  mergeStatementReplies,
  splitStatements,
  statementFailed,
} from '../../../emulator/src/retryable-statements';

describe('retryable write statements', () => {
  it('splits insert, update and delete into one command per statement', () => {
    const command = { insert: 'c', documents: [{ _id: 1 }, { _id: 2 }], ordered: true, txnNumber: 1 };
    expect(splitStatements('insert', command)).toEqual([
      { insert: 'c', documents: [{ _id: 1 }], ordered: true, txnNumber: 1 },
      { insert: 'c', documents: [{ _id: 2 }], ordered: true, txnNumber: 1 },
    ]);
    expect(splitStatements('update', { update: 'c', updates: [{ q: {} }, { q: {} }] })).toHaveLength(2);
    expect(splitStatements('delete', { delete: 'c', deletes: [{ q: {} }] })).toHaveLength(1);
  });

  it('keeps findAndModify and bulkWrite whole', () => {
    const command = { findAndModify: 'c', query: {}, remove: true };
    expect(splitStatements('findAndModify', command)).toEqual([command]);
    expect(splitStatements('bulkWrite', { bulkWrite: 1, ops: [{}, {}] })).toHaveLength(1);
  });

  it('merges counts, upserts and write errors at their statement index', () => {
    const merged = mergeStatementReplies('update', [
      { index: 0, reply: { n: 1, nModified: 1, ok: 1 } },
      { index: 1, reply: { n: 1, nModified: 0, upserted: [{ index: new Int32(0), _id: 5 }], ok: 1 } },
      { index: 2, reply: { n: 0, nModified: 0, writeErrors: [{ index: new Int32(0), code: 11000 }], ok: 1 } },
    ]);
    expect(merged).toEqual({
      n: 2,
      nModified: 1,
      upserted: [{ index: new Int32(1), _id: 5 }],
      writeErrors: [{ index: new Int32(2), code: 11000 }],
      ok: 1,
    });
  });

  it('answers with a statement command error as it is', () => {
    const error = { ok: 0, code: 26, errmsg: 'ns not found' };
    expect(
      mergeStatementReplies('insert', [
        { index: 0, reply: { n: 1, ok: 1 } },
        { index: 1, reply: error },
      ]),
    ).toBe(error);
  });

  it('fails a statement before commit as a write error, findAndModify as a command error', () => {
    const insert = failedStatementReply('insert', 1, 'failpoint');
    expect(insert.writeErrors).toEqual([
      { index: new Int32(0), code: 1, codeName: 'InternalError', errmsg: 'failpoint' },
    ]);
    expect(statementFailed(insert)).toBe(true);
    expect(failedStatementReply('findAndModify', 1, 'failpoint')).toMatchObject({ ok: 0, code: 1 });
    expect(statementFailed({ n: 1, ok: 1 })).toBe(false);
  });
});
