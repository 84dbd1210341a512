// The authorization table: which privileges each command needs, modelled on the checks mongod
// runs before executing it.
import type { Document } from 'bson';
import {
  ANY_ACTION,
  ANY_NORMAL_RESOURCE,
  ANY_RESOURCE,
  CLUSTER,
  type Privilege,
  type Resource,
  databaseResource,
  namespaceResource,
} from './privileges';
import { isPlainObject, isTruthy, numberValue } from './values';

/**
 * Alternative privilege sets: the command may run when the connection holds every privilege of
 * at least one set. `[[]]` means "any authenticated user".
 */
export type RequiredPrivileges = Privilege[][];

/** The requirement of commands reserved for root (and unknown commands): see AuthManager. */
export const ROOT_ONLY: Privilege = { resource: ANY_RESOURCE, actions: [ANY_ACTION] };

/** Commands a connection may run before authenticating. */
export const UNAUTHENTICATED_COMMANDS: ReadonlySet<string> = new Set([
  'hello',
  'isMaster',
  'ismaster',
  'saslStart',
  'saslContinue',
  'ping',
  'buildInfo',
  'buildinfo',
  'endSessions',
  'logout',
  'connectionStatus',
]);

/** Commands any authenticated user may run; cursors and sessions are checked by ownership instead. */
const OPEN_COMMANDS = new Set([
  ...UNAUTHENTICATED_COMMANDS,
  'commitTransaction',
  'abortTransaction',
  'startSession',
  'refreshSessions',
  'killCursors',
  'getMore',
  'listCommands',
  'whatsmyuri',
  'getLastError',
  'getFreeMonitoringStatus',
]);

/** Commands that need one cluster-wide action named like the command (or given here). */
const CLUSTER_COMMANDS: Readonly<Record<string, string>> = {
  serverStatus: 'serverStatus',
  replSetGetStatus: 'replSetGetStatus',
  replSetGetConfig: 'replSetGetConfig',
  getParameter: 'getParameter',
  setParameter: 'setParameter',
  hostInfo: 'hostInfo',
  getCmdLineOpts: 'getCmdLineOpts',
  getLog: 'getLog',
  setUserWriteBlockMode: 'setUserWriteBlockMode',
  appendOplogNote: 'appendOplogNote',
  replSetResizeOplog: 'replSetResizeOplog',
  getDefaultRWConcern: 'getDefaultRWConcern',
  setDefaultRWConcern: 'setDefaultRWConcern',
  setFeatureCompatibilityVersion: 'setFeatureCompatibilityVersion',
  currentOp: 'inprog',
  killOp: 'killop',
  killAllSessions: 'killAnySession',
  fsync: 'fsync',
  shutdown: 'shutdown',
  top: 'top',
  connPoolStats: 'connPoolStats',
  logRotate: 'logRotate',
  setClusterParameter: 'setClusterParameter',
  getClusterParameter: 'getClusterParameter',
};

/** Commands acting on the collection named by their first value, with fixed actions. */
const COLLECTION_COMMANDS: Readonly<Record<string, string[]>> = {
  find: ['find'],
  count: ['find'],
  distinct: ['find'],
  insert: ['insert'],
  delete: ['remove'],
  createIndexes: ['createIndex'],
  dropIndexes: ['dropIndex'],
  deleteIndexes: ['dropIndex'],
  drop: ['dropCollection'],
  collMod: ['collMod'],
  listIndexes: ['listIndexes'],
  collStats: ['collStats'],
  validate: ['validate'],
  compact: ['compact'],
  convertToCapped: ['convertToCapped'],
  reIndex: ['reIndex'],
};

/** Commands acting on the command's database, with fixed actions. */
const DATABASE_COMMANDS: Readonly<Record<string, string[]>> = {
  dropDatabase: ['dropDatabase'],
  listCollections: ['listCollections'],
  dbStats: ['dbStats'],
  dbHash: ['dbHash'],
  dbhash: ['dbHash'],
  createUser: ['createUser'],
  dropUser: ['dropUser'],
  dropAllUsersFromDatabase: ['dropUser'],
  createRole: ['createRole'],
  dropRole: ['dropRole'],
  dropAllRolesFromDatabase: ['dropRole'],
  usersInfo: ['viewUser'],
  rolesInfo: ['viewRole'],
  grantPrivilegesToRole: ['grantRole'],
  revokePrivilegesFromRole: ['revokeRole'],
  updateRole: ['grantRole', 'revokeRole'],
};

