// estimatedOplogTimeRemaining (mongosync 1.19): how long the source's oplog still holds the point
// the sync resumes from, at the rate the oplog is written; read live from the source, cached.
import { formatDuration, oplogSecondsRemaining, type ClusterName, type OplogWindow } from '../domain';
import type { WorkflowProgress } from '../workflows/messages';

const CACHE_MS = 15_000;

/** The source's oplog window, read at most once per `ttlMs` per cluster (every /progress asks). */
export class OplogWindowCache {
  private readonly entries = new Map<ClusterName, { at: number; window: Promise<OplogWindow | null> }>();

  constructor(
    private readonly read: (cluster: ClusterName) => Promise<OplogWindow | null>,
    private readonly ttlMs = CACHE_MS,
  ) {}

  get(cluster: ClusterName, now = Date.now()): Promise<OplogWindow | null> {
    const cached = this.entries.get(cluster);
    if (cached && now - cached.at < this.ttlMs) return cached.window;
    const window = this.read(cluster).catch(() => null);
    this.entries.set(cluster, { at: now, window });
    return window;
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
