import { Int32 } from 'bson';
import type { Document } from 'mongodb';
import {
  buildsIndexesFromEvents,
  indexBuildTime,
  indexRelaxationSteps,
  indexRestorationSteps,
  isHashedIndex,
  NEUTRAL_EXPIRE_AFTER_SECONDS,
  relaxCollectionOptions,
  relaxIndexSpec,
  type IndexRelaxationStep,
} from '../../../src/activities/indexSpecs';

describe('index specs', () => {
  const source = {
    v: 2,
    key: { email: 1 },
    name: 'email_1',
    unique: true,
    hidden: true,
    expireAfterSeconds: 60,
  };

  it('relaxes unique, TTL and hidden for the sync', () => {
    expect(relaxIndexSpec(source)).toEqual({
      key: { email: 1 },
      name: 'email_1',
      expireAfterSeconds: NEUTRAL_EXPIRE_AFTER_SECONDS,
    });
    expect(relaxCollectionOptions({ clusteredIndex: { key: { _id: 1 } }, expireAfterSeconds: 5 })).toEqual({
      clusteredIndex: { key: { _id: 1 } },
    });
  });

  it('restores them in collMod order', () => {
    expect(indexRestorationSteps(source, relaxIndexSpec(source))).toEqual([
      { name: 'email_1', prepareUnique: true },
      { name: 'email_1', unique: true },
      { name: 'email_1', expireAfterSeconds: 60 },
      { name: 'email_1', hidden: true },
    ]);
    expect(indexRestorationSteps(source, source)).toEqual([]);
  });

  it('schedules builds per buildIndexes mode', () => {
    const hashed = { key: { h: 'hashed' }, name: 'h_hashed' };
    expect(indexBuildTime(hashed, 'beforeDataCopy')).toBe('beforeCopy');
    expect(indexBuildTime(hashed, 'excludeHashed')).toBe('never');
    expect(indexBuildTime(source, 'excludeHashedAfterCopy')).toBe('afterCopy');
    expect(indexBuildTime(source, 'never')).toBe('never');
    expect(indexBuildTime({ key: { _id: 1 }, name: '_id_' }, 'beforeDataCopy')).toBe('never');
    expect(isHashedIndex(hashed)).toBe(true);
    expect(buildsIndexesFromEvents(hashed, 'excludeHashedAfterCopy')).toBe(false);
    expect(buildsIndexesFromEvents(source, 'afterDataCopy')).toBe(true);
  });
});

describe('index relaxation steps', () => {
  it('rebuilds a unique or prepareUnique index without the constraint (collMod cannot remove it)', () => {
    const unique = { v: 2, key: { a: 1 }, name: 'a_1', unique: true, hidden: true };
    expect(indexRelaxationSteps(unique, unique)).toEqual([
      { dropIndex: 'a_1' },
      { createIndex: { key: { a: 1 }, name: 'a_1' } },
    ]);
    const prepared = { v: 2, key: { b: 1 }, name: 'b_1', prepareUnique: true, expireAfterSeconds: 5 };
    expect(indexRelaxationSteps(prepared, prepared)).toEqual([
      { dropIndex: 'b_1' },
      { createIndex: { key: { b: 1 }, name: 'b_1', expireAfterSeconds: NEUTRAL_EXPIRE_AFTER_SECONDS } },
    ]);
  });

  it('unhides and neutralises a TTL with collMod', () => {
    const spec = { v: 2, key: { t: 1 }, name: 't_1', hidden: true, expireAfterSeconds: new Int32(60) };
    expect(indexRelaxationSteps(spec, spec)).toEqual([
      { collModIndex: { name: 't_1', hidden: false } },
      { collModIndex: { name: 't_1', expireAfterSeconds: NEUTRAL_EXPIRE_AFTER_SECONDS } },
    ]);
  });

  it('has nothing to do on an index that is already relaxed, nor on _id or clustered indexes', () => {
    const spec = { v: 2, key: { t: 1 }, name: 't_1', expireAfterSeconds: NEUTRAL_EXPIRE_AFTER_SECONDS };
    expect(indexRelaxationSteps(spec, relaxIndexSpec(spec))).toEqual([]);
    expect(indexRelaxationSteps({ key: { c: 1 }, name: 'c_1' }, { key: { c: 1 }, name: 'c_1' })).toEqual([]);
    const id = { v: 2, key: { _id: 1 }, name: '_id_' };
    expect(indexRelaxationSteps(id, id)).toEqual([]);
    const clustered = { key: { _id: 1 }, name: 'clustered', unique: true, clustered: true };
    expect(indexRelaxationSteps(clustered, clustered)).toEqual([]);
  });

  it("builds the source's index relaxed when the destination lacks it (a crash after the drop)", () => {
    const spec = { v: 2, key: { a: 1 }, name: 'a_1', unique: true };
    expect(indexRelaxationSteps(spec, undefined)).toEqual([{ createIndex: { key: { a: 1 }, name: 'a_1' } }]);
  });
});

