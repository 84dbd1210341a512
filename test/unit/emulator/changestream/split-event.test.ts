import { Timestamp } from 'bson';
import {
  BSON_OBJ_MAX_INTERNAL_SIZE,
  MAX_CHANGE_EVENT_SIZE,
  splitChangeEvent,
} from '../../../../emulator/src/changestream/split-event';
import {
  decodeResumeToken,
  encodeResumeToken,
  type ResumeTokenData,
} from '../../../../emulator/src/changestream/resume-token';
import { CommandError } from '../../../../emulator/src/errors';

const token: ResumeTokenData = {
  clusterTime: new Timestamp({ t: 100, i: 1 }),
  version: 2,
  kind: 'event',
  txnOpIndex: 0,
  eventIdentifier: { operationType: 'update', documentKey: { _id: 0 } },
};

describe('splitChangeEvent', () => {
  const event = {
    _id: encodeResumeToken(token),
    operationType: 'update',
    big: 'x'.repeat(600),
    medium: 'y'.repeat(300),
    small: 's',
  };

  it('uses mongod limits', () => {
    expect(BSON_OBJ_MAX_INTERNAL_SIZE).toBe(16793600);
    expect(MAX_CHANGE_EVENT_SIZE).toBe(16793600 - 8192);
  });

  it('packs fields by ascending size into numbered fragments with fragment tokens', () => {
    const fragments = splitChangeEvent(event, token, 1100);
    expect(fragments.map((f) => Object.keys(f))).toEqual([
      ['_id', 'splitEvent', 'small', 'operationType', 'medium'],
      ['_id', 'splitEvent', 'big'],
    ]);
    expect(
      fragments.map((f) => ({ fragment: f.splitEvent.fragment.value, of: f.splitEvent.of.value })),
    ).toEqual([
      { fragment: 1, of: 2 },
      { fragment: 2, of: 2 },
    ]);
    expect(fragments.map((f) => decodeResumeToken(f._id).fragmentNum)).toEqual([0, 1]);
    // Fragment tokens sort after the unsplit event's token, in order.
    const ids = [event._id._data, ...fragments.map((f) => f._id._data as string)];
    expect([...ids].sort()).toEqual(ids);
  });

  it('skips fragments before a resume point', () => {
    expect(splitChangeEvent(event, token, 1100, 1).map((f) => f.splitEvent.fragment.value)).toEqual([2]);
    expect(splitChangeEvent(event, token, 1100, 2)).toEqual([]);
  });

  it('fails as mongod does when one field is over the fragment limit, or nothing but _id', () => {
    const error = (fn: () => unknown): number => {
      try {
        fn();
      } catch (caught) {
        if (caught instanceof CommandError) return caught.code;
      }
      return 0;
    };
    expect(error(() => splitChangeEvent(event, token, 400))).toBe(7182500);
    expect(error(() => splitChangeEvent({ _id: event._id }, token, 400))).toBe(7182502);
  });
});
