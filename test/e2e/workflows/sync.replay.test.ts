// Replays recorded histories of the sync workflow against the workflow code as the service bundles
// it. A sync runs for days, across upgrades: a worker of the new release must carry on the runs
// an older one started, so any change to the workflow that makes it issue other commands for the
// same events (another activity order, a timer more or less, a handler that no longer exists)
// fails here with the file and Temporal's determinism error instead of in a customer's sync.
//
// The histories (histories/<scenario>-<n>.json, n-th run of a continue-as-new chain) are written
// by `npm run record-histories`; see scripts/record-histories.ts. An intended incompatible change
// must be gated with `patched()` (or ship as a new workflow type) so that old runs still replay;
// record the histories again only once no run of the old code can remain.
//
// No server is needed: the replay worker only reads the histories.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON, type History } from '@temporalio/common/lib/proto-utils';
import proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';
import { Worker, type ReplayResult } from '@temporalio/worker';
import { syncWorkflowBundle } from '../../../src/worker/createWorker';

// Bundling the workflow code takes 10-20 s; replaying every history a few more.
jest.setTimeout(120_000);

const HISTORIES_DIR = path.join(__dirname, 'histories');
const SCENARIOS = ['updates', 'signals', 'reset', 'continue-as-new', 'reset-at-continue-as-new'];

const files = readdirSync(HISTORIES_DIR)
  .filter((file) => file.endsWith('.json'))
  .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));

/**
 * `historyFromJSON`, or the very same conversion done with the protobufjs copy of @temporalio/proto
 * when the install holds several copies of protobufjs 8: proto-utils' own copy then refuses the
 * proto package's types ("type must be a Type"). The History object it returns is what
 * `runReplayHistories` would have made of the JSON itself.
 */
function historyFromFile(file: string): History {
  const json: unknown = JSON.parse(readFileSync(path.join(HISTORIES_DIR, file), 'utf8'));
  try {
    return historyFromJSON(json);
  } catch (err) {
    if (!/must be a Type/.test((err as Error).message)) throw err;
  }
  const protoDir = path.dirname(require.resolve('@temporalio/proto/package.json'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const protojson = require(require.resolve('protobufjs/ext/protojson', { paths: [protoDir] })) as {
    fromJson(type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }): History | null;
  };
  const historyType = (
    patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }
  ).lookupType('temporal.api.history.v1.History');
  const history = protojson.fromJson(historyType, json, { ignoreUnknownFields: true });
  if (!history) throw new TypeError(`${file}: not a history`);
  return history;
}

describe('recorded sync workflow histories replay with the current workflow code', () => {
  const results = new Map<string, ReplayResult>();

  beforeAll(async () => {
    const histories = files.map((file) => ({ workflowId: file, history: historyFromFile(file) }));
    const replay = Worker.runReplayHistories(
      { workflowBundle: await syncWorkflowBundle(), replayName: 'sync-workflow-replay' },
      histories,
    );
    for await (const result of replay) results.set(result.workflowId, result);
  });

  test('there is a history of every scenario, and several runs of the continue-as-new one', () => {
    for (const scenario of SCENARIOS) {
      expect(files.filter((file) => file.startsWith(`${scenario}-`)).length).toBeGreaterThan(0);
    }
    expect(files.filter((file) => file.startsWith('continue-as-new-')).length).toBeGreaterThan(1);
  });

  test.each(files)('%s replays', (file) => {
    const result = results.get(file);
    if (!result) throw new Error(`${file} was not replayed`);
    if (result.error) {
      throw new Error(
        `${file} does not replay with the current workflow code: ${result.error.name}: ${result.error.message}`,
      );
    }
  });
});
