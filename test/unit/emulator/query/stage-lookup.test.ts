import { type Document } from 'bson';
import { type PipelineContext } from '../../../../emulator/src/query/aggregate';
import { run, int, people } from './pipeline-helpers';

describe('$lookup, $unionWith, $facet, $collStats', () => {
  const orders: Document[] = [
    { _id: int(10), person: int(1), item: 'x' },
    { _id: int(11), person: int(1), item: 'y' },
    { _id: int(12), person: int(3), item: 'z' },
    { _id: int(13), item: 'orphan' },
  ];
  const ctx: PipelineContext = { loadCollection: (coll) => (coll === 'orders' ? orders : []) };

  it('joins on local and foreign fields', () => {
    const result = run(
      people,
      [
        { $lookup: { from: 'orders', localField: '_id', foreignField: 'person', as: 'orders' } },
        { $project: { n: { $size: '$orders' } } },
      ],
      ctx,
    );
    expect(result.map((d) => d.n)).toEqual([int(2), int(0), int(1), int(0)]);
    const missingLocal = run(
      [{ _id: 1 }],
      [{ $lookup: { from: 'orders', localField: 'nope', foreignField: 'person', as: 'o' } }],
      ctx,
    );
    expect(missingLocal[0].o.map((d: Document) => d.item)).toEqual(['orphan']);
  });

  it('runs pipeline lookups with let variables', () => {
    const result = run(
      people.slice(0, 1),
      [
        {
          $lookup: {
            from: 'orders',
            let: { pid: '$_id' },
            pipeline: [
              { $match: { $expr: { $eq: ['$person', '$$pid'] } } },
              { $project: { _id: 0, item: 1 } },
            ],
            as: 'items',
          },
        },
      ],
      ctx,
    );
    expect(result[0].items).toEqual([{ item: 'x' }, { item: 'y' }]);
  });

  it('unions collections and facets', () => {
    expect(
      run(
        people,
        [{ $unionWith: { coll: 'orders', pipeline: [{ $match: { item: 'z' } }] } }, { $count: 'n' }],
        ctx,
      ),
    ).toEqual([{ n: int(5) }]);
    expect(
      run(people, [
        {
          $facet: {
            count: [{ $count: 'n' }],
            oslo: [{ $match: { city: 'oslo' } }, { $project: { _id: 1 } }],
          },
        },
      ]),
    ).toEqual([{ count: [{ n: int(4) }], oslo: [{ _id: int(1) }, { _id: int(3) }] }]);
  });

  it('emits the collStats document from the context', () => {
    const stats = { ns: 'db.c', storageStats: { count: int(4) } };
    expect(run([], [{ $collStats: { storageStats: {} } }], { collStats: () => stats })).toEqual([stats]);
  });
});
