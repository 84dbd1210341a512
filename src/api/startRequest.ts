// Validation of request bodies: the /start parameters of the contract (zod), and the empty
// object every other command takes. Results are the workflow's StartRequest.
import { z } from 'zod';
import { CLUSTER_NAMES, type BuildIndexesMode, type WriteBlockingMode } from '../domain';
import { startRuleViolations, type StartRequest } from '../workflows/messages';

export class InvalidRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRequestError';
  }
}

const REGEX_OPTIONS = /^[imsux]*$/;

const regexFilter = z
  .object({
    pattern: z.string().min(1, 'pattern must not be empty'),
    options: z.string().regex(REGEX_OPTIONS, 'options may only contain the flags i, m, s, u, x').optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    try {
      // JavaScript has no extended ("x") mode; the pattern itself must still compile.
      new RegExp(value.pattern, (value.options ?? '').replace(/x/g, ''));
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(err as Error).message}` });
    }
  });

const databaseName = z
  .string()
  .min(1, 'database must not be empty')
  .regex(/^[^/\\. "$]+$/, 'database must be a valid database name');

const namespaceFilter = z
  .object({
    database: databaseName.optional(),
    databaseRegex: regexFilter.optional(),
    collections: z.array(z.string().min(1, 'collection names must not be empty')).optional(),
    collectionsRegex: regexFilter.optional(),
  })
  .strict()
  .superRefine((filter, ctx) => {
    if (filter.database === undefined && filter.databaseRegex === undefined) {
      ctx.addIssue({ code: 'custom', message: 'each filter needs "database" or "databaseRegex"' });
    }
    if (filter.database !== undefined && filter.databaseRegex !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'a filter takes either "database" or "databaseRegex", not both',
      });
    }
  });

const WRITE_BLOCKING_MODES = [
  'none',
  'destinationOnly',
  'sourceAndDestination',
] as const satisfies readonly WriteBlockingMode[];
const BUILD_INDEXES_MODES = [
  'beforeDataCopy',
  'afterDataCopy',
  'never',
  'excludeHashed',
  'excludeHashedAfterCopy',
] as const satisfies readonly BuildIndexesMode[];

const clusterName = z.enum(CLUSTER_NAMES);

const startBody = z
  .object({
    source: clusterName,
    destination: clusterName,
    reversible: z.boolean().default(false),
    enableUserWriteBlocking: z.union([z.boolean(), z.enum(WRITE_BLOCKING_MODES)]).default('destinationOnly'),
    includeNamespaces: z.array(namespaceFilter).default([]),
    excludeNamespaces: z.array(namespaceFilter).default([]),
    buildIndexes: z.enum(BUILD_INDEXES_MODES).default('afterDataCopy'),
    verification: z.object({ enabled: z.boolean() }).strict().optional(),
    preExistingDestinationData: z.boolean().default(false),
    // mongosync 1.20+.
    detectRandomId: z.boolean().default(true),
    copyInNaturalOrder: z
      .array(
        z
          .object({
            database: databaseName,
            collections: z
              .array(z.string().min(1, 'collection names must not be empty'))
              .min(1, 'name at least one collection'),
          })
          .strict(),
      )
      .default([]),
    skipDiskSpaceCheck: z.boolean().default(false),
    sharding: z.unknown().optional(),
  })
  .strict();

const SHARDING_REFUSED =
  'sharding: syncing into a sharded cluster is not supported yet; this service syncs replica sets only (leave "sharding" out)';

function writeBlockingMode(value: boolean | WriteBlockingMode): WriteBlockingMode {
  if (value === true) return 'sourceAndDestination';
  if (value === false) return 'none';
  return value;
}

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let value = body;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function describeIssues(error: z.ZodError, body: unknown): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join('.') : 'body';
      if (issue.code === 'unrecognized_keys') {
        return `${path}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      }
      if (issue.path.length > 0 && valueAt(body, issue.path) === undefined) return `${path}: required`;
      return `${path}: ${issue.message}`;
    })
    .join('; ');
}

/**
 * A /start body as the workflow's request; throws InvalidRequestError naming every problem. The
 * verifier runs unless the body says `verification: {enabled: false}` or the service was started
 * with `--disableVerification` (and the body does not ask for it).
 */
export function parseStartRequest(body: unknown, verificationByDefault = true): StartRequest {
  const result = startBody.safeParse(body);
  if (!result.success) throw new InvalidRequestError(describeIssues(result.error, body));
  const value = result.data;
  if (value.sharding !== undefined) throw new InvalidRequestError(SHARDING_REFUSED);
  const request: StartRequest = {
    direction: { source: value.source, destination: value.destination },
    options: {
      reversible: value.reversible,
      writeBlocking: writeBlockingMode(value.enableUserWriteBlocking),
      buildIndexes: value.buildIndexes,
      includeNamespaces: value.includeNamespaces,
      excludeNamespaces: value.excludeNamespaces,
      verificationEnabled: value.verification?.enabled ?? verificationByDefault,
      preExistingDestinationData: value.preExistingDestinationData,
      detectRandomId: value.detectRandomId,
      copyInNaturalOrder: value.copyInNaturalOrder,
      skipDiskSpaceCheck: value.skipDiskSpaceCheck,
    },
  };
  const violations = startRuleViolations(request);
  if (violations.length > 0) throw new InvalidRequestError(violations.join('; '));
  return request;
}

const emptyBody = z.object({}).strict();

/** The request bodies as JSON Schema (draft 2020-12, what OpenAPI 3.1 uses), from the validators themselves. */
export function requestBodySchemas(): { start: Record<string, unknown>; empty: Record<string, unknown> } {
  const schema = (type: z.ZodType) => {
    const { $schema: _ignored, ...rest } = z.toJSONSchema(type, { io: 'input', unrepresentable: 'any' });
    return rest as Record<string, unknown>;
  };
  return { start: schema(startBody), empty: schema(emptyBody) };
}

/** pause, resume, commit and reverse take an empty object. */
export function parseEmptyRequest(body: unknown): void {
  const result = emptyBody.safeParse(body);
  if (!result.success) throw new InvalidRequestError(describeIssues(result.error, body));
}

/** The raw body as JSON whatever its content type (curl's `--data` says form-urlencoded); empty = {}. */
export function parseJsonBody(raw: unknown): unknown {
  const text = typeof raw === 'string' ? raw.trim() : '';
  if (text === '') return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidRequestError(`request body is not valid JSON: ${(err as Error).message}`);
  }
}
