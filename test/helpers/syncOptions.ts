// A sync's options for tests: the contract's defaults (what a /start without options gets), with
// the fields a test cares about changed.
import { parseStartRequest } from '../../src/api/startRequest';
import type { SyncOptions } from '../../src/domain';

export function syncOptions(overrides: Partial<SyncOptions> = {}): SyncOptions {
  return { ...parseStartRequest({ source: 'cluster0', destination: 'cluster1' }).options, ...overrides };
}
