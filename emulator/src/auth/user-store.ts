// In-memory users and custom roles, and role-graph resolution (inherited roles and privileges).
import { UUID, type Document } from 'bson';
import { CommandError, ErrorCodes } from '../errors';
import { builtinRolePrivileges, isBuiltinRole, isBuiltinRoleName } from './builtin-roles';
import { type Privilege, PrivilegeSet, parseResource } from './privileges';
import { type ScramCredential, type ScramMechanism, deriveScramCredential } from './scram';
import { isPlainObject } from './values';

export interface RoleRef {
  role: string;
  db: string;
}

export interface StoredUser {
  userId: UUID;
  user: string;
  db: string;
  roles: RoleRef[];
  customData?: Document;
  credentials: Partial<Record<ScramMechanism, ScramCredential>>;
}

export interface CustomRole {
  role: string;
  db: string;
  privileges: Privilege[];
  roles: RoleRef[];
}

export interface ResolvedRoles {
  /** Every role reachable from the starting roles (including them), in discovery order. */
  roles: RoleRef[];
  privileges: PrivilegeSet;
}

export function roleKey(ref: RoleRef): string {
  return `${ref.db}.${ref.role}`;
}

export function userKey(user: string, db: string): string {
  return `${db}.${user}`;
}

/** Parses role references: `{role, db}` documents, or bare names meaning `defaultDb`. */
export function parseRoleRefs(value: unknown, defaultDb: string): RoleRef[] {
  if (!Array.isArray(value)) throw new CommandError(ErrorCodes.BadValue, '"roles" must be an array');
  return value.map((entry) => {
    if (typeof entry === 'string') return { role: entry, db: defaultDb };
    if (isPlainObject(entry) && typeof entry.role === 'string' && typeof entry.db === 'string') {
      return { role: entry.role, db: entry.db };
    }
    throw new CommandError(
      ErrorCodes.BadValue,
      'Role names must be strings or {role: <name>, db: <db>} documents',
    );
  });
}

export function parsePrivileges(value: unknown): Privilege[] {
  if (!Array.isArray(value)) throw new CommandError(ErrorCodes.BadValue, '"privileges" must be an array');
  return value.map((entry) => {
    const resource = isPlainObject(entry) ? parseResource(entry.resource) : undefined;
    const actions = isPlainObject(entry) ? entry.actions : undefined;
    if (resource === undefined || !Array.isArray(actions) || !actions.every((a) => typeof a === 'string')) {
      throw new CommandError(
        ErrorCodes.BadValue,
        'Privileges must be {resource: <resource>, actions: [<action>...]}',
      );
    }
    return { resource, actions: [...new Set(actions as string[])] };
  });
}

function uniqueRefs(refs: RoleRef[]): RoleRef[] {
  const seen = new Map<string, RoleRef>();
  for (const ref of refs) seen.set(roleKey(ref), ref);
  return [...seen.values()];
}

export class UserStore {
  private readonly users = new Map<string, StoredUser>();
  private readonly customRoles = new Map<string, CustomRole>();
  /** Bumped on every change so callers can cache resolved privileges. */
  generation = 0;

  constructor(private readonly iterationsFor: (mechanism: ScramMechanism) => number) {}

  // ---- users ----

  getUser(user: string, db: string): StoredUser | undefined {
    return this.users.get(userKey(user, db));
  }

  requireUser(user: string, db: string): StoredUser {
    const stored = this.getUser(user, db);
    if (stored === undefined)
      throw new CommandError(ErrorCodes.UserNotFound, `Could not find user "${user}" for db "${db}"`);
    return stored;
  }

  listUsers(): StoredUser[] {
    return [...this.users.values()].sort((a, b) =>
      userKey(a.user, a.db).localeCompare(userKey(b.user, b.db)),
    );
  }

  createUser(spec: {
    user: string;
    db: string;
    password: string;
    roles: RoleRef[];
    mechanisms: ScramMechanism[];
    customData?: Document;
  }): StoredUser {
    if (this.users.has(userKey(spec.user, spec.db))) {
      throw new CommandError(51003, `User "${spec.user}@${spec.db}" already exists`, {
        codeName: 'Location51003',
      });
    }
    this.requireRolesExist(spec.roles);
    const user: StoredUser = {
      userId: new UUID(),
      user: spec.user,
      db: spec.db,
      roles: uniqueRefs(spec.roles),
      customData: spec.customData,
      credentials: this.deriveCredentials(spec.user, spec.password, spec.mechanisms),
    };
    this.users.set(userKey(spec.user, spec.db), user);
    this.generation++;
    return user;
  }

