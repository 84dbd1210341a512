// MongoDB's unified-format specification tests (change streams and CRUD) against the emulator,
// through the real driver. Change streams must pass in full; CRUD must pass at least 90% of the
// applicable tests, and every CRUD file with a failure must be named in test/spec/skip-list.json.
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

describe('MongoDB specification tests against the emulator (8.0)', () => {
  const skipList = loadSkipList();

  it('finds the specification checkout', () => {
    expect(existsSync(join(SPECS_ROOT, 'change-streams'))).toBe(true);
    expect(existsSync(join(SPECS_ROOT, 'crud'))).toBe(true);
  });

  it('passes every applicable change-stream test', async () => {
    const summary = await runSpecFiles(collectFiles([join(SPECS_ROOT, 'change-streams')]), { skipList });
    expect(failures(summary)).toEqual([]);
    expect(summary.passed).toBeGreaterThan(0);
    // Nothing applicable is left out through the skip list.
    expect(summary.skippedByList).toBe(0);
  }, 180_000);

  it('passes at least 90% of the applicable CRUD tests; files with failures are listed', async () => {
    const summary = await runSpecFiles(collectFiles([join(SPECS_ROOT, 'crud')]), { skipList });
    const applicable = summary.passed + summary.failed + summary.skippedByList;
    expect(applicable).toBeGreaterThan(0);
    expect(summary.passed / applicable).toBeGreaterThanOrEqual(0.9);
    const unlisted = summary.files
      .filter((file) => file.failed > 0 && !skipList.knownFailures[file.name] && !skipList.skip[file.name])
      .map((file) => file.name);
    expect(unlisted).toEqual([]);
    // Every skip-list entry still names a file of the suite.
    const names = new Set(summary.files.map((file) => file.name));
    for (const key of [...Object.keys(skipList.skip), ...Object.keys(skipList.knownFailures)])
      if (key.startsWith('crud/')) expect(names.has(key.split(': ')[0])).toBe(true);
  }, 600_000);
});
