import { Collection } from '../../../../emulator/src/storage/collection';
import { parsedQuery, winningPlan } from '../../../../emulator/src/commands/explain';

describe('explain planning', () => {
  test('parsedQuery makes operators explicit and joins predicates under $and', () => {
    expect(parsedQuery({})).toEqual({});
    expect(parsedQuery({ a: 1 })).toEqual({ a: { $eq: 1 } });
    expect(parsedQuery({ a: { $gt: 1, $lt: 5 }, b: 'x' })).toEqual({
      $and: [{ a: { $gt: 1 } }, { a: { $lt: 5 } }, { b: { $eq: 'x' } }],
    });
  });

  test('index choice, bounds and IDHACK before 8.0', () => {
    const collection = new Collection('d', 'c');
    collection.addIndex({ v: 2, key: { a: 1, b: 1 }, name: 'a_1_b_1' });
    const plan = winningPlan({ collection, filter: { a: { $in: [1, 2] }, b: { $lt: 3 } }, version: '7.0' });
    expect(plan.stage).toBe('FETCH');
    expect(plan.inputStage.indexBounds).toEqual({ a: ['[1, 1]', '[2, 2]'], b: ['[-inf.0, 3)'] });
    expect(winningPlan({ collection, filter: { _id: 1 }, version: '7.0' }).stage).toBe('IDHACK');
    expect(winningPlan({ collection, filter: { a: { $ne: 1 } }, version: '7.0' }).stage).toBe('COLLSCAN');
    expect(winningPlan({ collection, filter: { a: 1 }, hint: { $natural: 1 }, version: '7.0' }).stage).toBe(
      'COLLSCAN',
    );
  });
});
