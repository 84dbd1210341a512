// Starts a private Temporal dev server for a test file (headless, free port, throw-away SQLite).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevServer } from '../../../src/temporal/devServer';

export interface TestTemporal {
  address: string;
  stop(): Promise<void>;
}

export async function startTestTemporal(dynamicConfig?: Record<string, unknown>): Promise<TestTemporal> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mongosync-temporal-'));
  try {
    const server = await startDevServer({ dataDir, headless: true, dynamicConfig });
    return {
      address: server.address,
      stop: async () => {
        await server.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
