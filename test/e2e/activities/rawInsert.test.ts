// The copy's writes through the real driver against an emulated cluster: documents land as the
// exact bytes they were read as, duplicates come back as indexed write errors, and a write concern
// error fails the write. The decoding fallback (for a driver without document sequences) behaves
// the same.
import { BSON, Decimal128, Double, Int32, Long, type Document } from 'mongodb';
import { insertRawDocuments, insertsRawBytes } from '../../../src/activities/rawInsert';
import { SERVER_ERROR_CODES } from '../../../src/activities/serverErrors';
import { startTestCluster, stopTestCluster, type TestCluster } from '../helpers/clusters';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startTestCluster('raw-insert');
});

afterAll(async () => {
  await stopTestCluster(cluster);
});

function documents(from: number, count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, k) => {
    const n = from + k;
    // Values a decode and re-encode could change the type or bytes of.
    const document: Document = {
      _id: new Int32(n),
      negativeZero: new Double(-0),
      wholeDouble: new Double(n),
      long: Long.fromNumber(n * 1_000_000_007),
      price: Decimal128.fromString(`${n}.50`),
      zText: 'ü'.repeat(k % 5),
      aAfter: { nested: [new Int32(n), null, 'x'] },
    };
    return BSON.serialize(document);
  });
}

async function storedBytes(coll: string): Promise<Buffer[]> {
  const found = await cluster.admin
    .db('raw')
    .collection(coll)
    .find({}, { raw: true })
    .sort({ _id: 1 })
    .toArray();
  return found.map((bytes) => Buffer.from(bytes as unknown as Uint8Array));
}

test('this driver takes pre-serialized documents (else every copied document is decoded and re-encoded)', () => {
  expect(insertsRawBytes).toBe(true);
});

describe.each([
  ['as read', false],
  ['decoded (fallback)', true],
])('insertRawDocuments %s', (_name, decode) => {
  const coll = decode ? 'decoded' : 'raw';

  test('stores each document byte for byte', async () => {
    const batch = documents(0, 50);
    const db = cluster.admin.db('raw');
    expect(await insertRawDocuments(db, coll, batch, { decode })).toEqual([]);
    expect(await storedBytes(coll)).toEqual(batch.map((bytes) => Buffer.from(bytes)));
  });

  test('reports duplicates as write errors at their positions and inserts the rest', async () => {
    const db = cluster.admin.db('raw');
    const batch = [...documents(100, 2), ...documents(10, 1), ...documents(102, 1), ...documents(20, 1)];
    const errors = await insertRawDocuments(db, coll, batch, { decode });
    expect(errors.map(({ index, code }) => ({ index, code }))).toEqual([
      { index: 2, code: SERVER_ERROR_CODES.DuplicateKey },
      { index: 4, code: SERVER_ERROR_CODES.DuplicateKey },
    ]);
    expect(await db.collection(coll).countDocuments()).toBe(53);
  });

  test('fails on a write concern error', async () => {
    const db = cluster.admin.db('raw');
    await cluster.admin.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: { times: 1 },
      data: {
        failCommands: ['insert'],
        writeConcernError: { code: 64, errmsg: 'waiting for replication timed out' },
      },
    });
    await expect(insertRawDocuments(db, coll, documents(200, 1), { decode })).rejects.toThrow(
      /replication timed out|write concern/i,
    );
  });
});
