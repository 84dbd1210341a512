// Runs unified-format spec files against a fresh emulator and summarizes the results per file.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { MongoClient } from 'mongodb';
import { startEmulator, type ServerVersion } from '../../../emulator';
import { runFile, type ServerInfo, type TestResult } from './runner';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
/** The MongoDB specifications checkout, next to the repository. */
export const SPECS_ROOT = resolve(REPO_ROOT, '..', 'shared', 'conformance', 'mongodb-specifications');
export const SKIP_LIST_PATH = join(REPO_ROOT, 'test', 'spec', 'skip-list.json');

export interface SkipList {
  /** "suite/file.json" or "suite/file.json: test description" → why it is not run. */
  skip: Record<string, string>;
  /** "suite/file.json" → why some of its tests are known to fail against the emulator. */
  knownFailures: Record<string, string>;
}

export function loadSkipList(path = SKIP_LIST_PATH): SkipList {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<SkipList> & Record<string, unknown>;
  const pick = (value: unknown): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [key, reason] of Object.entries((value as Record<string, unknown> | undefined) ?? {}))
      if (!key.startsWith('//')) out[key] = String(reason);
    return out;
  };
  return { skip: pick(raw.skip), knownFailures: pick(raw.knownFailures) };
}

/** The JSON test files named by the arguments (files, or directories searched recursively). */
export function collectFiles(paths: string[]): string[] {
  const files: string[] = [];
  const visit = (path: string): void => {
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path).sort()) visit(join(path, entry));
    } else if (path.endsWith('.json')) files.push(path);
  };
  for (const path of paths) {
    const candidates = [resolve(path), resolve(SPECS_ROOT, path)];
    const found = candidates.find((candidate) => existsSync(candidate));
    if (!found) throw new Error(`no such file or directory: ${path}`);
    visit(found);
  }
  return files;
}

/** "suite/file.json": the file's directory name and base name. */
export function displayName(file: string): string {
  const rel = relative(SPECS_ROOT, file);
  return rel.startsWith('..') ? `${basename(dirname(file))}/${basename(file)}` : rel.split('\\').join('/');
}

export interface FileSummary {
  name: string;
  results: TestResult[];
  passed: number;
  failed: number;
  skipped: number;
}

export interface SuiteSummary {
  files: FileSummary[];
  passed: number;
  failed: number;
  skipped: number;
  /** Skipped because runOnRequirements did not match the emulated server. */
  skippedByRequirements: number;
  /** Skipped because the skip list names them. */
  skippedByList: number;
}

export interface RunOptions {
  version?: ServerVersion;
  skipList?: SkipList;
  /** Called after each file. */
  onFile?(summary: FileSummary): void;
}

export async function runSpecFiles(files: string[], options: RunOptions = {}): Promise<SuiteSummary> {
  const skipList = options.skipList ?? loadSkipList();
  const emulator = await startEmulator({ version: options.version ?? '8.0', replSet: 'rsSpec' });
  const internal = new MongoClient(emulator.uri, { serverSelectionTimeoutMS: 5000 });
  const summary: SuiteSummary = {
    files: [],
    passed: 0,
    failed: 0,
    skipped: 0,
    skippedByRequirements: 0,
    skippedByList: 0,
  };
  try {
    await internal.connect();
    const build = await internal.db('admin').command({ buildInfo: 1 });
    const hello = await internal.db('admin').command({ hello: 1 });
    const server: ServerInfo = {
      version: String(build.version),
      topology: hello.setName ? 'replicaset' : hello.msg === 'isdbgrid' ? 'sharded' : 'single',
      serverless: false,
      auth: false,
    };
    for (const file of files) {
      const name = displayName(file);
      const results = await runFile(file, {
        uri: emulator.uri,
        server,
        internal,
        name,
        skipReason: (description) => skipList.skip[name] ?? skipList.skip[`${name}: ${description}`],
      });
      const fileSummary: FileSummary = {
        name,
        results,
        passed: results.filter((r) => r.status === 'passed').length,
        failed: results.filter((r) => r.status === 'failed').length,
        skipped: results.filter((r) => r.status === 'skipped').length,
      };
      summary.files.push(fileSummary);
      summary.passed += fileSummary.passed;
      summary.failed += fileSummary.failed;
      summary.skipped += fileSummary.skipped;
      summary.skippedByRequirements += results.filter((r) => r.skipKind === 'requirements').length;
      summary.skippedByList += results.filter((r) => r.skipKind === 'skipList').length;
      options.onFile?.(fileSummary);
    }
  } finally {
    await internal.close();
    await emulator.stop();
  }
  return summary;
}
