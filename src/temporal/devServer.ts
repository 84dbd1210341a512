// Runs the Temporal CLI's dev server (SQLite persistence) as a child process and waits until its
// frontend answers.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { temporalCliPath } from './cliBinary';
import { findFreePort } from './freePort';

export interface DevServerOptions {
  /** Directory of the SQLite database (`temporal.sqlite`), created when missing. */
  dataDir: string;
  /** gRPC port; 0 or omitted picks a free one. */
  port?: number;
  /** Web UI port; 0 or omitted picks a free one (ignored when headless). */
  uiPort?: number;
  headless?: boolean;
  /** Dynamic config values, e.g. `{'limit.historyCount.suggestContinueAsNew': 200}`. */
  dynamicConfig?: Record<string, unknown>;
  readyTimeoutMs?: number;
  /** Receives the server's own output lines (warnings and errors). */
  onOutput?: (line: string) => void;
}

export interface DevServer {
  /** host:port of the gRPC frontend. */
  address: string;
  uiUrl: string | null;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const STOP_GRACE_MS = 10_000;

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolveExit) => {
    const timer = setTimeout(() => resolveExit(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolveExit(true);
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (!(await waitForExit(child, STOP_GRACE_MS))) {
    child.kill('SIGKILL');
    await waitForExit(child, STOP_GRACE_MS);
  }
}

async function waitUntilReady(address: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `Temporal dev server exited during start-up (code ${child.exitCode ?? child.signalCode})`,
      );
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.withDeadline(Date.now() + 2000, () =>
          connection.workflowService.describeNamespace({ namespace: 'default' }),
        );
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`Temporal dev server at ${address} not ready after ${timeoutMs} ms: ${String(lastError)}`);
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  mkdirSync(options.dataDir, { recursive: true });
  const port = options.port || (await findFreePort(HOST));
  const uiPort = options.headless ? null : options.uiPort || (await findFreePort(HOST));
  const args = [
    'server',
    'start-dev',
    '--ip',
    HOST,
    '--port',
    String(port),
    '--db-filename',
    join(options.dataDir, 'temporal.sqlite'),
    '--log-level',
    'warn',
  ];
  if (uiPort === null) args.push('--headless');
  else args.push('--ui-port', String(uiPort), '--ui-disable-news-fetch');
  for (const [key, value] of Object.entries(options.dynamicConfig ?? {})) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  const child = spawn(temporalCliPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const forward = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) options.onOutput?.(line);
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  const spawned = new Promise<void>((resolveSpawn, reject) => {
    child.once('spawn', resolveSpawn);
    child.once('error', reject);
  });
  const address = `${HOST}:${port}`;
  try {
    await spawned;
    await waitUntilReady(address, child, options.readyTimeoutMs ?? 60_000);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return {
    address,
    uiUrl: uiPort === null ? null : `http://${HOST}:${uiPort}`,
    stop: () => stopChild(child),
  };
}
