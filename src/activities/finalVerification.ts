// The commit's verification, after the drain and while the source is blocked: every change since
// the last pass becomes a suspect, every suspect is settled (repaired where it differs), and the
// metadata is compared. A mismatch that persists after its repair, or metadata that cannot be
// repaired, fails the step with its namespace and `_id`: both clusters stay blocked, nothing is lost.
import { existsSync } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import type { ClusterClients } from './clusters';
import type { FinalVerificationInput, FinalVerificationResult, StreamPosition } from './contract';
import { activityContext } from './context';
import { recheckSuspects } from './verifyDocuments';
import { verifyMetadata } from './verifyMetadata';
import { collectChanges } from './verifyStreams';
import { VerifierStore } from './verifierStore';

/**
 * TEST-ONLY HOOK: while the file this variable names exists, the final verification waits before it
 * starts (heartbeating), so a test can change the destination between the drain and the unblock.
 */
export const TEST_HOLD_FINAL_VERIFICATION_ENV = 'MONGOSYNC_TEST_HOLD_BEFORE_FINAL_VERIFICATION';

async function waitForTestHold(): Promise<void> {
  const path = process.env[TEST_HOLD_FINAL_VERIFICATION_ENV];
  if (!path) return;
  const context = activityContext();
  while (existsSync(path)) {
    context.heartbeat({ heldByTestHook: path });
    context.throwIfCancelled();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function finalVerification(
  clusters: ClusterClients,
  input: FinalVerificationInput,
): Promise<FinalVerificationResult> {
  await waitForTestHold();
  const { direction, options } = input;
  let source: StreamPosition = input.source;
  let destination: StreamPosition = input.destination;
  // Until both streams are read up to now: the source is blocked, so this ends.
  for (;;) {
    const collected = await collectChanges(clusters, {
      direction,
      options,
      source,
      destination,
      maxDurationMs: 10_000,
    });
    source = collected.source;
    destination = collected.destination;
    activityContext().heartbeat({ source, destination });
    if (collected.sourceEvents === 0 && collected.destinationEvents === 0) break;
  }
  const rechecked = await recheckSuspects(clusters, { direction, appliedThrough: null, final: true });
  const metadata = await verifyMetadata(clusters, { direction, options });
  const store = new VerifierStore(clusters.get(direction.destination));
  const persisting = await store.persisting(20);
  if (persisting.length > 0 || metadata.blockingCount > 0) {
    const documents = persisting
      .filter((record) => record.kind !== 'metadata')
      .map((record) => `${record.ns} _id ${record.id} (${record.kind})`);
    const described = [...documents, ...metadata.blocking].join('; ');
    throw ApplicationFailure.retryable(
      `verification found differences that persist after repair: ${described}. Both clusters stay ` +
        'write-blocked; see GET /api/v1/verification. The commit retries the verification by itself.',
      'VerificationFailed',
    );
  }
  const counts = await store.counts();
  return { ...counts, open: rechecked.open, source, destination };
}
