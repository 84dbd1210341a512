// The OpenAPI 3.1 description of the REST API, served at GET /api/v1/openapi.json. Request bodies
// come from the validators themselves (zod's JSON Schema), so the document cannot drift from what
// the server accepts; a test checks every answer against it.
import { CEA_STAGES, SYNC_ERROR_NAMES, SYNC_STATUSES } from '../workflows/messages';
import { requestBodySchemas } from './startRequest';

type Schema = Record<string, unknown>;

const nullable = (schema: Schema): Schema => ({ anyOf: [schema, { type: 'null' }] });
const integer: Schema = { type: 'integer' };
const number: Schema = { type: 'number' };
const string: Schema = { type: 'string' };
const object = (properties: Record<string, Schema>, required = Object.keys(properties)): Schema => ({
  type: 'object',
  properties,
  required,
});

const verifierSide = object({
  estimatedDocumentCount: nullable(number),
  hashedDocumentCount: nullable(number),
  lagTimeSeconds: nullable(number),
  totalCollectionCount: nullable(number),
  scannedCollectionCount: nullable(number),
  phase: { enum: ['not started', 'initial hashing', 'stream hashing'] },
});

const namespaceCopy = object({
  namespace: string,
  state: { enum: ['not started', 'copying', 'copied'] },
  estimatedTotalBytes: number,
  estimatedCopiedBytes: number,
  estimatedTotalDocuments: number,
  copiedDocuments: number,
});

const uniqueConflict = object({ ns: string, index: string, documents: number, ids: { type: 'array' } }, [
  'ns',
  'index',
]);

const progress: Schema = object(
  {
    state: { enum: [...SYNC_STATUSES] },
    canCommit: { type: 'boolean' },
    canWrite: nullable({ type: 'boolean' }),
    info: nullable(string),
    lagTimeSeconds: nullable(number),
    lag: nullable(object({ overallLagSeconds: number, crudLagSeconds: number, ddlLagSeconds: number })),
    totalEventsApplied: nullable(integer),
    estimatedSecondsToCEACatchup: nullable(number),
    ceaStage: nullable({ enum: [...CEA_STAGES] }),
    estimatedOplogTimeRemaining: nullable({ type: 'string', pattern: '^(\\d+h)?(\\d+m)?\\d+s$' }),
    collectionCopy: nullable({
      ...object({ estimatedTotalBytes: number, estimatedCopiedBytes: number }),
      properties: {
        estimatedTotalBytes: number,
        estimatedCopiedBytes: number,
        namespaces: { type: 'array', items: namespaceCopy },
        estimatedSecondsRemaining: nullable(number),
        startedAtMs: nullable(number),
      },
    }),
    indexBuilding: nullable(
      object({
        indexesBuilt: integer,
        totalIndexesToBuild: integer,
        collectionsFinished: integer,
        collectionsTotal: integer,
      }),
    ),
    directionMapping: nullable(object({ Source: string, Destination: string })),
    source: nullable(object({ pingLatencyMs: number })),
    destination: nullable(object({ pingLatencyMs: number })),
    verification: nullable({
      ...object({ source: verifierSide, destination: verifierSide }),
      properties: {
        source: verifierSide,
        destination: verifierSide,
        mismatchesFound: integer,
        mismatchesRepaired: integer,
        uniqueConflicts: { type: 'array', items: uniqueConflict },
      },
    }),
    warnings: { type: 'array', items: string, minItems: 1 },
    mongosyncID: nullable(string),
    coordinatorID: nullable(string),
  },
  [
    'state',
    'canCommit',
    'canWrite',
    'info',
    'lagTimeSeconds',
    'lag',
    'totalEventsApplied',
    'estimatedSecondsToCEACatchup',
    'ceaStage',
    'estimatedOplogTimeRemaining',
    'collectionCopy',
    'indexBuilding',
    'directionMapping',
    'source',
    'destination',
    'verification',
    'mongosyncID',
    'coordinatorID',
  ],
);