  updateUser(
    user: string,
    db: string,
    changes: { password?: string; roles?: RoleRef[]; mechanisms?: ScramMechanism[]; customData?: Document },
  ): void {
    const stored = this.requireUser(user, db);
    if (changes.roles !== undefined) {
      this.requireRolesExist(changes.roles);
      stored.roles = uniqueRefs(changes.roles);
    }
    if (changes.customData !== undefined) stored.customData = changes.customData;
    const mechanisms = changes.mechanisms ?? (Object.keys(stored.credentials) as ScramMechanism[]);
    if (changes.password !== undefined) {
      stored.credentials = this.deriveCredentials(user, changes.password, mechanisms);
    } else if (changes.mechanisms !== undefined) {
      // Without a new password, mechanisms can only be narrowed (mongod's rule).
      for (const mechanism of Object.keys(stored.credentials) as ScramMechanism[]) {
        if (!mechanisms.includes(mechanism)) delete stored.credentials[mechanism];
      }
      if (Object.keys(stored.credentials).length === 0) {
        throw new CommandError(
          ErrorCodes.BadValue,
          'mechanisms field must be a subset of previously set mechanisms',
        );
      }
    }
    this.generation++;
  }

  grantRolesToUser(user: string, db: string, roles: RoleRef[]): void {
    const stored = this.requireUser(user, db);
    this.requireRolesExist(roles);
    stored.roles = uniqueRefs([...stored.roles, ...roles]);
    this.generation++;
  }

  revokeRolesFromUser(user: string, db: string, roles: RoleRef[]): void {
    const stored = this.requireUser(user, db);
    this.requireRolesExist(roles);
    const revoked = new Set(roles.map(roleKey));
    stored.roles = stored.roles.filter((ref) => !revoked.has(roleKey(ref)));
    this.generation++;
  }

  dropUser(user: string, db: string): void {
    if (!this.users.delete(userKey(user, db))) {
      throw new CommandError(ErrorCodes.UserNotFound, `User '${user}@${db}' not found`);
    }
    this.generation++;
  }

  dropAllUsers(db: string): number {
    let removed = 0;
    for (const [key, user] of this.users) {
      if (user.db === db) {
        this.users.delete(key);
        removed++;
      }
    }
    this.generation++;
    return removed;
  }

  private deriveCredentials(
    user: string,
    password: string,
    mechanisms: ScramMechanism[],
  ): StoredUser['credentials'] {
    const credentials: StoredUser['credentials'] = {};
    for (const mechanism of mechanisms) {
      credentials[mechanism] = deriveScramCredential(mechanism, user, password, {
        iterationCount: this.iterationsFor(mechanism),
      });
    }
    return credentials;
  }

  // ---- roles ----

  roleExists(ref: RoleRef): boolean {
    return isBuiltinRole(ref.role, ref.db) || this.customRoles.has(roleKey(ref));
  }

  getCustomRole(ref: RoleRef): CustomRole | undefined {
    return this.customRoles.get(roleKey(ref));
  }

  listCustomRoles(db?: string): CustomRole[] {
    return [...this.customRoles.values()]
      .filter((role) => db === undefined || role.db === db)
      .sort((a, b) => roleKey(a).localeCompare(roleKey(b)));
  }

  requireRolesExist(roles: RoleRef[]): void {
    for (const ref of roles) {
      if (!this.roleExists(ref)) {
        throw new CommandError(ErrorCodes.RoleNotFound, `Could not find role: ${ref.role}@${ref.db}`);
      }
    }
  }

  private requireCustomRole(ref: RoleRef): CustomRole {
    const role = this.customRoles.get(roleKey(ref));
    if (role !== undefined) return role;
    if (isBuiltinRole(ref.role, ref.db)) {
      throw new CommandError(ErrorCodes.BadValue, `Cannot modify built-in role: ${ref.role}@${ref.db}`);
    }
    throw new CommandError(ErrorCodes.RoleNotFound, `Could not find role: ${ref.role}@${ref.db}`);
  }

  createRole(spec: CustomRole): void {
    if (isBuiltinRoleName(spec.role)) {
      throw new CommandError(
        ErrorCodes.BadValue,
        `Cannot create roles with the same name as a built-in role`,
      );
    }
    if (this.customRoles.has(roleKey(spec))) {
      throw new CommandError(51002, `Role "${spec.role}@${spec.db}" already exists`, {
        codeName: 'Location51002',
      });
    }
    this.validatePrivilegesForRoleDb(spec.db, spec.privileges);
    this.requireRolesExist(spec.roles);
    const role: CustomRole = {
      ...spec,
      roles: uniqueRefs(spec.roles),
      privileges: new PrivilegeSet(spec.privileges).toArray(),
    };
    this.requireAcyclic(role, role.roles);
    this.customRoles.set(roleKey(role), role);
    this.generation++;
  }

