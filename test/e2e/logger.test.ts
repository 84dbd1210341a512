// Log rotation as mongosync does it: SIGUSR1 renames mongosync.log with the time, reopens a new
// one and gzips the old one; no line is lost or written twice.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createLogger, rotateLog } from '../../src/logger';

const root = path.join(__dirname, '..', '..');

function logLines(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => (JSON.parse(line) as { message: string }).message);
}

test('rotateLog gzips the old file and keeps writing to a new mongosync.log', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mongosync-log-'));
  const logger = createLogger({ mongosyncID: 'r', verbosity: 'INFO', logPath: dir });
  logger.info('before 1');
  logger.info('before 2');
  const rotated = await rotateLog(logger);
  logger.info('after');
  expect(rotated).toMatch(/mongosync-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z\.log\.gz$/);
  expect(logLines(gunzipSync(readFileSync(rotated!)).toString())).toEqual(['before 1', 'before 2']);
  expect(logLines(readFileSync(path.join(dir, 'mongosync.log'), 'utf8'))).toEqual(['after']);
  expect(readdirSync(dir).sort()).toEqual(['mongosync.log', path.basename(rotated!)].sort());
  expect(await rotateLog(createLogger({ mongosyncID: 'r', verbosity: 'INFO', logPath: null }))).toBeNull();
});

test('SIGUSR1 rotates the log of a running process', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mongosync-log-'));
  const script = `
    const { createLogger, rotateLogOnSignal } = require(${JSON.stringify(path.join(root, 'src', 'logger.ts'))});
    const logger = createLogger({ mongosyncID: 's', verbosity: 'INFO', logPath: ${JSON.stringify(dir)} });
    rotateLogOnSignal(logger);
    logger.info('before the signal');
    console.log('ready');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve) =>
      child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve()),
    );
    child.kill('SIGUSR1');
    const deadline = Date.now() + 10_000;
    let gz: string | undefined;
    while (!gz && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      gz = readdirSync(dir).find((file) => file.endsWith('.log.gz'));
    }
    expect(gz).toBeDefined();
    expect(logLines(gunzipSync(readFileSync(path.join(dir, gz!))).toString())).toEqual(['before the signal']);
    // The process goes on logging into the new file; it says the rotation happened there.
    const current = path.join(dir, 'mongosync.log');
    while (
      Date.now() < deadline &&
      !(existsSync(current) && readFileSync(current, 'utf8').includes('rotated'))
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(logLines(readFileSync(current, 'utf8'))).toEqual(['log file rotated']);
  } finally {
    child.kill('SIGKILL');
  }
});
