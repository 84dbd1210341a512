import type { MongoClient } from 'mongodb';

/** Turns user write blocking on or off for the whole cluster; setting the current mode again is harmless. */
export async function setUserWriteBlocking(client: MongoClient, enabled: boolean): Promise<void> {
  await client.db('admin').command({ setUserWriteBlockMode: 1, global: enabled });
}
