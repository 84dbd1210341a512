// mongosync's metrics log: the service appends its metrics as one JSON line every interval to a
// file (by default metrics/mongosync-metrics.log under the directory it runs in, as mongosync's
// metrics directory), rotating it with gzip once it grows past a size, and keeping a few of the
// rotated files. `--metricsLoggingFilepath` moves it; `--disableMetricsLogging` turns it off.
import { constants } from 'node:fs';
import { access, appendFile, mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { Logger } from './logger';
import { gzipReplacing, rotatedPath } from './logger';
import { metricsSnapshot } from './metrics';
import type { WorkflowProgress } from './workflows/messages';

export const DEFAULT_METRICS_LOG = join('metrics', 'mongosync-metrics.log');

export interface MetricsLogOptions {
  /** The file to write; null: DEFAULT_METRICS_LOG under the working directory. */
  file: string | null;
  progress: () => Promise<WorkflowProgress>;
  logger: Logger;
  intervalMs?: number;
  /** The file is rotated once it holds this many bytes. */
  maxBytes?: number;
  /** Rotated (gzipped) files kept; older ones are removed. */
  keepRotated?: number;
}

/** Whether `file` can be appended to, creating its directory if needed. */
async function usable(file: string): Promise<boolean> {
  try {
    await mkdir(dirname(file), { recursive: true });
    await appendFile(file, '');
    await access(file, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export class MetricsLog {
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    /** The file written, absolute. */
    readonly file: string,
    private readonly options: MetricsLogOptions,
  ) {}

  /**
   * Starts the log. A file that cannot be written falls back to the default path, as mongosync's
   * does, with a warning; when that fails too, metrics are not logged (also a warning): null.
   */
  static async start(options: MetricsLogOptions): Promise<MetricsLog | null> {
    const fallback = resolve(DEFAULT_METRICS_LOG);
    let file = options.file === null ? fallback : resolve(options.file);
    if (!(await usable(file))) {
      if (file !== fallback) {
        options.logger.warn(
          { metricsLoggingFilepath: options.file, fallback },
          'cannot write the metrics log there; writing it at the default path',
        );
        file = fallback;
      }
      if (!(await usable(file))) {
        options.logger.warn({ file }, 'cannot write the metrics log; metrics are not logged');
        return null;
      }
    }
    const log = new MetricsLog(file, options);
    void log.writeNow();
    log.timer = setInterval(() => void log.writeNow(), options.intervalMs ?? 15_000);
    log.timer.unref();
    options.logger.info({ file }, 'logging metrics');
    return log;
  }

  /** Appends one line now (after any write in progress); errors are logged, never thrown. */
  writeNow(): Promise<void> {
    this.writing = this.writing.then(() =>
      this.appendLine().catch((err: unknown) =>
        this.options.logger.warn({ err }, `could not write the metrics log: ${(err as Error).message}`),
      ),
    );
    return this.writing;
  }

  /** Writes a last line and stops. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.writeNow();
  }

  private async appendLine(): Promise<void> {
    const metrics = await metricsSnapshot(this.options.progress);
    await appendFile(this.file, `${JSON.stringify({ time: new Date().toISOString(), metrics })}\n`);
    if ((await stat(this.file)).size >= (this.options.maxBytes ?? 16 * 1024 * 1024)) await this.rotate();
  }

  private async rotate(): Promise<void> {
    const extension = extname(this.file);
    const stem = basename(this.file, extension);
    const rotated = rotatedPath(this.file);
    await rename(this.file, rotated);
    await gzipReplacing(rotated);
    const keep = this.options.keepRotated ?? 10;
    const old = (await readdir(dirname(this.file)))
      .filter((name) => name.startsWith(`${stem}-`) && name.endsWith(`${extension}.gz`))
      .sort();
    for (const name of old.slice(0, Math.max(0, old.length - keep)))
      await unlink(join(dirname(this.file), name));
  }
}
