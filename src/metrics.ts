// The service's Prometheus metrics (prom-client), served at GET /metrics in the text format.
// The sync's own figures (state, lag, copy, events, verifier) are read from its published progress
// at each scrape, so they are the sync's, whichever worker did the work; durations of activities
// and of write batches are this process's own observations.
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { SYNC_STATUSES, type WorkflowProgress } from './workflows/messages';

const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'mongosync_' });

/** Activities this process ran, by type and outcome. */
export const activityDuration = new Histogram({
  name: 'mongosync_activity_duration_seconds',
  help: 'Duration of the sync activities this process ran',
  labelNames: ['activity', 'outcome'] as const,
  buckets: [0.01, 0.05, 0.1, 0.5, 1, 3, 10, 30, 120, 600],
  registers: [registry],
});

/** One write of many documents: a copy's insert batch, an apply lane's bulk write. */
export const writeBatchDuration = new Histogram({
  name: 'mongosync_write_batch_duration_seconds',
  help: 'Duration of the destination writes of copy batches and change event batches',
  labelNames: ['kind'] as const,
  buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
  registers: [registry],
});

/** Times `work` into the write batch histogram. */
export async function timedWriteBatch<T>(kind: 'copy' | 'apply', work: () => Promise<T>): Promise<T> {
  const end = writeBatchDuration.startTimer({ kind });
  try {
    return await work();
  } finally {
    end();
  }
}

let latest: WorkflowProgress | null = null;

function gauge(name: string, help: string, labelNames: string[], collect: (g: Gauge) => void): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      if (latest) collect(this);
    },
  });
}

gauge('mongosync_state', 'The sync state: 1 for the current one', ['state'], (g) => {
  for (const state of SYNC_STATUSES) g.set({ state }, latest!.state === state ? 1 : 0);
});
gauge('mongosync_lag_seconds', 'Change event application lag', ['kind'], (g) => {
  const lag = latest!.lag;
  if (!lag) return;
  g.set({ kind: 'overall' }, lag.overallLagSeconds);
  g.set({ kind: 'crud' }, lag.crudLagSeconds);
  g.set({ kind: 'ddl' }, lag.ddlLagSeconds);
});
gauge('mongosync_events_applied', 'Change events applied by the sync, by kind', ['kind'], (g) => {
  const byKind = latest!.eventsAppliedByKind;
  if (byKind) for (const [kind, count] of Object.entries(byKind)) g.set({ kind }, count);
});
gauge('mongosync_copied_bytes', 'Bytes copied, per namespace', ['namespace'], (g) => {
  for (const ns of latest!.collectionCopy?.namespaces ?? [])
    g.set({ namespace: ns.namespace }, ns.estimatedCopiedBytes);
});
gauge('mongosync_copy_total_bytes', 'Estimated bytes to copy, per namespace', ['namespace'], (g) => {
  for (const ns of latest!.collectionCopy?.namespaces ?? [])
    g.set({ namespace: ns.namespace }, ns.estimatedTotalBytes);
});
gauge('mongosync_copied_documents', 'Documents copied, per namespace', ['namespace'], (g) => {
  for (const ns of latest!.collectionCopy?.namespaces ?? [])
    g.set({ namespace: ns.namespace }, ns.copiedDocuments);
});
gauge('mongosync_verifier_hashed_documents', 'Documents the verifier hashed, per side', ['side'], (g) => {
  const verification = latest!.verification;
  if (!verification) return;
  g.set({ side: 'source' }, verification.source.hashedDocumentCount ?? 0);
  g.set({ side: 'destination' }, verification.destination.hashedDocumentCount ?? 0);
});
gauge('mongosync_verifier_mismatches', 'Mismatches the verifier confirmed and repaired', ['outcome'], (g) => {
  const verification = latest!.verification;
  if (!verification) return;
  g.set({ outcome: 'found' }, verification.mismatchesFound);
  g.set({ outcome: 'repaired' }, verification.mismatchesRepaired);
});

async function readProgress(progress: () => Promise<WorkflowProgress>): Promise<void> {
  try {
    latest = await progress();
  } catch {
    // Temporal unreachable: this process's own metrics still answer; the sync's are left out.
    latest = null;
  }
}

/** The metrics in Prometheus' text format, with the sync's figures from `progress`. */
export async function renderMetrics(
  progress: () => Promise<WorkflowProgress>,
): Promise<{ contentType: string; body: string }> {
  await readProgress(progress);
  return { contentType: registry.contentType, body: await registry.metrics() };
}

/** One sample: a metric's labels and value (histograms: each bucket, `_sum` and `_count`). */
export interface MetricSample {
  labels: Record<string, string | number>;
  value: number;
  /** A histogram's series (`…_bucket`, `…_sum`, `…_count`); absent for gauges and counters. */
  series?: string;
}

/** The same metrics as JSON, by name, for the metrics log file. */
export async function metricsSnapshot(
  progress: () => Promise<WorkflowProgress>,
): Promise<Record<string, MetricSample[]>> {
  await readProgress(progress);
  const snapshot: Record<string, MetricSample[]> = {};
  for (const metric of await registry.getMetricsAsJSON()) {
    snapshot[metric.name] = metric.values.map((v) => {
      const sample: MetricSample = { labels: { ...v.labels } as MetricSample['labels'], value: v.value };
      const series = (v as { metricName?: string }).metricName;
      if (series && series !== metric.name) sample.series = series;
      return sample;
    });
  }
  return snapshot;
}
