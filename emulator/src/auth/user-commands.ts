// User and role management commands (createUser ... rolesInfo), answered like mongod.
import type { Document } from 'bson';
import type { CommandContext, CommandTable } from '../commands/context';
import { CommandError, ErrorCodes } from '../errors';
import { builtinRoleNames, builtinRolePrivileges, isBuiltinRole } from './builtin-roles';
import { PrivilegeSet } from './privileges';
import { SCRAM_MECHANISMS, type ScramMechanism, isScramMechanism } from './scram';
import {
  type RoleRef,
  type StoredUser,
  type UserStore,
  parsePrivileges,
  parseRoleRefs,
  roleKey,
  userKey,
} from './user-store';
import { isPlainObject, isTruthy } from './values';

function requireString(command: Document, field: string): string {
  const value = command[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw new CommandError(ErrorCodes.BadValue, `"${field}" must be a non-empty string`);
  }
  return value;
}

function parseMechanisms(value: unknown): ScramMechanism[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    throw new CommandError(ErrorCodes.BadValue, 'mechanisms field must not be empty');
  }
  for (const mechanism of value) {
    if (!isScramMechanism(mechanism)) {
      throw new CommandError(ErrorCodes.BadValue, `Unknown auth mechanism '${String(mechanism)}'`);
    }
  }
  return [...new Set(value as ScramMechanism[])];
}

function parsePassword(value: unknown): string {
  if (typeof value !== 'string') throw new CommandError(ErrorCodes.BadValue, 'Password must be a string');
  if (value.length === 0) throw new CommandError(ErrorCodes.BadValue, 'Password cannot be empty');
  return value;
}

function optionalDocument(value: unknown, field: string): Document | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) throw new CommandError(ErrorCodes.BadValue, `"${field}" must be an object`);
  return value;
}

function roleRefDocument(ref: RoleRef): Document {
  return { role: ref.role, db: ref.db };
}

/** `name` or `{user, db}` references of usersInfo (and `{role, db}` of rolesInfo). */
function parseNameRefs(
  spec: unknown,
  field: 'user' | 'role',
  defaultDb: string,
): Array<{ name: string; db: string }> {
  const entries = Array.isArray(spec) ? spec : [spec];
  return entries.map((entry) => {
    if (typeof entry === 'string') return { name: entry, db: defaultDb };
    if (isPlainObject(entry) && typeof entry[field] === 'string' && typeof entry.db === 'string') {
      return { name: entry[field] as string, db: entry.db };
    }
    throw new CommandError(
      ErrorCodes.BadValue,
      `${field}sInfo entries must be names or {${field}, db} documents`,
    );
  });
}

