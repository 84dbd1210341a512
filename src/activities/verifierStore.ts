// The verifier's state on the destination, in the sync's metadata database, so that memory stays
// flat in data size and a restarted worker continues where the last one stopped: the documents
// still to recheck (suspects), the log of confirmed mismatches, and how often each partition was
// hashed.
import { createHash } from 'node:crypto';
import { EJSON } from 'bson';
import { BSON, Timestamp, type Collection, type MongoClient } from 'mongodb';
import type { OperationTime } from './contract';
import { EXACT_TYPES } from './bsonOptions';
import { METADATA_DATABASE } from './namespaces';

export type MismatchKind = 'missing' | 'extra' | 'content' | 'metadata';

/**
 * - suspect: seen to differ or to change; not yet rechecked after the sync applied past it.
 * - differs: differed at a recheck; confirmed if it still differs once the source has not changed.
 * - repaired: confirmed and copied again from the source; rechecked once more.
 * - persists: differed again after its repair; blocks the commit.
 */
export type SuspectState = 'suspect' | 'differs' | 'repaired' | 'persists';

export interface Suspect {
  _id: string;
  ns: string;
  id: unknown;
  observedAt: Timestamp;
  state: SuspectState;
  /** Hash of the source's version (or its absence) at the last recheck. */
  sourceHash: string | null;
}

export interface MismatchRecord {
  _id: string;
  ns: string;
  /** The document's `_id` as canonical Extended JSON (never its contents). */
  id: string;
  kind: MismatchKind;
  foundAt: Date;
  repaired: boolean;
  /** Still differs after its repair: the commit waits for it. */
  persists: boolean;
}

export interface NamespacedId {
  ns: string;
  id: unknown;
  /** When it was seen to change (default: the batch's time). */
  at?: OperationTime;
}

const SUSPECTS = 'verifierSuspects';
const MISMATCHES = 'verifierMismatches';
const PARTITIONS = 'verifierPartitions';

/** One key per document of a namespace: the `_id`'s exact BSON, so every type stays distinct. */
export function documentKey(ns: string, id: unknown): string {
  return `${ns}\u0000${Buffer.from(BSON.serialize({ _id: id }, EXACT_TYPES)).toString('hex')}`;
}

/** A document version's fingerprint (its exact bytes: field order counts), or of its absence. */
export function versionHash(bytes: Uint8Array | null): string {
  return bytes === null ? 'absent' : createHash('sha256').update(bytes).digest('hex');
}

export function toTimestamp(time: OperationTime): Timestamp {
  return new Timestamp({ t: time.t, i: time.i });
}

export class VerifierStore {
  private readonly suspects: Collection<Suspect>;
  private readonly mismatches: Collection<MismatchRecord>;
  private readonly partitions: Collection<{ _id: string; reads: number; hashed?: number }>;

  constructor(destination: MongoClient) {
    const db = destination.db(METADATA_DATABASE);
    this.suspects = db.collection<Suspect>(SUSPECTS, EXACT_TYPES);
    this.mismatches = db.collection<MismatchRecord>(MISMATCHES, EXACT_TYPES);
    this.partitions = db.collection(PARTITIONS);
  }

