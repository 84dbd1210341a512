// What the emulator's driver-level tests share: one emulator with a connected client for a test
// file, and the server error a command is expected to fail with.
import { MongoClient, MongoServerError } from 'mongodb';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../../emulator';

export interface EmulatorWithClient {
  emulator: RunningEmulator;
  client: MongoClient;
  stop(): Promise<void>;
}

export async function startEmulatorWithClient(options: EmulatorOptions): Promise<EmulatorWithClient> {
  const emulator = await startEmulator(options);
  const client = await MongoClient.connect(emulator.uri, { serverSelectionTimeoutMS: 5000 });
  return {
    emulator,
    client,
    stop: async () => {
      await client.close();
      await emulator.stop();
    },
  };
}

/** The MongoServerError `promise` rejects with; fails the test when it resolves or fails otherwise. */
export async function serverFailure(promise: Promise<unknown>): Promise<MongoServerError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MongoServerError);
  return error as MongoServerError;
}
