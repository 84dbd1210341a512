// --createIndexesBatchSize through the real driver against two emulated clusters: the catalog
// step builds a collection's indexes that many per createIndexes command, and all of them.
import type { CommandStartedEvent, Document } from 'mongodb';
import { ClusterClients, createActivities } from '../../../src/activities';
import { startTestCluster, stopTestCluster, type TestCluster } from '../helpers/clusters';
import { syncOptions } from '../../helpers/syncOptions';

let source: TestCluster;
let destination: TestCluster;

beforeAll(async () => {
  [source, destination] = await Promise.all([startTestCluster('catSrc'), startTestCluster('catDst')]);
});

afterAll(async () => {
  await Promise.all([stopTestCluster(source), stopTestCluster(destination)]);
});

async function createIndexesCommands(batchSize: number | undefined, db: string): Promise<Document[]> {
  await source.admin.db(db).dropDatabase();
  const copy = source.admin.db(db).collection('items');
  await copy.insertOne({ a: 1, b: 1, c: 1, d: 1, e: 1 });
  for (const field of ['a', 'b', 'c', 'd', 'e']) await copy.createIndex({ [field]: 1 });
  const clusters = new ClusterClients(
    { cluster0: source.uri, cluster1: destination.uri },
    { monitorCommands: true },
  );
  const commands: Document[] = [];
  clusters.get('cluster1').on('commandStarted', (event: CommandStartedEvent) => {
    if (event.commandName === 'createIndexes' && event.databaseName === db) commands.push(event.command);
  });
  try {
    await createActivities(clusters, { createIndexesBatchSize: batchSize }).prepareCatalog({
      direction: { source: 'cluster0', destination: 'cluster1' },
      options: {
        ...syncOptions({ verificationEnabled: false }),
        buildIndexes: 'beforeDataCopy',
        includeNamespaces: [{ database: db }],
      },
    });
  } finally {
    await clusters.close();
  }
  const names = (await destination.admin.db(db).collection('items').listIndexes().toArray()).map(
    (i) => i.name,
  );
  expect(names.sort()).toEqual(['_id_', 'a_1', 'b_1', 'c_1', 'd_1', 'e_1']);
  return commands;
}

test('builds the indexes two per createIndexes command with --createIndexesBatchSize 2', async () => {
  const commands = await createIndexesCommands(2, 'batched');
  expect(commands.map((command) => (command.indexes as Document[]).length)).toEqual([2, 2, 1]);
});

test('builds them in one command by default', async () => {
  const commands = await createIndexesCommands(undefined, 'together');
  expect(commands.map((command) => (command.indexes as Document[]).length)).toEqual([5]);
});
