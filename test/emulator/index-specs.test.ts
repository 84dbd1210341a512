// Index specs and collection options as mongod stores them, through the real driver: collations
// filled in (simple dropped), text and 2dsphere specs rewritten, idIndex kept out of options.
import { MongoClient, MongoServerError, type Db, type Document } from 'mongodb';
import { startEmulator, type RunningEmulator } from '../../emulator';

const FULL_EN = {
  locale: 'en',
  caseLevel: false,
  caseFirst: 'off',
  strength: 3,
  numericOrdering: false,
  alternate: 'non-ignorable',
  maxVariable: 'punct',
  normalization: false,
  backwards: false,
  version: '57.1',
};

describe('emulator index specs', () => {
  let emulator: RunningEmulator;
  let client: MongoClient;
  let db: Db;

  beforeAll(async () => {
    emulator = await startEmulator({ version: '7.0', replSet: 'rsIndexSpecs' });
    client = await MongoClient.connect(emulator.uri, { serverSelectionTimeoutMS: 5000 });
    db = client.db('indexspecs');
  });

  afterAll(async () => {
    await client?.close();
    await emulator?.stop();
  });

  async function indexNamed(collection: string, name: string): Promise<Document | undefined> {
    const indexes = await db.collection(collection).listIndexes().toArray();
    return indexes.find((index) => index.name === name);
  }

  test('a simple collation is dropped from the stored spec', async () => {
    await db.collection('simple').createIndex({ a: 1 }, { collation: { locale: 'simple' } });
    expect(await indexNamed('simple', 'a_1')).toEqual({ v: 2, key: { a: 1 }, name: 'a_1' });
  });

  test('any other collation is filled in with every field and the locale defaults', async () => {
    const coll = db.collection('collated');
    await coll.createIndex({ a: 1 }, { collation: { locale: 'en' } });
    await coll.createIndex({ b: 1 }, { collation: { locale: 'fr_CA', strength: 2 } });
    await coll.createIndex({ c: 1 }, { collation: { locale: 'da' } });
    expect((await indexNamed('collated', 'a_1'))?.collation).toEqual(FULL_EN);
    expect((await indexNamed('collated', 'b_1'))?.collation).toEqual({
      ...FULL_EN,
      locale: 'fr_CA',
      strength: 2,
      backwards: true,
    });
    expect((await indexNamed('collated', 'c_1'))?.collation).toEqual({
      ...FULL_EN,
      locale: 'da',
      caseFirst: 'upper',
    });
    // The same request again is a no-op; the key pattern still drops it.
    const again = await db.command({
      createIndexes: 'collated',
      indexes: [{ key: { a: 1 }, name: 'a_1', collation: { locale: 'en' } }],
    });
    expect(again.note).toBe('all indexes already exist');
    await coll.dropIndex({ a: 1 } as never);
    expect(await indexNamed('collated', 'a_1')).toBeUndefined();
  });

  test('dropping by a key pattern two indexes share (different collations) is ambiguous', async () => {
    const coll = db.collection('ambiguous');
    await coll.createIndex({ a: 1 });
    await coll.createIndex({ a: 1 }, { name: 'a_fr', collation: { locale: 'fr' } });
    await expect(coll.dropIndex({ a: 1 } as never)).rejects.toMatchObject({
      code: 181,
      codeName: 'AmbiguousIndexKeyPattern',
    });
    await coll.dropIndex('a_fr');
    await coll.dropIndex({ a: 1 } as never);
    expect(await indexNamed('ambiguous', 'a_1')).toBeUndefined();
  });

  test("a collection's default collation is inherited, and an explicit simple one is dropped", async () => {
    await db.createCollection('defaulted', { collation: { locale: 'en' } });
    const coll = db.collection('defaulted');
    await coll.createIndex({ a: 1 });
    await coll.createIndex({ b: 1 }, { collation: { locale: 'simple' } });
    expect((await indexNamed('defaulted', 'a_1'))?.collation).toEqual(FULL_EN);
    expect(await indexNamed('defaulted', 'b_1')).toEqual({ v: 2, key: { b: 1 }, name: 'b_1' });
    const [info] = (await db.listCollections({ name: 'defaulted' }).toArray()) as Document[];
    expect(info.options.collation).toEqual(FULL_EN);
  });

  test('2dsphere indexes carry 2dsphereIndexVersion 3', async () => {
    const coll = db.collection('geo');
    await coll.createIndex({ loc: '2dsphere' });
    expect(await indexNamed('geo', 'loc_2dsphere')).toEqual({
      v: 2,
      key: { loc: '2dsphere' },
      name: 'loc_2dsphere',
      '2dsphereIndexVersion': 3,
    });
    const again = await db.command({
      createIndexes: 'geo',
      indexes: [{ key: { loc: '2dsphere' }, name: 'loc_2dsphere' }],
    });
    expect(again.note).toBe('all indexes already exist');
    await coll.dropIndex({ loc: '2dsphere' } as never);
    expect(await indexNamed('geo', 'loc_2dsphere')).toBeUndefined();
  });

  test('text indexes are stored with the _fts key, weights, languages and textIndexVersion 3', async () => {
    const coll = db.collection('texts');
    await coll.createIndex({ title: 'text', body: 'text' }, { weights: { title: 10 } });
    expect(await indexNamed('texts', 'title_text_body_text')).toEqual({
      v: 2,
      key: { _fts: 'text', _ftsx: 1 },
      name: 'title_text_body_text',
      weights: { body: 1, title: 10 },
      default_language: 'english',
      language_override: 'language',
      textIndexVersion: 3,
    });
    await coll.createIndex({ x: 1, note: 'text', y: -1 }, { default_language: 'spanish', name: 'compound' });
    expect(await indexNamed('texts', 'compound')).toEqual({
      v: 2,
      key: { x: 1, _fts: 'text', _ftsx: 1, y: -1 },
      name: 'compound',
      default_language: 'spanish',
      weights: { note: 1 },
      language_override: 'language',
      textIndexVersion: 3,
    });
  });

  test('a text index created again, by the original or the stored spec, is a no-op', async () => {
    const coll = db.collection('texts2');
    await coll.createIndex({ a: 'text' });
    const original = await db.command({
      createIndexes: 'texts2',
      indexes: [{ key: { a: 'text' }, name: 'a_text' }],
    });
    expect(original).toMatchObject({
      numIndexesBefore: 2,
      numIndexesAfter: 2,
      note: 'all indexes already exist',
    });
    const { v: _v, ...stored } = (await indexNamed('texts2', 'a_text')) as Document;
    const replay = await db.command({ createIndexes: 'texts2', indexes: [stored] });
    expect(replay.note).toBe('all indexes already exist');
    await expect(
      db.command({
        createIndexes: 'texts2',
        indexes: [{ key: { a: 'text' }, name: 'a_text', weights: { a: 5 } }],
      }),
    ).rejects.toMatchObject({ code: 85 });
  });

  test('a text index is dropped by name or stored key, not by the key it was created with', async () => {
    const coll = db.collection('texts3');
    await coll.createIndex({ a: 'text' });
    await expect(coll.dropIndex({ a: 'text' } as never)).rejects.toMatchObject({ code: 27 });
    await coll.dropIndex({ _fts: 'text', _ftsx: 1 } as never);
    expect(await indexNamed('texts3', 'a_text')).toBeUndefined();
  });

  test('text indexes refuse a collation, including a collection default, unless simple', async () => {
    await expect(
      db.collection('texts4').createIndex({ a: 'text' }, { collation: { locale: 'en' } }),
    ).rejects.toMatchObject({ code: 67 });
    await db.createCollection('texts5', { collation: { locale: 'fr' } });
    const error = await db
      .collection('texts5')
      .createIndex({ a: 'text' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(67);
    await db.collection('texts5').createIndex({ a: 'text' }, { collation: { locale: 'simple' } });
    expect((await indexNamed('texts5', 'a_text'))?.collation).toBeUndefined();
  });

  test('create with idIndex does not echo idIndex in listCollections options', async () => {
    await db.createCollection('withIdIndex', {
      idIndex: { key: { _id: 1 }, name: '_id_' },
      validationLevel: 'moderate',
    } as never);
    const [info] = (await db.listCollections({ name: 'withIdIndex' }).toArray()) as Document[];
    expect(info.options).toEqual({ validationLevel: 'moderate' });
    expect(info.idIndex).toEqual({ v: 2, key: { _id: 1 }, name: '_id_' });
  });
});
