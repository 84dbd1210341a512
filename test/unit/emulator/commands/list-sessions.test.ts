import { createHash } from 'node:crypto';
import { Binary } from 'bson';
import {
  leadingSessionsStage,
  sessionDocuments,
  sessionUid,
} from '../../../../emulator/src/commands/list-sessions';
import type { SessionState } from '../../../../emulator/src/sessions';

const session = (byte: number, owner?: { user: string; db: string }): SessionState => ({
  key: String(byte),
  lsid: { id: new Binary(Buffer.alloc(16, byte), 4) },
  lastUsed: 1000,
  owner,
  retryableReplies: new Map(),
  transaction: undefined,
});

describe('$listLocalSessions / $listSessions', () => {
  it('finds the leading stage only', () => {
    expect(leadingSessionsStage([{ $listLocalSessions: {} }, { $limit: 1 }])).toEqual({
      $listLocalSessions: {},
    });
    expect(leadingSessionsStage([{ $limit: 1 }, { $listLocalSessions: {} }])).toBeUndefined();
    expect(leadingSessionsStage('x')).toBeUndefined();
  });

  it('uses the SHA-256 of the owner name as uid (of "" without authentication)', () => {
    expect(Buffer.from(sessionUid(undefined).buffer).toString('hex')).toBe(
      createHash('sha256').digest('hex'),
    );
    expect(Buffer.from(sessionUid({ user: 'u', db: 'admin' }).buffer)).toEqual(
      createHash('sha256').update('u@admin').digest(),
    );
  });

  it("answers the caller's sessions, everyone's with allUsers, or the named users'", () => {
    const alice = { user: 'alice', db: 'admin' };
    const sessions = [session(1, alice), session(2), session(3, { user: 'bob', db: 'test' })];
    const docs = sessionDocuments({ $listLocalSessions: {} }, sessions, alice);
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ _id: { id: sessions[0].lsid.id }, user: { name: 'alice@admin' } });
    expect(docs[0].lastUse).toEqual(new Date(1000));
    expect(sessionDocuments({ $listLocalSessions: {} }, sessions, undefined)).toHaveLength(1);
    expect(sessionDocuments({ $listLocalSessions: { allUsers: true } }, sessions, undefined)).toHaveLength(3);
    expect(
      sessionDocuments({ $listSessions: { users: [{ user: 'bob', db: 'test' }] } }, sessions, undefined),
    ).toHaveLength(1);
    expect(() => sessionDocuments({ $listLocalSessions: { bogus: 1 } }, sessions, undefined)).toThrow(
      /unknown field/,
    );
  });
});
