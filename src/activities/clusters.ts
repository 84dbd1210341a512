import { MongoClient, type MongoClientOptions } from 'mongodb';
import { ApplicationFailure } from '@temporalio/common';
import { clusterFingerprint, redactConnectionString } from '../config';
import type { ClusterName } from './contract';

export type ClusterUris = Record<ClusterName, string>;

/**
 * The driver's `appName` for the service's connections, unless the connection string names one:
 * the clusters' logs, `currentOp` and profiler show which operations are the sync's.
 */
export const APP_NAME = 'mongosync-temporal';

/** Resolves the cluster names used in workflow inputs to driver clients; connection strings stay here. */
export class ClusterClients {
  private readonly clients = new Map<ClusterName, MongoClient>();

  constructor(
    private readonly uris: ClusterUris,
    private readonly clientOptions: MongoClientOptions = {},
  ) {}

  /** The client for a cluster, created on first use (the driver connects on its first operation). */
  get(name: ClusterName): MongoClient {
    const existing = this.clients.get(name);
    if (existing) return existing;
    const uri = this.uris[name];
    if (!uri) throw ApplicationFailure.nonRetryable(`unknown cluster "${String(name)}"`, 'InvalidRequest');
    const appName = /[?&]appname=/i.test(uri) ? {} : { appName: APP_NAME };
    const client = new MongoClient(uri, {
      serverSelectionTimeoutMS: 15_000,
      ...appName,
      ...this.clientOptions,
    });
    this.clients.set(name, client);
    return client;
  }

  /** The cluster's hosts, without credentials or options, for messages. */
  hosts(name: ClusterName): string {
    return redactConnectionString(this.uris[name] ?? '');
  }

  /** Which pair of clusters this is, as the service's workflow id and the sync record name it. */
  fingerprint(): string {
    return clusterFingerprint(this.uris.cluster0 ?? '', this.uris.cluster1 ?? '');
  }

  async close(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(clients.map((client) => client.close()));
  }
}