  updateRole(ref: RoleRef, changes: { privileges?: Privilege[]; roles?: RoleRef[] }): void {
    const role = this.requireCustomRole(ref);
    if (changes.privileges !== undefined) {
      this.validatePrivilegesForRoleDb(role.db, changes.privileges);
      role.privileges = new PrivilegeSet(changes.privileges).toArray();
    }
    if (changes.roles !== undefined) {
      this.requireRolesExist(changes.roles);
      const roles = uniqueRefs(changes.roles);
      this.requireAcyclic(role, roles);
      role.roles = roles;
    }
    this.generation++;
  }

  grantPrivilegesToRole(ref: RoleRef, privileges: Privilege[]): void {
    const role = this.requireCustomRole(ref);
    this.validatePrivilegesForRoleDb(role.db, privileges);
    role.privileges = new PrivilegeSet([...role.privileges, ...privileges]).toArray();
    this.generation++;
  }

  revokePrivilegesFromRole(ref: RoleRef, privileges: Privilege[]): void {
    const role = this.requireCustomRole(ref);
    const remaining = new PrivilegeSet(role.privileges).toArray();
    const revoked = new PrivilegeSet(privileges).toArray();
    role.privileges = remaining
      .map((held) => {
        const match = revoked.find((r) => JSON.stringify(r.resource) === JSON.stringify(held.resource));
        return match === undefined
          ? held
          : { ...held, actions: held.actions.filter((a) => !match.actions.includes(a)) };
      })
      .filter((privilege) => privilege.actions.length > 0);
    this.generation++;
  }

  grantRolesToRole(ref: RoleRef, roles: RoleRef[]): void {
    const role = this.requireCustomRole(ref);
    this.requireRolesExist(roles);
    const combined = uniqueRefs([...role.roles, ...roles]);
    this.requireAcyclic(role, combined);
    role.roles = combined;
    this.generation++;
  }

  revokeRolesFromRole(ref: RoleRef, roles: RoleRef[]): void {
    const role = this.requireCustomRole(ref);
    const revoked = new Set(roles.map(roleKey));
    role.roles = role.roles.filter((held) => !revoked.has(roleKey(held)));
    this.generation++;
  }

  /** Drops a custom role and, as mongod does, removes it from every user and role holding it. */
  dropRole(ref: RoleRef): void {
    this.requireCustomRole(ref);
    this.customRoles.delete(roleKey(ref));
    const key = roleKey(ref);
    for (const user of this.users.values()) user.roles = user.roles.filter((held) => roleKey(held) !== key);
    for (const role of this.customRoles.values())
      role.roles = role.roles.filter((held) => roleKey(held) !== key);
    this.generation++;
  }

  dropAllRoles(db: string): number {
    const dropped = this.listCustomRoles(db);
    for (const role of dropped) this.dropRole(role);
    return dropped.length;
  }

  /** Non-admin roles may only grant privileges inside their own database. */
  private validatePrivilegesForRoleDb(db: string, privileges: Privilege[]): void {
    if (db === 'admin') return;
    for (const { resource } of privileges) {
      if (!('db' in resource) || resource.db !== db) {
        throw new CommandError(
          ErrorCodes.BadValue,
          `Roles on the '${db}' database cannot be granted privileges that target other databases or the cluster`,
        );
      }
    }
  }

  private requireAcyclic(role: RoleRef, subordinates: RoleRef[]): void {
    const target = roleKey(role);
    const pending = [...subordinates];
    const seen = new Set<string>();
    while (pending.length > 0) {
      const next = pending.pop()!;
      const key = roleKey(next);
      if (key === target) {
        throw new CommandError(
          ErrorCodes.BadValue,
          `Granting roles to ${role.role}@${role.db} would introduce a cycle in the role graph`,
        );
      }
      if (seen.has(key)) continue;
      seen.add(key);
      pending.push(...(this.customRoles.get(key)?.roles ?? []));
    }
  }

  /** Follows role inheritance from `start` and folds every reached role's privileges. */
  resolveRoles(start: RoleRef[]): ResolvedRoles {
    const roles: RoleRef[] = [];
    const privileges = new PrivilegeSet();
    const seen = new Set<string>();
    const pending = [...start];
    while (pending.length > 0) {
      const ref = pending.shift()!;
      const key = roleKey(ref);
      if (seen.has(key)) continue;
      seen.add(key);
      const builtin = builtinRolePrivileges(ref.role, ref.db);
      if (builtin !== undefined) {
        roles.push({ role: ref.role, db: ref.db });
        privileges.addAll(builtin);
        continue;
      }
      const custom = this.customRoles.get(key);
      if (custom === undefined) continue; // a dangling reference grants nothing
      roles.push({ role: ref.role, db: ref.db });
      privileges.addAll(custom.privileges);
      pending.push(...custom.roles);
    }
    return { roles, privileges };
  }
}
