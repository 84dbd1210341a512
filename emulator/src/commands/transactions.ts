// commitTransaction and abortTransaction (on admin), for the transaction the envelope names.
import type { Document } from 'bson';
import { CommandError, ErrorCodes } from '../errors';
import type { CommandContext, CommandTable } from './context';

function requireTransaction(ctx: CommandContext) {
  if (!ctx.session || !ctx.transaction) {
    throw new CommandError(
      ErrorCodes.NoSuchTransaction,
      'Given transaction number does not match any in-progress transactions.',
      {
        errorLabels: ['TransientTransactionError'],
      },
    );
  }
  return { session: ctx.session, transaction: ctx.transaction };
}

function commitTransaction(ctx: CommandContext): Document {
  const { session, transaction } = requireTransaction(ctx);
  if (transaction.state === 'aborted') {
    throw new CommandError(
      ErrorCodes.NoSuchTransaction,
      `Transaction ${transaction.txnNumber} has been aborted.`,
      {
        errorLabels: ['TransientTransactionError'],
      },
    );
  }
  ctx.engine.commitTransaction(session, transaction);
  return { ok: 1 };
}

function abortTransaction(ctx: CommandContext): Document {
  const { transaction } = requireTransaction(ctx);
  if (transaction.state === 'committed') {
    throw new CommandError(
      ErrorCodes.TransactionCommitted,
      `Transaction ${transaction.txnNumber} has been committed.`,
    );
  }
  if (transaction.state === 'aborted') {
    throw new CommandError(
      ErrorCodes.NoSuchTransaction,
      `Transaction ${transaction.txnNumber} has been aborted.`,
      {
        errorLabels: ['TransientTransactionError'],
      },
    );
  }
  ctx.engine.abortTransaction(transaction);
  return { ok: 1 };
}

export const transactionCommands: CommandTable = { commitTransaction, abortTransaction };
