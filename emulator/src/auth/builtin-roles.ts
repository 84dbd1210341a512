// MongoDB's built-in roles (6.0+) as privilege lists, following the server's role definitions:
// database roles exist in every database, the "AnyDatabase"/cluster roles only in admin.
import {
  ANY_ACTION,
  ANY_NORMAL_RESOURCE,
  ANY_RESOURCE,
  CLUSTER,
  type Privilege,
  type Resource,
  collectionNameResource,
  databaseResource,
  namespaceResource,
} from './privileges';

const READ_ACTIONS = [
  'changeStream',
  'collStats',
  'dbHash',
  'dbStats',
  'find',
  'killCursors',
  'listCollections',
  'listIndexes',
  'planCacheRead',
];

const READ_WRITE_ACTIONS = [
  ...READ_ACTIONS,
  'compactStructuredEncryptionData',
  'convertToCapped',
  'createCollection',
  'createIndex',
  'dropCollection',
  'dropIndex',
  'insert',
  'remove',
  'renameCollectionSameDB',
  'update',
];

const USER_ADMIN_ACTIONS = [
  'changeCustomData',
  'changePassword',
  'createUser',
  'createRole',
  'dropUser',
  'dropRole',
  'grantRole',
  'revokeRole',
  'setAuthenticationRestriction',
  'viewUser',
  'viewRole',
];

const DB_ADMIN_ACTIONS = [
  'bypassDocumentValidation',
  'collMod',
  'collStats',
  'compact',
  'convertToCapped',
  'createCollection',
  'dbStats',
  'dropCollection',
  'dropDatabase',
  'dropIndex',
  'createIndex',
  'enableProfiler',
  'listCollections',
  'listIndexes',
  'planCacheIndexFilter',
  'planCacheRead',
  'planCacheWrite',
  'reIndex',
  'renameCollectionSameDB',
  'storageDetails',
  'validate',
];

const PROFILE_ACTIONS = [...READ_ACTIONS, 'convertToCapped', 'createCollection', 'dropCollection'];

const CLUSTER_MONITOR_CLUSTER_ACTIONS = [
  'checkFreeMonitoringStatus',
  'connPoolStats',
  'getCmdLineOpts',
  'getDefaultRWConcern',
  'getLog',
  'getParameter',
  'getShardMap',
  'hostInfo',
  'listDatabases',
  'listSessions',
  'listShards',
  'netstat',
  'operationMetrics',
  'replSetGetConfig',
  'replSetGetStatus',
  'serverStatus',
  'top',
  'useUUID',
  'inprog',
  'shardingState',
];

const CLUSTER_MONITOR_DATABASE_ACTIONS = [
  'collStats',
  'dbStats',
  'getDatabaseVersion',
  'getShardVersion',
  'indexStats',
];

const HOST_MANAGER_CLUSTER_ACTIONS = [
  'applicationMessage',
  'auditConfigure',
  'connPoolSync',
  'dropConnections',
  'logRotate',
  'oidReset',
  'setParameter',
  'shutdown',
  'touch',
  'unlock',
  'flushRouterConfig',
  'fsync',
  'invalidateUserCache',
  'killAnyCursor',
  'killAnySession',
  'killop',
  'replSetResizeOplog',
  'resync',
  'trafficRecord',
  'rotateCertificates',
];

const CLUSTER_MANAGER_CLUSTER_ACTIONS = [
  'appendOplogNote',
  'applicationMessage',
  'replSetConfigure',
  'replSetGetConfig',
  'replSetGetStatus',
  'replSetStateChange',
  'resync',
  'addShard',
  'removeShard',
  'listSessions',
  'listShards',
  'flushRouterConfig',
  'cleanupOrphaned',
  'getDefaultRWConcern',
  'runTenantMigration',
  'setDefaultRWConcern',
  'setFeatureCompatibilityVersion',
  'setFreeMonitoring',
  'setClusterParameter',
  'getClusterParameter',
];

const CLUSTER_MANAGER_DATABASE_ACTIONS = [
  'clearJumboFlag',
  'splitChunk',
  'moveChunk',
  'enableSharding',
  'splitVector',
  'refineCollectionShardKey',
  'reshardCollection',
];

