import type { Document } from 'mongodb';
import type { PreflightInput } from './contract';

/** Actions on every database the source's user needs to read the catalog, copy and watch. */
export const SOURCE_DATABASE_ACTIONS = [
  'find',
  'listCollections',
  'listIndexes',
  'changeStream',
  'collStats',
];
/** Actions on every database the destination's user needs to recreate the catalog and write data. */
export const DESTINATION_DATABASE_ACTIONS = [
  'find',
  'insert',
  'update',
  'remove',
  'createCollection',
  'createIndex',
  'dropCollection',
  'dropIndex',
  'collMod',
  'renameCollectionSameDB',
  'bypassDocumentValidation',
  'listCollections',
  'listIndexes',
];
/** Actions on every database a reversal needs on the cluster it makes the destination (the unique index format check). */
export const REVERSE_DATABASE_ACTIONS = ['validate'];
export const CLUSTER_READ_ACTIONS = ['listDatabases'];
export const WRITE_BLOCKING_ACTIONS = ['setUserWriteBlockMode', 'bypassWriteBlockingMode'];

export interface RequiredActions {
  database: string[];
  cluster: string[];
}

/** Which clusters of a sync take part in write blocking: the destination always unless 'none'. */
export function requiredActions(input: PreflightInput): {
  source: RequiredActions;
  destination: RequiredActions;
} {
  const { writeBlocking, reversible } = input.options;
  const blocksDestination = writeBlocking !== 'none';
  const blocksSource = writeBlocking === 'sourceAndDestination' || reversible || input.purpose === 'reverse';
  // A reversible sync writes to its source later on, so the source also needs the destination's
  // actions (and each side may be validated as a reversal's destination).
  const both = [...SOURCE_DATABASE_ACTIONS, ...DESTINATION_DATABASE_ACTIONS, ...REVERSE_DATABASE_ACTIONS];
  const sourceDatabase =
    reversible || input.purpose === 'reverse' ? [...new Set(both)] : SOURCE_DATABASE_ACTIONS;
  const destinationDatabase =
    reversible || input.purpose === 'reverse' ? [...new Set(both)] : DESTINATION_DATABASE_ACTIONS;
  return {
    source: {
      database: sourceDatabase,
      cluster: [...CLUSTER_READ_ACTIONS, ...(blocksSource ? WRITE_BLOCKING_ACTIONS : [])],
    },
    destination: {
      database: destinationDatabase,
      cluster: [
        ...CLUSTER_READ_ACTIONS,
        ...(blocksDestination || blocksSource ? WRITE_BLOCKING_ACTIONS : []),
      ],
    },
  };
}

interface Privilege {
  resource: Document;
  actions: string[];
}

/**
 * The required actions a user's privileges (from `connectionStatus {showPrivileges: true}`) lack.
 * Database actions count when granted on every database (`{db: '', collection: ''}`) or any resource.
 */
export function missingActions(privileges: Privilege[], required: RequiredActions): string[] {
  const granted = (matches: (resource: Document) => boolean) =>
    new Set(
      privileges.filter((privilege) => matches(privilege.resource)).flatMap((privilege) => privilege.actions),
    );
  const anyResource = (resource: Document) => resource.anyResource === true;
  const onAllDatabases = granted((r) => anyResource(r) || (r.db === '' && r.collection === ''));
  const onCluster = granted((r) => anyResource(r) || r.cluster === true);
  return [
    ...required.database.filter((action) => !onAllDatabases.has(action)),
    ...required.cluster.filter((action) => !onCluster.has(action)).map((action) => `${action} (cluster)`),
  ];
}
