// A document's `_id` read from its bytes (the copy's checkpoint, the verifier's document keys) must
// equal the one a full decode gives, for every `_id` type and for documents that do not lead with `_id`.
import { BSON, Binary, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp } from 'mongodb';
import { EXACT_TYPES } from '../../../src/activities/bsonOptions';
import { rawId } from '../../../src/activities/rawDocuments';
import { documentKey } from '../../../src/activities/verifierStore';

describe('rawId', () => {
  const ids: unknown[] = [
    new ObjectId(),
    new Int32(7),
    new Double(2.5),
    Long.fromString('9007199254740993'),
    new Decimal128('1.10'),
    'a string with ü',
    { nested: { a: 1 }, b: [1, 2] },
    new Binary(Buffer.from('abc'), 4),
    new Date(0),
    new Timestamp({ t: 5, i: 1 }),
    true,
    null,
    new MinKey(),
    new MaxKey(),
  ];

  test.each(ids.map((id) => [id]))('%p leading the document', (id) => {
    const bytes = BSON.serialize({ _id: id, after: 'x'.repeat(50) });
    const full = BSON.deserialize(bytes, EXACT_TYPES)._id as unknown;
    expect(rawId(bytes)).toEqual(full);
    expect(documentKey('db.c', rawId(bytes))).toBe(documentKey('db.c', full));
  });

  test('an `_id` that is not the first field, and a document that is only its `_id`', () => {
    const later = BSON.serialize({ a: 1, _id: 'late' });
    expect(rawId(later)).toBe('late');
    expect(rawId(BSON.serialize({ _id: new Int32(3) }))).toEqual(new Int32(3));
  });
});