const RESTORE_ACTIONS = [
  'bypassDocumentValidation',
  'collMod',
  'convertToCapped',
  'createCollection',
  'createIndex',
  'dropCollection',
  'insert',
];

const WRITE_ACTIONS = ['insert', 'update', 'remove'];

function grant(resource: Resource, actions: string[]): Privilege {
  return { resource, actions };
}

function readPrivileges(db: string): Privilege[] {
  return [grant(databaseResource(db), READ_ACTIONS), grant(namespaceResource(db, 'system.js'), READ_ACTIONS)];
}

function readWritePrivileges(db: string): Privilege[] {
  return [
    grant(databaseResource(db), READ_WRITE_ACTIONS),
    grant(namespaceResource(db, 'system.js'), READ_WRITE_ACTIONS),
  ];
}

function userAdminPrivileges(db: string): Privilege[] {
  return [grant(databaseResource(db), USER_ADMIN_ACTIONS)];
}

function dbAdminPrivileges(db: string): Privilege[] {
  return [
    grant(databaseResource(db), DB_ADMIN_ACTIONS),
    grant(namespaceResource(db, 'system.profile'), PROFILE_ACTIONS),
  ];
}

function readAnyDatabasePrivileges(): Privilege[] {
  return [
    grant(ANY_NORMAL_RESOURCE, READ_ACTIONS),
    grant(CLUSTER, ['listDatabases']),
    grant(collectionNameResource('system.js'), READ_ACTIONS),
  ];
}

function readWriteAnyDatabasePrivileges(): Privilege[] {
  return [
    grant(ANY_NORMAL_RESOURCE, READ_WRITE_ACTIONS),
    grant(CLUSTER, ['listDatabases']),
    grant(collectionNameResource('system.js'), READ_WRITE_ACTIONS),
  ];
}

function userAdminAnyDatabasePrivileges(): Privilege[] {
  const readAndIndex = [...READ_ACTIONS, 'createIndex', 'dropIndex'];
  return [
    grant(ANY_NORMAL_RESOURCE, USER_ADMIN_ACTIONS),
    grant(databaseResource('local'), USER_ADMIN_ACTIONS),
    grant(databaseResource('config'), USER_ADMIN_ACTIONS),
    grant(CLUSTER, ['listDatabases', 'authSchemaUpgrade', 'invalidateUserCache', 'viewUser']),
    grant(ANY_NORMAL_RESOURCE, ['listCachedAndActiveUsers']),
    grant(collectionNameResource('system.users'), READ_ACTIONS),
    grant(namespaceResource('admin', 'system.users'), readAndIndex),
    grant(namespaceResource('admin', 'system.roles'), readAndIndex),
    grant(namespaceResource('admin', 'system.version'), READ_ACTIONS),
    grant(namespaceResource('admin', 'system.backup_users'), READ_ACTIONS),
  ];
}

function dbAdminAnyDatabasePrivileges(): Privilege[] {
  return [
    grant(CLUSTER, ['listDatabases', 'applyOps']),
    grant(ANY_NORMAL_RESOURCE, DB_ADMIN_ACTIONS),
    grant(collectionNameResource('system.profile'), PROFILE_ACTIONS),
  ];
}

function clusterMonitorPrivileges(): Privilege[] {
  return [
    grant(CLUSTER, CLUSTER_MONITOR_CLUSTER_ACTIONS),
    grant(ANY_NORMAL_RESOURCE, CLUSTER_MONITOR_DATABASE_ACTIONS),
    grant(databaseResource('config'), CLUSTER_MONITOR_DATABASE_ACTIONS),
    grant(databaseResource('local'), CLUSTER_MONITOR_DATABASE_ACTIONS),
    ...readPrivileges('config'),
    ...readPrivileges('local'),
    grant(namespaceResource('local', 'system.replset'), ['find']),
    grant(namespaceResource('local', 'replset.election'), ['find']),
    grant(namespaceResource('local', 'replset.minvalid'), ['find']),
    grant(collectionNameResource('system.profile'), ['find']),
  ];
}

