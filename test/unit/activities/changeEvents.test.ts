import { Binary, Double, Int32, Timestamp } from 'bson';
import type { ChangeStreamDocument, Document } from 'mongodb';
import {
  compareOperationTimes,
  crudWrites,
  eventKind,
  eventNamespace,
  isCrudEvent,
  isDdlEvent,
  laneOf,
  operationDescriptionOf,
  resumeTokenTime,
  toOperationTime,
  updateOperations,
  type CrudEvent,
  type DdlEvent,
} from '../../../src/activities/changeEvents';

/** A change event as the source sends it (read with exact types, so `_id`s of any BSON type). */
function changeEvent<T extends ChangeStreamDocument>(fields: Document): T {
  return {
    _id: { _data: '8265A1B2C3000000042B0229296E04' },
    clusterTime: new Timestamp({ t: 10, i: 1 }),
    collectionUUID: new Binary(Buffer.alloc(16), 4),
    ns: { db: 'd', coll: 'c' },
    ...fields,
  } as T;
}

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
    expect(updateOperations({ updatedFields: { $weird: 1 } })).toBeNull();
    expect(updateOperations({ removedFields: ['a..b'] })).toBeNull();
  });

  it('writes inserts and replaces as upserts and deletes by _id', () => {
    const documentKey = { _id: new Int32(3) };
    const fullDocument = { _id: new Int32(3), x: new Double(1) };
    expect(
      crudWrites(changeEvent<CrudEvent>({ operationType: 'insert', documentKey, fullDocument })),
    ).toEqual([{ replaceOne: { filter: { _id: new Int32(3) }, replacement: fullDocument, upsert: true } }]);
    expect(crudWrites(changeEvent<CrudEvent>({ operationType: 'delete', documentKey }))).toEqual([
      { deleteOne: { filter: { _id: new Int32(3) } } },
    ]);
  });

  it('selects the document by its whole documentKey (shard key fields too)', () => {
    const documentKey = { region: 'eu', _id: new Int32(3) };
    const fullDocument = { _id: new Int32(3), region: 'eu', x: 1 };
    expect(
      crudWrites(changeEvent<CrudEvent>({ operationType: 'replace', documentKey, fullDocument })),
    ).toEqual([
      {
        replaceOne: { filter: { region: 'eu', _id: new Int32(3) }, replacement: fullDocument, upsert: true },
      },
    ]);
    expect(
      crudWrites(
        changeEvent<CrudEvent>({
          operationType: 'update',
          documentKey,
          updateDescription: { updatedFields: { x: 2 }, removedFields: [] },
        }),
      ),
    ).toEqual([{ updateOne: { filter: { region: 'eu', _id: new Int32(3) }, update: { $set: { x: 2 } } } }]);
  });

  it('asks for the source document when an update cannot be written as operators', () => {
    expect(
      crudWrites(
        changeEvent<CrudEvent>({
          operationType: 'update',
          documentKey: { _id: 1 },
          updateDescription: { updatedFields: { 'a.b': 1 }, disambiguatedPaths: { 'a.b': ['a.b'] } },
        }),
      ),
    ).toBeNull();
  });

  it('reads the cluster time from a resume token', () => {
    expect(resumeTokenTime({ _data: '8265A1B2C3000000042B0229296E04' })).toEqual({ t: 0x65a1b2c3, i: 4 });
    expect(resumeTokenTime({ _data: 'zz' })).toBeNull();
    expect(toOperationTime(new Timestamp({ t: 10, i: 3 }))).toEqual({ t: 10, i: 3 });
  });

  it('orders operation times by seconds, then increment', () => {
    expect(compareOperationTimes({ t: 1, i: 9 }, { t: 2, i: 0 })).toBeLessThan(0);
    expect(compareOperationTimes({ t: 2, i: 3 }, { t: 2, i: 1 })).toBeGreaterThan(0);
    expect(compareOperationTimes({ t: 2, i: 3 }, { t: 2, i: 3 })).toBe(0);
  });

  it('puts one document on one lane and spreads documents over lanes', () => {
    expect(laneOf('a.b', new Int32(1), 8)).toBe(laneOf('a.b', new Int32(1), 8));
    const lanes = new Set(Array.from({ length: 200 }, (_, i) => laneOf('a.b', new Int32(i), 8)));
    expect(lanes.size).toBe(8);
  });

  it('gives one documentKey one lane and spreads documentKeys over lanes', () => {
    expect(laneOf('a.b', { _id: new Int32(1) }, 8)).toBe(laneOf('a.b', { _id: new Int32(1) }, 8));
    const keys = Array.from({ length: 200 }, (_, i) => ({ _id: new Int32(i) }));
    expect(new Set(keys.map((key) => laneOf('a.b', key, 8))).size).toBe(8);
    const spread = Array.from({ length: 200 }, (_, i) =>
      laneOf('a.b', { region: `r${i}`, _id: new Int32(1) }, 8),
    );
    expect(new Set(spread).size).toBe(8);
  });

  it('sorts events into CRUD, DDL and ignored', () => {
    expect(eventKind('insert')).toBe('crud');
    expect(eventKind('rename')).toBe('ddl');
    expect(eventKind('shardCollection')).toBe('ignored');
    expect(eventKind('invalidate')).toBe('ignored');
    const insert = changeEvent({
      operationType: 'insert',
      documentKey: { _id: 1 },
      fullDocument: { _id: 1 },
    });
    const create = changeEvent({ operationType: 'create', operationDescription: { capped: true } });
    const shard = changeEvent({ operationType: 'shardCollection' });
    expect([isCrudEvent(insert), isDdlEvent(insert)]).toEqual([true, false]);
    expect([isCrudEvent(create), isDdlEvent(create)]).toEqual([false, true]);
    expect([isCrudEvent(shard), isDdlEvent(shard)]).toEqual([false, false]);
  });

  it('reads the namespace and operation description the driver types only on some events', () => {
    const create = changeEvent<DdlEvent>({
      operationType: 'create',
      operationDescription: { capped: true, size: new Int32(4096) },
    });
    expect(eventNamespace(create)).toEqual({ db: 'd', coll: 'c' });
    expect(operationDescriptionOf(create)).toEqual({ capped: true, size: new Int32(4096) });
    const dropDatabase = changeEvent<DdlEvent>({ operationType: 'dropDatabase', ns: { db: 'd' } });
    expect(eventNamespace(dropDatabase)).toEqual({ db: 'd' });
    expect(operationDescriptionOf(dropDatabase)).toEqual({});
    const invalidate = { _id: { _data: '00' }, operationType: 'invalidate' } as ChangeStreamDocument;
    expect(eventNamespace(invalidate)).toBeUndefined();
  });
});
