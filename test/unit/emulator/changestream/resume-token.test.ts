import { Timestamp } from 'bson';
import {
  decodeResumeToken,
  encodeResumeToken,
  positionAfterToken,
  positionBefore,
  positionThrough,
  tokenForPosition,
  type ResumeTokenData,
} from '../../../../emulator/src/changestream/resume-token';
import { CommandError } from '../../../../emulator/src/errors';

const ts = (t: number, i: number): Timestamp => new Timestamp({ t, i });

describe('resume tokens', () => {
  it('start with 82 and the big-endian cluster time in uppercase hex', () => {
    const token = encodeResumeToken({ clusterTime: ts(0x65a1b2c3, 0x1f), txnOpIndex: 0, kind: 'event' });
    expect(token._data.startsWith('8265A1B2C30000001F')).toBe(true);
    expect(token._data).toBe(token._data.toUpperCase());
  });

  it('round-trip through decode', () => {
    const cases: ResumeTokenData[] = [
      { clusterTime: ts(1700000000, 5), txnOpIndex: 0, kind: 'event' },
      { clusterTime: ts(1700000000, 5), txnOpIndex: 17, kind: 'event' },
      { clusterTime: ts(4294967295, 4294967295), txnOpIndex: 3, kind: 'invalidate' },
      { clusterTime: ts(1700000000, 9), txnOpIndex: 0, kind: 'highWaterMark' },
    ];
    for (const data of cases) {
      const decoded = decodeResumeToken(encodeResumeToken(data));
      expect(decoded.kind).toBe(data.kind);
      expect(decoded.txnOpIndex).toBe(data.txnOpIndex);
      expect(decoded.clusterTime.equals(data.clusterTime)).toBe(true);
    }
  });

  it('sort as strings in event order', () => {
    const inOrder: ResumeTokenData[] = [
      { clusterTime: ts(100, 1), txnOpIndex: 0, kind: 'event' },
      { clusterTime: ts(100, 1), txnOpIndex: 0, kind: 'invalidate' },
      { clusterTime: ts(100, 1), txnOpIndex: 0, kind: 'highWaterMark' },
      { clusterTime: ts(100, 2), txnOpIndex: 0, kind: 'event' },
      { clusterTime: ts(100, 2), txnOpIndex: 1, kind: 'event' },
      { clusterTime: ts(100, 2), txnOpIndex: 10, kind: 'event' },
      { clusterTime: ts(100, 2), txnOpIndex: 10, kind: 'highWaterMark' },
      { clusterTime: ts(100, 256), txnOpIndex: 0, kind: 'event' },
      { clusterTime: ts(101, 0), txnOpIndex: 0, kind: 'event' },
      { clusterTime: ts(0x10000000, 0), txnOpIndex: 0, kind: 'event' },
    ];
    const encoded = inOrder.map((data) => encodeResumeToken(data)._data);
    expect([...encoded].sort()).toEqual(encoded);
  });

  it('reject malformed tokens with BadValue', () => {
    for (const bad of [null, 'abc', {}, { _data: 12 }, { _data: '82' }, { _data: 'ZZ'.repeat(14) }]) {
      expect(() => decodeResumeToken(bad)).toThrow(CommandError);
    }
    try {
      decodeResumeToken({ _data: 'nope' });
    } catch (error) {
      expect((error as CommandError).code).toBe(2);
    }
  });

  it('resume positions: event tokens resume after the event, high-water marks after the time', () => {
    const event = decodeResumeToken(
      encodeResumeToken({ clusterTime: ts(50, 3), txnOpIndex: 2, kind: 'event' }),
    );
    expect(positionAfterToken(event)).toEqual({ t: 50, i: 3, op: 2 });
    const mark = decodeResumeToken(
      encodeResumeToken({ clusterTime: ts(50, 3), txnOpIndex: 0, kind: 'highWaterMark' }),
    );
    expect(positionAfterToken(mark)).toEqual(positionThrough(ts(50, 3)));
  });

  it('tokens for positions resume at the same place', () => {
    const through = tokenForPosition(positionThrough(ts(60, 4)));
    expect(positionAfterToken(decodeResumeToken(through))).toEqual(positionThrough(ts(60, 4)));
    // "Before anything at (60, 0)" is a high-water mark through the previous tick.
    const before = decodeResumeToken(tokenForPosition(positionBefore(ts(60, 0))));
    expect(before.kind).toBe('highWaterMark');
    expect(before.clusterTime.equals(ts(59, 0xffffffff))).toBe(true);
    const mid = decodeResumeToken(tokenForPosition({ t: 60, i: 4, op: 1 }));
    expect(mid).toMatchObject({ kind: 'event', txnOpIndex: 1 });
  });
});
