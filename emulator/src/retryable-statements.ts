// Statement-level retryable writes, as mongod keeps them: a retryable write (lsid + txnNumber,
// outside a transaction) is executed statement by statement, each executed statement's result is
// remembered for the session's txnNumber, and a retry runs only the statements not yet executed
// (mongod's `checkStatementExecuted`). The engine takes this path when the
// `onPrimaryTransactionalWrite` fail point is on, or when an earlier attempt left statements
// behind; otherwise a whole command's reply is remembered.
import { type Document, Int32 } from 'bson';
import { codeNameOf } from './errors';

/** The statements array of each multi-statement write command. */
const STATEMENT_FIELDS: Record<string, string> = {
  insert: 'documents',
  update: 'updates',
  delete: 'deletes',
};

/** One command per statement (a command without a statements array is one statement). */
export function splitStatements(commandName: string, command: Document): Document[] {
  const field = STATEMENT_FIELDS[commandName];
  const statements = field ? (command[field] as unknown) : undefined;
  if (!field || !Array.isArray(statements)) return [command];
  return statements.map((statement: unknown) => ({ ...command, [field]: [statement] }));
}

/** Whether a statement's reply is a failure (command error or write error). */
export function statementFailed(reply: Document): boolean {
  return reply.ok !== 1 || (Array.isArray(reply.writeErrors) && reply.writeErrors.length > 0);
}

/** The reply of one statement failing with `code` before it was committed (nothing applied). */
export function failedStatementReply(commandName: string, code: number, errmsg: string): Document {
  if (STATEMENT_FIELDS[commandName] === undefined) return { ok: 0, errmsg, code, codeName: codeNameOf(code) };
  const reply: Document = { n: 0 };
  if (commandName === 'update') reply.nModified = 0;
  reply.writeErrors = [{ index: new Int32(0), code, codeName: codeNameOf(code), errmsg }];
  reply.ok = 1;
  return reply;
}

function num(value: unknown): number {
  return typeof value === 'number'
    ? value
    : Number((value as { valueOf(): unknown } | undefined)?.valueOf() ?? 0);
}

/** Re-indexes a single-statement entry (write error, upserted) to its place in the command. */
function reindexed(entries: unknown, index: number): Document[] {
  return ((entries as Document[] | undefined) ?? []).map((entry) => ({ ...entry, index: new Int32(index) }));
}

/**
 * The command's reply from its statements' replies (in statement order): counts summed, write
 * errors and upserts at their statement's index. A command error of a statement is the reply.
 */
export function mergeStatementReplies(
  commandName: string,
  parts: Array<{ index: number; reply: Document }>,
): Document {
  if (STATEMENT_FIELDS[commandName] === undefined || parts.length === 0) return parts[0]?.reply ?? { ok: 1 };
  const commandError = parts.find((part) => part.reply.ok !== 1);
  if (commandError) return commandError.reply;
  const reply: Document = { n: 0 };
  if (commandName === 'update') reply.nModified = 0;
  const upserted: Document[] = [];
  const writeErrors: Document[] = [];
  let writeConcernError: Document | undefined;
  for (const { index, reply: part } of parts) {
    reply.n = num(reply.n) + num(part.n);
    if (commandName === 'update') reply.nModified = num(reply.nModified) + num(part.nModified);
    upserted.push(...reindexed(part.upserted, index));
    writeErrors.push(...reindexed(part.writeErrors, index));
    if (part.writeConcernError) writeConcernError = part.writeConcernError as Document;
  }
  if (upserted.length > 0) reply.upserted = upserted;
  if (writeErrors.length > 0) reply.writeErrors = writeErrors;
  if (writeConcernError) reply.writeConcernError = writeConcernError;
  reply.ok = 1;
  return reply;
}
