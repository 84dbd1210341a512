// A full comparison of two clusters' user data: databases, collections with their options,
// views, indexes (name, key and options) and every document byte for byte, in `_id` order.
import { BSON, type Document, type MongoClient } from 'mongodb';

const SKIPPED_DATABASES = new Set(['admin', 'config', 'local', 'mongosync_reserved_for_internal_use']);
const exact = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: true } as const;

export interface ClusterSnapshot {
  namespaces: Record<string, { type: string; options: string; indexes: string[]; documents: string[] }>;
}

function canonical(doc: Document): string {
  return Buffer.from(BSON.serialize(doc)).toString('base64');
}

export async function snapshotCluster(client: MongoClient): Promise<ClusterSnapshot> {
  const snapshot: ClusterSnapshot = { namespaces: {} };
  const { databases } = await client.db('admin').admin().listDatabases({ nameOnly: true });
  for (const { name: dbName } of databases) {
    if (SKIPPED_DATABASES.has(dbName) || dbName.startsWith('__mdb_internal')) continue;
    const db = client.db(dbName);
    for (const info of await db.listCollections({}, { nameOnly: false }).toArray()) {
      if (info.name.startsWith('system.')) continue;
      const ns = `${dbName}.${info.name}`;
      if (info.type === 'view') {
        snapshot.namespaces[ns] = {
          type: 'view',
          options: JSON.stringify(info.options),
          indexes: [],
          documents: [],
        };
        continue;
      }
      const coll = db.collection(info.name);
      const indexes = (await coll.listIndexes().toArray())
        .map((index) => {
          const { v: _v, ns: _ns, ...rest } = index;
          return JSON.stringify(rest);
        })
        .sort();
      const cursor = info.options?.capped ? coll.find({}, exact) : coll.find({}, exact).sort({ _id: 1 });
      const documents = (await cursor.toArray()).map(canonical);
      snapshot.namespaces[ns] = {
        type: info.type ?? 'collection',
        options: JSON.stringify(info.options ?? {}),
        indexes,
        documents,
      };
    }
  }
  return snapshot;
}

export interface CompareOptions {
  /** Only namespaces (`db.coll`) this accepts are compared, on both sides; default all. */
  namespaces?: (ns: string) => boolean;
  /** Whether index lists are compared (default true). */
  indexes?: boolean;
}

/** Differences between two clusters, as readable lines (empty when they are equal). */
export async function compareClusters(
  source: MongoClient,
  destination: MongoClient,
  options: CompareOptions = {},
): Promise<string[]> {
  const [a, b] = await Promise.all([snapshotCluster(source), snapshotCluster(destination)]);
  const differences: string[] = [];
  const selected = options.namespaces ?? (() => true);
  const names = new Set([...Object.keys(a.namespaces), ...Object.keys(b.namespaces)].filter(selected));
  for (const ns of [...names].sort()) {
    const left = a.namespaces[ns];
    const right = b.namespaces[ns];
    if (!left) differences.push(`${ns}: only on the destination`);
    else if (!right) differences.push(`${ns}: missing on the destination`);
    else {
      if (left.type !== right.type) differences.push(`${ns}: type ${left.type} vs ${right.type}`);
      if (left.options !== right.options)
        differences.push(`${ns}: options ${left.options} vs ${right.options}`);
      if (options.indexes !== false && left.indexes.join('\n') !== right.indexes.join('\n'))
        differences.push(`${ns}: indexes ${left.indexes.join(' ')} vs ${right.indexes.join(' ')}`);
      if (left.documents.length !== right.documents.length)
        differences.push(`${ns}: ${left.documents.length} vs ${right.documents.length} documents`);
      else {
        const mismatch = left.documents.findIndex((doc, i) => doc !== right.documents[i]);
        if (mismatch >= 0) {
          const show = (encoded: string) =>
            JSON.stringify(BSON.deserialize(Buffer.from(encoded, 'base64'), exact));
          differences.push(
            `${ns}: document ${mismatch} differs: ${show(left.documents[mismatch])} vs ${show(right.documents[mismatch])}`,
          );
        }
      }
    }
  }
  return differences;
}
