// Fail points as mongod has them: configureFailPoint answers how often the fail point fired under
// its previous setting (`count`), also once a `times` mode has run out and switched itself off.
import { MongoClient, type MongoServerError } from 'mongodb';
import { startEmulator, type RunningEmulator } from '../../emulator';

describe('emulator fail points', () => {
  let emulator: RunningEmulator;
  let client: MongoClient;

  beforeAll(async () => {
    emulator = await startEmulator({ replSet: 'rsFail' });
    client = await MongoClient.connect(emulator.uri, { retryReads: false });
  });
  afterAll(async () => {
    await client?.close();
    await emulator?.stop();
  });

  const configure = (command: Record<string, unknown>) =>
    client.db('admin').command({ configureFailPoint: 'failCommand', ...command });

  it('counts the times a fail point fired', async () => {
    expect(
      await configure({ mode: { times: 2 }, data: { failCommands: ['find'], errorCode: 2 } }),
    ).toMatchObject({
      count: 0,
    });
    const coll = client.db('fp').collection('c');
    for (let n = 0; n < 2; n++) {
      const failed = await coll.findOne({}).catch((e: unknown) => e);
      expect((failed as MongoServerError | null)?.code).toBe(2);
    }
    // The mode ran out: finds work again, and the count stays what it was.
    expect(await coll.findOne({})).toBeNull();
    expect(await configure({ mode: 'off' })).toMatchObject({ count: 2 });
    expect(await configure({ mode: 'off' })).toMatchObject({ count: 0 });
  });
});
