import { EJSON } from 'bson';
import {
  Timestamp,
  type ChangeStreamDocument,
  type ChangeStreamOptions,
  type Document,
  type MongoClient,
} from 'mongodb';
import { ApplicationFailure } from '@temporalio/common';
import type { ClusterClients } from './clusters';
import type { ApplyChangesInput, ApplyChangesResult, OperationTime } from './contract';
import { EXACT_TYPES } from './bsonOptions';
import {
  compareOperationTimes,
  isCrudEvent,
  isDdlEvent,
  resumeTokenTime,
  toOperationTime,
} from './changeEvents';
import { activityContext } from './context';
import { applyDdlEvent, type DdlContext } from './ddl';
import { HotDocuments } from './hotDocuments';
import { LaneApplier } from './laneApplier';
import { compileNamespaceFilter } from './namespaces';
import { currentOperationTime } from './operationTime';
import { isChangeStreamHistoryLost } from './serverErrors';

const LANES = 8;
const FLUSH_THRESHOLD = 2000;
/** An event waits at most this long for others to share its write while no write runs (lag). */
const FLUSH_AFTER_MS = 20;
/**
 * How long an idle stream's getMore waits for events. A pause or commit cancels the batch, and the
 * activity sees it only once the getMore in flight has returned: short, so a commit starts at once.
 */
const MAX_AWAIT_MS = 100;
/**
 * A drain (commit, source blocked) returns once the stream's high-water mark passes the commit
 * point: an empty getMore must answer at once with that mark, not after the idle wait above.
 */
const DRAIN_AWAIT_MS = 25;

/** Heartbeat details of an apply batch: the checkpoint a retry resumes from. */
interface ApplyProgress {
  resumeToken: string;
}

function laterOf(a: OperationTime | null, b: OperationTime | null): OperationTime | null {
  if (!a) return b;
  if (!b) return a;
  return compareOperationTimes(a, b) >= 0 ? a : b;
}

function streamOptions(input: ApplyChangesInput, resumeToken: string | null): ChangeStreamOptions {
  const options: ChangeStreamOptions = {
    ...EXACT_TYPES,
    showExpandedEvents: true,
    maxAwaitTimeMS: input.stopAfterOperationTime ? DRAIN_AWAIT_MS : MAX_AWAIT_MS,
    batchSize: 1000,
  };
  if (resumeToken !== null) options.startAfter = EJSON.parse(resumeToken, { relaxed: false }) as Document;
  else if (input.startAtOperationTime) {
    options.startAtOperationTime = new Timestamp({
      t: input.startAtOperationTime.t,
      i: input.startAtOperationTime.i,
    });
  }
  return options;
}

/** History loss is final: retrying cannot bring the resume point back, so it fails the sync at once. */
function asHistoryLost(error: unknown): unknown {
  if (isChangeStreamHistoryLost(error)) {
    return ApplicationFailure.nonRetryable(
      `the source's change stream history no longer reaches the sync's resume point: ${(error as Error).message}`,
      'ChangeStreamHistoryLost',
    );
  }
  return error;
}

function isApplyProgress(value: unknown): value is ApplyProgress {
  return (
    typeof value === 'object' && value !== null && typeof (value as ApplyProgress).resumeToken === 'string'
  );
}

/**
 * One bounded batch of change event application: reads the source's cluster-wide change stream
 * from the checkpoint, applies CRUD on lanes with DDL as barriers, and returns the new checkpoint.
 */
