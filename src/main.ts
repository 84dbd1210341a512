#!/usr/bin/env node
// The sync service in one process: the Temporal dev server (unless --temporal-address is given),
// a worker with the activities, and the REST API.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Worker } from '@temporalio/worker';
import type { SyncActivities } from './activities/contract';
import { TemporalSyncClient } from './api/syncClient';
import { assertClustersBelongToSync } from './ownership';
import { createApiServer, type ApiServer } from './api/server';
import { OplogWindowCache } from './api/oplogEstimate';
import { bindWarning } from './api/bindAddress';
import { renderMetrics } from './metrics';
import { MetricsLog } from './metricsLog';
import { packageVersion } from './packageRoot';
import {
  LOAD_LEVEL_TUNING,
  clusterFingerprint,
  loadConfigOrExit,
  redactConnectionString,
  syncWorkflowId,
  type ServiceConfig,
} from './config';
import { componentLogger, createLogger, rotateLogOnSignal, type Logger } from './logger';
import { startDevServer, type DevServer } from './temporal/devServer';
import { ensureSearchAttributes } from './temporal/searchAttributes';
import { temporalConnectionOptions } from './temporal/connectionOptions';
import { createSyncWorker } from './worker/createWorker';
import { installTemporalRuntime, temporalLogLevel } from './worker/runtimeLogging';
import type { SyncTuning } from './workflows/state';

export interface StartServiceOptions {
  logger?: Logger;
  /** Activities to run instead of the real ones (tests). */
  activities?: SyncActivities;
  tuning?: Partial<SyncTuning>;
  /** How often the metrics log gets a line (default 15 s; tests shorten it). */
  metricsLogIntervalMs?: number;
}

export interface RunningService {
  apiUrl: string;
  temporalAddress: string;
  temporalUiUrl: string | null;
  stop(): Promise<void>;
}

const DEV_SERVER_PORT = 7233;
const DEV_SERVER_UI_PORT = 8233;

/** Closes what was opened, last first, even when one of the steps fails. */
class Cleanup {
  private readonly steps: (() => Promise<unknown>)[] = [];
  add(step: () => Promise<unknown>): void {
    this.steps.unshift(step);
  }
  async run(logger: Logger): Promise<void> {
    for (const step of this.steps.splice(0)) {
      try {
        await step();
      } catch (err) {
        logger.warn({ err }, 'error during shutdown');
      }
    }
  }
}

