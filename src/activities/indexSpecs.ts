import type { Document } from 'mongodb';
import type { BuildIndexesMode } from './contract';

/**
 * TTL value used on the destination while syncing: the largest the server accepts, so the
 * destination never expires a document the source still has (deletes arrive as change events).
 */
export const NEUTRAL_EXPIRE_AFTER_SECONDS = 2147483647;

/** Options listIndexes reports that createIndexes must not be given back. */
const NON_CREATABLE_INDEX_FIELDS = ['v', 'ns', 'background'];

export function isIdIndex(spec: Document): boolean {
  return spec.name === '_id_';
}

export function isHashedIndex(spec: Document): boolean {
  const key = (spec.key ?? {}) as Document;
  return Object.values(key).some((direction) => direction === 'hashed');
}

/** The spec to build on the destination during sync: no constraint that could reject or delete synced data. */
export function relaxIndexSpec(spec: Document): Document {
  const relaxed: Document = {};
  for (const [field, value] of Object.entries(spec)) {
    if (NON_CREATABLE_INDEX_FIELDS.includes(field)) continue;
    if (field === 'unique' || field === 'hidden' || field === 'prepareUnique') continue;
    relaxed[field] = value;
  }
  if (spec.expireAfterSeconds !== undefined) relaxed.expireAfterSeconds = NEUTRAL_EXPIRE_AFTER_SECONDS;
  return relaxed;
}

/** One step of relaxing a destination index; catalog.ts runs them in order. */
export type IndexRelaxationStep =
  /** `dropIndexes` of the index with this name. */
  | { dropIndex: string }
  /** `createIndexes` of this (already relaxed) spec. */
  | { createIndex: Document }
  /** `collMod` with this `index` change. */
  | { collModIndex: Document };

function hasUniqueConstraint(spec: Document): boolean {
  return spec.unique === true || spec.prepareUnique === true;
}

/**
 * The steps, in order, that relax what a sync relaxes on a destination index that may hold the
 * source's constraints (the old source of a reversed sync): a unique (or prepareUnique) index is
 * rebuilt without the constraint, since `collMod` cannot remove it; otherwise a hidden index is
 * made visible and a TTL gets the neutral expiry. A destination without the index (a crash between
 * a drop and its rebuild) gets the source's relaxed. No steps: nothing to relax.
 */
export function indexRelaxationSteps(
  sourceSpec: Document,
  destinationSpec: Document | undefined,
): IndexRelaxationStep[] {
  if (isIdIndex(sourceSpec) || sourceSpec.clustered === true) return [];
  if (destinationSpec === undefined) return [{ createIndex: relaxIndexSpec(sourceSpec) }];
  const name = destinationSpec.name as string;
  if (hasUniqueConstraint(destinationSpec))
    return [{ dropIndex: name }, { createIndex: relaxIndexSpec(destinationSpec) }];
  const steps: IndexRelaxationStep[] = [];
  if (destinationSpec.hidden === true) steps.push({ collModIndex: { name, hidden: false } });
  if (
    destinationSpec.expireAfterSeconds !== undefined &&
    Number(destinationSpec.expireAfterSeconds) !== NEUTRAL_EXPIRE_AFTER_SECONDS
  ) {
    steps.push({ collModIndex: { name, expireAfterSeconds: NEUTRAL_EXPIRE_AFTER_SECONDS } });
  }
  return steps;
}

/**
 * The `collMod` index changes, in order, that turn a relaxed destination index into the source's
 * (the reverse of `indexRelaxationSteps`): a unique constraint comes back through prepareUnique.
 */
export function indexRestorationSteps(sourceSpec: Document, destinationSpec: Document): Document[] {
  const name = sourceSpec.name as string;
  const steps: Document[] = [];
  if (sourceSpec.unique === true && destinationSpec.unique !== true) {
    if (destinationSpec.prepareUnique !== true) steps.push({ name, prepareUnique: true });
    steps.push({ name, unique: true });
  } else if (sourceSpec.prepareUnique === true && destinationSpec.prepareUnique !== true) {
    steps.push({ name, prepareUnique: true });
  }
  if (
    sourceSpec.expireAfterSeconds !== undefined &&
    Number(sourceSpec.expireAfterSeconds) !== Number(destinationSpec.expireAfterSeconds)
  ) {
    steps.push({ name, expireAfterSeconds: Number(sourceSpec.expireAfterSeconds) });
  }
  if (sourceSpec.hidden === true && destinationSpec.hidden !== true) steps.push({ name, hidden: true });
  return steps;
}

export type IndexBuildTime = 'beforeCopy' | 'afterCopy' | 'never';

/** When (if at all) a source index is built on the destination under a `buildIndexes` mode. */
export function indexBuildTime(spec: Document, mode: BuildIndexesMode): IndexBuildTime {
  if (isIdIndex(spec)) return 'never';
  switch (mode) {
    case 'beforeDataCopy':
      return 'beforeCopy';
    case 'afterDataCopy':
      return 'afterCopy';
    case 'never':
      return 'never';
    case 'excludeHashed':
      return isHashedIndex(spec) ? 'never' : 'beforeCopy';
    case 'excludeHashedAfterCopy':
      return isHashedIndex(spec) ? 'never' : 'afterCopy';
  }
}

/** Whether an index created on the source during sync (a change event) is built on the destination. */
export function buildsIndexesFromEvents(spec: Document, mode: BuildIndexesMode): boolean {
  return indexBuildTime(spec, mode) !== 'never';
}

/** Collection options that could delete synced documents on the destination, removed during sync. */
export function relaxCollectionOptions(options: Document): Document {
  const relaxed: Document = { ...options };
  delete relaxed.expireAfterSeconds;
  return relaxed;
}
