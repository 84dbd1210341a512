// The status command against a REST API serving a copy in progress: plain lines when stdout is a
// pipe, and live progress bars per namespace under a pseudo-terminal (tmux), moving as the copy does.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { createApiServer, type ApiServer } from '../../../src/api/server';
import type { ArgumentlessCommand, SyncService } from '../../../src/api/syncClient';
import type { StartRequest, WorkflowProgress } from '../../../src/workflows/messages';
import { idleProgress } from '../../../src/workflows/progress';

jest.setTimeout(120_000);

const root = path.join(__dirname, '..', '..', '..');
const run = promisify(execFile);

class CopyingSync implements SyncService {
  copied = 10 * 1024 * 1024;
  async start(_request: StartRequest) {}
  async command(_command: ArgumentlessCommand) {}
  async progress(): Promise<WorkflowProgress> {
    const total = 40 * 1024 * 1024;
    return {
      ...idleProgress(),
      state: 'RUNNING',
      info: 'collection copy',
      direction: { source: 'cluster0', destination: 'cluster1' },
      mongosyncID: 'status-test',
      collectionCopy: {
        estimatedTotalBytes: total + 1024 * 1024,
        estimatedCopiedBytes: this.copied + 1024 * 1024,
        estimatedSecondsRemaining: 42,
        namespaces: [
          {
            namespace: 'shop.orders',
            state: 'copying',
            estimatedTotalBytes: total,
            estimatedCopiedBytes: this.copied,
            estimatedTotalDocuments: 40_000,
            copiedDocuments: Math.round(this.copied / 1024),
          },
          {
            namespace: 'shop.users',
            state: 'copied',
            estimatedTotalBytes: 1024 * 1024,
            estimatedCopiedBytes: 1024 * 1024,
            estimatedTotalDocuments: 1000,
            copiedDocuments: 1000,
          },
        ],
      },
      warnings: ['the oplog is short'],
    };
  }
}

let api: ApiServer;
const sync = new CopyingSync();
let port: number;

beforeAll(async () => {
  api = await createApiServer({
    sync,
    clusterHosts: { cluster0: 'db0:27017', cluster1: 'db1:27018' },
    logger: pino({ level: 'silent' }),
    port: 0,
  });
  port = Number(new URL(api.url).port);
});
afterAll(() => api.close());

const STATUS = [process.execPath, '--import', 'tsx', path.join(root, 'src', 'status', 'main.ts')];

test('prints plain lines when stdout is not a terminal', async () => {
  const { stdout } = await run(STATUS[0], [...STATUS.slice(1), '--port', String(port)], { cwd: root });
  expect(stdout).not.toMatch(/\u001b\[/);
  const lines = stdout.trim().split('\n');
  expect(lines[0]).toBe('state RUNNING · collection copy · copy ETA 42 s');
  expect(lines).toContain('  shop.orders: 25% (10.0/40.0 MB, 10240 docs)');
  expect(lines).toContain('  shop.users: 100% (1.0/1.0 MB, 1000 docs)');
  expect(lines).toContain('  warning: the oplog is short');
});

test('fails with a clear message when no service answers', async () => {
  const error = await run(STATUS[0], [...STATUS.slice(1), '--port', '1'], { cwd: root }).catch((e) => e);
  expect(error.code).toBe(1);
  expect(error.stderr).toMatch(/cannot read the progress/);
});

test('draws a live progress bar per namespace under a terminal', async () => {
  const session = `status-${process.pid}`;
  const command = [...STATUS, '--port', String(port), '--watch', '--interval', '200']
    .map((arg) => `'${arg}'`)
    .join(' ');
  await run('tmux', ['new-session', '-d', '-s', session, '-x', '160', '-y', '20', '-c', root, command]);
  const capture = async () => (await run('tmux', ['capture-pane', '-p', '-t', session])).stdout;
  const waitFor = async (pattern: RegExp) => {
    const deadline = Date.now() + 30_000;
    let screen = '';
    while (Date.now() < deadline) {
      screen = await capture();
      if (pattern.test(screen)) return screen;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`the screen never showed ${pattern}:\n${screen}`);
  };
  try {
    const first = await waitFor(/shop\.orders.*25%/);
    expect(first).toMatch(/state RUNNING · collection copy/);
    expect(first).toMatch(/shop\.orders\s+\[[█░]+\]\s+25% \| 10\.0\/40\.0 MB/);
    expect(first).toMatch(/shop\.users\s+\[█+\]\s+100%/);
    expect(first).toMatch(/warning: the oplog is short/);
    sync.copied = 30 * 1024 * 1024;
    const later = await waitFor(/shop\.orders.*75%/);
    // Redrawn in place: the namespace shows once, not once per refresh.
    expect(later.match(/shop\.orders/g)).toHaveLength(1);
  } finally {
    await run('tmux', ['kill-session', '-t', session]).catch(() => undefined);
  }
});
