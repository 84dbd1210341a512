// The copy's progress between the workflow's own counts. The workflow counts a partition once it
// is copied; the copy activities still running say in their heartbeats how far they got. Both
// come from one describe of the workflow, so no partition is counted twice. What the API reports
// never goes down while the same copy runs: a partition that has just finished is briefly in
// neither count, until the workflow has counted it.
import type { CollectionCopyProgress, NamespaceCopyProgress, WorkflowProgress } from '../workflows/messages';

/** What a running copy activity last heartbeated. */
export interface RunningCopy {
  ns: string;
  bytesCopied: number;
  documentsCopied: number;
}

/** The running copies among a workflow's pending activities, from their decoded heartbeat details. */
export function runningCopies(
  pending: ReadonlyArray<{ activityType: string; details: unknown }>,
): RunningCopy[] {
  const copies: RunningCopy[] = [];
  for (const { activityType, details } of pending) {
    if (activityType !== 'copyPartition' || typeof details !== 'object' || details === null) continue;
    const { ns, bytesCopied, documentsCopied } = details as Partial<RunningCopy>;
    if (typeof ns !== 'string' || typeof bytesCopied !== 'number' || !(bytesCopied >= 0)) continue;
    copies.push({
      ns,
      bytesCopied,
      documentsCopied: typeof documentsCopied === 'number' ? documentsCopied : 0,
    });
  }
  return copies;
}

function withRunning(namespace: NamespaceCopyProgress, running: RunningCopy[]): NamespaceCopyProgress {
  const mine = running.filter((copy) => copy.ns === namespace.namespace);
  if (mine.length === 0 || namespace.state === 'copied') return namespace;
  const bytes = mine.reduce((sum, copy) => sum + copy.bytesCopied, 0);
  const documents = mine.reduce((sum, copy) => sum + copy.documentsCopied, 0);
  return {
    ...namespace,
    state: 'copying',
    estimatedCopiedBytes: Math.min(namespace.estimatedTotalBytes, namespace.estimatedCopiedBytes + bytes),
    copiedDocuments: namespace.copiedDocuments + documents,
  };
}

/** Seconds left at the copy's average rate so far; null until something is copied. */
export function copySecondsRemaining(copy: CollectionCopyProgress, nowMs: number): number | null {
  const startedAt = copy.startedAtMs ?? null;
  if (startedAt === null || copy.estimatedCopiedBytes <= 0) return null;
  if (copy.estimatedCopiedBytes >= copy.estimatedTotalBytes) return 0;
  const elapsedSeconds = (nowMs - startedAt) / 1000;
  if (elapsedSeconds <= 0) return null;
  const bytesPerSecond = copy.estimatedCopiedBytes / elapsedSeconds;
  return Math.ceil((copy.estimatedTotalBytes - copy.estimatedCopiedBytes) / bytesPerSecond);
}

/** The highest copied-bytes figure reported for one copy (a recopy begins at another time: a new floor). */
export class CopyProgressFloor {
  private copy: string | null = null;
  private floor = 0;

  keep(copy: string, value: number): number {
    if (copy !== this.copy) {
      this.copy = copy;
      this.floor = 0;
    }
    this.floor = Math.max(this.floor, value);
    return this.floor;
  }
}

/** The workflow's progress with the running copies' heartbeats counted in, and the copy's ETA. */
export function withRunningCopies(
  progress: WorkflowProgress,
  running: RunningCopy[],
  nowMs: number,
  floor: CopyProgressFloor | null = null,
): WorkflowProgress {
  const copy = progress.collectionCopy;
  if (!copy || copy.startedAtMs === undefined) return progress;
  const inFlight = running.reduce((sum, c) => sum + c.bytesCopied, 0);
  const counted = Math.min(copy.estimatedTotalBytes, copy.estimatedCopiedBytes + inFlight);
  const copied = floor
    ? Math.min(copy.estimatedTotalBytes, floor.keep(String(copy.startedAtMs), counted))
    : counted;
  const merged: CollectionCopyProgress = {
    ...copy,
    estimatedCopiedBytes: copied,
    namespaces: copy.namespaces?.map((namespace) => withRunning(namespace, running)),
  };
  merged.estimatedSecondsRemaining = copySecondsRemaining(merged, nowMs);
  return { ...progress, collectionCopy: merged };
}
