// The emulator's access control: users and roles in memory, SCRAM authentication, and the
// per-command authorization check the server core runs before every command.
import type { Document } from 'bson';
import type { CommandContext, CommandTable, ConnectionState } from '../commands/context';
import { CommandError, ErrorCodes } from '../errors';
import { formatCommandForError } from './format';
import { CLUSTER, type Privilege, PrivilegeSet } from './privileges';
import { ROOT_ONLY, UNAUTHENTICATED_COMMANDS, requiredPrivileges } from './required-privileges';
import { SaslService } from './sasl';
import { systemRoleDocument, systemUserDocument } from './system-collections';
import { DEFAULT_ITERATIONS, SCRAM_MECHANISMS, type ScramMechanism } from './scram';
import { userManagementCommands } from './user-commands';
import { type ResolvedRoles, type RoleRef, UserStore, roleKey } from './user-store';
import { isPlainObject, isTruthy } from './values';

export { requiredPrivileges, UNAUTHENTICATED_COMMANDS, ROOT_ONLY } from './required-privileges';
export type { RequiredPrivileges } from './required-privileges';
export type { Privilege, Resource } from './privileges';
export { PrivilegeSet } from './privileges';

export interface AuthOptions {
  enabled: boolean;
  rootUser?: string;
  rootPassword?: string;
  /** PBKDF2 iteration counts for new credentials (mongod: 10000 SHA-1, 15000 SHA-256; drivers refuse < 4096). */
  scramIterations?: Partial<Record<ScramMechanism, number>>;
}

interface ConnectionAuthority {
  roles: RoleRef[];
  privileges: PrivilegeSet;
  /** root (or the internal role): may run the commands reserved for root. */
  isRoot: boolean;
}

const ROOT_ROLE_KEYS = new Set(['admin.root', 'admin.__system']);

export class AuthManager {
  readonly enabled: boolean;
  readonly commands: CommandTable;
  private readonly store: UserStore;
  private readonly sasl: SaslService;
  private readonly authorityCache = new Map<string, { generation: number; authority: ConnectionAuthority }>();

  constructor(options: AuthOptions) {
    this.enabled = options.enabled;
    const iterations = { ...DEFAULT_ITERATIONS, ...options.scramIterations };
    this.store = new UserStore((mechanism) => iterations[mechanism]);
    this.sasl = new SaslService(this.store);
    if (this.enabled) {
      if (options.rootUser === undefined || options.rootPassword === undefined) {
        throw new Error('Auth is enabled but no rootUser/rootPassword was given');
      }
      this.store.createUser({
        user: options.rootUser,
        db: 'admin',
        password: options.rootPassword,
        roles: [{ role: 'root', db: 'admin' }],
        mechanisms: [...SCRAM_MECHANISMS],
      });
    }
    this.commands = {
      saslStart: (ctx) => this.sasl.start(ctx.conn, ctx.dbName, ctx.command),
      saslContinue: (ctx) => this.sasl.continue(ctx.conn, ctx.dbName, ctx.command),
      logout: (ctx) => {
        ctx.conn.principals = ctx.conn.principals.filter((principal) => principal.db !== ctx.dbName);
        return { ok: 1 };
      },
      connectionStatus: (ctx) => ({ authInfo: this.connectionAuthInfo(ctx.conn, ctx.command), ok: 1 }),
      ...userManagementCommands(this.store),
    };
  }

  supportedMechanisms(userSpec: string): string[] | undefined {
    return this.sasl.supportedMechanisms(userSpec);
  }

  speculativeAuthenticate(conn: ConnectionState, request: Document): Document | undefined {
    return this.sasl.speculativeStart(conn, request);
  }

  authorize(ctx: CommandContext): void {
    if (!this.enabled) return;
    const { conn, commandName, dbName, command } = ctx;
    if (conn.principals.length === 0) {
      if (UNAUTHENTICATED_COMMANDS.has(commandName)) return;
      throw new CommandError(ErrorCodes.Unauthorized, `Command ${commandName} requires authentication`);
    }
    const authority = this.authorityOf(conn);
    const alternatives = requiredPrivileges(commandName, dbName, command);
    if (alternatives.some((privileges) => privileges.every((p) => this.holds(authority, p)))) return;
    if (this.isSelfInspection(conn, authority, commandName, dbName, command)) return;
    throw new CommandError(
      ErrorCodes.Unauthorized,
      `not authorized on ${dbName} to execute command ${formatCommandForError(command, dbName)}`,
    );
  }