function hostManagerPrivileges(): Privilege[] {
  return [grant(CLUSTER, HOST_MANAGER_CLUSTER_ACTIONS), grant(ANY_NORMAL_RESOURCE, ['killCursors'])];
}

function clusterManagerPrivileges(): Privilege[] {
  return [
    grant(CLUSTER, CLUSTER_MANAGER_CLUSTER_ACTIONS),
    grant(ANY_NORMAL_RESOURCE, CLUSTER_MANAGER_DATABASE_ACTIONS),
    grant(databaseResource('config'), CLUSTER_MANAGER_DATABASE_ACTIONS),
    grant(databaseResource('local'), CLUSTER_MANAGER_DATABASE_ACTIONS),
    grant(namespaceResource('local', 'system.replset'), READ_ACTIONS),
    ...readPrivileges('config'),
    grant(ANY_RESOURCE, ['dbCheck']),
    grant(namespaceResource('local', 'system.healthlog'), READ_ACTIONS),
    grant(databaseResource('config'), WRITE_ACTIONS),
    grant(databaseResource('local'), WRITE_ACTIONS),
    grant(namespaceResource('local', 'replset.election'), WRITE_ACTIONS),
    grant(namespaceResource('local', 'replset.minvalid'), WRITE_ACTIONS),
  ];
}

function clusterAdminPrivileges(): Privilege[] {
  return [
    ...clusterMonitorPrivileges(),
    ...hostManagerPrivileges(),
    ...clusterManagerPrivileges(),
    grant(ANY_NORMAL_RESOURCE, ['dropDatabase']),
    grant(ANY_RESOURCE, ['importCollection', 'exportCollection']),
  ];
}

function queryableBackupPrivileges(): Privilege[] {
  return [
    grant(ANY_RESOURCE, ['collStats', 'listCollections', 'listIndexes']),
    grant(ANY_NORMAL_RESOURCE, ['find']),
    grant(CLUSTER, ['getParameter', 'listDatabases', 'useUUID']),
    grant(databaseResource('config'), ['find']),
    grant(databaseResource('local'), ['find']),
    grant(namespaceResource('local', 'replset.election'), ['find']),
    grant(namespaceResource('local', 'replset.minvalid'), ['find']),
    grant(collectionNameResource('system.js'), ['find']),
    grant(collectionNameResource('system.users'), ['find']),
    grant(collectionNameResource('system.profile'), ['find']),
    grant(namespaceResource('admin', 'system.backup_users'), ['find']),
    grant(namespaceResource('admin', 'system.roles'), ['find']),
    grant(namespaceResource('admin', 'system.version'), ['find']),
    grant(namespaceResource('config', 'settings'), ['find']),
  ];
}

function backupPrivileges(): Privilege[] {
  return [
    // setUserWriteBlockMode is here for cluster-to-cluster replication (mongosync).
    grant(CLUSTER, ['appendOplogNote', 'serverStatus', 'setUserWriteBlockMode']),
    grant(namespaceResource('config', 'settings'), ['insert', 'update']),
    ...queryableBackupPrivileges(),
  ];
}

function restorePrivileges(): Privilege[] {
  return [
    grant(ANY_NORMAL_RESOURCE, RESTORE_ACTIONS),
    grant(collectionNameResource('system.js'), RESTORE_ACTIONS),
    grant(ANY_RESOURCE, ['listCollections']),
    grant(databaseResource('config'), RESTORE_ACTIONS),
    grant(databaseResource('local'), RESTORE_ACTIONS),
    grant(namespaceResource('local', 'system.replset'), RESTORE_ACTIONS),
    grant(namespaceResource('local', 'replset.election'), RESTORE_ACTIONS),
    grant(namespaceResource('local', 'replset.minvalid'), RESTORE_ACTIONS),
    grant(ANY_NORMAL_RESOURCE, USER_ADMIN_ACTIONS),
    grant(namespaceResource('admin', 'tempusers'), ['find']),
    grant(namespaceResource('admin', 'temproles'), ['find']),
    grant(namespaceResource('admin', 'system.backup_users'), RESTORE_ACTIONS),
    grant(namespaceResource('admin', 'system.version'), [...RESTORE_ACTIONS, 'find']),
    grant(collectionNameResource('system.users'), [...RESTORE_ACTIONS, 'find', 'update', 'remove']),
    grant(namespaceResource('admin', 'system.roles'), ['createIndex']),
    // Setting and bypassing user write blocking is what cluster-to-cluster replication needs.
    grant(CLUSTER, [
      'getParameter',
      'forceUUID',
      'useUUID',
      'bypassWriteBlockingMode',
      'setUserWriteBlockMode',
      'applyOps',
    ]),
  ];
}