function all(...privileges: Privilege[]): RequiredPrivileges {
  return [privileges];
}

function need(resource: Resource, ...actions: string[]): Privilege {
  return { resource, actions };
}

/** Splits `db.collection` (collection names may contain dots). */
function splitNamespace(namespace: unknown): { db: string; collection: string } | undefined {
  if (typeof namespace !== 'string') return undefined;
  const dot = namespace.indexOf('.');
  if (dot <= 0) return undefined;
  return { db: namespace.slice(0, dot), collection: namespace.slice(dot + 1) };
}

/** Roles named in a user/role command, resolved against the command's database. */
function databasesOfRoleRefs(roles: unknown, dbName: string): string[] {
  if (!Array.isArray(roles)) return [dbName];
  const dbs = roles.map((ref) => (isPlainObject(ref) && typeof ref.db === 'string' ? ref.db : dbName));
  return dbs.length === 0 ? [dbName] : [...new Set(dbs)];
}

function roleActionOnEach(action: string, roles: unknown, dbName: string): Privilege[] {
  return databasesOfRoleRefs(roles, dbName).map((db) => need(databaseResource(db), action));
}

/** Privileges an aggregation pipeline needs beyond reading its source collection. */
function pipelinePrivileges(pipeline: unknown, dbName: string, privileges: Privilege[]): void {
  if (!Array.isArray(pipeline)) return;
  for (const stage of pipeline) {
    if (!isPlainObject(stage)) continue;
    const [name] = Object.keys(stage);
    const spec = stage[name];
    switch (name) {
      case '$out': {
        const target = isPlainObject(spec)
          ? namespaceResource(String(spec.db ?? dbName), String(spec.coll))
          : namespaceResource(dbName, String(spec));
        privileges.push(need(target, 'insert', 'remove'));
        break;
      }
      case '$merge': {
        const into = isPlainObject(spec) ? spec.into : spec;
        const target = isPlainObject(into)
          ? namespaceResource(String(into.db ?? dbName), String(into.coll))
          : namespaceResource(dbName, String(into));
        privileges.push(need(target, 'insert', 'update'));
        break;
      }
      case '$lookup':
      case '$graphLookup':
      case '$unionWith': {
        const from =
          typeof spec === 'string' ? spec : isPlainObject(spec) ? (spec.from ?? spec.coll) : undefined;
        if (typeof from === 'string') privileges.push(need(namespaceResource(dbName, from), 'find'));
        if (isPlainObject(spec)) pipelinePrivileges(spec.pipeline, dbName, privileges);
        break;
      }
      case '$facet':
        if (isPlainObject(spec)) {
          for (const subPipeline of Object.values(spec)) pipelinePrivileges(subPipeline, dbName, privileges);
        }
        break;
      case '$currentOp':
        privileges.push(need(CLUSTER, 'inprog'));
        break;
      default:
        break;
    }
  }
}

function aggregatePrivileges(dbName: string, command: Document): RequiredPrivileges {
  const collection = typeof command.aggregate === 'string' ? command.aggregate : undefined;
  const pipeline: unknown[] = Array.isArray(command.pipeline) ? command.pipeline : [];
  const first = isPlainObject(pipeline[0]) ? pipeline[0] : {};
  const privileges: Privilege[] = [];

  if ('$changeStream' in first) {
    const spec = isPlainObject(first.$changeStream) ? first.$changeStream : {};
    const resource = isTruthy(spec.allChangesForCluster)
      ? ANY_NORMAL_RESOURCE
      : collection === undefined
        ? databaseResource(dbName)
        : namespaceResource(dbName, collection);
    privileges.push(need(resource, 'changeStream', 'find'));
  } else if ('$collStats' in first && collection !== undefined) {
    privileges.push(need(namespaceResource(dbName, collection), 'collStats'));
  } else if ('$indexStats' in first && collection !== undefined) {
    privileges.push(need(namespaceResource(dbName, collection), 'indexStats'));
  } else if (!('$documents' in first) && !('$currentOp' in first)) {
    const source =
      collection === undefined ? databaseResource(dbName) : namespaceResource(dbName, collection);
    privileges.push(need(source, 'find'));
  }
  pipelinePrivileges(pipeline, dbName, privileges);
  if (isTruthy(command.bypassDocumentValidation)) {
    privileges.push(need(databaseResource(dbName), 'bypassDocumentValidation'));
  }
  return [privileges];
}

