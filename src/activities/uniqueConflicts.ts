// Before a commit, the values that would break a unique index the sync relaxed on the destination:
// the commit's prepareUnique/unique conversion fails on them, so they are found (and named) first.
import { EJSON } from 'bson';
import type { CollationOptions, Document } from 'mongodb';
import type { ClusterClients } from './clusters';
import type { UniqueConflict, UniqueConflictsInput, UniqueConflictsResult } from './contract';
import { EXACT_TYPES } from './bsonOptions';
import { listIndexSpecs, listSyncedCatalog } from './catalog';
import { activityContext } from './context';
import { indexBuildTime, isIdIndex } from './indexSpecs';
import { compileNamespaceFilter } from './namespaces';

/** Conflicts reported per index, and `_id`s per conflicting value: enough to say which. */
const VALUES_PER_INDEX = 5;
const IDS_PER_VALUE = 5;
const MAX_CONFLICTS = 20;

/** Groups the destination's documents by the index's key (missing and null are the same key). */
function duplicatesPipeline(spec: Document): Document[] {
  const fields = Object.keys(spec.key as Document);
  const stages: Document[] = [];
  if (spec.partialFilterExpression) stages.push({ $match: spec.partialFilterExpression });
  if (spec.sparse === true)
    stages.push({ $match: { $or: fields.map((field) => ({ [field]: { $exists: true } })) } });
  const key = Object.fromEntries(fields.map((field, n) => [`k${n}`, { $ifNull: [`$${field}`, null] }]));
  stages.push(
    { $group: { _id: key, count: { $sum: 1 }, ids: { $firstN: { n: IDS_PER_VALUE, input: '$_id' } } } },
    { $match: { count: { $gt: 1 } } },
    { $limit: VALUES_PER_INDEX },
  );
  return stages;
}

export async function findUniqueConflicts(
  clusters: ClusterClients,
  input: UniqueConflictsInput,
): Promise<UniqueConflictsResult> {
  const { direction, options } = input;
  const source = clusters.get(direction.source);
  const destination = clusters.get(direction.destination);
  const context = activityContext();
  const conflicts: UniqueConflict[] = [];
  let indexesChecked = 0;
  for (const entry of await listSyncedCatalog(source, compileNamespaceFilter(options))) {
    if (entry.type !== 'collection') continue;
    for (const spec of await listIndexSpecs(source.db(entry.db), entry.name)) {
      if (spec.unique !== true || isIdIndex(spec) || indexBuildTime(spec, options.buildIndexes) === 'never')
        continue;
      indexesChecked++;
      context.heartbeat({ indexesChecked });
      const groups = await destination
        .db(entry.db)
        .collection(entry.name)
        .aggregate(duplicatesPipeline(spec), {
          ...EXACT_TYPES,
          allowDiskUse: true,
          ...(spec.collation ? { collation: spec.collation as CollationOptions } : {}),
        })
        .toArray();
      for (const group of groups) {
        conflicts.push({
          ns: `${entry.db}.${entry.name}`,
          index: String(spec.name),
          documents: Number(group.count),
          ids: (group.ids as unknown[]).map((id) => EJSON.stringify(id, { relaxed: false })),
        });
      }
      if (conflicts.length >= MAX_CONFLICTS)
        return { indexesChecked, conflicts: conflicts.slice(0, MAX_CONFLICTS) };
    }
  }
  return { indexesChecked, conflicts };
}
