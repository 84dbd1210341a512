// The source's change-stream history as the oplog holds it: its oldest and newest entries and how
// full it is (collStats of local.oplog.rs, as `rs.printReplicationInfo()` reads it).
import type { Document, MongoClient } from 'mongodb';
import type { OplogWindow } from '../domain';

function timeOf(entry: Document | null): { t: number; i: number } | null {
  const ts = entry?.ts as { high?: number; low?: number; t?: number; i?: number } | undefined;
  if (!ts) return null;
  // A driver Timestamp (high = seconds, low = increment).
  return { t: Number(ts.high ?? ts.t), i: Number(ts.low ?? ts.i) };
}

/** The oplog's window, or null when the server does not let this user read it. */
export async function readOplogWindow(client: MongoClient): Promise<OplogWindow | null> {
  try {
    const local = client.db('local');
    const stats = await local.command({ collStats: 'oplog.rs' });
    const oplog = local.collection('oplog.rs');
    const projection = { ts: 1 };
    const [oldest, newest] = await Promise.all([
      oplog.findOne({}, { sort: { $natural: 1 }, projection }),
      oplog.findOne({}, { sort: { $natural: -1 }, projection }),
    ]);
    const first = timeOf(oldest);
    const last = timeOf(newest);
    const maxSizeBytes = Number(stats.maxSize ?? 0);
    if (!first || !last || !(maxSizeBytes > 0)) return null;
    return { first, last, sizeBytes: Number(stats.size ?? 0), maxSizeBytes };
  } catch {
    return null;
  }
}