function rootPrivileges(): Privilege[] {
  return [
    ...clusterAdminPrivileges(),
    ...userAdminAnyDatabasePrivileges(),
    ...dbAdminAnyDatabasePrivileges(),
    ...readWriteAnyDatabasePrivileges(),
    ...backupPrivileges(),
    ...restorePrivileges(),
    grant(ANY_RESOURCE, ['validate']),
    grant(CLUSTER, ['useTenant']),
    grant(namespaceResource('config', 'system.preimages'), ['find', 'remove']),
  ];
}

interface BuiltinRoleDefinition {
  adminOnly: boolean;
  privileges: (db: string) => Privilege[];
}

const BUILTIN_ROLES: ReadonlyMap<string, BuiltinRoleDefinition> = new Map([
  ['read', { adminOnly: false, privileges: readPrivileges }],
  ['readWrite', { adminOnly: false, privileges: readWritePrivileges }],
  ['userAdmin', { adminOnly: false, privileges: userAdminPrivileges }],
  ['dbAdmin', { adminOnly: false, privileges: dbAdminPrivileges }],
  [
    'dbOwner',
    {
      adminOnly: false,
      privileges: (db: string) => [
        ...readWritePrivileges(db),
        ...dbAdminPrivileges(db),
        ...userAdminPrivileges(db),
      ],
    },
  ],
  ['readAnyDatabase', { adminOnly: true, privileges: readAnyDatabasePrivileges }],
  ['readWriteAnyDatabase', { adminOnly: true, privileges: readWriteAnyDatabasePrivileges }],
  ['userAdminAnyDatabase', { adminOnly: true, privileges: userAdminAnyDatabasePrivileges }],
  ['dbAdminAnyDatabase', { adminOnly: true, privileges: dbAdminAnyDatabasePrivileges }],
  ['clusterMonitor', { adminOnly: true, privileges: clusterMonitorPrivileges }],
  ['hostManager', { adminOnly: true, privileges: hostManagerPrivileges }],
  ['clusterManager', { adminOnly: true, privileges: clusterManagerPrivileges }],
  ['clusterAdmin', { adminOnly: true, privileges: clusterAdminPrivileges }],
  ['backup', { adminOnly: true, privileges: backupPrivileges }],
  ['restore', { adminOnly: true, privileges: restorePrivileges }],
  ['root', { adminOnly: true, privileges: rootPrivileges }],
  // The internal role: every action on every resource.
  ['__system', { adminOnly: true, privileges: () => [grant(ANY_RESOURCE, [ANY_ACTION])] }],
]);

/** Whether `{role, db}` names a built-in role (admin-only roles exist only in admin). */
export function isBuiltinRole(role: string, db: string): boolean {
  const definition = BUILTIN_ROLES.get(role);
  if (definition === undefined || db === '' || db === '$external') return false;
  return !definition.adminOnly || db === 'admin';
}

/** Whether a custom role of this name would clash with a built-in one (in any database). */
export function isBuiltinRoleName(role: string): boolean {
  return BUILTIN_ROLES.has(role);
}

export function builtinRolePrivileges(role: string, db: string): Privilege[] | undefined {
  if (!isBuiltinRole(role, db)) return undefined;
  return BUILTIN_ROLES.get(role)!.privileges(db);
}

/** Built-in role names that exist in `db`, sorted. */
export function builtinRoleNames(db: string): string[] {
  return [...BUILTIN_ROLES.keys()].filter((role) => isBuiltinRole(role, db)).sort();
}
