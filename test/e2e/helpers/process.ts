// The sync service in its own process, as `npm start` runs it, so a test can kill it like a
// crashed host (SIGKILL) and start it again with the same flags.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { SyncApi } from './service';

const root = path.join(__dirname, '..', '..', '..');

/** The service from its TypeScript sources, as `npm start` runs it. */
const FROM_SOURCES = ['--import', 'tsx', path.join(root, 'src', 'main.ts')];

export class ServiceProcess {
  private child: ChildProcess | undefined;
  output = '';

  /** `entry`: node's arguments before the service's (the sources by default, or a built file). */
  constructor(
    private readonly args: string[],
    private readonly entry: string[] = FROM_SOURCES,
  ) {}

  async start(api: SyncApi): Promise<void> {
    // One node process (not the tsx wrapper, whose SIGKILL would orphan the real service).
    this.child = spawn(process.execPath, [...this.entry, ...this.args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    await api.waitFor(() => true, 120_000, 'the service to answer');
    if (this.child.exitCode !== null) throw new Error(`the service exited: ${this.output}`);
  }

  kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
}

/** An extra worker process (`worker.ts`): activities and workflow tasks only, no API. */
export class WorkerProcess {
  private child: ChildProcess | undefined;
  output = '';

  constructor(private readonly args: string[]) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the worker and waits until it polls its task queue (it logs "worker running"). */
  async start(timeoutMs = 120_000): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'worker.ts'), ...this.args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    const deadline = Date.now() + timeoutMs;
    while (!this.output.includes('worker running')) {
      if (child.exitCode !== null) throw new Error(`the worker exited: ${this.output}`);
      if (Date.now() > deadline) throw new Error(`the worker did not start: ${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** SIGTERM: the worker shuts down gracefully, letting in-flight activities finish. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
}
