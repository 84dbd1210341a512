// Server information and administration commands through the driver, checked against what
// mongod answers: getParameter, serverStatus.
import { Double, Int32, Long, MongoClient } from 'mongodb';
import type { RunningEmulator } from '../../emulator';
import { serverFailure, startEmulatorWithClient } from './helpers/emulator';

const exact = { promoteValues: false, promoteLongs: false } as const;

describe('emulator server administration commands', () => {
  let emulator: RunningEmulator;
  let client: MongoClient;
  let stop: (() => Promise<void>) | undefined;
  const failure = serverFailure;

  beforeAll(async () => {
    ({ emulator, client, stop } = await startEmulatorWithClient({ version: '8.0', replSet: 'rsAdmin' }));
  });

  afterAll(() => stop?.());

  describe('getParameter', () => {
    test('authSchemaVersion is 5 (Int32)', async () => {
      const reply = await client.db('admin').command({ getParameter: 1, authSchemaVersion: 1 }, exact);
      expect(reply.authSchemaVersion).toEqual(new Int32(5));
      expect(Object.keys(reply)).not.toContain('featureCompatibilityVersion');
    });

    test("'*' and {allParameters: true} return every parameter", async () => {
      for (const getParameter of ['*', { allParameters: true }]) {
        const reply = await client.db('admin').command({ getParameter });
        expect(reply.featureCompatibilityVersion).toEqual({ version: '8.0' });
        expect(reply.authSchemaVersion).toBe(5);
        expect(reply.authenticationMechanisms).toEqual(['SCRAM-SHA-1', 'SCRAM-SHA-256']);
        expect(reply.transactionLifetimeLimitSeconds).toBe(60);
      }
    });

    test('showDetails wraps each value', async () => {
      const reply = await client
        .db('admin')
        .command({ getParameter: { showDetails: true }, authSchemaVersion: 1 });
      expect(reply.authSchemaVersion).toEqual({
        value: 5,
        settableAtRuntime: false,
        settableAtStartup: true,
      });
    });

    test('unknown names are ignored; none known is InvalidOptions', async () => {
      const some = await client
        .db('admin')
        .command({ getParameter: 1, noSuchParameter: 1, authSchemaVersion: 1 });
      expect(some.authSchemaVersion).toBe(5);
      expect(some.noSuchParameter).toBeUndefined();
      const error = await failure(client.db('admin').command({ getParameter: 1, noSuchParameter: 1 }));
      expect(error.code).toBe(72);
      expect(error.codeName).toBe('InvalidOptions');
      expect(error.message).toBe('no option found to get');
    });

    test('only on admin', async () => {
      const error = await failure(client.db('test').command({ getParameter: 1, authSchemaVersion: 1 }));
      expect(error.code).toBe(13);
    });
  });

  describe('serverStatus', () => {
    test('uptime is a whole-second Double; uptimeMillis and uptimeEstimate are Int64', async () => {
      const reply = await client.db('admin').command({ serverStatus: 1 }, exact);
      expect(reply.uptime).toBeInstanceOf(Double);
      expect(Number.isInteger(reply.uptime.valueOf())).toBe(true);
      expect(reply.uptimeMillis).toBeInstanceOf(Long);
      expect(reply.uptimeEstimate).toBeInstanceOf(Long);
      expect(reply.mem.bits).toEqual(new Int32(64));
      expect(reply.mem.resident).toBeInstanceOf(Int32);
      expect(reply.mem.virtual).toBeInstanceOf(Int32);
      expect(reply.mem.resident.value).toBeGreaterThan(0);
      expect(reply.mem.virtual.value).toBeGreaterThanOrEqual(reply.mem.resident.value);
    });

    test('opcounters count real operations', async () => {
      const coll = client.db('opcount').collection('c');
      const before = (await client.db('admin').command({ serverStatus: 1 })).opcounters;
      await coll.insertMany([{ a: 1 }, { a: 2 }, { a: 3 }]);
      await coll.updateOne({ a: 1 }, { $set: { b: 1 } });
      await coll.deleteMany({ a: 2 });
      await coll.find({}, { batchSize: 1 }).toArray();
      const after = (await client.db('admin').command({ serverStatus: 1 })).opcounters;
      expect(after.insert - before.insert).toBe(3);
      expect(after.update - before.update).toBe(1);
      expect(after.delete - before.delete).toBe(1);
      expect(after.query - before.query).toBe(1);
      expect(after.getmore - before.getmore).toBeGreaterThanOrEqual(1);
      // The serverStatus that reads `after` is itself counted.
      expect(after.command - before.command).toBeGreaterThanOrEqual(1);
    });

    test('connections.current counts open connections', async () => {
      const status = async (): Promise<{ current: number; available: number; totalCreated: number }> =>
        (await client.db('admin').command({ serverStatus: 1 })).connections;
      const before = await status();
      const other = await MongoClient.connect(emulator.uri, { serverSelectionTimeoutMS: 5000 });
      await other.db('admin').command({ ping: 1 });
      const during = await status();
      expect(during.current).toBeGreaterThan(before.current);
      expect(during.totalCreated).toBeGreaterThan(before.totalCreated);
      expect(during.current + during.available).toBe(before.current + before.available);
      await other.close();
      for (let i = 0; i < 50 && (await status()).current > before.current; i++)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await status()).current).toBe(before.current);
    });
  });
});
