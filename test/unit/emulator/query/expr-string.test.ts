import { BSONRegExp, Int32 } from 'bson';
import { evaluate, errorCode, doc } from './expression-helpers';

describe('strings', () => {
  it('concatenates, slices and measures', () => {
    expect(evaluate({ $concat: ['$s', '!'] }, doc)).toBe('Hello World!');
    expect(evaluate({ $concat: ['$s', '$missing'] }, doc)).toBeNull();
    expect(errorCode(() => evaluate({ $concat: ['a', 1] }))).toBe(16702);
    expect(evaluate({ $substr: ['$s', 0, 5] }, doc)).toBe('Hello');
    expect(evaluate({ $substrCP: ['héllo', 1, 3] })).toBe('éll');
    expect(evaluate({ $substrBytes: ['héllo', 1, 2] })).toBe('é');
    expect(evaluate({ $strLenCP: 'héllo' })).toEqual(new Int32(5));
    expect(evaluate({ $strLenBytes: 'héllo' })).toEqual(new Int32(6));
    expect(evaluate({ $toUpper: '$s' }, doc)).toBe('HELLO WORLD');
    expect(evaluate({ $toLower: '$missing' }, doc)).toBe('');
  });

  it('splits, trims and searches', () => {
    expect(evaluate({ $split: ['a,b,c', ','] })).toEqual(['a', 'b', 'c']);
    expect(evaluate({ $trim: { input: '  x y  ' } })).toBe('x y');
    expect(evaluate({ $ltrim: { input: 'xxhixx', chars: 'x' } })).toBe('hixx');
    expect(evaluate({ $indexOfCP: ['$s', 'World'] }, doc)).toEqual(new Int32(6));
    expect(evaluate({ $indexOfCP: ['$s', 'nope'] }, doc)).toEqual(new Int32(-1));
    expect(evaluate({ $regexMatch: { input: '$s', regex: /world/i } }, doc)).toBe(true);
    expect(evaluate({ $regexMatch: { input: '$s', regex: new BSONRegExp('^hello', 'i') } }, doc)).toBe(true);
    expect(evaluate({ $regexFind: { input: 'abc123', regex: '(\\d)(\\d)' } })).toEqual({
      match: '12',
      idx: new Int32(3),
      captures: ['1', '2'],
    });
    expect(evaluate({ $replaceAll: { input: 'a-b-c', find: '-', replacement: '+' } })).toBe('a+b+c');
  });
});
