import { Binary, Double, Int32, Long, ObjectId, Timestamp, UUID } from 'bson';
import {
  decodeResumeToken,
  encodeResumeToken,
  entryToken,
  highWaterMarkAt,
  positionAfterToken,
  positionBefore,
  type ResumeTokenData,
} from '../../../../emulator/src/changestream/resume-token';
import { CommandError } from '../../../../emulator/src/errors';
import type { OplogEntry } from '../../../../emulator/src/oplog';

const ts = (t: number, i: number): Timestamp => new Timestamp({ t, i });

// Tokens written by real mongod servers, as published:
// - the MongoDB manual's "Resume Tokens from Change Events" / "from aggregate" examples (v2),
//   quoted in a public Java test citing https://www.mongodb.com/docs/manual/changeStreams/;
// - a v1 insert token from a 4.x replica set and a v1 high-water mark tested by mongosh's
//   decodeResumeToken;
// - a v2 update token with a string _id.
const DOCS_V2_INSERT =
  '82635019A0000000012B042C0100296E5A1004AB1154ACACD849A48C61756D70D3B21F463C6F7065726174696F6E54' +
  '797065003C696E736572740046646F63756D656E744B65790046645F69640064635019A078BE67426D7CF4D2000004';
const DOCS_V2_HIGH_WATER_MARK = '8263515EAC000000022B0429296E1404';
const V1_INSERT =
  '825E8DB54F000000012B022C0100296E5A1004BDB3105CB8B44265BB704E58E8EA8B0446645F696400645E8DB54FF368D1BC67ABE7AE0004';
const V1_HIGH_WATER_MARK = '82612F653E000000022B0229296E04';
const V2_UPDATE_STRING_ID =
  '8265580539000000012B042C0100296E5A1004A7F55A5B35BD4C7DB2CD56C6CFEA9C49463C6F7065726174696F6E54797065003C7570646174650046646F63756D656E744B657900463C5F6964003C6265657200000004';

const someUuid = new UUID();

function entry(fields: Partial<OplogEntry>): OplogEntry {
  return {
    ts: ts(1, 1),
    wallTime: new Date(0),
    op: 'insert',
    db: 'd',
    coll: 'c',
    uuid: someUuid,
    size: 1,
    ...fields,
  };
}

