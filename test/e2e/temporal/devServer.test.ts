// The dev server runs in a process group of its own (a Ctrl-C at the terminal does not reach it)
// and never outlives the process that started it, however that process ends.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDevServer } from '../../../src/temporal/devServer';
import { findFreePort } from '../../../src/temporal/freePort';

const root = path.join(__dirname, '..', '..', '..');
const owner = path.join(__dirname, 'devServerOwner.ts');

interface ProcessInfo {
  pid: number;
  pgid: number;
}

/** The supervisor and the server of the dev server whose data is in dataDir. */
function serverProcesses(dataDir: string): ProcessInfo[] {
  const database = path.join(dataDir, 'temporal.sqlite');
  return execFileSync('ps', ['-eo', 'pid=,pgid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(database))
    .map((line) => {
      const [pid, pgid] = line.trim().split(/\s+/, 2).map(Number);
      return { pid, pgid };
    });
}

async function waitUntil(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('the Temporal dev server process', () => {
  let dataDir: string;
  let child: ChildProcess | undefined;
  let output: string;

  async function startOwner(mode: 'sigint' | 'throw' | 'wait'): Promise<ChildProcess> {
    output = '';
    // detached: the owner leads a process group, as a shell's foreground job does.
    const started = spawn(process.execPath, ['--import', 'tsx', owner, mode, dataDir], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child = started;
    started.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitUntil(
      'the dev server to start',
      () => output.includes('ready ') || started.exitCode !== null,
      90_000,
    );
    if (!output.includes('ready ')) throw new Error(`the owner exited: ${output}`);
    return started;
  }

  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'mongosync-devserver-'));
  });

  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
    for (const { pid } of serverProcesses(dataDir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a Ctrl-C to the owner process group does not reach the server, which stops when asked', async () => {
    const started = await startOwner('sigint');
    const servers = serverProcesses(dataDir);
    expect(servers).toHaveLength(2); // the supervisor and the server
    for (const { pgid } of servers) expect(pgid).not.toBe(started.pid);
    process.kill(-started.pid!, 'SIGINT'); // what the terminal does on Ctrl-C
    expect(await exited(started)).toBe(0);
    expect(output).toContain('after SIGINT the server answers');
    expect(output).toContain('stopped');
    expect(serverProcesses(dataDir)).toEqual([]);
  }, 120_000);

  test('the server does not outlive an owner killed with SIGKILL', async () => {
    const started = await startOwner('wait');
    expect(serverProcesses(dataDir)).toHaveLength(2);
    started.kill('SIGKILL');
    await exited(started);
    await waitUntil('the server to stop', () => serverProcesses(dataDir).length === 0, 20_000);
  }, 120_000);

  test('the server does not outlive an owner ended by an uncaught error', async () => {
    const started = await startOwner('throw');
    expect(await exited(started)).toBe(1);
    expect(output).toContain('uncaught on purpose');
    await waitUntil('the server to stop', () => serverProcesses(dataDir).length === 0, 20_000);
  }, 120_000);

  test('a server that cannot start says why, and leaves no process behind', async () => {
    const port = await findFreePort();
    // Something else listens on the port (and accepts our readiness probes, which then hang).
    const sockets = new Set<Socket>();
    const taken: Server = createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    try {
      await expect(startDevServer({ dataDir, port, headless: true })).rejects.toThrow(
        /exited during start-up \(code \d+\): .+/,
      );
      expect(serverProcesses(dataDir)).toEqual([]);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => taken.close(resolve));
    }
  }, 120_000);
});