function updatePrivileges(dbName: string, command: Document): RequiredPrivileges {
  const target = namespaceResource(dbName, String(command.update));
  const updates: unknown[] = Array.isArray(command.updates) ? command.updates : [];
  const upserts = updates.some((statement) => isPlainObject(statement) && isTruthy(statement.upsert));
  return all(need(target, ...(upserts ? ['update', 'insert'] : ['update'])));
}

function findAndModifyPrivileges(
  dbName: string,
  command: Document,
  collectionField: unknown,
): RequiredPrivileges {
  const target = namespaceResource(dbName, String(collectionField));
  if (isTruthy(command.remove)) return all(need(target, 'find', 'remove'));
  return all(need(target, ...(isTruthy(command.upsert) ? ['find', 'update', 'insert'] : ['find', 'update'])));
}

/** 8.0 bulkWrite on admin: each op names an `nsInfo` entry by index. */
function bulkWritePrivileges(command: Document): RequiredPrivileges {
  const namespaces: unknown[] = Array.isArray(command.nsInfo) ? command.nsInfo : [];
  const actionsByNamespace = new Map<number, Set<string>>();
  const ops: unknown[] = Array.isArray(command.ops) ? command.ops : [];
  for (const op of ops) {
    if (!isPlainObject(op)) continue;
    const [kind] = Object.keys(op);
    const index = numberValue(op[kind]);
    if (index === undefined) continue;
    const actions = actionsByNamespace.get(index) ?? new Set<string>();
    if (kind === 'insert') actions.add('insert');
    if (kind === 'update') {
      actions.add('update');
      if (isTruthy(op.upsert)) actions.add('insert');
    }
    if (kind === 'delete') actions.add('remove');
    actionsByNamespace.set(index, actions);
  }
  const privileges: Privilege[] = [];
  for (const [index, actions] of actionsByNamespace) {
    const info = namespaces[index];
    const namespace = splitNamespace(isPlainObject(info) ? info.ns : undefined);
    if (namespace === undefined || actions.size === 0) continue;
    privileges.push(need(namespaceResource(namespace.db, namespace.collection), ...actions));
  }
  return [privileges];
}

/** Same-database renames need renameCollectionSameDB; otherwise read+drop the source, build the target. */
function renameCollectionPrivileges(command: Document): RequiredPrivileges {
  const source = splitNamespace(command.renameCollection);
  const target = splitNamespace(command.to);
  if (source === undefined || target === undefined) return all(ROOT_ONLY);
  const dropTarget = isTruthy(command.dropTarget);
  const targetResource = namespaceResource(target.db, target.collection);
  const crossDatabase = all(
    need(namespaceResource(source.db, source.collection), 'find', 'dropCollection'),
    need(
      targetResource,
      ...(dropTarget ? ['insert', 'createIndex', 'dropCollection'] : ['insert', 'createIndex']),
    ),
  );
  const involvesSystem = source.collection.startsWith('system.') || target.collection.startsWith('system.');
  if (source.db !== target.db || involvesSystem) return crossDatabase;
  const sameDatabase = [need(databaseResource(source.db), 'renameCollectionSameDB')];
  if (dropTarget) sameDatabase.push(need(targetResource, 'dropCollection'));
  return [sameDatabase, ...crossDatabase];
}

function createPrivileges(dbName: string, command: Document): RequiredPrivileges {
  const privileges = [need(namespaceResource(dbName, String(command.create)), 'createCollection')];
  if (typeof command.viewOn === 'string') {
    privileges.push(need(namespaceResource(dbName, command.viewOn), 'find'));
    pipelinePrivileges(command.pipeline, dbName, privileges);
  }
  return [privileges];
}

