// A sync belongs to its clusters, as in mongosync (which keeps its state on the destination): the
// destination holds a record naming the sync (its id and random uuid) and both clusters. Every
// activity that writes checks it first, so a cluster rebuilt, restored or replaced behind the same
// host name, or another sync's destination, is never written to.
import type { MongoClient } from 'mongodb';
import { ApplicationFailure } from '@temporalio/common';
import type { ClusterName, Direction } from '../domain';
import type { ClusterClients } from './clusters';
import type { RecordSyncInput, SyncRef } from './contract';
import { METADATA_DATABASE } from './namespaces';

export const SYNC_RECORD_COLLECTION = 'syncOwnership';

export interface SyncRecord {
  /** The sync id (`--id`). */
  _id: string;
  syncUuid: string;
  /** Redacted host lists of the clusters, and their fingerprint. */
  cluster0: string;
  cluster1: string;
  fingerprint: string;
  direction: Direction;
  claimedAt: Date;
}

/** The failure of a cluster that does not hold this sync's record: no retry can fix it. */
function recordMismatch(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'SyncRecordMismatch');
}

function records(client: MongoClient) {
  return client.db(METADATA_DATABASE).collection<SyncRecord>(SYNC_RECORD_COLLECTION);
}

function describeRecord(record: SyncRecord): string {
  return (
    `the sync "${record._id}" (uuid ${record.syncUuid ?? 'unknown'}) between cluster0 ${record.cluster0} ` +
    `and cluster1 ${record.cluster1}, recorded ${record.claimedAt instanceof Date ? record.claimedAt.toISOString() : 'earlier'}`
  );
}

function clusterLabel(clusters: ClusterClients, name: ClusterName): string {
  return `${name} (${clusters.hosts(name)})`;
}

/** Another sync's record on the cluster, if any (the cluster is that sync's destination). */
async function otherSyncRecord(client: MongoClient, uuid: string): Promise<SyncRecord | null> {
  return records(client).findOne({ syncUuid: { $ne: uuid } });
}

/** Refuses a destination that already belongs to another sync (preflight of start and reverse). */
export async function assertNoOtherSync(
  clusters: ClusterClients,
  cluster: ClusterName,
  sync: Pick<SyncRef, 'uuid'>,
): Promise<string | null> {
  const other = await otherSyncRecord(clusters.get(cluster), sync.uuid);
  return other
    ? `${clusterLabel(clusters, cluster)} holds the record of ${describeRecord(other)}: it is that sync's destination. ` +
        `Reset that sync (POST /api/v1/reset to its service), or, if it no longer exists, drop the database ` +
        `${METADATA_DATABASE} on ${cluster}`
    : null;
}

/** Writes the sync's record on its destination, durably; idempotent for the same sync. */
export async function recordSync(clusters: ClusterClients, input: RecordSyncInput): Promise<void> {
  const { sync, direction } = input;
  const problem = await assertNoOtherSync(clusters, sync.holder, sync);
  if (problem) throw recordMismatch(problem);
  const hosts = { cluster0: clusters.hosts('cluster0'), cluster1: clusters.hosts('cluster1') };
  const record: SyncRecord = {
    _id: sync.id,
    syncUuid: sync.uuid,
    ...hosts,
    fingerprint: clusters.fingerprint(),
    direction,
    claimedAt: new Date(),
  };
  const collection = records(clusters.get(sync.holder));
  await collection.updateOne(
    { _id: sync.id },
    { $setOnInsert: record },
    { upsert: true, writeConcern: { w: 'majority', journal: true } },
  );
  // Read back: a concurrent start of another sync with the same id must not pass unnoticed.
  const stored = await collection.findOne({ _id: sync.id });
  if (stored?.syncUuid !== sync.uuid) {
    throw recordMismatch(
      `${clusterLabel(clusters, sync.holder)} holds the record of ${stored ? describeRecord(stored) : 'no sync'}, not of this sync (uuid ${sync.uuid})`,
    );
  }
}

/** Removes this sync's record (and only its own) from each cluster. */
export async function removeSyncRecord(
  clusters: ClusterClients,
  input: { sync: Pick<SyncRef, 'id' | 'uuid'>; clusters: ClusterName[] },
): Promise<void> {
  for (const name of input.clusters) {
    await records(clusters.get(name)).deleteOne(
      { _id: input.sync.id, syncUuid: input.sync.uuid },
      { writeConcern: { w: 'majority', journal: true } },
    );
  }
}

/**
 * Checks that the sync's destination holds its record before an activity writes. A check is
 * remembered for `maxAgeMs`, so bulk work does not re-read it per call, while every new worker
 * process (a crash, a restart, a scale-out) checks again before its first write.
 */
export class SyncRecordGuard {
  private readonly verifiedAt = new Map<string, number>();

  constructor(private readonly clusters: ClusterClients) {}

  async assertHeld(sync: SyncRef, maxAgeMs: number): Promise<void> {
    const key = `${sync.holder}/${sync.id}/${sync.uuid}`;
    const verified = this.verifiedAt.get(key);
    if (verified !== undefined && Date.now() - verified < maxAgeMs) return;
    const stored = await records(this.clusters.get(sync.holder)).findOne({ _id: sync.id });
    if (stored?.syncUuid !== sync.uuid) {
      this.verifiedAt.delete(key);
      const found = stored ? `holds the record of ${describeRecord(stored)}` : 'holds no record of it';
      throw recordMismatch(
        `${clusterLabel(this.clusters, sync.holder)} is not this sync's destination any more: the sync "${sync.id}" ` +
          `(uuid ${sync.uuid}) was recorded there at its start, but the cluster ${found} ` +
          '(was it rebuilt, restored from a snapshot or replaced behind the same host name?). ' +
          'The sync has stopped without writing to it; end it with POST /api/v1/reset and start again',
      );
    }
    this.verifiedAt.set(key, Date.now());
  }
}
