// Two emulated clusters with auth on, as the end-to-end tests and the demo use them: a root user
// (the sync's own user: it holds bypassWriteBlockingMode) and an application user without it.
import { MongoClient } from 'mongodb';
import { startEmulator, type RunningEmulator, type ServerVersion } from '../../../emulator';

export interface TestCluster {
  emulator: RunningEmulator;
  /** Connection string of the sync's user (root). */
  uri: string;
  /** A client of the sync's user, for setting up and checking data. */
  admin: MongoClient;
  /** A client of an application user with readWriteAnyDatabase only (no write-blocking bypass). */
  app: MongoClient;
}

export const APP_USER = { username: 'app', password: 'app-password' };

export async function startTestCluster(
  name: string,
  version: ServerVersion = '8.0',
  oplogSizeMB = 512,
): Promise<TestCluster> {
  const emulator = await startEmulator({
    replSet: name,
    version,
    auth: { rootUser: 'syncer', rootPassword: 'syncer-password' },
    oplogSizeMB,
  });
  const admin = await MongoClient.connect(emulator.uri);
  await admin
    .db('admin')
    .command({ createUser: APP_USER.username, pwd: APP_USER.password, roles: ['readWriteAnyDatabase'] });
  const app = await MongoClient.connect(`mongodb://127.0.0.1:${emulator.port}/?replicaSet=${name}`, {
    auth: APP_USER,
  });
  return { emulator, uri: emulator.uri, admin, app };
}

export async function stopTestCluster(cluster: TestCluster | undefined): Promise<void> {
  if (!cluster) return;
  await Promise.allSettled([cluster.app.close(), cluster.admin.close()]);
  await cluster.emulator.stop();
}

/**
 * Replaces a cluster's server by a fresh one on the same port (an empty cluster, e.g. of another
 * version), with the same root user and application user; the old clients are closed.
 */
export async function replaceTestCluster(
  cluster: TestCluster,
  name: string,
  version: ServerVersion,
  oplogSizeMB?: number,
): Promise<TestCluster> {
  const port = cluster.emulator.port;
  await Promise.allSettled([cluster.app.close(), cluster.admin.close()]);
  await cluster.emulator.stop();
  const emulator = await startEmulator({
    port,
    replSet: name,
    version,
    auth: { rootUser: 'syncer', rootPassword: 'syncer-password' },
    oplogSizeMB,
  });
  const admin = await MongoClient.connect(emulator.uri);
  await admin
    .db('admin')
    .command({ createUser: APP_USER.username, pwd: APP_USER.password, roles: ['readWriteAnyDatabase'] });
  const app = await MongoClient.connect(`mongodb://127.0.0.1:${emulator.port}/?replicaSet=${name}`, {
    auth: APP_USER,
  });
  return { emulator, uri: emulator.uri, admin, app };
}

/** Whether an application write to the cluster is refused by user write blocking (code 371). */
export async function refusesApplicationWrites(cluster: TestCluster): Promise<boolean> {
  const error = await cluster.app
    .db('probe')
    .collection<{ x: number }>('blocked')
    .insertOne({ x: 1 })
    .then(() => null)
    .catch((e: { code?: number }) => e);
  return (error as { code?: number } | null)?.code === 371;
}
