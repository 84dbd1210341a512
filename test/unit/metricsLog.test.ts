// The metrics log file (--metricsLoggingFilepath, --disableMetricsLogging): a JSON line of the
// metrics per interval, with the sync's own figures; rotation with gzip keeping a few files; a
// path that cannot be written falls back to metrics/ under the working directory, as mongosync's.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createLogger } from '../../src/logger';
import { DEFAULT_METRICS_LOG, MetricsLog } from '../../src/metricsLog';
import type { MetricSample } from '../../src/metrics';
import { idleProgress } from '../../src/workflows/progress';
import type { WorkflowProgress } from '../../src/workflows/messages';

const logger = createLogger({ mongosyncID: 'test', verbosity: 'ERROR', logPath: null });
const paused = (): WorkflowProgress => ({ ...idleProgress(), state: 'PAUSED' });

interface Line {
  time: string;
  metrics: Record<string, MetricSample[]>;
}
const lines = (file: string): Line[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Line);

describe('MetricsLog', () => {
  it('appends a line of the metrics every interval, the sync’s state among them', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'metrics-log-')), 'nested', 'm.log');
    const log = await MetricsLog.start({ file, progress: async () => paused(), logger, intervalMs: 50 });
    expect(log?.file).toBe(file);
    await new Promise((resolve) => setTimeout(resolve, 400));
    await log!.stop();
    const written = lines(file);
    expect(written.length).toBeGreaterThanOrEqual(3);
    const state = written.at(-1)!.metrics.mongosync_state;
    expect(state.find((s) => s.labels.state === 'PAUSED')?.value).toBe(1);
    expect(state.filter((s) => s.value === 1)).toHaveLength(1);
    expect(written.at(-1)!.metrics.mongosync_process_resident_memory_bytes[0].value).toBeGreaterThan(0);
    expect(Date.parse(written[0].time)).toBeLessThanOrEqual(Date.parse(written.at(-1)!.time));
  });

  it('keeps writing this process’s metrics while the sync cannot be read', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'metrics-log-')), 'm.log');
    const log = await MetricsLog.start({
      file,
      progress: () => Promise.reject(new Error('Temporal is down')),
      logger,
      intervalMs: 60_000,
    });
    await log!.stop();
    const [line] = lines(file);
    expect(line.metrics.mongosync_state).toEqual([]);
    expect(line.metrics.mongosync_process_cpu_seconds_total.length).toBeGreaterThan(0);
  });

  it('rotates past its size with gzip, keeping the newest rotated files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'metrics-log-'));
    const file = join(dir, 'm.log');
    const log = await MetricsLog.start({
      file,
      progress: async () => paused(),
      logger,
      intervalMs: 60_000,
      maxBytes: 1,
      keepRotated: 2,
    });
    for (let n = 0; n < 4; n++) {
      await log!.writeNow();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await log!.stop();
    const rotated = readdirSync(dir).filter((name) => name.endsWith('.log.gz'));
    expect(rotated).toHaveLength(2);
    for (const name of rotated) {
      const text = gunzipSync(readFileSync(join(dir, name))).toString('utf8');
      expect((JSON.parse(text.trim()) as Line).metrics.mongosync_state.length).toBeGreaterThan(0);
    }
  });

  it('falls back to the default path when the file cannot be written there', async () => {
    const cwd = process.cwd();
    const work = mkdtempSync(join(tmpdir(), 'metrics-log-'));
    const blocker = join(work, 'a-file');
    writeFileSync(blocker, '');
    process.chdir(work);
    try {
      const log = await MetricsLog.start({
        file: join(blocker, 'under-a-file.log'),
        progress: async () => paused(),
        logger,
        intervalMs: 60_000,
      });
      await log!.stop();
      expect(log!.file).toBe(join(process.cwd(), DEFAULT_METRICS_LOG));
      // One line when it started, one when it stopped.
      expect(lines(join(work, DEFAULT_METRICS_LOG))).toHaveLength(2);
      expect(existsSync(join(blocker, 'under-a-file.log'))).toBe(false);
    } finally {
      process.chdir(cwd);
    }
  });
});
