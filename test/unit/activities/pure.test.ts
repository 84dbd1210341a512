import { Binary, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp } from 'bson';
import { decodeBound, encodeBound, partitionIdCondition } from '../../../src/activities/idBounds';
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