function usersInfoPrivileges(dbName: string, command: Document): RequiredPrivileges {
  const spec = command.usersInfo;
  if (isPlainObject(spec) && isTruthy(spec.forAllDBs)) return all(need(CLUSTER, 'viewUser'));
  const refs = Array.isArray(spec) ? spec : [spec];
  const dbs = refs.map((ref) => (isPlainObject(ref) && typeof ref.db === 'string' ? ref.db : dbName));
  return [[...new Set(dbs)].map((db) => need(databaseResource(db), 'viewUser'))];
}

/**
 * The privileges `commandName` needs when run on `dbName` with this command document, as
 * alternative sets (see RequiredPrivileges). Unknown commands require root.
 */
export function requiredPrivileges(
  commandName: string,
  dbName: string,
  command: Document,
): RequiredPrivileges {
  if (OPEN_COMMANDS.has(commandName)) return [[]];
  const clusterAction = CLUSTER_COMMANDS[commandName];
  if (clusterAction !== undefined) return all(need(CLUSTER, clusterAction));
  const collectionActions = COLLECTION_COMMANDS[commandName];
  if (collectionActions !== undefined) {
    return all(need(namespaceResource(dbName, String(command[commandName])), ...collectionActions));
  }
  const databaseActions = DATABASE_COMMANDS[commandName];
  if (databaseActions !== undefined && commandName !== 'usersInfo') {
    const privileges = [need(databaseResource(dbName), ...databaseActions)];
    if (commandName === 'createUser' || commandName === 'createRole') {
      if (Array.isArray(command.roles) && command.roles.length > 0) {
        privileges.push(...roleActionOnEach('grantRole', command.roles, dbName));
      }
    }
    return [privileges];
  }
  switch (commandName) {
    case 'listDatabases':
      // Without the action mongod lists only the databases the user has privileges in (see
      // AuthManager.visibleDatabases), unless the client insists with authorizedDatabases: false.
      return command.authorizedDatabases === false ? all(need(CLUSTER, 'listDatabases')) : [[]];
    case 'aggregate':
      return aggregatePrivileges(dbName, command);
    case 'update':
      return updatePrivileges(dbName, command);
    case 'findAndModify':
    case 'findandmodify':
      return findAndModifyPrivileges(dbName, command, command[commandName]);
    case 'bulkWrite':
      return bulkWritePrivileges(command);
    case 'create':
      return createPrivileges(dbName, command);
    case 'renameCollection':
      return renameCollectionPrivileges(command);
    case 'usersInfo':
      return usersInfoPrivileges(dbName, command);
    case 'updateUser': {
      const privileges: Privilege[] = [];
      if (command.pwd !== undefined) privileges.push(need(databaseResource(dbName), 'changePassword'));
      if (command.customData !== undefined)
        privileges.push(need(databaseResource(dbName), 'changeCustomData'));
      if (command.roles !== undefined) {
        privileges.push(...roleActionOnEach('grantRole', command.roles, dbName));
        privileges.push(need(databaseResource(dbName), 'revokeRole'));
      }
      return [privileges.length > 0 ? privileges : [need(databaseResource(dbName), 'changeCustomData')]];
    }
    case 'grantRolesToUser':
    case 'grantRolesToRole':
      return [roleActionOnEach('grantRole', command.roles, dbName)];
    case 'revokeRolesFromUser':
    case 'revokeRolesFromRole':
      return [roleActionOnEach('revokeRole', command.roles, dbName)];
    case 'dataSize':
    case 'datasize': {
      // find on the namespace named by the command's value ("db.collection").
      const ns = typeof command[commandName] === 'string' ? (command[commandName] as string) : '';
      const dot = ns.indexOf('.');
      return dot > 0
        ? [[need(namespaceResource(ns.slice(0, dot), ns.slice(dot + 1)), 'find')]]
        : all(ROOT_ONLY);
    }
    case 'explain': {
      const explained = isPlainObject(command.explain) ? (command.explain as Document) : {};
      const [innerName] = Object.keys(explained);
      return innerName === undefined ? all(ROOT_ONLY) : requiredPrivileges(innerName, dbName, explained);
    }
    default:
      // configureFailPoint and anything not modelled: reserved for root.
      return all(ROOT_ONLY);
  }
}
