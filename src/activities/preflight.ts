import { MongoServerError, type Document, type MongoClient } from 'mongodb';
import { ApplicationFailure } from '@temporalio/common';
import type { ClusterClients } from './clusters';
import type { ClusterName, PreflightInput, PreflightResult } from './contract';
import { listCatalogEntries, listDatabaseNames, listIndexSpecs } from './catalog';
import { activityContext } from './context';
import { compileNamespaceFilter, isNeverSynced, isNeverSyncedDatabase } from './namespaces';
import { missingActions, requiredActions, type RequiredActions } from './privileges';
import { isUnauthorized } from './serverErrors';
import { assertNoOtherSync } from './syncRecord';

const MINIMUM_MAJOR_VERSION = 6;

function preconditionFailed(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'PreconditionFailed');
}

async function checkReachableReplicaSet(client: MongoClient, name: ClusterName): Promise<void> {
  let hello: Document;
  try {
    hello = await client.db('admin').command({ hello: 1 });
  } catch (error) {
    throw preconditionFailed(`${name} is not reachable: ${(error as Error).message}`);
  }
  if (typeof hello.setName !== 'string') {
    throw preconditionFailed(
      `${name} is not a replica set (hello reports no setName); mongosync needs replica sets`,
    );
  }
}

interface ServerVersion {
  /** As buildInfo gives it, e.g. "7.0.16". */
  version: string;
  major: number;
}

/** `buildInfo`'s version, refused below 6.0 (what the sync needs: expanded change events, write blocking). */
async function checkVersion(client: MongoClient, name: ClusterName): Promise<ServerVersion> {
  const info = await client.db('admin').command({ buildInfo: 1 });
  const version = String(info.version);
  const major = Array.isArray(info.versionArray) ? Number(info.versionArray[0]) : parseInt(version, 10);
  if (!(major >= MINIMUM_MAJOR_VERSION)) {
    throw preconditionFailed(
      `${name} runs MongoDB ${version}; version ${MINIMUM_MAJOR_VERSION}.0 or later is required`,
    );
  }
  return { version, major };
}

/**
 * A sync goes to the same or a later major version, as mongosync's version matrix allows: a newer
 * source may hold what an older destination cannot store. A reversible sync also goes back, so its
 * clusters must run the same major version.
 */
function checkVersionPair(input: PreflightInput, source: ServerVersion, destination: ServerVersion): void {
  const { source: sourceName, destination: destinationName } = input.direction;
  if (destination.major < source.major) {
    throw preconditionFailed(
      `cannot sync from ${sourceName} (MongoDB ${source.version}) to the older ${destinationName} ` +
        `(MongoDB ${destination.version}); the destination must run the same or a later major version`,
    );
  }
  if (input.purpose === 'start' && input.options.reversible && destination.major !== source.major) {
    throw preconditionFailed(
      `a reversible sync needs both clusters on the same major version, but ${sourceName} runs ` +
        `MongoDB ${source.version} and ${destinationName} runs MongoDB ${destination.version}; ` +
        'start without reversible, or upgrade first',
    );
  }
}

/** The required actions the cluster's user lacks, as a sentence naming the cluster; null when none. */
async function missingPrivileges(
  client: MongoClient,
  name: ClusterName,
  required: RequiredActions,
): Promise<string | null> {
  const status = await client.db('admin').command({ connectionStatus: 1, showPrivileges: true });
  const authInfo = (status.authInfo ?? {}) as Document;
  // Without authentication every command is allowed; there is nothing to check.
  if (!Array.isArray(authInfo.authenticatedUsers) || authInfo.authenticatedUsers.length === 0) return null;
  const missing = missingActions((authInfo.authenticatedUserPrivileges ?? []) as never[], required);
  return missing.length > 0
    ? `the user connected to ${name} lacks the privileges: ${missing.join(', ')}`
    : null;
}

/** Databases holding user collections or views (what the sync would collide with). */
async function userNamespaces(client: MongoClient): Promise<string[]> {
  const found: string[] = [];
  for (const db of await listDatabaseNames(client)) {
    if (isNeverSyncedDatabase(db)) continue;
    for (const entry of await listCatalogEntries(client.db(db))) {
      if (!isNeverSynced(db, entry.name)) found.push(`${db}.${entry.name}`);
    }
  }
  return found;
}

/**
 * What `validate` says of a unique index keyed in the legacy (≤ 4.2) format: "Unique index <name> has
 * one or more keys in the old [(MongoDB 4.2 or earlier) unique index] format", or "contains a key".
 */
const LEGACY_UNIQUE_FORMAT = /unique index .* (has one or more keys|contains a key) in the old\b.*\bformat/i;

function validateMessages(reply: Document): string[] {
  const messages: string[] = [];
  const collect = (value: unknown) => {
    if (Array.isArray(value)) messages.push(...value.map(String));
  };
  collect(reply.warnings);
  collect(reply.errors);
  for (const details of Object.values((reply.indexDetails ?? {}) as Record<string, Document>)) {
    collect(details.warnings);
    collect(details.errors);
  }
  // mongod reports an index's warning both at the top level and under indexDetails: once is enough.
  return [...new Set(messages)];
}

