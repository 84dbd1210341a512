// Runs unified-format test files (schema 1.x) against a server with the real driver: entities,
// initialData, runOnRequirements, operations with expectResult / expectError, expectEvents and
// outcome, as the format document ("Executing a Test File" / "Executing a Test") describes.
import { readFileSync } from 'node:fs';
import {
  BSON,
  MongoBulkWriteError,
  MongoClient,
  MongoClientBulkWriteError,
  MongoError,
  MongoOperationTimeoutError,
  MongoServerError,
  type Document,
} from 'mongodb';
import { ClientEntity, EntityMap, UnsupportedFeature, type ObservedEvent } from './entities';
import { Matcher, MatchError, exactEquals } from './match';
import {
  bulkWriteResultDocument,
  clientBulkWriteResultDocument,
  executeOperation,
  type OperationContext,
} from './operations';

const { EJSON } = BSON;

export interface ServerInfo {
  /** e.g. "8.0.4" */
  version: string;
  topology: 'single' | 'replicaset' | 'sharded' | 'load-balanced';
  serverless: boolean;
  auth: boolean;
}

export type TestStatus = 'passed' | 'failed' | 'skipped';

export interface TestResult {
  file: string;
  description: string;
  status: TestStatus;
  /** For failures, the first assertion that failed; for skips, why. */
  reason?: string;
  /** `requirements` (runOnRequirements not met) or `skipList` (listed as unsupported). */
  skipKind?: 'requirements' | 'skipList';
}

export interface RunFileOptions {
  uri: string;
  server: ServerInfo;
  internal: MongoClient;
  /** The file's name for reports (e.g. "crud/find.json"). */
  name: string;
  /** A skip-list reason for this file or one of its tests, if any. */
  skipReason(description: string): string | undefined;
  /** Upper bound for one operation, so a hung iteration fails the test instead of the run. */
  operationTimeoutMS?: number;
}

const SUPPORTED_SCHEMA_MAJOR = 1;
const SUPPORTED_SCHEMA_MINOR = 21;

function versionParts(version: string): number[] {
  const parts = version.split('.').map((p) => Number.parseInt(p, 10));
  while (parts.length < 3) parts.push(0);
  return parts;
}