const verificationReport: Schema = {
  type: 'object',
  required: ['enabled', 'mismatches'],
  properties: {
    enabled: { type: 'boolean' },
    source: verifierSide,
    destination: verifierSide,
    mismatchesFound: integer,
    mismatchesRepaired: integer,
    uniqueConflicts: { type: 'array', items: uniqueConflict },
    mismatches: { type: 'array', items: { type: 'object' } },
  },
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema) => ({ 'application/json': { schema } });
const errorResponses = (statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      String(status),
      { description: ERROR_MEANINGS[status], content: json(ref('Error')) },
    ]),
  );
const ERROR_MEANINGS: Record<number, string> = {
  400: 'InvalidRequest (bad JSON, unknown field, wrong type or value), PreconditionFailed or InsufficientDestinationDiskSpace',
  404: 'no such endpoint',
  405: 'the endpoint takes another method',
  409: 'InvalidStateTransition or NotCommittable: not allowed in the current state',
  500: 'InternalError',
  503: 'Unavailable: the orchestrator (Temporal) did not answer',
};

const COMMAND_MEANINGS = {
  pause: 'RUNNING → PAUSED at a durable point',
  resume: 'PAUSED → RUNNING from that point',
  commit: 'RUNNING with canCommit → COMMITTING → COMMITTED',
  reverse: 'COMMITTED → REVERSING → RUNNING the other way (reversible syncs)',
  reset: 'ours: ends an IDLE, COMMITTED or halted sync so the next /start begins a new one',
} as const;

/** The whole document. */
export function openApiDocument(version: string): Schema {
  const bodies = requestBodySchemas();
  const command = (summary: string, body: Schema, extraErrors: number[] = []) => ({
    post: {
      summary,
      requestBody: { required: false, content: json(body) },
      responses: {
        '200': { description: 'accepted', content: json(ref('Success')) },
        ...errorResponses([400, 409, 500, 503, ...extraErrors].sort()),
      },
    },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'mongosync REST API (Temporal re-implementation)',
      version,
      description:
        "mongosync's /api/v1 on 127.0.0.1:27182. Bodies are parsed as JSON whatever their content type (curl's --data). Clients key off `success`.",
    },
    servers: [{ url: 'http://127.0.0.1:27182' }],
    paths: {
      '/api/v1/start': command(
        'IDLE → INITIALIZING → RUNNING; the running sync’s own /start again succeeds',
        bodies.start,
      ),
      ...Object.fromEntries(
        Object.entries(COMMAND_MEANINGS).map(([name, summary]) => [
          `/api/v1/${name}`,
          command(summary, bodies.empty),
        ]),
      ),
      '/api/v1/progress': {
        get: {
          summary: 'The sync’s progress, in every state',
          responses: {
            '200': {
              description: 'progress',
              content: json(object({ success: { const: true }, progress: ref('Progress') })),
            },
            ...errorResponses([500, 503]),
          },
        },
      },
      '/api/v1/verification': {
        get: {
          summary:
            'Ours: the embedded verifier’s summary and mismatches (namespaces and _id, never contents)',
          responses: {
            '200': {
              description: 'verification',
              content: json(object({ success: { const: true }, verification: verificationReport })),
            },
            ...errorResponses([500, 503]),
          },
        },
      },
      '/api/v1/openapi.json': {
        get: {
          summary: 'This document',
          responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (text format 0.0.4)',
          responses: {
            '200': { description: 'metrics', content: { 'text/plain': { schema: string } } },
            ...errorResponses([500]),
          },
        },
      },
    },
    components: {
      schemas: {
        Success: {
          type: 'object',
          properties: { success: { const: true } },
          required: ['success'],
          additionalProperties: false,
        },
        Error: {
          type: 'object',
          properties: {
            success: { const: false },
            error: { enum: [...SYNC_ERROR_NAMES] },
            errorDescription: { type: 'string', minLength: 1 },
          },
          required: ['success', 'error', 'errorDescription'],
          additionalProperties: false,
        },
        Progress: progress,
      },
    },
  };
}