describe('resume tokens in mongod format', () => {
  it('decode real v2 tokens from the MongoDB manual', () => {
    const event = decodeResumeToken({ _data: DOCS_V2_INSERT });
    expect(event.clusterTime.equals(ts(1666193824, 1))).toBe(true);
    expect(event).toMatchObject({ version: 2, kind: 'event', txnOpIndex: 0 });
    expect(new UUID(event.uuid!.value()).toHexString()).toBe('ab1154ac-acd8-49a4-8c61-756d70d3b21f');
    expect(event.eventIdentifier).toEqual({
      operationType: 'insert',
      documentKey: { _id: new ObjectId('635019a078be67426d7cf4d2') },
    });
    const mark = decodeResumeToken({ _data: DOCS_V2_HIGH_WATER_MARK });
    expect(mark).toMatchObject({ version: 2, kind: 'highWaterMark', txnOpIndex: 0 });
    expect(mark.clusterTime.equals(ts(1666277036, 2))).toBe(true);
  });

  it('decode real v1 tokens and a string documentKey', () => {
    const v1 = decodeResumeToken({ _data: V1_INSERT });
    expect(v1).toMatchObject({ version: 1, kind: 'event' });
    expect(v1.eventIdentifier).toEqual({ _id: new ObjectId('5e8db54ff368d1bc67abe7ae') });
    expect(decodeResumeToken({ _data: V1_HIGH_WATER_MARK })).toMatchObject({
      version: 1,
      kind: 'highWaterMark',
    });
    const update = decodeResumeToken({ _data: V2_UPDATE_STRING_ID });
    expect(update.eventIdentifier).toEqual({ operationType: 'update', documentKey: { _id: 'beer' } });
  });

  it('re-encode real tokens byte for byte', () => {
    for (const data of [
      DOCS_V2_INSERT,
      DOCS_V2_HIGH_WATER_MARK,
      V1_INSERT,
      V1_HIGH_WATER_MARK,
      V2_UPDATE_STRING_ID,
    ]) {
      expect(encodeResumeToken(decodeResumeToken({ _data: data }))._data).toBe(data);
    }
  });

  it("encode an entry's event as mongod does (v2 and v1)", () => {
    const uuid = new UUID('ab1154ac-acd8-49a4-8c61-756d70d3b21f');
    const insert = entry({
      ts: ts(1666193824, 1),
      uuid,
      documentKey: { _id: new ObjectId('635019a078be67426d7cf4d2') },
    });
    expect(entryToken(insert, 2)).toEqual({ _data: DOCS_V2_INSERT });
    expect(highWaterMarkAt(ts(1666277036, 2), 2)).toEqual({ _data: DOCS_V2_HIGH_WATER_MARK });
    expect(highWaterMarkAt(ts(1630496062, 2), 1)).toEqual({ _data: V1_HIGH_WATER_MARK });
    // A drop: no documentKey, the operation type alone identifies it (v2).
    const drop = decodeResumeToken(entryToken(entry({ op: 'drop', uuid }), 2));
    expect(drop.eventIdentifier).toEqual({ operationType: 'drop' });
    // The invalidate that follows carries fromInvalidate (6F instead of 6E).
    const invalidate = entryToken(insert, 2, 'invalidate')._data;
    expect(invalidate).toBe(DOCS_V2_INSERT.replace('2C0100296E', '2C0100296F'));
  });

  it('carry _typeBits when a documentKey value is a double or a long', () => {
    const withDouble = entryToken(entry({ documentKey: { _id: new Double(1) } }), 1);
    // version, token type, txnOpIndex (ints: 00 00 00), then the double (10): bit 6 set.
    expect(withDouble._typeBits).toEqual(new Binary(Buffer.from([0x40]), 0));
    expect(decodeResumeToken(withDouble).eventIdentifier).toEqual({ _id: new Double(1) });
    const withInt = entryToken(entry({ documentKey: { _id: new Int32(1) } }), 2);
    expect(withInt._typeBits).toBeUndefined();
    const withLong = entryToken(entry({ documentKey: { _id: Long.fromNumber(5) } }), 2);
    expect(decodeResumeToken(withLong).eventIdentifier).toEqual({
      operationType: 'insert',
      documentKey: { _id: Long.fromNumber(5) },
    });
    for (const value of [-3.5, 0.25, 1e300, -1e-300, 123456.789, -7]) {
      const token = entryToken(entry({ documentKey: { _id: new Double(value) } }), 2);
      const key = decodeResumeToken(token).eventIdentifier?.documentKey as { _id: Double };
      expect(key._id.value).toBe(value);
    }
  });

  it('sort as strings in event order', () => {
    const event = (t: number, i: number, txnOpIndex: number, kind: ResumeTokenData['kind'] = 'event') =>
      encodeResumeToken({
        clusterTime: ts(t, i),
        version: 2,
        kind,
        txnOpIndex,
        eventIdentifier: { operationType: 'insert', documentKey: { _id: 1 } },
      })._data;
    const inOrder = [
      highWaterMarkAt(ts(100, 1), 2)._data,
      event(100, 1, 0),
      event(100, 1, 0, 'invalidate'),
      highWaterMarkAt(ts(100, 2), 2)._data,
      event(100, 2, 0),
      event(100, 2, 1),
      event(100, 2, 10),
      event(100, 2, 200),
      event(100, 2, 70000),
      event(100, 256, 0),
      event(101, 0, 0),
      event(0x10000000, 0, 0),
    ];
    expect([...inOrder].sort()).toEqual(inOrder);
  });

  it('keep the 82 + cluster time prefix', () => {
    const token = highWaterMarkAt(ts(0x65a1b2c3, 0x1f), 2);
    expect(token._data.startsWith('8265A1B2C30000001F')).toBe(true);
  });

  it('reject malformed tokens with mongod codes', () => {
    const codeOf = (token: unknown): number => {
      try {
        decodeResumeToken(token);
      } catch (error) {
        if (error instanceof CommandError) return error.code;
      }
      return 0;
    };
    expect(codeOf({})).toBe(40647);
    expect(codeOf({ _data: 12 })).toBe(40647);
    expect(codeOf({ _data: 'nope' })).toBe(9);
    expect(codeOf({ _data: '' })).toBe(40649);
    // The emulator's earlier format is not a KeyString any more.
    expect(codeOf({ _data: '8265A1B2C30000001F0000000000' })).toBe(2);
    // Version 3 does not exist.
    expect(codeOf({ _data: '8263515EAC000000022B0629296E1404' })).toBe(50795);
    expect(codeOf({ _data: 'ZZ'.repeat(14) })).toBe(9);
  });

  it('resume positions: after the event; a high-water mark from its time on', () => {
    const event = decodeResumeToken(
      entryToken(entry({ ts: ts(50, 3), txnOpIndex: 2, documentKey: { _id: 1 } }), 2),
    );
    expect(positionAfterToken(event)).toEqual({ t: 50, i: 3, op: 2 });
    const mark = decodeResumeToken(highWaterMarkAt(ts(50, 3), 2));
    expect(positionAfterToken(mark)).toEqual(positionBefore(ts(50, 3)));
  });
});
