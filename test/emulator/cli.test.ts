// `npm run emulator` as a process: prints its connection string when ready, stops cleanly on
// SIGTERM, and refuses bad options with a clear message and a non-zero exit.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { MongoClient } from 'mongodb';

const root = path.join(__dirname, '..', '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

function run(args: string[]) {
  return spawn(tsx, [path.join(root, 'emulator', 'cli.ts'), ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

test('starts, serves the driver and exits 0 on SIGTERM', async () => {
  const child = run(['--port', '0', '--replSet', 'cliSet', '--version', '6.0']);
  const uri = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /emulator ready: (\S+)/.exec(out);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
  });
  expect(uri).toMatch(/replicaSet=cliSet/);
  const client = await MongoClient.connect(uri);
  const info = await client.db('admin').command({ buildInfo: 1 });
  expect(info.version).toMatch(/^6\.0\./);
  await client.close();
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  expect(await exit).toBe(0);
}, 60000);

test.each([
  [['--port', 'abc'], /--port.*must be an integer/],
  [['--version', '4.4'], /--version.*must be one of/],
  [['--auth'], /--auth needs --root-user and --root-password/],
])(
  'refuses %j',
  async (args, message) => {
    const child = run(args);
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).not.toBe(0);
    expect(err).toMatch(message);
  },
  60000,
);
