// What the status command shows of a /progress answer: a summary line, one progress entry per
// namespace during the copy, the verifier's progress and the warnings. Pure: the terminal view
// draws these as bars, the plain view prints them as lines.
export interface ProgressEntry {
  label: string;
  value: number;
  total: number;
  /** How the amounts read, e.g. "12.0/40.0 MB". */
  detail: string;
}

export interface StatusView {
  summary: string;
  entries: ProgressEntry[];
  warnings: string[];
}

type Progress = Record<string, any>;

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)}`;
}

function seconds(value: unknown): string | null {
  return typeof value === 'number' && Number.isFinite(value) ? `${Math.round(value)} s` : null;
}

export function statusView(progress: Progress): StatusView {
  const parts = [`state ${progress.state}`];
  if (progress.info) parts.push(String(progress.info));
  if (progress.ceaStage) parts.push(String(progress.ceaStage));
  const lag = seconds(progress.lagTimeSeconds);
  if (lag !== null) parts.push(`lag ${lag}`);
  const copy = progress.collectionCopy as Progress | null;
  const copyEta = seconds(copy?.estimatedSecondsRemaining);
  if (copyEta !== null && copy && copy.estimatedCopiedBytes < copy.estimatedTotalBytes)
    parts.push(`copy ETA ${copyEta}`);
  const catchUp = seconds(progress.estimatedSecondsToCEACatchup);
  if (catchUp !== null) parts.push(`catch-up ETA ${catchUp}`);
  if (progress.canCommit) parts.push('can commit');
  if (progress.estimatedOplogTimeRemaining) parts.push(`oplog holds ${progress.estimatedOplogTimeRemaining}`);

  const entries: ProgressEntry[] = [];
  const copying =
    copy && (copy.estimatedCopiedBytes < copy.estimatedTotalBytes || progress.info === 'collection copy');
  if (copy && copying) {
    for (const ns of (copy.namespaces ?? []) as Progress[]) {
      entries.push({
        label: ns.namespace,
        value: ns.estimatedCopiedBytes,
        total: Math.max(1, ns.estimatedTotalBytes),
        detail: `${megabytes(ns.estimatedCopiedBytes)}/${megabytes(ns.estimatedTotalBytes)} MB, ${ns.copiedDocuments} docs`,
      });
    }
  }
  const verification = progress.verification as Progress | null;
  for (const side of ['source', 'destination'] as const) {
    const v = verification?.[side] as Progress | undefined;
    if (!v || v.phase === 'not started') continue;
    const total = Math.max(1, Number(v.estimatedDocumentCount ?? 0), Number(v.hashedDocumentCount ?? 0));
    entries.push({
      label: `verifier ${side} (${v.phase})`,
      value: Number(v.hashedDocumentCount ?? 0),
      total,
      detail: `${v.hashedDocumentCount}/${v.estimatedDocumentCount} docs hashed`,
    });
  }
  return { summary: parts.join(' · '), entries, warnings: (progress.warnings ?? []) as string[] };
}

/** The view as plain lines (no terminal codes), for logs and pipes. */
export function plainLines(view: StatusView): string[] {
  const percent = (entry: ProgressEntry) => Math.floor((100 * entry.value) / entry.total);
  return [
    view.summary,
    ...view.entries.map((entry) => `  ${entry.label}: ${percent(entry)}% (${entry.detail})`),
    ...view.warnings.map((warning) => `  warning: ${warning}`),
  ];
}
