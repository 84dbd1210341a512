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

  it('$indexOfCP: a match starts before the end index; $indexOfBytes: it fits before it', () => {
    const cp = (...args: unknown[]) => evaluate({ $indexOfCP: args });
    const bytes = (...args: unknown[]) => evaluate({ $indexOfBytes: args });
    // The match at 1 runs past the end index 2: found by code points, not by bytes.
    expect(cp('abcd', 'bcd', 0, 2)).toEqual(new Int32(1));
    expect(bytes('abcd', 'bcd', 0, 2)).toEqual(new Int32(-1));
    expect(cp('ab∫de', 'd', 0, 3)).toEqual(new Int32(-1));
    expect(cp('ab∫de', 'd', 0, 4)).toEqual(new Int32(3));
    expect(cp('abcbabc', 'b', 2, 4)).toEqual(new Int32(3));
    expect(bytes('abcbabc', 'b', 2, 4)).toEqual(new Int32(3));
    // An end beyond the length is the length; a start after the end finds nothing.
    expect(cp('øƒc', 'ƒ', 0, 10)).toEqual(new Int32(1));
    expect(bytes('abc', 'b', 0, 10)).toEqual(new Int32(1));
    expect(cp('a√cb', 'b', 3, 1)).toEqual(new Int32(-1));
    expect(bytes('abc', 'b', 3, 1)).toEqual(new Int32(-1));
    // Empty tokens.
    expect(cp('', '')).toEqual(new Int32(0));
    expect(cp('', '', 3)).toEqual(new Int32(-1));
    expect(cp('abc', '', 3)).toEqual(new Int32(-1));
    expect(bytes('abc', '', 3)).toEqual(new Int32(3));
    expect(bytes('a∫∫b', 'b', 6)).toEqual(new Int32(7));
    // mongod's error codes.
    expect(errorCode(() => cp(3, 's'))).toBe(40093);
    expect(errorCode(() => cp('s', 3))).toBe(40094);
    expect(errorCode(() => bytes(3, 's'))).toBe(40091);
    expect(errorCode(() => bytes('s', 3))).toBe(40092);
    expect(errorCode(() => cp('abc', 'b', 'bad'))).toBe(40096);
    expect(errorCode(() => bytes('abc', 'b', 0, 1.5))).toBe(40096);
    expect(errorCode(() => cp('abc', 'b', -1))).toBe(40097);
    expect(errorCode(() => bytes('abc', 'b', 1, -1))).toBe(40097);
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
