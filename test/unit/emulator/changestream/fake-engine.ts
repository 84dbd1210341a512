// Shared by the change-stream tests: a stand-in for the server core over a real history, and
// helpers to open streams on it and read them.
import { type Document, Long, Timestamp, UUID } from 'bson';
import { openChangeStream, type ChangeStreamEngine } from '../../../../emulator/src/changestream';
import type { CommandContext } from '../../../../emulator/src/commands/context';
import type { CursorSource } from '../../../../emulator/src/cursor';
import { CommandError } from '../../../../emulator/src/errors';
import { Oplog, type OplogEntry } from '../../../../emulator/src/oplog';
import {
  encodeResumeToken,
  entryToken,
  type ResumeToken,
} from '../../../../emulator/src/changestream/resume-token';

/** A stand-in for the server core: a real history, a clock and a document store. */
export class FakeEngine implements ChangeStreamEngine {
  readonly oplog: Oplog;
  isReplicaSet = true;
  readonly documents = new Map<string, Document>();
  private clock = new Timestamp({ t: 1_700_000_000, i: 0 });

  constructor(maxBytes = 1 << 30) {
    this.oplog = new Oplog(maxBytes);
  }

  latestClusterTime(): Timestamp {
    return this.clock;
  }

  lookupDocument(db: string, coll: string, documentKey: Document): Document | undefined {
    return this.documents.get(`${db}.${coll}.${String(documentKey._id)}`);
  }

  tick(): Timestamp {
    this.clock = new Timestamp({ t: this.clock.t, i: this.clock.i + 1 });
    return this.clock;
  }

  append(entry: Omit<OplogEntry, 'ts' | 'wallTime' | 'size'> & { size?: number }): Timestamp {
    const ts = this.tick();
    this.oplog.append({ size: 100, ...entry, ts, wallTime: new Date(1_700_000_000_000) });
    return ts;
  }

  appendTransaction(
    entries: Array<Omit<OplogEntry, 'ts' | 'wallTime' | 'size'>>,
    lsid: Document,
    txnNumber: Long,
  ): Timestamp {
    const ts = this.tick();
    entries.forEach((entry, txnOpIndex) =>
      this.oplog.append({
        size: 100,
        ...entry,
        ts,
        wallTime: new Date(1_700_000_000_000),
        lsid,
        txnNumber,
        txnOpIndex,
      }),
    );
    return ts;
  }
}

export const uuidA = new UUID();
export const uuidB = new UUID();

export function insert(
  db: string,
  coll: string,
  doc: Document,
  uuid = uuidA,
): Omit<OplogEntry, 'ts' | 'wallTime' | 'size'> {
  return { op: 'insert', db, coll, uuid, documentKey: { _id: doc._id }, postImage: doc };
}

export function open(
  engine: FakeEngine,
  stage: Document,
  scope: { db?: string; coll?: string } = { db: 'app', coll: 'users' },
  rest: Document[] = [],
): CursorSource {
  const ctx = { engine, transaction: undefined } as unknown as CommandContext;
  return openChangeStream(ctx, stage, rest, scope);
}

export async function drain(source: CursorSource, batchSize?: number): Promise<Document[]> {
  const batch = await source.next(batchSize, 0);
  return batch.docs as Document[];
}

export async function errorOfNext(source: CursorSource): Promise<CommandError> {
  try {
    await source.next(10, 0);
  } catch (error) {
    if (error instanceof CommandError) return error;
    throw error;
  }
  throw new Error('expected a CommandError');
}

/** A v2 event token, as mongod writes it, for an insert of `_id` into app.users (uuidA) at `ts`. */
export function insertToken(ts: Timestamp, id: unknown, txnOpIndex = 0, uuid: UUID = uuidA): ResumeToken {
  return encodeResumeToken({
    clusterTime: ts,
    version: 2,
    kind: 'event',
    txnOpIndex,
    uuid,
    eventIdentifier: { operationType: 'insert', documentKey: { _id: id } },
  });
}

/** The token the stream gives the newest entry's event. */
export function newestToken(engine: FakeEngine): ResumeToken {
  return entryToken(engine.oplog.newest() as OplogEntry, 2);
}

export function errorOf(fn: () => unknown): CommandError {
  try {
    fn();
  } catch (error) {
    if (error instanceof CommandError) return error;
    throw error;
  }
  throw new Error('expected a CommandError');
}
