// Change streams over the emulator's history: `openChangeStream` serves an aggregate whose first
// stage is `$changeStream`; `computeUpdateDescription` is used by writes to describe updates.
import type { Document } from 'bson';
import type { CommandContext } from '../commands/context';
import type { CursorSource } from '../cursor';
import { CommandError, ErrorCodes } from '../errors';
import { ChangeStreamCursor, type ChangeStreamEngine } from './change-stream-cursor';
import { parseChangeStreamModes, parseStartPoint, resolveScope } from './spec';
import { UserPipeline } from './user-pipeline';

export { computeUpdateDescription } from './update-description';
export {
  encodeResumeToken,
  decodeResumeToken,
  type ResumeToken,
  type ResumeTokenData,
  type ResumeTokenKind,
} from './resume-token';
export type { ChangeStreamEngine } from './change-stream-cursor';

/**
 * Validates the `$changeStream` spec and the namespace (`scope`: collection, database, or `{}` for
 * the whole cluster) with mongod's error codes, and returns the stream's cursor source.
 */
export function openChangeStream(
  ctx: CommandContext,
  stage: Document,
  rest: Document[],
  scope: { db?: string; coll?: string },
): CursorSource {
  const engine: ChangeStreamEngine = ctx.engine;
  const serverVersion = (ctx.engine as { options?: { version?: string } }).options?.version;
  const modes = parseChangeStreamModes(stage, serverVersion);
  if (!engine.isReplicaSet) {
    throw new CommandError(40573, 'The $changeStream stage is only supported on replica sets');
  }
  if (ctx.transaction !== undefined) {
    throw new CommandError(
      ErrorCodes.OperationNotSupportedInTransaction,
      'Operation not permitted in transaction :: caused by :: $changeStream cannot run in a transaction',
    );
  }
  const streamScope = resolveScope(scope, modes.raw);
  const start = parseStartPoint(modes.raw);
  const pipeline = new UserPipeline(rest, { serverVersion });
  const spec = {
    fullDocument: modes.fullDocument,
    fullDocumentBeforeChange: modes.fullDocumentBeforeChange,
    showExpandedEvents: modes.showExpandedEvents,
    tokenVersion: modes.tokenVersion,
    start,
  };
  return new ChangeStreamCursor(engine, spec, streamScope, pipeline);
}
