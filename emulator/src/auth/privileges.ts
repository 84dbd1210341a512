// Privileges (a resource pattern plus actions) and mongod's rules for which held resource
// patterns cover a requested resource.

/**
 * A resource pattern as MongoDB writes it: `{db, collection}` (either may be '' as a wildcard:
 * `{db: 'x', collection: ''}` is every normal collection of x, `{db: '', collection: 'y'}` is y in
 * every database, `{db: '', collection: ''}` is every normal resource), `{cluster: true}`, or
 * `{anyResource: true}`.
 */
export type Resource = { db: string; collection: string } | { cluster: true } | { anyResource: true };

export interface Privilege {
  resource: Resource;
  actions: string[];
}

/** The pseudo action meaning "everything"; only `anyResource` privileges carry it. */
export const ANY_ACTION = 'anyAction';

export const CLUSTER: Resource = { cluster: true };
export const ANY_RESOURCE: Resource = { anyResource: true };
export const ANY_NORMAL_RESOURCE: Resource = { db: '', collection: '' };

export function namespaceResource(db: string, collection: string): Resource {
  return { db, collection };
}

export function databaseResource(db: string): Resource {
  return { db, collection: '' };
}

export function collectionNameResource(collection: string): Resource {
  return { db: '', collection };
}

export function resourceKey(resource: Resource): string {
  if ('cluster' in resource) return 'cluster';
  if ('anyResource' in resource) return 'anyResource';
  return `ns:${resource.db}\u0000${resource.collection}`;
}

/** Parses a resource document from a command (`createRole` privileges), or undefined if malformed. */
export function parseResource(document: unknown): Resource | undefined {
  if (typeof document !== 'object' || document === null) return undefined;
  const fields = document as Record<string, unknown>;
  if (fields.cluster === true) return CLUSTER;
  if (fields.anyResource === true) return ANY_RESOURCE;
  if (typeof fields.db === 'string' && typeof fields.collection === 'string') {
    return { db: fields.db, collection: fields.collection };
  }
  return undefined;
}

/** Collections mongod treats as special: not covered by database-wide or any-normal grants. */
export function isSystemCollection(collection: string): boolean {
  return collection.startsWith('system.');
}

/** `local` and `config` hold server state; wildcard "any normal resource" grants skip them. */
function isInternalDatabase(db: string): boolean {
  return db === 'local' || db === 'config';
}

/**
 * The held resource patterns that would cover `target`, most general first — the same search
 * list mongod's AuthorizationSession builds.
 */
export function coveringResourceKeys(target: Resource): string[] {
  const keys = [resourceKey(ANY_RESOURCE)];
  if ('db' in target) {
    const { db, collection } = target;
    if (db !== '' && collection !== '') {
      if (!isSystemCollection(collection)) {
        if (!isInternalDatabase(db)) keys.push(resourceKey(ANY_NORMAL_RESOURCE));
        keys.push(resourceKey(databaseResource(db)));
      }
      keys.push(resourceKey(collectionNameResource(collection)));
    } else if (db !== '' && collection === '') {
      if (!isInternalDatabase(db)) keys.push(resourceKey(ANY_NORMAL_RESOURCE));
    }
  }
  const own = resourceKey(target);
  if (!keys.includes(own)) keys.push(own);
  return keys;
}

/** Privileges folded into one action set per resource, for fast checks. */
export class PrivilegeSet {
  private readonly byResource = new Map<string, { resource: Resource; actions: Set<string> }>();

  constructor(privileges: Iterable<Privilege> = []) {
    for (const privilege of privileges) this.add(privilege);
  }

  add(privilege: Privilege): void {
    const key = resourceKey(privilege.resource);
    let entry = this.byResource.get(key);
    if (entry === undefined) {
      entry = { resource: privilege.resource, actions: new Set() };
      this.byResource.set(key, entry);
    }
    for (const action of privilege.actions) entry.actions.add(action);
  }

  addAll(privileges: Iterable<Privilege>): void {
    for (const privilege of privileges) this.add(privilege);
  }

  /** Whether every action of `required` is held on a pattern covering its resource. */
  covers(required: Privilege): boolean {
    const candidates = coveringResourceKeys(required.resource)
      .map((key) => this.byResource.get(key))
      .filter((entry) => entry !== undefined);
    return required.actions.every((action) =>
      candidates.some((entry) => entry.actions.has(action) || entry.actions.has(ANY_ACTION)),
    );
  }

  /** Whether any privilege at all applies inside database `db` (mongod's authorizedDatabases rule). */
  touchesDatabase(db: string): boolean {
    for (const { resource, actions } of this.byResource.values()) {
      if (actions.size === 0) continue;
      if ('anyResource' in resource) return true;
      if ('cluster' in resource) continue;
      if (resource.db === db) return true;
      if (resource.db === '' && (resource.collection !== '' || !isInternalDatabase(db))) return true;
    }
    return false;
  }

  toArray(): Privilege[] {
    return [...this.byResource.values()].map(({ resource, actions }) => ({
      resource: { ...resource },
      actions: [...actions].sort(),
    }));
  }
}