/** Refuses a reversal onto a cluster whose unique indexes still hold keys in the legacy format. */
async function checkUniqueIndexFormat(client: MongoClient, name: ClusterName): Promise<void> {
  const legacy: string[] = [];
  for (const db of await listDatabaseNames(client)) {
    if (isNeverSyncedDatabase(db)) continue;
    for (const entry of await listCatalogEntries(client.db(db))) {
      if (entry.type !== 'collection' || isNeverSynced(db, entry.name)) continue;
      const specs = await listIndexSpecs(client.db(db), entry.name);
      const uniqueNames = specs
        .filter((spec) => spec.unique === true && spec.name !== '_id_')
        .map((s) => s.name);
      if (uniqueNames.length === 0) continue;
      let reply: Document;
      try {
        reply = await client.db(db).command({ validate: entry.name });
      } catch (error) {
        if (error instanceof MongoServerError) {
          throw preconditionFailed(`could not validate ${db}.${entry.name} on ${name}: ${error.message}`);
        }
        throw error;
      }
      for (const message of validateMessages(reply).filter((m) => LEGACY_UNIQUE_FORMAT.test(m))) {
        const index =
          uniqueNames.find((indexName) => message.includes(String(indexName))) ?? 'a unique index';
        legacy.push(`${db}.${entry.name} index ${String(index)} (${message})`);
      }
    }
  }
  if (legacy.length > 0) {
    throw preconditionFailed(
      `cannot reverse: unique indexes on ${name} use the legacy (MongoDB 4.2 and earlier) key format: ` +
        `${legacy.join('; ')}. Resync the nodes of ${name} (initial sync rebuilds the indexes) first.`,
    );
  }
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** What the source's synced databases hold: data and indexes, as dbStats reports them. */
async function sourceFootprint(client: MongoClient, input: PreflightInput): Promise<number> {
  const namespaces = compileNamespaceFilter(input.options);
  let bytes = 0;
  for (const db of await listDatabaseNames(client)) {
    if (isNeverSyncedDatabase(db) || !namespaces.mayIncludeDatabase(db)) continue;
    const stats = await client.db(db).command({ dbStats: 1 });
    bytes += Number(stats.dataSize ?? 0) + Number(stats.indexSize ?? 0);
  }
  return bytes;
}

/**
 * Refuses a start whose destination has less free space on its data volume than the source's
 * data and indexes take (mongosync's check; `skipDiskSpaceCheck` turns it off). A server that
 * does not report its volume (fsTotalSize 0) cannot be checked: that is logged, not refused.
 */
async function checkDiskSpace(
  source: MongoClient,
  destination: MongoClient,
  input: PreflightInput,
): Promise<void> {
  const { destination: destinationName, source: sourceName } = input.direction;
  const notChecked = (why: string) =>
    activityContext().warn(`the destination's free disk space is not checked: ${why}`);
  let volume: Document;
  let needed: number;
  try {
    volume = await destination.db('admin').command({ dbStats: 1 });
    needed = await sourceFootprint(source, input);
  } catch (error) {
    // Users of custom roles may lack dbStats: that is no reason to refuse the sync.
    if (!isUnauthorized(error)) throw error;
    notChecked(`dbStats is not allowed (${(error as Error).message})`);
    return;
  }
  const total = Number(volume.fsTotalSize ?? 0);
  if (!(total > 0)) {
    notChecked(`${destinationName} reports no data volume size`);
    return;
  }
  const free = total - Number(volume.fsUsedSize ?? 0);
  if (free < needed) {
    throw ApplicationFailure.nonRetryable(
      `the destination ${destinationName} has ${formatBytes(free)} free on its data volume, but the ` +
        `data and indexes to sync from ${sourceName} take ${formatBytes(needed)}; free space on ` +
        `${destinationName}, or start with "skipDiskSpaceCheck": true`,
      'InsufficientDestinationDiskSpace',
    );
  }
}

/** Checks both clusters before a sync starts or reverses; each refusal names the cluster and what is wrong. */
export async function preflight(clusters: ClusterClients, input: PreflightInput): Promise<PreflightResult> {
  const { source: sourceName, destination: destinationName } = input.direction;
  const source = clusters.get(sourceName);
  const destination = clusters.get(destinationName);
  await checkReachableReplicaSet(source, sourceName);
  await checkReachableReplicaSet(destination, destinationName);
  const sourceVersion = await checkVersion(source, sourceName);
  const destinationVersion = await checkVersion(destination, destinationName);
  checkVersionPair(input, sourceVersion, destinationVersion);
  const required = requiredActions(input);
  // Both clusters are checked before refusing, so one answer lists everything missing on each.
  const missing = [
    await missingPrivileges(source, sourceName, required.source),
    await missingPrivileges(destination, destinationName, required.destination),
  ].filter((sentence): sentence is string => sentence !== null);
  if (missing.length > 0) throw preconditionFailed(missing.join('; '));
  // A destination that is another sync's (it holds that sync's record) is never written to.
  if (input.sync) {
    const otherSync = await assertNoOtherSync(clusters, destinationName, input.sync);
    if (otherSync) throw preconditionFailed(otherSync);
  }
  if (input.purpose === 'start' && !input.options.preExistingDestinationData) {
    const existing = await userNamespaces(destination);
    if (existing.length > 0) {
      const shown =
        existing.slice(0, 5).join(', ') + (existing.length > 5 ? `, and ${existing.length - 5} more` : '');
      throw preconditionFailed(
        `the destination ${destinationName} already holds user data (${shown}); ` +
          'empty it or start with preExistingDestinationData and a namespace filter',
      );
    }
  }
  if (input.purpose === 'start' && !input.options.skipDiskSpaceCheck)
    await checkDiskSpace(source, destination, input);
  // Reversing makes the original source the destination: its unique indexes must be in the current format.
  if (input.purpose === 'reverse') await checkUniqueIndexFormat(destination, destinationName);
  return { sourceVersion: sourceVersion.version, destinationVersion: destinationVersion.version };
}
