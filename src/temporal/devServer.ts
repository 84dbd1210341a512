// Runs the Temporal CLI's dev server (SQLite persistence) as a child process and waits until its
// frontend answers.
//
// The server runs under a small supervisor (supervisor.js) started detached, i.e. in a process
// group of its own: a Ctrl-C at the terminal signals only our own process group, so the server
// keeps running while our process shuts down what uses it (the API, then the worker) and is
// stopped last, by stop(). The supervisor stops the server when stop() asks (SIGTERM) and also when
// the pipe from this process closes, which the kernel does whenever this process ends, even by
// SIGKILL: the server never outlives the process that started it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { temporalCliPath } from './cliBinary';
import { findFreePort } from './freePort';
import { devServerSearchAttributeArgs } from './searchAttributes';

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
/** How long the server has to exit after SIGTERM before the supervisor sends SIGKILL. */
const STOP_GRACE_MS = 10_000;
/** How long after that we wait for the supervisor before killing its whole process group. */
const SUPERVISOR_GRACE_MS = 5_000;
const SUPERVISOR = join(__dirname, 'supervisor.js');
/** Output lines kept for the error message when the server exits during start-up. */
const KEPT_OUTPUT_LINES = 10;

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

/** SIGKILL to the supervisor's process group: the supervisor and the server. */
function killGroup(child: ChildProcess): void {
  try {
    if (process.platform !== 'win32' && child.pid) process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch {
    // already gone
  }
}

/** The supervisor stops the server (SIGTERM, then SIGKILL) and exits when the server has. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (!(await waitForExit(child, STOP_GRACE_MS + SUPERVISOR_GRACE_MS))) {
    killGroup(child);
    await waitForExit(child, SUPERVISOR_GRACE_MS);
  }
}

async function waitUntilReady(
  address: string,
  child: ChildProcess,
  timeoutMs: number,
  recentOutput: string[],
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const output = recentOutput.length > 0 ? `: ${recentOutput.join(' | ')}` : '';
      throw new Error(
        `Temporal dev server exited during start-up (code ${child.exitCode ?? child.signalCode})${output}`,
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
  // The sync's search attributes exist from the start (MongosyncState and the others).
  args.push(...devServerSearchAttributeArgs());
  for (const [key, value] of Object.entries(options.dynamicConfig ?? {})) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  const child = spawn(process.execPath, [SUPERVISOR, String(STOP_GRACE_MS), temporalCliPath(), ...args], {
    // stdin: the pipe whose closing tells the supervisor that this process is gone.
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdin?.on('error', () => undefined); // EPIPE once the supervisor has exited
  const recentOutput: string[] = [];
  const forward = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      recentOutput.push(line.trim());
      if (recentOutput.length > KEPT_OUTPUT_LINES) recentOutput.shift();
      options.onOutput?.(line);
    }
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
    await waitUntilReady(address, child, options.readyTimeoutMs ?? 60_000, recentOutput);
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
