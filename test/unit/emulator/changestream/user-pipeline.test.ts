import { Timestamp } from 'bson';
import { FakeEngine, insert, open, drain } from './fake-engine';

describe('user stages', () => {
  it('filters with $match and reshapes with $project/$addFields/$unset', async () => {
    const engine = new FakeEngine();
    const stream = open(engine, {}, { db: 'app', coll: 'users' }, [
      { $match: { 'fullDocument.keep': true } },
      { $project: { operationType: 1, fullDocument: 1 } },
      { $addFields: { tag: 'x' } },
      { $unset: 'fullDocument.keep' },
    ]);
    engine.append(insert('app', 'users', { _id: 1, keep: true, v: 1 }));
    engine.append(insert('app', 'users', { _id: 2, keep: false }));
    const events = await drain(stream);
    expect(events).toHaveLength(1);
    expect(events[0]).toEqual({
      _id: expect.any(Object),
      operationType: 'insert',
      fullDocument: { _id: 1, v: 1 },
      tag: 'x',
    });
  });

  it('fails with ChangeStreamFatalError when the pipeline modifies _id', async () => {
    const engine = new FakeEngine();
    const stream = open(engine, {}, { db: 'app', coll: 'users' }, [{ $project: { _id: 0 } }]);
    engine.append(insert('app', 'users', { _id: 1 }));
    await expect(stream.next(10, 0)).rejects.toMatchObject({ code: 280 });
    const replaced = open(
      engine,
      { startAtOperationTime: new Timestamp({ t: 1, i: 0 }) },
      { db: 'app', coll: 'users' },
      [{ $replaceRoot: { newRoot: '$fullDocument' } }],
    );
    await expect(replaced.next(10, 0)).rejects.toMatchObject({ code: 280 });
  });
});
