// The embedded verifier's share of the steps: partitions join its list as they are planned, it
// hashes them beside change event application (a few at a time, each remembered once done, so a
// crash never hashes one twice), reads both change streams and rechecks what the sync has applied
// past, and at commit settles everything once the source is blocked and drained. Nothing here runs
// for a sync without verification.
import type { Partition } from '../../activities/contract';
import { longCalls, shortCalls } from '../activityProxies';
import { runBounded } from '../runBounded';
import { newVerificationState, type VerificationState } from '../state';
import type { StepContext } from './context';

function enabled(context: StepContext): boolean {
  return context.options.verificationEnabled;
}

function verificationOf(context: StepContext): VerificationState {
  return (context.state.verification ??= newVerificationState());
}

/**
 * A collection's new partitions are hashed once copied, with one more check of everything outside
 * them (documents of `_id`s the plan did not see, on either cluster).
 */
export function notePlannedPartitions(context: StepContext, partitions: Partition[]): void {
  if (!enabled(context) || partitions.length === 0) return;
  const verification = verificationOf(context);
  const [first] = partitions;
  const outside: Partition = {
    id: `${first.db}.${first.coll}#outside`,
    db: first.db,
    coll: first.coll,
    lower: null,
    upper: null,
    naturalOrder: false,
    estimatedBytes: 0,
    outsideOf: partitions.map(({ lower, upper }) => ({ lower, upper })),
  };
  const toHash = first.naturalOrder ? partitions : [...partitions, outside];
  verification.partitionsToHash = [...verification.partitionsToHash, ...toHash];
  for (const { db, coll } of toHash) {
    const ns = `${db}.${coll}`;
    verification.partitionsLeft[ns] = (verification.partitionsLeft[ns] ?? 0) + 1;
  }
}

/**
 * The copy is done: destination writes from now on are read from its change stream (earlier ones
 * are the copy's, and hashing sees their result); source changes are read from the copy's start.
 */
export async function startStreams(context: StepContext): Promise<void> {
  if (!enabled(context)) return;
  const verification = verificationOf(context);
  if (verification.destinationStream !== null) return;
  const { changeEvents, copy } = context.state;
  verification.sourceStream = { token: null, startAt: changeEvents.startAt ?? copy.startTime };
  const startAt = await shortCalls.currentOperationTime({ cluster: context.direction.destination });
  verification.destinationStream = { token: null, startAt };
}

/** Hashes one partition and records it as hashed: it is never hashed again. */
async function hashPartition(
  context: StepContext,
  verification: VerificationState,
  partition: Partition,
): Promise<void> {
  const result = await longCalls.verifyPartition({
    direction: context.direction,
    partition,
    sync: context.syncRef(),
  });
  verification.partitionsToHash = verification.partitionsToHash.filter((p) => p.id !== partition.id);
  verification.hashedPartitions += 1;
  const ns = `${partition.db}.${partition.coll}`;
  verification.partitionsLeft[ns] = Math.max(0, (verification.partitionsLeft[ns] ?? 1) - 1);
  verification.documents.source += result.sourceDocuments;
  verification.documents.destination += result.destinationDocuments;
  verification.open += result.suspects;
  // Hashing progress moves partition by partition in /progress.
  context.publish();
}

/**
 * A partition just copied is hashed at once, in its copy slot, while the other partitions copy:
 * hashing overlaps the copy instead of following it. What is left (a pause cut it short, or the
 * checks outside each collection's plan) is hashed beside change event application.
 */
export async function hashAfterCopy(context: StepContext, partition: Partition): Promise<void> {
  if (!enabled(context) || context.shouldStopFanOut()) return;
  const verification = verificationOf(context);
  if (!verification.partitionsToHash.some((p) => p.id === partition.id)) return;
  await hashPartition(context, verification, partition);
}

async function hashSome(context: StepContext, verification: VerificationState): Promise<void> {
  const batch = verification.partitionsToHash.slice(0, context.state.tuning.verifyConcurrency);
  await runBounded(
    batch,
    batch.length,
    () => context.shouldStopFanOut(),
    (partition) => hashPartition(context, verification, partition),
  );
}

async function streamPass(context: StepContext, verification: VerificationState): Promise<void> {
  const { tuning } = context.state;
  if (verification.lastPassAt !== null && Date.now() - verification.lastPassAt < tuning.verifyPassMs) return;
  if (verification.destinationStream === null) return;
  const sync = context.syncRef();
  const collected = await longCalls.collectChanges({
    direction: context.direction,
    options: context.options,
    source: verification.sourceStream,
    destination: verification.destinationStream,
    maxDurationMs: tuning.applyBatchMs,
    sync,
  });
  verification.sourceStream = collected.source;
  verification.destinationStream = collected.destination;
  const rechecked = await longCalls.recheckSuspects({
    direction: context.direction,
    appliedThrough: verification.appliedThrough,
    final: false,
    maxDurationMs: tuning.applyBatchMs,
    sync,
  });
  Object.assign(verification, {
    open: rechecked.open,
    persisting: rechecked.persisting,
    mismatchesFound: rechecked.found,
    mismatchesRepaired: rechecked.repaired,
    lastPassAt: Date.now(),
  });
}

/** Once hashing is done, and then every so often: values the commit's unique step would fail on. */
async function uniqueCheck(context: StepContext, verification: VerificationState): Promise<void> {
  if (verification.partitionsToHash.length > 0) return;
  const last = verification.lastUniqueCheckAt ?? null;
  if (last !== null && Date.now() - last < context.state.tuning.uniqueCheckMs) return;
  const result = await longCalls.findUniqueConflicts({
    direction: context.direction,
    options: context.options,
    sync: context.syncRef(),
  });
  verification.uniqueConflicts = result.conflicts;
  verification.lastUniqueCheckAt = Date.now();
}

/** The verifier's work beside one batch of change event application. */
export async function verifierWork(context: StepContext): Promise<void> {
  if (!enabled(context)) return;
  const verification = verificationOf(context);
  await startStreams(context);
  if (verification.partitionsToHash.length > 0) await hashSome(context, verification);
  await streamPass(context, verification);
  await uniqueCheck(context, verification);
}

/** Records how far the sync has applied: suspects seen up to there can be rechecked. */
export function noteApplied(context: StepContext, appliedThrough: { t: number; i: number } | null): void {
  if (!enabled(context) || appliedThrough === null) return;
  verificationOf(context).appliedThrough = appliedThrough;
}

/** The commit's verification (source blocked and drained); fails the step while differences persist. */
export async function finalVerification(context: StepContext): Promise<void> {
  if (!enabled(context)) return;
  const verification = verificationOf(context);
  await startStreams(context);
  const result = await longCalls.finalVerification({
    direction: context.direction,
    options: context.options,
    source: verification.sourceStream,
    destination: verification.destinationStream!,
    sync: context.syncRef(),
  });
  Object.assign(verification, {
    sourceStream: result.source,
    destinationStream: result.destination,
    open: result.open,
    persisting: result.persisting,
    mismatchesFound: result.found,
    mismatchesRepaired: result.repaired,
    lastPassAt: Date.now(),
  });
}