export async function startService(
  config: ServiceConfig,
  options: StartServiceOptions = {},
): Promise<RunningService> {
  const logger =
    options.logger ??
    createLogger({ mongosyncID: config.id, verbosity: config.verbosity, logPath: config.logPath });
  const log = componentLogger(logger, 'service');
  const cleanup = new Cleanup();
  const unreachable = await assertClustersBelongToSync(config);
  if (unreachable.length > 0)
    log.warn({ unreachable }, 'could not check which sync these clusters belong to');
  try {
    let devServer: DevServer | null = null;
    let temporalAddress = config.temporalAddress;
    if (!temporalAddress) {
      devServer = await startDevServer({
        dataDir: config.dataDir,
        port: DEV_SERVER_PORT,
        uiPort: DEV_SERVER_UI_PORT,
        onOutput: (line) => log.debug({ componentName: 'temporal-server' }, line),
      });
      cleanup.add(() => devServer!.stop());
      temporalAddress = devServer.address;
      log.info({ temporalAddress, webUi: devServer.uiUrl }, 'started the Temporal dev server');
    }

    let activities = options.activities;
    if (!activities) {
      const { ClusterClients, createActivities } = await import('./activities');
      const clusters = new ClusterClients({ cluster0: config.cluster0, cluster1: config.cluster1 });
      cleanup.add(() => clusters.close());
      activities = createActivities(clusters, {
        createIndexesBatchSize: config.createIndexesBatchSize,
        hotDocIds: config.hotDocIds,
      });
    }

    // The dev server this service started speaks plain gRPC; an external frontend gets the flags' TLS.
    const connectionOptions = devServer
      ? { address: temporalAddress }
      : temporalConnectionOptions(temporalAddress, config);
    const workerConnection = await NativeConnection.connect(connectionOptions);
    cleanup.add(() => workerConnection.close());
    const worker: Worker = await createSyncWorker({
      connection: workerConnection,
      namespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      activities,
    });
    const workerRun = worker
      .run()
      .catch((err: unknown) => log.error({ err }, 'the worker stopped with an error'));
    cleanup.add(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await workerRun;
    });

    const connection = await Connection.connect(connectionOptions);
    cleanup.add(() => connection.close());
    const client = new Client({ connection, namespace: config.temporalNamespace });
    const searchAttributes = await ensureSearchAttributes(connection, config.temporalNamespace);
    if (!searchAttributes.registered)
      log.warn(`syncs are not findable by search attributes: ${searchAttributes.reason}`);
    const sync = new TemporalSyncClient(client, {
      searchAttributes: searchAttributes.registered,
      syncId: config.id,
      workflowId: syncWorkflowId(config),
      taskQueue: config.taskQueue,
      clusterFingerprint: clusterFingerprint(config.cluster0, config.cluster1),
      // --loadLevel sets a new sync's concurrency; a test's tuning wins over it.
      tuning: { ...LOAD_LEVEL_TUNING[config.loadLevel], ...options.tuning },
    });
    // The verifier's mismatch log is read from the destination's metadata database.
    const { ClusterClients: ReportClients } = await import('./activities');
    const { verificationLog } = await import('./activities/verifierReport');
    const reportClients = new ReportClients({ cluster0: config.cluster0, cluster1: config.cluster1 });
    cleanup.add(() => reportClients.close());
    const { readOplogWindow } = await import('./activities/oplogWindow');
    const oplogWindows = new OplogWindowCache((cluster) => readOplogWindow(reportClients.get(cluster)));
    const api: ApiServer = await createApiServer({
      sync,
      version: packageVersion(),
      oplogWindow: (cluster) => oplogWindows.get(cluster),
      metrics: () => renderMetrics(() => sync.progress()),
      verificationByDefault: !config.disableVerification,
      verificationLog: (destination, limit) => verificationLog(reportClients.get(destination), limit),
      clusterHosts: {
        cluster0: redactConnectionString(config.cluster0),
        cluster1: redactConnectionString(config.cluster1),
      },
      logger: componentLogger(logger, 'api'),
      port: config.port,
      host: config.bind,
    });
    cleanup.add(() => api.close());
    const exposed = bindWarning(config.bind);
    if (exposed) log.warn({ bind: config.bind }, exposed);
    if (!config.disableMetricsLogging) {
      const metricsLog = await MetricsLog.start({
        file: config.metricsLoggingFilepath,
        progress: () => sync.progress(),
        logger: componentLogger(logger, 'metrics'),
        intervalMs: options.metricsLogIntervalMs,
      });
      if (metricsLog) cleanup.add(() => metricsLog.stop());
    }
    log.info(
      {
        apiUrl: api.url,
        cluster0: redactConnectionString(config.cluster0),
        cluster1: redactConnectionString(config.cluster1),
        workflowId: syncWorkflowId(config),
        taskQueue: config.taskQueue,
      },
      'mongosync is ready',
    );
    let stopping: Promise<void> | null = null;
    return {
      apiUrl: api.url,
      temporalAddress,
      temporalUiUrl: devServer?.uiUrl ?? null,
      stop: () => (stopping ??= cleanup.run(log).then(() => log.info('mongosync stopped'))),
    };
  } catch (err) {
    await cleanup.run(log);
    throw err;
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit(process.argv.slice(2), { programName: 'mongosync' });
  const logger = createLogger({
    mongosyncID: config.id,
    verbosity: config.verbosity,
    logPath: config.logPath,
  });
  rotateLogOnSignal(logger);
  installTemporalRuntime(logger, temporalLogLevel(config.verbosity));
  const log = componentLogger(logger, 'service');
  let service: RunningService;
  try {
    service = await startService(config, { logger });
  } catch (err) {
    log.fatal({ err }, `cannot start: ${(err as Error).message}`);
    logger.flush();
    process.exitCode = 1;
    return;
  }
  let signals = 0;
  const shutdown = (signal: string) => {
    signals += 1;
    if (signals > 1) process.exit(1);
    log.info({ signal }, 'shutting down');
    void service.stop().then(() => {
      logger.flush();
      process.exit(0);
    });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

if (require.main === module) {
  void main();
}
