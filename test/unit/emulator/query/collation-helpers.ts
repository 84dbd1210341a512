// Shared by the tests of collation.ts and of the modules that apply a collation (match.ts, sort.ts,
// aggregate.ts).
import { BSON, type Document } from 'bson';
import { exactDeserializeOptions } from '../../../../emulator/src/bson';
import { compileFilter, parseCollation, type Collation } from '../../../../emulator/src/query';

export function exact(doc: Document): Document {
  return BSON.deserialize(BSON.serialize(doc), exactDeserializeOptions);
}

export function collation(spec: Document): Collation {
  const parsed = parseCollation(spec);
  if (!parsed) throw new Error(`expected a non-simple collation for ${JSON.stringify(spec)}`);
  return parsed;
}

/** Whether `doc` matches `filter`, under the collation `spec` when one is given. */
export function collatedMatches(filter: Document, doc: Document, spec?: Document): boolean {
  return compileFilter(exact(filter), { collation: spec ? collation(spec) : undefined })(exact(doc));
}

export const caseInsensitive = { locale: 'en_US', strength: 2 };
export const accentInsensitive = { locale: 'en', strength: 1 };