export async function applyChanges(
  clusters: ClusterClients,
  input: ApplyChangesInput,
  hotDocuments = new HotDocuments(),
): Promise<ApplyChangesResult> {
  const context = activityContext();
  const source: MongoClient = clusters.get(input.direction.source);
  const destination: MongoClient = clusters.get(input.direction.destination);
  const namespaces = compileNamespaceFilter(input.options);
  const ddlContext: DdlContext = {
    source,
    destination,
    namespaces,
    buildIndexes: input.options?.buildIndexes ?? 'afterDataCopy',
  };
  const applier = new LaneApplier(source, destination, LANES, FLUSH_THRESHOLD, FLUSH_AFTER_MS, hotDocuments);
  const startToken = isApplyProgress(context.heartbeatDetails)
    ? context.heartbeatDetails.resumeToken
    : input.resumeToken;

  const stream = source.watch<Document, ChangeStreamDocument>([], streamOptions(input, startToken));
  const closeOnCancel = () => void stream.close().catch(() => undefined);
  context.cancellationSignal?.addEventListener('abort', closeOnCancel);

  const deadline = Date.now() + input.maxDurationMs;
  /** The last token heartbeated: every event before it is applied. */
  let checkpoint: string | null = startToken;
  let eventsRead = 0;
  let crudEventsApplied = 0;
  let ddlEventsApplied = 0;
  let highWater: OperationTime | null = null;
  let lastCrudAt: OperationTime | null = null;
  let lastDdlAt: OperationTime | null = null;
  let reachedStopTime = false;
  const stopAt = input.stopAfterOperationTime;
  try {
    while (Date.now() < deadline && eventsRead < input.maxEvents) {
      context.throwIfCancelled();
      const event = await stream.tryNext();
      if (event) {
        eventsRead += 1;
        // A busy stream heartbeats too (the checkpoint unchanged): a cancellation (pause, commit)
        // arrives with a heartbeat's answer. The SDK throttles what reaches the server.
        if (eventsRead % 100 === 0) context.heartbeat(checkpoint ? { resumeToken: checkpoint } : undefined);
        if (event.clusterTime) highWater = laterOf(highWater, toOperationTime(event.clusterTime));
        if (isCrudEvent(event)) {
          if (namespaces.includes(event.ns.db, event.ns.coll)) {
            await applier.add(event);
            crudEventsApplied += 1;
            if (event.clusterTime) lastCrudAt = toOperationTime(event.clusterTime);
          }
        } else if (isDdlEvent(event)) {
          await applier.flush();
          await applyDdlEvent(ddlContext, event);
          ddlEventsApplied += 1;
          if (event.clusterTime) lastDdlAt = toOperationTime(event.clusterTime);
        }
      } else {
        // Idle: everything up to the stream's high-water mark has been seen; checkpoint it.
        await applier.flush();
        if (stream.resumeToken) {
          checkpoint = EJSON.stringify(stream.resumeToken, { relaxed: false });
          context.heartbeat({ resumeToken: checkpoint });
        }
      }
      highWater = laterOf(highWater, resumeTokenTime(stream.resumeToken));
      if (stopAt && highWater && compareOperationTimes(highWater, stopAt) >= 0) {
        reachedStopTime = true;
        break;
      }
      // Caught up after applying something: return now, so the checkpoint, counters and lag the
      // workflow shows are current instead of waiting out the batch on an idle stream.
      if (!event && eventsRead > 0) break;
    }
    await applier.flush();
  } catch (error) {
    context.throwIfCancelled();
    throw asHistoryLost(error);
  } finally {
    context.cancellationSignal?.removeEventListener('abort', closeOnCancel);
    // Never return (or be retried) while writes of this attempt are still running.
    await applier.settle();
    await stream.close().catch(() => undefined);
  }

  const token = stream.resumeToken ? EJSON.stringify(stream.resumeToken, { relaxed: false }) : startToken;
  if (token) context.heartbeat({ resumeToken: token });
  const sourceLatest = await currentOperationTime(source);
  const appliedThrough = highWater ?? (token ? resumeTokenTime(EJSON.parse(token)) : null);
  const lagOf = (at: OperationTime | null) => (at ? Math.max(0, sourceLatest.t - at.t) : null);
  return {
    resumeToken: token,
    appliedThrough,
    eventsApplied: crudEventsApplied + ddlEventsApplied,
    crudEventsApplied,
    ddlEventsApplied,
    sourceLatest,
    lagSeconds: appliedThrough ? Math.max(0, sourceLatest.t - appliedThrough.t) : 0,
    crudLagSeconds: lagOf(lastCrudAt),
    ddlLagSeconds: lagOf(lastDdlAt),
    reachedStopTime,
  };
}
