// The verifier's mismatch log as the API shows it: namespace, `_id` and kind, never contents.
import type { MongoClient } from 'mongodb';
import { VerifierStore } from './verifierStore';

export interface VerificationLogEntry {
  namespace: string;
  _id: string;
  kind: string;
  repaired: boolean;
  persists: boolean;
  foundAt: string;
}

export async function verificationLog(
  destination: MongoClient,
  limit: number,
): Promise<VerificationLogEntry[]> {
  const records = await new VerifierStore(destination).firstMismatches(limit);
  return records.map((record) => ({
    namespace: record.ns,
    _id: record.id,
    kind: record.kind,
    repaired: record.repaired,
    persists: record.persists,
    foundAt: record.foundAt.toISOString(),
  }));
}