export function compareVersions(a: string, b: string): number {
  const x = versionParts(a);
  const y = versionParts(b);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

/** Whether one runOnRequirement object is satisfied by the server (undefined = yes, else why not). */
async function unmetRequirement(
  req: Document,
  server: ServerInfo,
  internal: MongoClient,
): Promise<string | undefined> {
  if (req.minServerVersion && compareVersions(server.version, req.minServerVersion as string) < 0)
    return `requires server >= ${String(req.minServerVersion)}`;
  if (req.maxServerVersion && compareVersions(server.version, req.maxServerVersion as string) > 0)
    return `requires server <= ${String(req.maxServerVersion)}`;
  if (Array.isArray(req.topologies)) {
    const topologies = req.topologies as string[];
    const ok =
      topologies.includes(server.topology) ||
      (server.topology === 'sharded' && topologies.includes('sharded-replicaset'));
    if (!ok) return `requires topology ${topologies.join('|')}`;
  }
  if (req.serverless === 'require' && !server.serverless) return 'requires serverless';
  if (req.serverless === 'forbid' && server.serverless) return 'forbids serverless';
  if (req.auth === true && !server.auth) return 'requires auth';
  if (req.auth === false && server.auth) return 'forbids auth';
  if (req.csfle !== undefined && req.csfle !== false) return 'requires CSFLE';
  if (req.serverParameters) {
    for (const [name, value] of Object.entries(req.serverParameters as Document)) {
      try {
        const reply = await internal.db('admin').command({ getParameter: 1, [name]: 1 });
        if (!exactEquals(value, reply[name]))
          return `requires server parameter ${name}=${JSON.stringify(value)}`;
      } catch {
        return `requires server parameter ${name}`;
      }
    }
  }
  return undefined;
}

async function requirementsUnmet(
  reqs: Document[] | undefined,
  server: ServerInfo,
  internal: MongoClient,
): Promise<string | undefined> {
  if (!reqs || reqs.length === 0) return undefined;
  const reasons: string[] = [];
  for (const req of reqs) {
    const reason = await unmetRequirement(req, server, internal);
    if (reason === undefined) return undefined;
    reasons.push(reason);
  }
  return reasons.join('; ');
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not complete within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function setUpInitialData(internal: MongoClient, data: Document[] | undefined): Promise<void> {
  const majority = { writeConcern: { w: 'majority' as const } };
  for (const entry of data ?? []) {
    const db = internal.db(entry.databaseName as string);
    const name = entry.collectionName as string;
    for (const coll of [name, `enxcol_.${name}.esc`, `enxcol_.${name}.ecoc`])
      await db
        .collection(coll)
        .drop(majority)
        .catch(() => undefined);
    const documents = (entry.documents as Document[] | undefined) ?? [];
    if (entry.createOptions)
      await db.createCollection(name, { ...(entry.createOptions as Document), ...majority });
    if (documents.length > 0) await db.collection(name).insertMany(documents, majority);
    else if (!entry.createOptions) await db.createCollection(name, majority);
  }
}

// ----- errors -------------------------------------------------------------------------------

/** The server errors an exception aggregates (bulk write errors carry several). */
function errorParts(error: unknown): Document[] {
  const parts: Document[] = [];
  if (!error || typeof error !== 'object') return parts;
  parts.push(error as Document);
  const err = error as Document;
  if (err.cause && typeof err.cause === 'object') parts.push(err.cause as Document);
  if (error instanceof MongoBulkWriteError) {
    const writeErrors = error.writeErrors as unknown;
    for (const we of (Array.isArray(writeErrors) ? writeErrors : [writeErrors]) as Document[]) {
      parts.push(
        typeof (we as Document).toJSON === 'function'
          ? ((we as Document).toJSON() as Document)
          : (we as Document),
      );
    }
    const wce = error.result?.getWriteConcernError();
    if (wce)
      parts.push({ code: wce.code, errmsg: wce.errmsg, codeName: (wce as unknown as Document).codeName });
  }
  if (error instanceof MongoClientBulkWriteError) {
    for (const we of error.writeErrors.values()) parts.push(we as unknown as Document);
    for (const wce of error.writeConcernErrors) parts.push(wce);
  }
  if (err.writeConcernError && typeof err.writeConcernError === 'object')
    parts.push(err.writeConcernError as Document);
  return parts;
}

/** Code numbers of the code names the suites assert, for errors that carry only a code. */
const CODE_NUMBERS: Record<string, number> = {
  ChangeStreamFatalError: 280,
  ChangeStreamHistoryLost: 286,
  DuplicateKey: 11000,
  DocumentValidationFailure: 121,
  BadValue: 2,
  FailedToParse: 9,
  InvalidOptions: 72,
  NamespaceNotFound: 26,
  UnknownReplWriteConcern: 79,
};

function hasLabel(error: unknown, label: string): boolean {
  return errorParts(error).some((part) =>
    part instanceof MongoError
      ? part.hasErrorLabel(label)
      : Array.isArray(part.errorLabels) && (part.errorLabels as string[]).includes(label),
  );
}

function assertError(expected: Document, error: unknown, matcher: Matcher): void {
  const parts = errorParts(error);
  if (expected.isClientError !== undefined) {
    const isClient = !(error instanceof MongoServerError);
    if (isClient !== expected.isClientError)
      throw new MatchError(
        `expected ${expected.isClientError ? 'a client' : 'a server'} error, got ${String(error)}`,
      );
  }
  if (expected.isTimeoutError !== undefined) {
    const isTimeout = error instanceof MongoOperationTimeoutError;
    if (isTimeout !== expected.isTimeoutError)
      throw new MatchError(`timeout error expectation not met: ${String(error)}`);
  }
  if (expected.errorContains !== undefined) {
    const needle = String(expected.errorContains).toLowerCase();
    const messages = parts.map((p) => String(p.message ?? p.errmsg ?? '')).map((m) => m.toLowerCase());
    if (!messages.some((m) => m.includes(needle)))
      throw new MatchError(
        `error message does not contain "${String(expected.errorContains)}": ${messages.join(' | ')}`,
      );
  }
  if (expected.errorCode !== undefined) {
    if (!parts.some((p) => Number(p.code) === Number(expected.errorCode)))
      throw new MatchError(
        `expected error code ${String(expected.errorCode)}, got ${parts.map((p) => String(p.code)).join(',')}: ${String(error)}`,
      );
  }
  if (expected.errorCodeName !== undefined) {
    const wanted = String(expected.errorCodeName).toLowerCase();
    const ok = parts.some((p) =>
      typeof p.codeName === 'string'
        ? p.codeName.toLowerCase() === wanted
        : p.code !== undefined && CODE_NUMBERS[String(expected.errorCodeName)] === Number(p.code),
    );
    if (!ok)
      throw new MatchError(
        `expected code name ${String(expected.errorCodeName)}, got ${parts.map((p) => `${String(p.codeName)}(${String(p.code)})`).join(',')}`,
      );
  }
  for (const label of (expected.errorLabelsContain as string[] | undefined) ?? [])
    if (!hasLabel(error, label)) throw new MatchError(`expected error label ${label}: ${String(error)}`);
  for (const label of (expected.errorLabelsOmit as string[] | undefined) ?? [])
    if (hasLabel(error, label)) throw new MatchError(`unexpected error label ${label}`);
  if (expected.errorResponse !== undefined) {
    // A client bulk write error's server response is that of its top-level `error` (the cause).
    const ordered = error instanceof MongoClientBulkWriteError ? [...parts.slice(1), parts[0]] : parts;
    const response = ordered.find((p) => p.errorResponse)?.errorResponse as Document | undefined;
    if (!response) throw new MatchError(`error has no server response: ${String(error)}`);
    matcher.match(expected.errorResponse, response, true, 'errorResponse');
  }
  if (expected.expectResult !== undefined) {
    let result: Document | undefined;
    if (error instanceof MongoBulkWriteError && error.result) result = bulkWriteResultDocument(error.result);
    if (error instanceof MongoClientBulkWriteError && error.partialResult)
      result = clientBulkWriteResultDocument(error.partialResult);
    matcher.match(expected.expectResult, result, true, 'expectError.expectResult');
  }
  if (expected.writeErrors !== undefined) {
    if (!(error instanceof MongoClientBulkWriteError))
      throw new MatchError('expected a client bulk write error');
    const actual: Document = {};
    for (const [index, we] of error.writeErrors) actual[String(index)] = we;
    const expectedErrors = expected.writeErrors as Document;
    if (Object.keys(actual).sort().join() !== Object.keys(expectedErrors).sort().join())
      throw new MatchError(
        `write error indexes ${Object.keys(actual).join(',')} != ${Object.keys(expectedErrors).join(',')}`,
      );
    for (const [key, value] of Object.entries(expectedErrors))
      matcher.match(value, actual[key], true, `writeErrors.${key}`);
  }
  if (expected.writeConcernErrors !== undefined) {
    if (!(error instanceof MongoClientBulkWriteError))
      throw new MatchError('expected a client bulk write error');
    matcher.matchResultList(expected.writeConcernErrors, error.writeConcernErrors, 'writeConcernErrors');
  }
}

// ----- one test -----------------------------------------------------------------------------

function normalizeResult(value: unknown): unknown {
  if (value instanceof Map) return Object.fromEntries(value);
  return value;
}

/**
 * The Node driver (7.x) sends `wtimeout: 10000` with every commitTransaction/abortTransaction that
 * carries a write concern, where the transactions specification adds it only when a commit is
 * retried (its own runner ignores extra keys there). A command event is compared without that
 * `wtimeout` unless the test expects one. Any other difference still fails.
 */
export function withoutDriverCommitWtimeout(
  expected: Document,
  observed: ObservedEvent,
): Document | undefined {
  const command = observed.command;
  if (
    !command ||
    (observed.commandName !== 'commitTransaction' && observed.commandName !== 'abortTransaction')
  )
    return command;
  const wc = command.writeConcern as Document | undefined;
  const wanted = expected.writeConcern as Document | undefined;
  if (!wc || Number(wc.wtimeout) !== 10000 || !wanted || typeof wanted !== 'object' || 'wtimeout' in wanted)
    return command;
  const { wtimeout: _wtimeout, ...rest } = wc;
  return { ...command, writeConcern: rest };
}

/** An assertion that failed inside an operation: fails the test, never taken for an expected error. */
export class AssertionFailure extends Error {}

interface TestState {
  ctx: OperationContext;
  entities: EntityMap;
  matcher: Matcher;
  timeoutMS: number;
}

/**
 * Executes one operation and checks its expectError / expectResult / saveResultAsEntity.
 * Returns the error the operation raised, if any (expected or ignored), for withTransaction.
 */
async function runOperation(state: TestState, operation: Document, label: string): Promise<unknown> {
  let result: { value: unknown; iterable?: boolean } | undefined;
  let error: unknown;
  try {
    result = await withTimeout(executeOperation(state.ctx, operation), state.timeoutMS, label);
  } catch (caught) {
    if (caught instanceof UnsupportedFeature || caught instanceof AssertionFailure) throw caught;
    error = caught;
  }
  if (operation.ignoreResultAndError === true) return error;
  try {
    if (operation.expectError !== undefined) {
      if (error === undefined) throw new MatchError('expected an error, the operation succeeded');
      assertError(operation.expectError as Document, error, state.matcher);
      return error;
    }
    if (error !== undefined) throw new MatchError(`unexpected error: ${String(error)}`);
    const value = normalizeResult(result?.value);
    if (operation.expectResult !== undefined) {
      if (result?.iterable) state.matcher.matchResultList(operation.expectResult, value as unknown[]);
      else state.matcher.match(operation.expectResult, value === null ? null : value, true);
    }
    if (operation.saveResultAsEntity !== undefined)
      state.entities.set(operation.saveResultAsEntity as string, value);
  } catch (failure) {
    throw new AssertionFailure(`${label}: ${failure instanceof Error ? failure.message : String(failure)}`);
  }
  return undefined;
}

async function runTest(file: Document, test: Document, options: RunFileOptions): Promise<void> {
  const entities = new EntityMap(options.uri);
  const failPoints: string[] = [];
  let current = '';
  const ctx: OperationContext = {
    entities,
    recordFailPoint: (_client, name) => failPoints.push(name),
    internalDb: (name) => options.internal.db(name),
    runCallbackOperation: async (operation, index) => {
      const error = await runOperation(
        state,
        operation,
        `${current} callback operation ${index} (${String(operation.name)})`,
      );
      if (error !== undefined) throw error;
    },
  };
  const matcher = new Matcher(entities.lookup());
  const state: TestState = { ctx, entities, matcher, timeoutMS: options.operationTimeoutMS ?? 15000 };
  try {
    await setUpInitialData(options.internal, file.initialData as Document[] | undefined);
    entities.create((file.createEntities as Document[] | undefined) ?? []);
    for (const [index, operation] of (test.operations as Document[]).entries()) {
      current = `operation ${index} (${String(operation.name)})`;
      await runOperation(state, operation, current);
    }
    for (const expected of (test.expectEvents as Document[] | undefined) ?? []) {
      const eventType = (expected.eventType as string | undefined) ?? 'command';
      if (eventType !== 'command') throw new UnsupportedFeature(`${eventType} events`);
      const client: ClientEntity = entities.client(expected.client as string);
      const actual = client.events;
      const wanted = expected.events as Document[];
      const tooMany = expected.ignoreExtraEvents === true ? false : actual.length > wanted.length;
      if (actual.length < wanted.length || tooMany)
        throw new Error(
          `expectEvents: expected ${wanted.length} events, observed ${actual.length}: ${actual.map((e) => `${e.type}:${e.commandName}`).join(', ')}`,
        );
      wanted.forEach((event, index) => {
        const [type] = Object.keys(event);
        const spec = event[type] as Document;
        const observed = actual[index];
        const where = `expectEvents[${index}]`;
        if (observed.type !== type)
          throw new Error(`${where}: expected ${type}, observed ${observed.type} (${observed.commandName})`);
        try {
          if (spec.commandName !== undefined && spec.commandName !== observed.commandName)
            throw new MatchError(`commandName ${observed.commandName} != ${String(spec.commandName)}`);
          if (spec.databaseName !== undefined && spec.databaseName !== observed.databaseName)
            throw new MatchError(`databaseName ${observed.databaseName} != ${String(spec.databaseName)}`);
          if (spec.command !== undefined)
            matcher.match(
              spec.command,
              withoutDriverCommitWtimeout(spec.command as Document, observed),
              true,
              'command',
            );
          if (spec.reply !== undefined) matcher.match(spec.reply, observed.reply, true, 'reply');
        } catch (failure) {
          throw new Error(
            `${where} (${observed.commandName}): ${failure instanceof Error ? failure.message : String(failure)}`,
          );
        }
      });
    }
    for (const expected of (test.outcome as Document[] | undefined) ?? []) {
      const documents = await options.internal
        .db(expected.databaseName as string)
        .collection(expected.collectionName as string)
        .find({}, { sort: { _id: 1 }, readConcern: { level: 'local' }, readPreference: 'primary' })
        .toArray();
      const wanted = expected.documents as Document[];
      const same =
        documents.length === wanted.length && wanted.every((doc, i) => exactEquals(doc, documents[i]));
      if (!same)
        throw new Error(
          `outcome ${String(expected.collectionName)}: expected ${EJSON.stringify(wanted)}, found ${EJSON.stringify(documents)}`,
        );
    }
  } finally {
    for (const name of failPoints)
      await options.internal
        .db('admin')
        .command({ configureFailPoint: name, mode: 'off' })
        .catch(() => undefined);
    await entities.close();
  }
}

/** Runs every test of one file; never throws for a test failure. */
export async function runFile(path: string, options: RunFileOptions): Promise<TestResult[]> {
  const file = EJSON.parse(readFileSync(path, 'utf8'), { relaxed: true }) as Document;
  const tests = (file.tests as Document[] | undefined) ?? [];
  const result = (
    test: Document,
    status: TestStatus,
    reason?: string,
    skipKind?: TestResult['skipKind'],
  ): TestResult => ({
    file: options.name,
    description: String(test.description),
    status,
    reason,
    skipKind,
  });
  const [major, minor] = String(file.schemaVersion).split('.').map(Number);
  if (major !== SUPPORTED_SCHEMA_MAJOR || minor > SUPPORTED_SCHEMA_MINOR)
    return tests.map((t) => result(t, 'failed', `unsupported schemaVersion ${String(file.schemaVersion)}`));
  const fileUnmet = await requirementsUnmet(
    file.runOnRequirements as Document[] | undefined,
    options.server,
    options.internal,
  );
  if (fileUnmet) return tests.map((t) => result(t, 'skipped', fileUnmet, 'requirements'));
  const results: TestResult[] = [];
  for (const test of tests) {
    if (test.skipReason) {
      results.push(result(test, 'skipped', String(test.skipReason), 'requirements'));
      continue;
    }
    const unmet = await requirementsUnmet(
      test.runOnRequirements as Document[] | undefined,
      options.server,
      options.internal,
    );
    if (unmet) {
      results.push(result(test, 'skipped', unmet, 'requirements'));
      continue;
    }
    const listed = options.skipReason(String(test.description));
    if (listed) {
      results.push(result(test, 'skipped', listed, 'skipList'));
      continue;
    }
    try {
      await runTest(file, test, options);
      results.push(result(test, 'passed'));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      results.push(
        result(test, 'failed', error instanceof UnsupportedFeature ? `unsupported: ${message}` : message),
      );
    }
  }
  return results;
}
