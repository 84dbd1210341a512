// Where the Temporal CLI (which runs the dev server) is: TEMPORAL_CLI_PATH, else the copy that
// scripts/setup.mjs installs under .tools/ at the repository root.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../packageRoot';

export function temporalCliPath(): string {
  const override = process.env.TEMPORAL_CLI_PATH;
  const path = override || join(packageRoot(), '.tools', 'temporal', 'bin', 'temporal');
  if (!existsSync(path)) {
    throw new Error(
      `Temporal CLI not found at ${path}: run \`node scripts/setup.mjs\` or set TEMPORAL_CLI_PATH`,
    );
  }
  return path;
}
