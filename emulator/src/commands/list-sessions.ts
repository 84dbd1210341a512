// $listLocalSessions ({aggregate: 1} on any database) and $listSessions (on config.system.sessions):
// the logical sessions the server knows, one document each, shaped as mongod's session records:
// `_id: {id, uid}` (uid: SHA-256 of the owner's "user@db", of "" without authentication),
// `lastUse`, and `user: {name}` for an authenticated owner.
import { createHash } from 'node:crypto';
import { type Document, Binary } from 'bson';
import { CommandError, ErrorCodes } from '../errors';
import type { SessionState } from '../sessions';
import type { Principal } from './context';

export const SESSION_STAGES = new Set(['$listLocalSessions', '$listSessions']);

/** The pipeline's leading $listLocalSessions / $listSessions stage, if it has one. */
export function leadingSessionsStage(pipeline: unknown): Document | undefined {
  if (!Array.isArray(pipeline) || pipeline.length === 0) return undefined;
  const first = pipeline[0] as unknown;
  if (!first || typeof first !== 'object' || Array.isArray(first)) return undefined;
  const names = Object.keys(first);
  return names.length === 1 && SESSION_STAGES.has(names[0]) ? (first as Document) : undefined;
}

export function ownerName(owner: Principal | undefined): string {
  return owner ? `${owner.user}@${owner.db}` : '';
}

/** mongod's session `uid`: the SHA-256 digest of the owner's unambiguous name. */
export function sessionUid(owner: Principal | undefined): Binary {
  return new Binary(createHash('sha256').update(ownerName(owner)).digest());
}

/**
 * Which owners a stage's spec selects: `{}` the caller's sessions, `allUsers: true` everyone's,
 * `users: [{user, db}]` those users'.
 */
export function ownerFilter(
  stageName: string,
  spec: unknown,
  caller: Principal | undefined,
): (owner: Principal | undefined) => boolean {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec))
    throw new CommandError(ErrorCodes.TypeMismatch, `${stageName} options must be specified in an object`);
  const options = spec as Document;
  for (const key of Object.keys(options))
    if (key !== 'allUsers' && key !== 'users')
      throw new CommandError(40415, `BSON field '${stageName}.${key}' is an unknown field.`);
  if (options.allUsers === true) {
    if (options.users !== undefined)
      throw new CommandError(ErrorCodes.InvalidOptions, `${stageName} may not specify allUsers and users`);
    return () => true;
  }
  if (Array.isArray(options.users)) {
    const names = new Set((options.users as Document[]).map((u) => `${String(u.user)}@${String(u.db)}`));
    return (owner) => names.has(ownerName(owner));
  }
  const mine = ownerName(caller);
  return (owner) => ownerName(owner) === mine;
}

/** The session documents the stage answers, for the sessions the filter selects. */
export function sessionDocuments(
  stage: Document,
  sessions: Iterable<SessionState>,
  caller: Principal | undefined,
): Document[] {
  const [name] = Object.keys(stage);
  const selects = ownerFilter(name, stage[name], caller);
  const out: Document[] = [];
  for (const session of sessions) {
    if (!selects(session.owner)) continue;
    const doc: Document = {
      _id: { id: session.lsid.id, uid: sessionUid(session.owner) },
      lastUse: new Date(session.lastUsed),
    };
    if (session.owner) doc.user = { name: ownerName(session.owner) };
    out.push(doc);
  }
  return out;
}
