// `npm run bench:emulator`: the emulator's throughput through the real driver, with the emulator
// in its own process (as tests and the demo run it): insertMany of ~1 KB documents in batches of
// 1,000, a full find over 100k documents, and change events delivered to a cluster-wide stream.
// Prints docs/s, events/s and the emulator's resident memory beside the stored data size.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { MongoClient, type Document } from 'mongodb';

const TOTAL_DOCS = Number(process.env.BENCH_DOCS ?? 100_000);
const BATCH = 1_000;
const root = path.join(__dirname, '..');

function startEmulatorProcess(): Promise<{ uri: string; child: ChildProcess }> {
  const child = spawn(
    path.join(root, 'node_modules', '.bin', 'tsx'),
    [path.join(root, 'emulator', 'cli.ts'), '--port', '0', '--oplog-size-mb', '1024'],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /emulator ready: (\S+)/.exec(out);
      if (match) resolve({ uri: match[1], child });
    });
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
  });
}

function makeDoc(i: number): Document {
  // ~1 KB: a few typed fields and a filler string.
  return {
    seq: i,
    name: `customer-${i}`,
    amount: i * 1.5,
    tags: ['a', 'b', 'c'],
    createdAt: new Date(),
    filler: 'x'.repeat(900),
  };
}

async function main(): Promise<void> {
  const { uri, child } = await startEmulatorProcess();
  const client = await MongoClient.connect(uri);
  try {
    const coll = client.db('bench').collection('docs');
    const stream = client.watch([], { batchSize: 5000 });
    await stream.tryNext(); // open the stream before writing

    let start = performance.now();
    for (let i = 0; i < TOTAL_DOCS; i += BATCH) {
      await coll.insertMany(Array.from({ length: BATCH }, (_, j) => makeDoc(i + j)));
    }
    const insertSeconds = (performance.now() - start) / 1000;

    start = performance.now();
    let scanned = 0;
    for await (const _doc of coll.find({}, { batchSize: 10_000 })) scanned++;
    const scanSeconds = (performance.now() - start) / 1000;

    start = performance.now();
    let events = 0;
    while (events < TOTAL_DOCS) {
      const event = await stream.tryNext();
      if (event) events++;
    }
    const eventSeconds = (performance.now() - start) / 1000;
    await stream.close();

    const stats = await client.db('bench').command({ collStats: 'docs' });
    const status = await client.db('admin').command({ serverStatus: 1 });
    const dataMb = Number(stats.size) / 1048576;
    console.log(`documents: ${TOTAL_DOCS} of ~${Math.round(Number(stats.avgObjSize))} bytes`);
    console.log(
      `inserted docs/s: ${Math.round(TOTAL_DOCS / insertSeconds)} (insertMany, batches of ${BATCH})`,
    );
    console.log(`scanned docs/s: ${Math.round(scanned / scanSeconds)} (find over ${scanned} documents)`);
    console.log(
      `change events/s: ${Math.round(events / eventSeconds)} (cluster-wide stream, ${events} inserts)`,
    );
    console.log(
      `emulator resident memory: ${status.mem.resident} MB for ${dataMb.toFixed(1)} MB of stored documents (resident set, including garbage not yet collected; the change history shares the stored bytes)`,
    );
  } finally {
    await client.close();
    child.kill('SIGTERM');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
