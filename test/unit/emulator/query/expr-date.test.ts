import { Int32, Timestamp } from 'bson';
import { evaluate, doc } from './expression-helpers';

describe('dates', () => {
  it('extracts parts in UTC and other time zones', () => {
    expect(evaluate({ $year: '$date' }, doc)).toEqual(new Int32(2024));
    expect(evaluate({ $month: '$date' }, doc)).toEqual(new Int32(3));
    expect(evaluate({ $dayOfMonth: '$date' }, doc)).toEqual(new Int32(5));
    expect(evaluate({ $hour: '$date' }, doc)).toEqual(new Int32(6));
    expect(evaluate({ $minute: '$date' }, doc)).toEqual(new Int32(7));
    expect(evaluate({ $second: '$date' }, doc)).toEqual(new Int32(8));
    expect(evaluate({ $millisecond: '$date' }, doc)).toEqual(new Int32(9));
    expect(evaluate({ $dayOfWeek: '$date' }, doc)).toEqual(new Int32(3));
    expect(evaluate({ $dayOfYear: '$date' }, doc)).toEqual(new Int32(65));
    expect(evaluate({ $hour: { date: '$date', timezone: '+05:30' } }, doc)).toEqual(new Int32(11));
    expect(evaluate({ $hour: { date: '$date', timezone: 'America/New_York' } }, doc)).toEqual(new Int32(1));
    expect(evaluate({ $year: { $literal: new Timestamp({ t: 0, i: 1 }) } })).toEqual(new Int32(1970));
  });

  it('formats dates', () => {
    expect(evaluate({ $dateToString: { date: '$date' } }, doc)).toBe('2024-03-05T06:07:08.009Z');
    expect(evaluate({ $dateToString: { date: '$date', format: '%Y/%m/%d %j %%' } }, doc)).toBe(
      '2024/03/05 065 %',
    );
    expect(evaluate({ $dateToString: { date: '$missing', onNull: 'none' } }, doc)).toBe('none');
  });
});