/** A destination's indexes by name, changed the way the server applies each step. */
type Indexes = Map<string, Document>;

function applyCollMod(indexes: Indexes, change: Document): void {
  const spec = indexes.get(change.name as string);
  if (!spec) throw new Error(`IndexNotFound ${String(change.name)}`);
  const next: Document = { ...spec };
  if (change.hidden !== undefined) {
    if (change.hidden === true) next.hidden = true;
    else delete next.hidden;
  }
  if (change.expireAfterSeconds !== undefined) next.expireAfterSeconds = change.expireAfterSeconds;
  if (change.prepareUnique === true) next.prepareUnique = true;
  if (change.unique === true) {
    if (next.prepareUnique !== true) throw new Error('unique needs prepareUnique first');
    next.unique = true;
    delete next.prepareUnique;
  }
  indexes.set(next.name as string, next);
}

function applyRelaxation(indexes: Indexes, step: IndexRelaxationStep): void {
  if ('dropIndex' in step) indexes.delete(step.dropIndex);
  else if ('createIndex' in step) indexes.set(step.createIndex.name as string, { v: 2, ...step.createIndex });
  else applyCollMod(indexes, step.collModIndex);
}

/** The options a sync relaxes and restores, as comparable values. */
function constraints(spec: Document): Document {
  return {
    unique: spec.unique === true,
    prepareUnique: spec.prepareUnique === true,
    hidden: spec.hidden === true,
    expireAfterSeconds: spec.expireAfterSeconds === undefined ? undefined : Number(spec.expireAfterSeconds),
  };
}

describe('relaxing then restoring', () => {
  it.each([
    ['unique', { v: 2, key: { email: 1 }, name: 'email_1', unique: true }],
    ['prepareUnique', { v: 2, key: { sku: 1 }, name: 'sku_1', prepareUnique: true }],
    ['TTL', { v: 2, key: { at: 1 }, name: 'at_1', expireAfterSeconds: new Int32(3600) }],
    ['hidden', { v: 2, key: { h: 1 }, name: 'h_1', hidden: true }],
    [
      'unique, hidden and TTL at once',
      { v: 2, key: { u: 1 }, name: 'u_1', unique: true, hidden: true, expireAfterSeconds: 60 },
    ],
    ['plain', { v: 2, key: { p: 1 }, name: 'p_1' }],
  ])("gives back the source's options of a %s index", (_kind, sourceSpec: Document) => {
    // A reversal's destination starts with the source's index, constraints and all.
    const indexes: Indexes = new Map([[sourceSpec.name as string, { ...sourceSpec }]]);
    for (const step of indexRelaxationSteps(sourceSpec, indexes.get(sourceSpec.name as string)))
      applyRelaxation(indexes, step);

    const relaxed = indexes.get(sourceSpec.name as string) as Document;
    expect(constraints(relaxed)).toEqual({
      unique: false,
      prepareUnique: false,
      hidden: false,
      expireAfterSeconds:
        sourceSpec.expireAfterSeconds === undefined ? undefined : NEUTRAL_EXPIRE_AFTER_SECONDS,
    });
    expect(relaxed.key).toEqual(sourceSpec.key);
    // Relaxing is idempotent: a retried relax step finds nothing more to do.
    expect(indexRelaxationSteps(sourceSpec, relaxed)).toEqual([]);

    for (const change of indexRestorationSteps(sourceSpec, relaxed)) applyCollMod(indexes, change);
    const restored = indexes.get(sourceSpec.name as string) as Document;
    expect(constraints(restored)).toEqual(constraints(sourceSpec));
    expect(restored.key).toEqual(sourceSpec.key);
    expect(indexRestorationSteps(sourceSpec, restored)).toEqual([]);
  });
});
