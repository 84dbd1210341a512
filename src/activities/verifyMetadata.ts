// The verifier's namespace metadata check at commit, once index options are restored: every synced
// collection and view exists on the destination with the source's options and index specs. An
// index missing on the destination is built again from the source's spec (a repair); any other
// difference cannot be repaired safely and holds the commit.
import { type Document, type MongoClient } from 'mongodb';
import type { ClusterClients } from './clusters';
import type { BuildIndexesMode, MetadataCheckInput, MetadataCheckResult } from './contract';
import { indexBuildTime, isIdIndex } from './indexSpecs';
import { activityContext } from './context';
import { listCatalogEntries, listIndexSpecs, listSyncedCatalog } from './catalog';
import { compileNamespaceFilter } from './namespaces';
import { VerifierStore } from './verifierStore';

const NON_SPEC_FIELDS = new Set(['v', 'ns', 'background']);

/**
 * Options or an index spec as comparable text: top-level fields in name order (the order a server
 * lists them in depends on how they were set), nested values (key patterns) as they are, and
 * fields the server reports but a build does not take left out.
 */
function comparable(document: Document): string {
  const fields = Object.keys(document)
    .filter((field) => !NON_SPEC_FIELDS.has(field))
    .sort();
  return JSON.stringify(fields.map((field) => [field, document[field]]));
}

function creatableSpec(spec: Document): Document {
  const kept: Document = {};
  for (const [field, value] of Object.entries(spec)) if (!NON_SPEC_FIELDS.has(field)) kept[field] = value;
  return kept;
}

async function checkIndexes(
  source: MongoClient,
  destination: MongoClient,
  db: string,
  coll: string,
  buildIndexes: BuildIndexesMode,
  report: (what: string, repaired: boolean, persists: boolean) => Promise<void>,
): Promise<void> {
  // Indexes the sync does not build (buildIndexes "never", hashed ones with "excludeHashed") are
  // not expected on the destination.
  const allSourceSpecs = await listIndexSpecs(source.db(db), coll);
  const sourceSpecs = allSourceSpecs.filter(
    (spec) => isIdIndex(spec) || indexBuildTime(spec, buildIndexes) !== 'never',
  );
  const destinationSpecs = new Map(
    (await listIndexSpecs(destination.db(db), coll)).map((spec) => [String(spec.name), spec]),
  );
  for (const spec of sourceSpecs) {
    const name = String(spec.name);
    const copy = destinationSpecs.get(name);
    destinationSpecs.delete(name);
    if (copy === undefined) {
      await destination.db(db).command({ createIndexes: coll, indexes: [creatableSpec(spec)] });
      activityContext().warn(
        `verifier: index ${name} was missing on ${db}.${coll} of the destination; built it again`,
        {
          namespace: `${db}.${coll}`,
          index: name,
        },
      );
      await report(`index ${name} missing`, true, false);
    } else if (comparable(copy) !== comparable(spec)) {
      await report(`index ${name} differs`, false, true);
    }
  }
  for (const spec of allSourceSpecs) destinationSpecs.delete(String(spec.name));
  for (const name of destinationSpecs.keys()) await report(`index ${name} is not on the source`, false, true);
}

/** Compares the synced catalog of both clusters; returns how many differences hold the commit. */
export async function verifyMetadata(
  clusters: ClusterClients,
  input: MetadataCheckInput,
): Promise<MetadataCheckResult> {
  const { direction, options } = input;
  const source = clusters.get(direction.source);
  const destination = clusters.get(direction.destination);
  const store = new VerifierStore(destination);
  let differences = 0;
  let repaired = 0;
  const blocking: string[] = [];
  for (const entry of await listSyncedCatalog(source, compileNamespaceFilter(options))) {
    const ns = `${entry.db}.${entry.name}`;
    const report = async (what: string, wasRepaired: boolean, persists: boolean) => {
      differences++;
      if (wasRepaired) repaired++;
      if (persists) blocking.push(`${ns}: ${what}`);
      await store.logMetadataMismatch(ns, what, wasRepaired, persists);
    };
    const [copy] = await listCatalogEntries(destination.db(entry.db), { name: entry.name });
    if (copy === undefined) {
      await report(`${entry.type} missing`, false, true);
      continue;
    }
    if (copy.type !== entry.type) {
      await report(`is a ${copy.type}, not a ${entry.type}`, false, true);
      continue;
    }
    if (comparable(copy.options) !== comparable(entry.options)) {
      await report('collection options differ', false, true);
    }
    if (entry.type === 'collection')
      await checkIndexes(source, destination, entry.db, entry.name, options.buildIndexes, report);
  }
  return { differences, repaired, blocking: blocking.slice(0, 20), blockingCount: blocking.length };
}