  /** Marks documents for a recheck once the sync has applied past `observedAt` (the latest time wins). */
  async addSuspects(documents: NamespacedId[], observedAt: OperationTime): Promise<void> {
    if (documents.length === 0) return;
    await this.suspects.bulkWrite(
      documents.map(({ ns, id, at }) => ({
        updateOne: {
          filter: { _id: documentKey(ns, id) },
          update: {
            $setOnInsert: { ns, id, state: 'suspect' as SuspectState, sourceHash: null },
            $max: { observedAt: toTimestamp(at ?? observedAt) },
          },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  }

  /** Suspects observed at or before `appliedThrough` (all of them when null), oldest first. */
  async due(appliedThrough: OperationTime | null, limit: number): Promise<Suspect[]> {
    const filter = appliedThrough === null ? {} : { observedAt: { $lte: toTimestamp(appliedThrough) } };
    return this.suspects.find(filter, { batchSize: limit }).sort({ observedAt: 1 }).limit(limit).toArray();
  }

  /** Every suspect after `afterKey`, in key order (the final pass). */
  async page(afterKey: string, limit: number): Promise<Suspect[]> {
    return this.suspects
      .find({ _id: { $gt: afterKey } }, { batchSize: limit })
      .sort({ _id: 1 })
      .limit(limit)
      .toArray();
  }

  async update(suspect: Suspect, changes: Partial<Suspect>): Promise<void> {
    await this.suspects.updateOne({ _id: suspect._id }, { $set: changes });
  }

  /** Settles suspects found equal on both sides (one delete, one log update). */
  async resolveAll(suspects: Suspect[]): Promise<void> {
    if (suspects.length === 0) return;
    await this.suspects.deleteMany({ _id: { $in: suspects.map((suspect) => suspect._id) } });
    const logged = suspects.filter((s) => s.state === 'repaired' || s.state === 'persists').map((s) => s._id);
    if (logged.length > 0)
      await this.mismatches.updateMany({ _id: { $in: logged } }, { $set: { persists: false } });
  }

  async updateAll(changes: Array<{ suspect: Suspect; changes: Partial<Suspect> }>): Promise<void> {
    if (changes.length === 0) return;
    await this.suspects.bulkWrite(
      changes.map(({ suspect, changes: set }) => ({
        updateOne: { filter: { _id: suspect._id }, update: { $set: set } },
      })),
      { ordered: false },
    );
  }

  async resolve(suspect: Suspect): Promise<void> {
    await this.suspects.deleteOne({ _id: suspect._id });
    if (suspect.state === 'repaired' || suspect.state === 'persists')
      await this.mismatches.updateOne({ _id: suspect._id }, { $set: { persists: false } });
  }

  async logMismatch(suspect: Suspect, kind: MismatchKind, repaired: boolean): Promise<void> {
    await this.mismatches.updateOne(
      { _id: suspect._id },
      {
        $set: { ns: suspect.ns, id: EJSON.stringify(suspect.id, { relaxed: false }), kind, repaired },
        $setOnInsert: { foundAt: new Date(), persists: false },
      },
      { upsert: true },
    );
  }

  async logMetadataMismatch(ns: string, what: string, repaired: boolean, persists: boolean): Promise<void> {
    const key = `${ns}\u0000metadata:${what}`;
    await this.mismatches.updateOne(
      { _id: key },
      {
        $set: { ns, id: what, kind: 'metadata' as MismatchKind, repaired, persists },
        $setOnInsert: { foundAt: new Date() },
      },
      { upsert: true },
    );
  }

  async markPersists(suspect: Suspect): Promise<void> {
    await this.mismatches.updateOne({ _id: suspect._id }, { $set: { persists: true } });
  }

  async counts(): Promise<{ open: number; persisting: number; found: number; repaired: number }> {
    const [open, persistingSuspects, found, repaired, persistingMetadata] = await Promise.all([
      this.suspects.countDocuments({}),
      this.suspects.countDocuments({ state: 'persists' }),
      this.mismatches.countDocuments({}),
      this.mismatches.countDocuments({ repaired: true }),
      this.mismatches.countDocuments({ kind: 'metadata', persists: true }),
    ]);
    // Counts come back typed exactly (Int32) from these collections' options: plain numbers out.
    return {
      open: Number(open),
      persisting: Number(persistingSuspects) + Number(persistingMetadata),
      found: Number(found),
      repaired: Number(repaired),
    };
  }

  /** The first mismatches found (oldest first), for the API: namespace, `_id` and kind only. */
  async firstMismatches(limit: number): Promise<MismatchRecord[]> {
    return this.mismatches.find({}).sort({ foundAt: 1, _id: 1 }).limit(limit).toArray();
  }

  async persisting(limit: number): Promise<MismatchRecord[]> {
    return this.mismatches.find({ persists: true }).sort({ foundAt: 1 }).limit(limit).toArray();
  }

  /** Counts a partition's hashing pass (a crash test asserts hashed partitions are not read again). */
  async countPartitionRead(partitionId: string): Promise<void> {
    await this.partitions.updateOne({ _id: partitionId }, { $inc: { reads: 1 } }, { upsert: true });
  }

  /** Counts a partition's hashing pass that reached its end. */
  async countPartitionHashed(partitionId: string): Promise<void> {
    await this.partitions.updateOne({ _id: partitionId }, { $inc: { hashed: 1 } }, { upsert: true });
  }
}

/** The verifier's collections, for tests and operators: what a reset or a new sync starts without. */
export const VERIFIER_COLLECTIONS = [SUSPECTS, MISMATCHES, PARTITIONS] as const;