export function userManagementCommands(store: UserStore): CommandTable {
  const describeUser = (user: StoredUser, command: Document): Document => {
    const described: Document = {
      _id: userKey(user.user, user.db),
      userId: user.userId,
      user: user.user,
      db: user.db,
      roles: user.roles.map(roleRefDocument),
      mechanisms: (Object.keys(user.credentials) as ScramMechanism[]).sort(),
    };
    if (user.customData !== undefined) described.customData = user.customData;
    if (isTruthy(command.showCredentials)) described.credentials = { ...user.credentials };
    if (isTruthy(command.showPrivileges)) {
      const resolved = store.resolveRoles(user.roles);
      described.inheritedRoles = resolved.roles.map(roleRefDocument);
      described.inheritedPrivileges = resolved.privileges.toArray();
    }
    return described;
  };

  const describeRole = (ref: RoleRef, command: Document): Document | undefined => {
    const builtin = isBuiltinRole(ref.role, ref.db);
    const custom = store.getCustomRole(ref);
    if (!builtin && custom === undefined) return undefined;
    const directRoles = custom?.roles ?? [];
    const resolved = store.resolveRoles([ref]);
    const described: Document = {
      _id: roleKey(ref),
      role: ref.role,
      db: ref.db,
      isBuiltin: builtin,
      roles: directRoles.map(roleRefDocument),
      inheritedRoles: resolved.roles.filter((r) => roleKey(r) !== roleKey(ref)).map(roleRefDocument),
    };
    if (isTruthy(command.showPrivileges)) {
      const direct = builtin ? builtinRolePrivileges(ref.role, ref.db)! : custom!.privileges;
      described.privileges = new PrivilegeSet(direct).toArray();
      described.inheritedPrivileges = resolved.privileges.toArray();
    }
    return described;
  };

  const roleRefOf = (ctx: CommandContext): RoleRef => ({
    role: requireString(ctx.command, ctx.commandName),
    db: ctx.dbName,
  });

  return {
    createUser: (ctx) => {
      const { command, dbName } = ctx;
      const user = requireString(command, 'createUser');
      if (dbName === '$external') {
        throw new CommandError(
          ErrorCodes.BadValue,
          'The emulator supports only SCRAM users, not $external ones',
        );
      }
      if (command.pwd === undefined) {
        throw new CommandError(
          ErrorCodes.BadValue,
          "Must provide a 'pwd' field for all user documents, except those with '$external' as the user's source db",
        );
      }
      if (command.roles === undefined)
        throw new CommandError(ErrorCodes.BadValue, 'Missing expected field "roles"');
      store.createUser({
        user,
        db: dbName,
        password: parsePassword(command.pwd),
        roles: parseRoleRefs(command.roles, dbName),
        mechanisms: parseMechanisms(command.mechanisms) ?? [...SCRAM_MECHANISMS],
        customData: optionalDocument(command.customData, 'customData'),
      });
      return { ok: 1 };
    },

    updateUser: (ctx) => {
      const { command, dbName } = ctx;
      const user = requireString(command, 'updateUser');
      const changes = {
        password: command.pwd === undefined ? undefined : parsePassword(command.pwd),
        roles: command.roles === undefined ? undefined : parseRoleRefs(command.roles, dbName),
        mechanisms: parseMechanisms(command.mechanisms),
        customData: optionalDocument(command.customData, 'customData'),
      };
      if (Object.values(changes).every((value) => value === undefined)) {
        throw new CommandError(
          ErrorCodes.BadValue,
          'Must specify at least one field to update in updateUser',
        );
      }
      store.updateUser(user, dbName, changes);
      return { ok: 1 };
    },

    dropUser: (ctx) => {
      store.dropUser(requireString(ctx.command, 'dropUser'), ctx.dbName);
      return { ok: 1 };
    },

    dropAllUsersFromDatabase: (ctx) => ({ n: store.dropAllUsers(ctx.dbName), ok: 1 }),

    grantRolesToUser: (ctx) => {
      const user = requireString(ctx.command, 'grantRolesToUser');
      store.grantRolesToUser(user, ctx.dbName, parseRoleRefs(ctx.command.roles, ctx.dbName));
      return { ok: 1 };
    },

    revokeRolesFromUser: (ctx) => {
      const user = requireString(ctx.command, 'revokeRolesFromUser');
      store.revokeRolesFromUser(user, ctx.dbName, parseRoleRefs(ctx.command.roles, ctx.dbName));
      return { ok: 1 };
    },

    usersInfo: (ctx) => {
      const { command, dbName } = ctx;
      const spec = command.usersInfo;
      let users: StoredUser[];
      if (isPlainObject(spec) && isTruthy(spec.forAllDBs)) {
        users = store.listUsers();
      } else if (typeof spec !== 'string' && !Array.isArray(spec) && !isPlainObject(spec)) {
        // usersInfo: 1 — every user of this database.
        users = store.listUsers().filter((user) => user.db === dbName);
      } else {
        users = parseNameRefs(spec, 'user', dbName)
          .map((ref) => store.getUser(ref.name, ref.db))
          .filter((user) => user !== undefined);
      }
      return { users: users.map((user) => describeUser(user, command)), ok: 1 };
    },

    createRole: (ctx) => {
      const { command, dbName } = ctx;
      const role = requireString(command, 'createRole');
      if (command.privileges === undefined) {
        throw new CommandError(ErrorCodes.BadValue, 'Missing expected field "privileges"');
      }
      if (command.roles === undefined)
        throw new CommandError(ErrorCodes.BadValue, 'Missing expected field "roles"');
      store.createRole({
        role,
        db: dbName,
        privileges: parsePrivileges(command.privileges),
        roles: parseRoleRefs(command.roles, dbName),
      });
      return { ok: 1 };
    },

    updateRole: (ctx) => {
      const { command, dbName } = ctx;
      const changes = {
        privileges: command.privileges === undefined ? undefined : parsePrivileges(command.privileges),
        roles: command.roles === undefined ? undefined : parseRoleRefs(command.roles, dbName),
      };
      if (changes.privileges === undefined && changes.roles === undefined) {
        throw new CommandError(
          ErrorCodes.BadValue,
          'Must specify at least one field to update in updateRole',
        );
      }
      store.updateRole(roleRefOf(ctx), changes);
      return { ok: 1 };
    },

    dropRole: (ctx) => {
      store.dropRole(roleRefOf(ctx));
      return { ok: 1 };
    },

    dropAllRolesFromDatabase: (ctx) => ({ n: store.dropAllRoles(ctx.dbName), ok: 1 }),

    grantPrivilegesToRole: (ctx) => {
      store.grantPrivilegesToRole(roleRefOf(ctx), parsePrivileges(ctx.command.privileges));
      return { ok: 1 };
    },

    revokePrivilegesFromRole: (ctx) => {
      store.revokePrivilegesFromRole(roleRefOf(ctx), parsePrivileges(ctx.command.privileges));
      return { ok: 1 };
    },

    grantRolesToRole: (ctx) => {
      store.grantRolesToRole(roleRefOf(ctx), parseRoleRefs(ctx.command.roles, ctx.dbName));
      return { ok: 1 };
    },

    revokeRolesFromRole: (ctx) => {
      store.revokeRolesFromRole(roleRefOf(ctx), parseRoleRefs(ctx.command.roles, ctx.dbName));
      return { ok: 1 };
    },

    rolesInfo: (ctx) => {
      const { command, dbName } = ctx;
      const spec = command.rolesInfo;
      let refs: RoleRef[];
      if (typeof spec !== 'string' && !Array.isArray(spec) && !isPlainObject(spec)) {
        // rolesInfo: 1 — the custom roles of this database, plus built-ins when asked.
        refs = store.listCustomRoles(dbName).map(({ role, db }) => ({ role, db }));
        if (isTruthy(command.showBuiltinRoles)) {
          refs.push(...builtinRoleNames(dbName).map((role) => ({ role, db: dbName })));
        }
      } else {
        refs = parseNameRefs(spec, 'role', dbName).map(({ name, db }) => ({ role: name, db }));
      }
      const roles = refs.map((ref) => describeRole(ref, command)).filter((role) => role !== undefined);
      return { roles, ok: 1 };
    },
  };
}
