// MongoDB's unified-format specification tests against the emulator (an 8.0 replica set), through
// the real driver: the six suites of ../shared/conformance/mongodb-specifications. Each suite must
// pass its share of the tests that apply to an 8.0 replica set (runOnRequirements); tests the skip
// list names count as applicable and not passed. A suite below 100% must name each file with a
// failure in test/spec/skip-list.json's knownFailures, with the reason.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  SPECS_ROOT,
  collectFiles,
  loadSkipList,
  runSpecFiles,
  type SuiteSummary,
} from '../spec/unified/suite';

const failures = (summary: SuiteSummary): string[] =>
  summary.files.flatMap((file) =>
    file.results
      .filter((r) => r.status === 'failed')
      .map((r) => `${r.file}: ${r.description}: ${r.reason ?? ''}`),
  );

/** The share of applicable tests each suite must pass. */
const AIMS: Array<{ suite: string; aim: number }> = [
  { suite: 'change-streams', aim: 1 },
  { suite: 'crud', aim: 0.95 },
  { suite: 'transactions', aim: 0.95 },
  { suite: 'transactions-convenient-api', aim: 0.95 },
  { suite: 'sessions', aim: 0.95 },
  { suite: 'retryable-writes', aim: 0.95 },
];

describe('MongoDB specification tests against the emulator (8.0)', () => {
  const skipList = loadSkipList();

  it('finds the specification checkout', () => {
    for (const { suite } of AIMS) expect(existsSync(join(SPECS_ROOT, suite))).toBe(true);
  });

  it.each(AIMS)(
    '$suite: passes at least $aim of the applicable tests; files with failures are listed',
    async ({ suite, aim }) => {
      const summary = await runSpecFiles(collectFiles([join(SPECS_ROOT, suite)]), { skipList });
      const applicable = summary.passed + summary.failed + summary.skippedByList;
      expect(applicable).toBeGreaterThan(0);
      if (aim === 1) {
        expect(failures(summary)).toEqual([]);
        // Nothing applicable is left out through the skip list.
        expect(summary.skippedByList).toBe(0);
      }
      const share = summary.passed / applicable;
      if (share < aim)
        throw new Error(`${suite}: ${summary.passed}/${applicable} passed:\n${failures(summary).join('\n')}`);
      const unlisted = summary.files
        .filter((file) => file.failed > 0 && !skipList.knownFailures[file.name] && !skipList.skip[file.name])
        .map((file) => file.name);
      expect(unlisted).toEqual([]);
      // Every skip-list entry of this suite still names one of its files.
      const names = new Set(summary.files.map((file) => file.name));
      for (const key of [...Object.keys(skipList.skip), ...Object.keys(skipList.knownFailures)])
        if (key.startsWith(`${suite}/`)) expect(names.has(key.split(': ')[0])).toBe(true);
    },
    600_000,
  );
});
