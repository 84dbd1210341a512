import { Binary, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp } from 'bson';
import { decodeBound, encodeBound, partitionIdCondition } from '../../../src/activities/idBounds';
import {
  crudWrites,
  laneOf,
  resumeTokenTime,
  toOperationTime,
  updateOperations,
} from '../../../src/activities/changeEvents';
import { missingActions, requiredActions } from '../../../src/activities/privileges';
import { partitionFilter } from '../../../src/activities/copy';
import type { SyncOptions } from '../../../src/activities/contract';

describe('partition bounds', () => {
  it.each([
    new Int32(7),
    new Double(1),
    Long.fromString('9007199254740993'),
    Decimal128.fromString('1.50'),
    'text',
    new ObjectId('64b7f0c2a1b2c3d4e5f60718'),
    new Date('2024-01-02T03:04:05.678Z'),
    new Binary(Buffer.from('abc'), 0),
    { nested: new Int32(1) },
    new Timestamp({ t: 5, i: 6 }),
    true,
    null,
  ])('round-trips %p with its exact BSON type', (id) => {
    const bound = encodeBound(id);
    expect(encodeBound(decodeBound(bound))).toBe(bound);
  });

  it('keeps a Double 1.0 distinct from an Int32 1', () => {
    expect(encodeBound(new Double(1))).toBe('{"v":{"$numberDouble":"1.0"}}');
    expect(encodeBound(new Int32(1))).toBe('{"v":{"$numberInt":"1"}}');
  });

  it('restricts a range to the type bracket of its bounds', () => {
    expect(partitionIdCondition(new Int32(1), new Double(5))).toEqual({
      $gte: new Int32(1),
      $lt: new Double(5),
      $type: ['int', 'long', 'double', 'decimal'],
    });
    expect(partitionIdCondition('a', undefined)).toEqual({ $gte: 'a', $type: ['string', 'symbol'] });
    expect(partitionIdCondition(undefined, undefined)).toBeNull();
  });

  it('resumes strictly after the last copied _id', () => {
    const filter = partitionFilter(
      {
        id: 'p',
        db: 'd',
        coll: 'c',
        lower: encodeBound('a'),
        upper: encodeBound('m'),
        naturalOrder: false,
        estimatedBytes: 0,
      },
      encodeBound('f'),
    );
    expect(filter).toEqual({ _id: { $gt: 'f', $lt: 'm', $type: ['string', 'symbol'] } });
  });

  it('matches MinKey and MaxKey only by type, and nothing after them', () => {
    expect(partitionIdCondition(new MinKey(), undefined)).toEqual({ $type: 'minKey' });
    expect(partitionIdCondition(new MaxKey(), undefined, new MaxKey())).toEqual({ $exists: false });
  });
});

describe('change events', () => {
  it('rebuilds an update from its description, truncating arrays first', () => {
    expect(
      updateOperations({
        updatedFields: { 'a.b': new Int32(1), 'list.1': 'x' },
        removedFields: ['gone'],
        truncatedArrays: [{ field: 'list', newSize: new Int32(2) }],
      }),
    ).toEqual([
      { $push: { list: { $each: [], $slice: 2 } } },
      { $set: { 'a.b': new Int32(1), 'list.1': 'x' }, $unset: { gone: '' } },
    ]);
  });

  it('gives up on field names operators cannot address', () => {
    expect(
      updateOperations({ updatedFields: { 'a.b': 1 }, disambiguatedPaths: { 'a.b': ['a.b'] } }),
    ).toBeNull();
    expect(
      updateOperations({ updatedFields: { 'a.0': 1 }, disambiguatedPaths: { 'a.0': ['a', 0] } }),
    ).toEqual([{ $set: { 'a.0': 1 } }]);
  });

  it('writes inserts and replaces as upserts and deletes by _id', () => {
    const documentKey = { _id: new Int32(3) };
    const fullDocument = { _id: new Int32(3), x: new Double(1) };
    expect(crudWrites({ operationType: 'insert', documentKey, fullDocument })).toEqual([
      { replaceOne: { filter: { _id: new Int32(3) }, replacement: fullDocument, upsert: true } },
    ]);
    expect(crudWrites({ operationType: 'delete', documentKey })).toEqual([
      { deleteOne: { filter: { _id: new Int32(3) } } },
    ]);
  });

  it('reads the cluster time from a resume token', () => {
    expect(resumeTokenTime({ _data: '8265A1B2C3000000042B0229296E04' })).toEqual({ t: 0x65a1b2c3, i: 4 });
    expect(resumeTokenTime({ _data: 'zz' })).toBeNull();
    expect(toOperationTime(new Timestamp({ t: 10, i: 3 }))).toEqual({ t: 10, i: 3 });
  });

  it('puts one document on one lane and spreads documents over lanes', () => {
    expect(laneOf('a.b', new Int32(1), 8)).toBe(laneOf('a.b', new Int32(1), 8));
    const lanes = new Set(Array.from({ length: 200 }, (_, i) => laneOf('a.b', new Int32(i), 8)));
    expect(lanes.size).toBe(8);
  });
});

describe('privileges', () => {
  const options: SyncOptions = {
    reversible: false,
    writeBlocking: 'destinationOnly',
    buildIndexes: 'afterDataCopy',
    includeNamespaces: [],
    excludeNamespaces: [],
    verificationEnabled: true,
    preExistingDestinationData: false,
  };

  it('names the missing actions', () => {
    const required = requiredActions({
      direction: { source: 'cluster0', destination: 'cluster1' },
      options,
      purpose: 'start',
    });
    const privileges = [
      {
        resource: { db: '', collection: '' },
        actions: ['find', 'listCollections', 'listIndexes', 'collStats'],
      },
      { resource: { cluster: true }, actions: ['listDatabases'] },
    ];
    expect(missingActions(privileges, required.source)).toEqual(['changeStream']);
    expect(missingActions(privileges, required.destination)).toContain('setUserWriteBlockMode (cluster)');
    expect(
      missingActions(
        [
          {
            resource: { anyResource: true },
            actions: [...required.destination.database, ...required.destination.cluster],
          },
        ],
        required.destination,
      ),
    ).toEqual([]);
  });
});
