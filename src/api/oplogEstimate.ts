// estimatedOplogTimeRemaining (mongosync 1.19): how long the source's oplog still holds the point
// the sync resumes from, at the rate the oplog is written; read live from the source, cached.
import { formatDuration, oplogSecondsRemaining, type ClusterName, type OplogWindow } from '../domain';
import type { WorkflowProgress } from '../workflows/messages';

const CACHE_MS = 15_000;

/**
 * The source's oplog window, read at most once per `ttlMs` per cluster (every /progress asks).
 * It never holds a /progress answer back: it answers with what it last read (null at first) and
 * reads again in the background, so a slow or unreachable source only makes the estimate late.
 */
export class OplogWindowCache {
  private readonly entries = new Map<
    ClusterName,
    { readAt: number; window: OplogWindow | null; reading: Promise<void> | null }
  >();

  constructor(
    private readonly read: (cluster: ClusterName) => Promise<OplogWindow | null>,
    private readonly ttlMs = CACHE_MS,
  ) {}

  get(cluster: ClusterName, now = Date.now()): OplogWindow | null {
    let entry = this.entries.get(cluster);
    if (!entry) {
      entry = { readAt: Number.NEGATIVE_INFINITY, window: null, reading: null };
      this.entries.set(cluster, entry);
    }
    if (entry.reading === null && now - entry.readAt >= this.ttlMs) {
      const current = entry;
      current.readAt = now;
      current.reading = this.read(cluster)
        .then(
          (window) => void (current.window = window),
          () => void (current.window = null),
        )
        .finally(() => (current.reading = null));
    }
    return entry.window;
  }

  /** Waits for the reads under way (tests). */
  async settled(): Promise<void> {
    await Promise.all([...this.entries.values()].map((entry) => entry.reading));
  }
}

export interface OplogEstimate {
  estimatedOplogTimeRemaining: string | null;
  warning: string | null;
}

/** The estimate for a sync's progress, and a warning when the copy may outlast the window. */
export function oplogEstimate(progress: WorkflowProgress, window: OplogWindow | null): OplogEstimate {
  const resumeAt = progress.resumePoint;
  if (!resumeAt || !window) return { estimatedOplogTimeRemaining: null, warning: null };
  const remaining = oplogSecondsRemaining(window, resumeAt);
  if (remaining === null) return { estimatedOplogTimeRemaining: null, warning: null };
  const copy = progress.collectionCopy;
  const copyLeft =
    copy && copy.estimatedCopiedBytes < copy.estimatedTotalBytes
      ? (copy.estimatedSecondsRemaining ?? null)
      : null;
  const warning =
    copyLeft !== null && remaining < 2 * copyLeft
      ? `the source's oplog holds the sync's resume point for about ${formatDuration(remaining)} more, ` +
        `less than twice the copy's remaining ${formatDuration(copyLeft)}: enlarge the source's oplog ` +
        '(replSetResizeOplog) or the sync may lose its change stream history and have to start over'
      : null;
  return { estimatedOplogTimeRemaining: formatDuration(remaining), warning };
}
