// Index access statistics as $indexStats reports them: per index, how many operations used it
// since when. The emulator answers queries from its `_id` tree or by a scan, so only the `_id`
// index ever counts a use; every other index reports 0 since its creation. Kept beside the specs
// (keyed by the spec object, which lives as long as the index) rather than inside them, so specs
// stay exactly what mongod stores.
import type { Document } from 'bson';

export interface IndexUsage {
  ops: number;
  since: Date;
}

const usage = new WeakMap<Document, IndexUsage>();

/** The usage record of an index, started now when the index has none yet. */
export function indexUsage(spec: Document): IndexUsage {
  let entry = usage.get(spec);
  if (!entry) {
    entry = { ops: 0, since: new Date() };
    usage.set(spec, entry);
  }
  return entry;
}

/** Start an index's statistics (its creation): 0 uses since now. */
export function startIndexUsage(spec: Document): void {
  usage.set(spec, { ops: 0, since: new Date() });
}

/** One operation used this index. */
export function noteIndexUse(spec: Document | undefined): void {
  if (spec) indexUsage(spec).ops++;
}
