// The sync's domain vocabulary, shared by the workflow, the activities and the REST API: cluster
// names, a direction, operation times and the validated /start options. Types and pure helpers
// only (the workflow sandbox bundles this module).

/** Clusters are named in workflow inputs; their connection strings stay in each process's config. */
export const CLUSTER_NAMES = ['cluster0', 'cluster1'] as const;
export type ClusterName = (typeof CLUSTER_NAMES)[number];

export interface Direction {
  source: ClusterName;
  destination: ClusterName;
}

export function swapped(direction: Direction): Direction {
  return { source: direction.destination, destination: direction.source };
}

/** A BSON Timestamp as JSON: seconds (`t`) and increment (`i`). */
export interface OperationTime {
  t: number;
  i: number;
}

/** A cluster's oplog: its oldest and newest entries, and how much of its capped size it uses. */
export interface OplogWindow {
  first: OperationTime;
  last: OperationTime;
  sizeBytes: number;
  maxSizeBytes: number;
}

/**
 * Seconds until an entry at `resumeAt` leaves the oplog at the rate the window was written:
 * first the free part fills, then every entry older than `resumeAt` is overwritten. Null when the
 * window tells no rate (no time between its ends).
 */
export function oplogSecondsRemaining(window: OplogWindow, resumeAt: OperationTime): number | null {
  const span = window.last.t - window.first.t;
  if (!(span > 0) || !(window.sizeBytes > 0)) return null;
  const bytesPerSecond = window.sizeBytes / span;
  const untilFull = Math.max(0, window.maxSizeBytes - window.sizeBytes) / bytesPerSecond;
  return Math.round(untilFull + Math.max(0, resumeAt.t - window.first.t));
}

/** A duration as Go (mongosync) prints one, to the second: "2h5m0s", "3m20s", "45s". */
export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

export function compareOperationTimes(a: OperationTime, b: OperationTime): number {
  return a.t !== b.t ? a.t - b.t : a.i - b.i;
}

export type WriteBlockingMode = 'none' | 'destinationOnly' | 'sourceAndDestination';
export type BuildIndexesMode =
  'beforeDataCopy' | 'afterDataCopy' | 'never' | 'excludeHashed' | 'excludeHashedAfterCopy';

export interface RegexFilter {
  pattern: string;
  options?: string;
}

export interface NamespaceFilter {
  database?: string;
  databaseRegex?: RegexFilter;
  collections?: string[];
  collectionsRegex?: RegexFilter;
}

/** The validated options of a /start request, as the workflow keeps them. */
export interface SyncOptions {
  reversible: boolean;
  writeBlocking: WriteBlockingMode;
  buildIndexes: BuildIndexesMode;
  includeNamespaces: NamespaceFilter[];
  excludeNamespaces: NamespaceFilter[];
  verificationEnabled: boolean;
  preExistingDestinationData: boolean;
  /**
   * mongosync 1.20+: collections copied whole, in natural order (one cursor, no `_id` sort; a
   * retry starts that collection over, its writes being idempotent). Absent in syncs begun before.
   */
  copyInNaturalOrder?: NaturalOrderCollections[];
  /**
   * mongosync's `detectRandomId` (default true): a collection whose `_id`s look random and that
   * would span several partitions is copied as `copyInNaturalOrder` ones are.
   */
  detectRandomId?: boolean;
  /** Skip the check that the destination has room for the source's data and indexes. */
  skipDiskSpaceCheck?: boolean;
}

/** One entry of /start's `copyInNaturalOrder`. */
export interface NaturalOrderCollections {
  database: string;
  collections: string[];
}
