import { run, errorCode, int, people } from './pipeline-helpers';

describe('$project, $addFields, $unset', () => {
  it('includes fields in input order, computed fields after', () => {
    const [doc] = run(people.slice(0, 1), [{ $project: { upper: { $toUpper: '$name' }, age: 1, name: 1 } }]);
    expect(Object.keys(doc)).toEqual(['_id', 'name', 'age', 'upper']);
    expect(doc.upper).toBe('ANN');
    const [renamed] = run(people.slice(0, 1), [{ $project: { name: 1, _id: '$age' } }]);
    expect(Object.keys(renamed)).toEqual(['_id', 'name']);
    expect(renamed._id).toEqual(int(30));
  });

  it('excludes fields, including nested ones and _id', () => {
    const input = [{ _id: 1, a: { b: 1, c: 2 }, arr: [{ b: 1, c: 2 }, 5], d: 3 }];
    expect(run(input, [{ $project: { 'a.b': 0, 'arr.c': 0, _id: 0 } }])).toEqual([
      { a: { c: int(2) }, arr: [{ b: int(1) }, int(5)], d: int(3) },
    ]);
    expect(run(input, [{ $project: { 'a.c': 1, 'arr.b': 1, _id: 0 } }])).toEqual([
      { a: { c: int(2) }, arr: [{ b: int(1) }] },
    ]);
    expect(run(input, [{ $unset: ['a', 'd'] }])).toEqual([
      { _id: int(1), arr: [{ b: int(1), c: int(2) }, int(5)] },
    ]);
  });

  it('rejects mixed projections', () => {
    expect(errorCode(() => run(people, [{ $project: { a: 1, b: 0 } }]))).toBe(31254);
    expect(errorCode(() => run(people, [{ $project: { a: 0, b: 1 } }]))).toBe(31253);
    expect(errorCode(() => run(people, [{ $project: {} }]))).toBe(51272);
  });

  it('adds and merges fields, removing with $$REMOVE', () => {
    const input = [{ _id: 1, a: { x: 1 }, gone: true }];
    expect(run(input, [{ $addFields: { 'a.y': 2, total: { $add: [1, 2] }, gone: '$$REMOVE' } }])).toEqual([
      { _id: int(1), a: { x: int(1), y: int(2) }, total: int(3) },
    ]);
    expect(run(input, [{ $set: { a: { z: 3 } } }])).toEqual([
      { _id: int(1), a: { x: int(1), z: int(3) }, gone: true },
    ]);
  });
});
