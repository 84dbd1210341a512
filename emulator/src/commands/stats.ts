// Size statistics for collStats, $collStats and dbStats, computed from the stored BSON bytes.
import { type Document, Int32, Long } from 'bson';
import type { Collection } from '../storage/collection';

/** Rough per-index size: stored documents times an entry cost; real sizes depend on the engine. */
const INDEX_ENTRY_BYTES = 32;

export function collectionStats(collection: Collection): Document {
  const count = collection.count;
  const size = collection.sizeBytes;
  const indexSizes: Document = {};
  for (const index of collection.indexes) indexSizes[index.name] = count * INDEX_ENTRY_BYTES;
  const totalIndexSize = collection.indexes.length * count * INDEX_ENTRY_BYTES;
  const stats: Document = {
    ns: collection.ns,
    size,
    count,
    avgObjSize: count > 0 ? Math.floor(size / count) : 0,
    numOrphanDocs: 0,
    storageSize: size,
    freeStorageSize: 0,
    capped: collection.isCapped,
    nindexes: collection.indexes.length,
    indexDetails: {},
    indexBuilds: [],
    totalIndexSize,
    totalSize: size + totalIndexSize,
    indexSizes,
  };
  if (collection.isCapped) {
    stats.max = collection.options.max ?? 0;
    stats.maxSize = collection.options.size;
  }
  return stats;
}

export function toInt32Counts(doc: Document): Document {
  const out: Document = {};
  for (const [key, value] of Object.entries(doc)) {
    out[key] =
      typeof value === 'number' && Number.isInteger(value)
        ? Math.abs(value) < 2 ** 31
          ? new Int32(value)
          : Long.fromNumber(value)
        : value;
  }
  return out;
}
