import { Int32 } from 'bson';
import { evaluateExpression } from '../../../../emulator/src/query/expression';
import { evaluate, errorCode, doc } from './expression-helpers';

describe('field paths and variables', () => {
  it('resolves nested paths, array traversal and system variables', () => {
    expect(evaluate('$o.y.z', doc)).toBe('deep');
    expect(evaluate('$arr.b', doc)).toEqual([new Int32(1), new Int32(2), [new Int32(4)]]);
    expect(evaluateExpression('$missing', doc)).toBeUndefined();
    expect(evaluate('$$ROOT.s', doc)).toBe('Hello World');
    expect(evaluate('$$CURRENT.i', doc)).toEqual(new Int32(7));
    expect(evaluateExpression('$$REMOVE', doc)).toBeUndefined();
    expect(evaluate('$$NOW', doc)).toBeInstanceOf(Date);
    expect(evaluate('$$v.k', doc, { v: { k: 'bound' } })).toBe('bound');
    expect(errorCode(() => evaluate('$$nope', doc))).toBe(17276);
  });

  it('evaluates object and array literals, dropping missing fields', () => {
    expect(evaluate({ a: '$s', b: '$missing', c: { $literal: '$notAPath' } }, doc)).toEqual({
      a: 'Hello World',
      c: '$notAPath',
    });
    expect(evaluate(['$i', '$missing'], doc)).toEqual([new Int32(7), null]);
  });

  it('rejects unknown operators with 168 and operator objects with extra fields', () => {
    expect(errorCode(() => evaluate({ $foo: 1 }))).toBe(168);
    expect(errorCode(() => evaluate({ $add: [1], x: 1 }))).toBe(15983);
    expect(errorCode(() => evaluate({ $add: 1, $subtract: 1 }))).toBe(15983);
  });

  it('binds $let variables', () => {
    expect(evaluate({ $let: { vars: { x: '$i' }, in: { $multiply: ['$$x', 2] } } }, doc)).toEqual(
      new Int32(14),
    );
  });
});
