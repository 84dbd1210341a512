// Users and custom roles as mongod stores them in admin.system.users and admin.system.roles
// (docs: reference/system-users-collection, reference/system-roles-collection).
import { type Document, Int32 } from 'bson';
import type { Resource } from './privileges';
import { SCRAM_MECHANISMS } from './scram';
import { type CustomRole, type StoredUser, roleKey, userKey } from './user-store';

/** One admin.system.users document: `_id` "<db>.<user>", userId, user, db, credentials, roles, customData. */
export function systemUserDocument(user: StoredUser): Document {
  const credentials: Document = {};
  for (const mechanism of SCRAM_MECHANISMS) {
    const credential = user.credentials[mechanism];
    if (!credential) continue;
    credentials[mechanism] = {
      iterationCount: new Int32(credential.iterationCount),
      salt: credential.salt,
      storedKey: credential.storedKey,
      serverKey: credential.serverKey,
    };
  }
  const doc: Document = {
    _id: userKey(user.user, user.db),
    userId: user.userId,
    user: user.user,
    db: user.db,
    credentials,
    roles: user.roles.map(({ role, db }) => ({ role, db })),
  };
  if (user.customData !== undefined) doc.customData = user.customData;
  return doc;
}

function resourceDocument(resource: Resource): Document {
  if ('cluster' in resource) return { cluster: true };
  if ('anyResource' in resource) return { anyResource: true };
  return { db: resource.db, collection: resource.collection };
}

/** One admin.system.roles document: `_id` "<db>.<role>", role, db, privileges, roles. */
export function systemRoleDocument(role: CustomRole): Document {
  return {
    _id: roleKey(role),
    role: role.role,
    db: role.db,
    privileges: role.privileges.map((privilege) => ({
      resource: resourceDocument(privilege.resource),
      actions: [...privilege.actions],
    })),
    roles: role.roles.map(({ role: name, db }) => ({ role: name, db })),
  };
}