  hasClusterAction(conn: ConnectionState, action: string): boolean {
    if (!this.enabled) return true;
    return this.holds(this.authorityOf(conn), { resource: CLUSTER, actions: [action] });
  }

  /** The documents of admin.system.users or admin.system.roles, as mongod stores them, in `_id` order. */
  systemCollectionDocuments(name: 'system.users' | 'system.roles'): Document[] {
    return name === 'system.users'
      ? this.store.listUsers().map(systemUserDocument)
      : this.store.listCustomRoles().map(systemRoleDocument);
  }

  /** Whether any user exists (mongod writes the authSchema document with the first user). */
  get hasUsers(): boolean {
    return this.store.listUsers().length > 0;
  }

  privilegesOf(conn: ConnectionState): Privilege[] {
    return this.authorityOf(conn).privileges.toArray();
  }

  visibleDatabases(conn: ConnectionState, allDatabases: string[]): string[] | undefined {
    if (!this.enabled) return undefined;
    const authority = this.authorityOf(conn);
    if (this.holds(authority, { resource: CLUSTER, actions: ['listDatabases'] })) return undefined;
    return allDatabases.filter((db) => authority.privileges.touchesDatabase(db));
  }

  /** ROOT_ONLY is met by holding root itself, since root's privilege list lacks `anyAction`. */
  private holds(authority: ConnectionAuthority, privilege: Privilege): boolean {
    if (privilege === ROOT_ONLY) return authority.isRoot || authority.privileges.covers(privilege);
    return authority.privileges.covers(privilege);
  }

  /** Users may always look at their own user document and the roles they hold (as in mongod). */
  private isSelfInspection(
    conn: ConnectionState,
    authority: ConnectionAuthority,
    commandName: string,
    dbName: string,
    command: Document,
  ): boolean {
    if (commandName !== 'usersInfo' && commandName !== 'rolesInfo') return false;
    const field = commandName === 'usersInfo' ? 'user' : 'role';
    const spec = command[commandName];
    const entries: unknown[] = Array.isArray(spec) ? spec : [spec];
    if (entries.length === 0) return false;
    const heldRoles = new Set(authority.roles.map(roleKey));
    return entries.every((entry) => {
      const name = typeof entry === 'string' ? entry : isPlainObject(entry) ? entry[field] : undefined;
      const db = isPlainObject(entry) && typeof entry.db === 'string' ? entry.db : dbName;
      if (typeof name !== 'string') return false;
      if (field === 'user') return conn.principals.some((p) => p.user === name && p.db === db);
      return heldRoles.has(roleKey({ role: name, db }));
    });
  }

  private connectionAuthInfo(conn: ConnectionState, command: Document): Document {
    const authority = this.authorityOf(conn);
    const authInfo: Document = {
      authenticatedUsers: conn.principals.map(({ user, db }) => ({ user, db })),
      authenticatedUserRoles: authority.roles.map(({ role, db }) => ({ role, db })),
    };
    if (isTruthy(command.showPrivileges))
      authInfo.authenticatedUserPrivileges = authority.privileges.toArray();
    return authInfo;
  }

  /** The roles and privileges of the connection's users, cached until users or roles change. */
  private authorityOf(conn: ConnectionState): ConnectionAuthority {
    const cacheKey = conn.principals.map(({ user, db }) => `${db}.${user}`).join('\u0000');
    const cached = this.authorityCache.get(cacheKey);
    if (cached !== undefined && cached.generation === this.store.generation) return cached.authority;
    const startingRoles = conn.principals.flatMap(
      ({ user, db }) => this.store.getUser(user, db)?.roles ?? [],
    );
    const resolved: ResolvedRoles = this.store.resolveRoles(startingRoles);
    const authority: ConnectionAuthority = {
      roles: resolved.roles,
      privileges: resolved.privileges,
      isRoot: resolved.roles.some((ref) => ROOT_ROLE_KEYS.has(roleKey(ref))),
    };
    if (this.authorityCache.size > 1000) this.authorityCache.clear();
    this.authorityCache.set(cacheKey, { generation: this.store.generation, authority });
    return authority;
  }
}
