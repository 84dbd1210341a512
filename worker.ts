#!/usr/bin/env node
// Runs only a worker of the sync service (activities + workflow) against an existing Temporal
// server: `npm run worker -- --cluster0 URI --cluster1 URI --temporal-address host:port`.
import { NativeConnection } from '@temporalio/worker';
import { ClusterClients, createActivities } from './src/activities';
import { loadConfigOrExit, redactConnectionString } from './src/config';
import { componentLogger, createLogger, rotateLogOnSignal } from './src/logger';
import { createSyncWorker } from './src/worker/createWorker';
import { installTemporalRuntime, temporalLogLevel } from './src/worker/runtimeLogging';
import { temporalConnectionOptions } from './src/temporal/connectionOptions';

async function main(): Promise<void> {
  const config = loadConfigOrExit(process.argv.slice(2), {
    programName: 'mongosync-worker',
    requireTemporalAddress: true,
  });
  const logger = createLogger({
    mongosyncID: config.id,
    verbosity: config.verbosity,
    logPath: config.logPath,
  });
  rotateLogOnSignal(logger);
  const log = componentLogger(logger, 'worker');
  installTemporalRuntime(logger, temporalLogLevel(config.verbosity));
  const clusters = new ClusterClients({ cluster0: config.cluster0, cluster1: config.cluster1 });
  const connection = await NativeConnection.connect(
    temporalConnectionOptions(config.temporalAddress!, config),
  );
  try {
    const worker = await createSyncWorker({
      connection,
      namespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      activities: createActivities(clusters, {
        createIndexesBatchSize: config.createIndexesBatchSize,
        hotDocIds: config.hotDocIds,
      }),
    });
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down the worker');
      if (worker.getState() === 'RUNNING') worker.shutdown();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    log.info(
      {
        taskQueue: config.taskQueue,
        cluster0: redactConnectionString(config.cluster0),
        cluster1: redactConnectionString(config.cluster1),
      },
      'worker running',
    );
    await worker.run();
  } finally {
    await connection.close();
    await clusters.close();
    logger.flush();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`mongosync-worker: ${(err as Error).message}\n`);
  process.exit(1);
});
