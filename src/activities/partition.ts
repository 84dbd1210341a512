import { Binary, ObjectId, type Collection, type Document, type MongoClient } from 'mongodb';
import type { CollectionPlan, CopyOrder, Partition } from './contract';
import { EXACT_TYPES } from './bsonOptions';
import { encodeBound, TYPE_BRACKETS } from './idBounds';

interface BracketExtent {
  types: readonly string[];
  min: unknown;
  documents: number;
}

/** An `_id` condition limited to one type bracket; typed loosely since `$type` takes a list here. */
function inBracket(types: readonly string[], range: Document = {}): Document {
  return { _id: { ...range, $type: [...types] } };
}

/** The type brackets present among the collection's `_id`s, each with its smallest `_id`, in `_id` order. */
async function findBrackets(collection: Collection, estimatedDocuments: number): Promise<BracketExtent[]> {
  // One probe per bracket, all at once: a distant cluster costs one round trip, not one per bracket.
  const firsts = await Promise.all(
    TYPE_BRACKETS.map((types) =>
      collection.findOne(inBracket(types), {
        ...EXACT_TYPES,
        sort: { _id: 1 },
        projection: { _id: 1 },
        hint: { _id: 1 },
      }),
    ),
  );
  const present: BracketExtent[] = [];
  firsts.forEach((first, index) => {
    if (first) present.push({ types: TYPE_BRACKETS[index], min: first._id, documents: 0 });
  });
  if (present.length === 1) {
    present[0].documents = estimatedDocuments;
  } else {
    const counts = await Promise.all(
      present.map((bracket) => collection.countDocuments(inBracket(bracket.types))),
    );
    counts.forEach((count, index) => (present[index].documents = count));
  }
  return present;
}

/** Split points probed at once: each probe skips further from the same start (the server walks more keys, in one round trip). */
const SPLIT_PROBES_AT_ONCE = 8;

/** Split points inside one bracket, every `step` documents in `_id` order, found by skipping along the index. */
async function findSplitPoints(collection: Collection, bracket: BracketExtent, step: number, parts: number) {
  const points: unknown[] = [];
  let from = bracket.min;
  while (points.length < parts - 1) {
    const probes = Math.min(SPLIT_PROBES_AT_ONCE, parts - 1 - points.length);
    const found = await Promise.all(
      Array.from({ length: probes }, (_, k) =>
        collection
          .find(inBracket(bracket.types, { $gte: from }), { ...EXACT_TYPES, projection: { _id: 1 } })
          .sort({ _id: 1 })
          .hint({ _id: 1 })
          .skip(step * (k + 1))
          .limit(1)
          .toArray()
          .then(([next]) => next ?? null),
      ),
    );
    const ends = found.findIndex((next) => next === null);
    for (const next of ends === -1 ? found : found.slice(0, ends)) points.push(next!._id);
    if (ends !== -1) break;
    from = points[points.length - 1];
  }
  return points;
}

function wholeCollection(plan: CollectionPlan, naturalOrder: boolean): Partition {
  return {
    id: `${plan.db}.${plan.coll}#0`,
    db: plan.db,
    coll: plan.coll,
    lower: null,
    upper: null,
    naturalOrder,
    estimatedBytes: plan.estimatedBytes,
  };
}

/** `_id`s read in natural order to tell random `_id`s (UUIDs, hashes) from increasing ones. */
const RANDOM_ID_SAMPLE = 200;
/** Increasing `_id`s (ObjectIds, counters) almost never step down in insertion order; random ones do half the time. */
const RANDOM_ID_DESCENTS = 0.3;

/** A sortable key of an `_id`, for `_id`s of one type; null for types not compared here. */
function idKey(id: unknown): string | number | null {
  if (id instanceof ObjectId) return id.toHexString();
  if (typeof id === 'string') return id;
  if (typeof id === 'number') return id;
  if (id instanceof Date) return id.getTime();
  if (id instanceof Binary) return Buffer.from(id.buffer).toString('hex');
  if (typeof id === 'object' && id !== null && typeof (id as { valueOf(): unknown }).valueOf() === 'number')
    return (id as { valueOf(): number }).valueOf();
  return null;
}

/**
 * Whether the collection's `_id`s look random (mongosync's `detectRandomId`): in natural
 * (insertion) order, a sample of them steps down as often as up. A range scan of random `_id`s
 * reads the collection's storage in random order; a natural-order scan reads it in sequence.
 */
export async function hasRandomIds(collection: Collection): Promise<boolean> {
  const sample = await collection
    .find({}, { ...EXACT_TYPES, projection: { _id: 1 }, hint: { $natural: 1 }, limit: RANDOM_ID_SAMPLE })
    .toArray();
  const keys = sample.map((document) => idKey(document._id));
  if (keys.length < 10 || keys.some((key) => key === null || typeof key !== typeof keys[0])) return false;
  let descents = 0;
  for (let n = 1; n < keys.length; n++) if (keys[n]! < keys[n - 1]!) descents += 1;
  return descents / (keys.length - 1) > RANDOM_ID_DESCENTS;
}

/**
 * Cuts a collection into `_id` ranges of about `targetPartitionBytes` each, one set per `_id` type
 * bracket, or keeps it whole for a natural-order copy (capped collections, and see `CopyOrder`).
 * Documents written after the plan is made are covered by change events.
 */
export async function planPartitions(
  source: MongoClient,
  plan: CollectionPlan,
  targetPartitionBytes: number,
  order: CopyOrder = 'idRanges',
): Promise<Partition[]> {
  if (plan.capped || order === 'natural') return [wholeCollection(plan, true)];
  const collection = source.db(plan.db).collection(plan.coll);
  if (
    order === 'naturalIfRandomIds' &&
    plan.estimatedBytes > targetPartitionBytes &&
    (await hasRandomIds(collection))
  )
    return [wholeCollection(plan, true)];
  const brackets = await findBrackets(collection, plan.estimatedDocuments);
  if (brackets.length === 0) return [wholeCollection(plan, false)];
  const averageBytes = plan.estimatedDocuments > 0 ? plan.estimatedBytes / plan.estimatedDocuments : 0;
  const partitions: Partition[] = [];
  for (const bracket of brackets) {
    const bracketBytes = bracket.documents * averageBytes;
    const parts = Math.max(1, Math.ceil(bracketBytes / Math.max(1, targetPartitionBytes)));
    const step = Math.max(1, Math.floor(bracket.documents / parts));
    const points = parts > 1 ? await findSplitPoints(collection, bracket, step, parts) : [];
    const bounds = [bracket.min, ...points];
    bounds.forEach((lower, index) => {
      const upper = index + 1 < bounds.length ? bounds[index + 1] : undefined;
      partitions.push({
        id: `${plan.db}.${plan.coll}#${partitions.length}`,
        db: plan.db,
        coll: plan.coll,
        lower: encodeBound(lower),
        upper: upper === undefined ? null : encodeBound(upper),
        naturalOrder: false,
        estimatedBytes: Math.round(bracketBytes / bounds.length),
      });
    });
  }
  return partitions;
}
