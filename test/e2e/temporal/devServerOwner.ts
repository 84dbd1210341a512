// A process that owns a Temporal dev server, for devServer.test.ts. Usage:
//   node --import tsx devServerOwner.ts <mode> <data dir>
// Starts a headless dev server, prints `ready <address>`, then by mode:
//   sigint  on SIGINT, says whether the server still answers, stops it, says `stopped`, exits 0;
//   throw   throws an uncaught error;
//   wait    waits (to be killed).
import { Connection } from '@temporalio/client';
import { startDevServer } from '../../../src/temporal/devServer';

const [mode, dataDir] = process.argv.slice(2);

async function answers(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: 2000 });
    try {
      await connection.withDeadline(Date.now() + 5000, () =>
        connection.workflowService.describeNamespace({ namespace: 'default' }),
      );
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const server = await startDevServer({ dataDir, headless: true });
  if (mode === 'sigint') {
    process.on('SIGINT', async () => {
      console.log(
        `after SIGINT the server ${(await answers(server.address)) ? 'answers' : 'does not answer'}`,
      );
      await server.stop();
      console.log('stopped');
      process.exit(0);
    });
  }
  console.log(`ready ${server.address}`);
  if (mode === 'throw') {
    setTimeout(() => {
      throw new Error('uncaught on purpose');
    }, 100);
  }
}

void main();
