// The service's start-up check of the sync records its clusters hold (the sync writes them; see
// src/activities/syncRecord.ts): a service started with the same --id against a cluster that holds
// that id's record for another pair of clusters refuses to start, instead of mixing two syncs.
import { MongoClient } from 'mongodb';
import { METADATA_DATABASE } from './activities/namespaces';
import { SYNC_RECORD_COLLECTION, type SyncRecord } from './activities/syncRecord';
import { CLUSTER_NAMES, type ClusterName } from './domain';
import { clusterFingerprint, redactConnectionString, type ServiceConfig } from './config';

const CONNECT_TIMEOUT_MS = 5000;

export class ClusterOwnershipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClusterOwnershipError';
  }
}

type OwnershipConfig = Pick<ServiceConfig, 'id' | 'cluster0' | 'cluster1'>;

async function withClient<T>(uri: string, use: (client: MongoClient) => Promise<T>): Promise<T> {
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: CONNECT_TIMEOUT_MS,
    connectTimeoutMS: CONNECT_TIMEOUT_MS,
  });
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

/**
 * Throws ClusterOwnershipError when either cluster holds this sync id's record for other clusters.
 * Unreachable clusters are skipped (returned), so the service can start and report them itself.
 */
export async function assertClustersBelongToSync(config: OwnershipConfig): Promise<ClusterName[]> {
  const fingerprint = clusterFingerprint(config.cluster0, config.cluster1);
  const names = CLUSTER_NAMES;
  const records = await Promise.all(
    names.map((name) =>
      withClient(config[name], (client) =>
        client
          .db(METADATA_DATABASE)
          .collection<SyncRecord>(SYNC_RECORD_COLLECTION)
          .findOne({ _id: config.id }),
      ).catch(() => undefined),
    ),
  );
  const unreachable = names.filter((_, index) => records[index] === undefined);
  names.forEach((name, index) => {
    const record = records[index];
    if (record && record.fingerprint !== fingerprint) {
      throw new ClusterOwnershipError(
        `${name} (${redactConnectionString(config[name])}) holds the sync "${config.id}" between cluster0 ${record.cluster0} ` +
          `and cluster1 ${record.cluster1}; restart with those clusters to resume it, or choose another --id`,
      );
    }
  });
  return unreachable;
}
