// The OpenAPI document against the server itself: every endpoint the server routes is described,
// every answer (successes and every error shape) validates against the document's schema for its
// path and status, and the document's request schemas accept exactly the bodies the server does.
import Ajv2020 from 'ajv/dist/2020';
import type { ApiServer } from '../../../src/api/server';
import { SyncCommandError } from '../../../src/api/syncClient';
import type { WorkflowProgress } from '../../../src/workflows/messages';
import { idleProgress, progressView } from '../../../src/workflows/progress';
import { newSyncState } from '../../../src/workflows/state';
import { syncOptions } from '../../helpers/syncOptions';

import { NO_METRICS, ScriptedSync, startScriptedApi } from '../../helpers/scriptedSync';

/** A sync in change event application with the verifier on, warnings and per-namespace copy. */
function busyProgress(): WorkflowProgress {
  const state = newSyncState('s1', 'abc');
  return progressView({
    ...state,
    syncUuid: 'u',
    status: 'RUNNING',
    phase: 'changeEvents',
    direction: { source: 'cluster0', destination: 'cluster1' },
    options: syncOptions({ verificationEnabled: true }),
    copy: {
      ...state.copy,
      done: true,
      estimatedTotalBytes: 100,
      collections: [
        { db: 'a', coll: 'b', uuid: null, capped: false, estimatedBytes: 100, estimatedDocuments: 4 },
      ],
    },
    changeEvents: {
      ...state.changeEvents,
      totalApplied: 5,
      lag: { seconds: 2, measuredAt: 0, etaSeconds: 1 },
    },
    pingLatencyMs: { cluster0: 3, cluster1: -1 },
    warnings: ['something to say'],
  } as never);
}

describe('OpenAPI document', () => {
  let sync: ScriptedSync;
  let api: ApiServer;
  let document: Record<string, any>;
  const ajv = new Ajv2020({ strict: false, allErrors: true });

  beforeAll(async () => {
    sync = new ScriptedSync();
    api = await startScriptedApi(sync, { version: '1.2.3', metrics: NO_METRICS });
    const response = await fetch(`${api.url}/api/v1/openapi.json`);
    document = (await response.json()) as Record<string, any>;
    ajv.addSchema(document, 'openapi');
  });
  afterAll(() => api.close());

  const pointer = (...parts: string[]) =>
    'openapi#/' + parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

  async function call(method: string, path: string, body?: string) {
    const response = await fetch(`${api.url}${path}`, { method, body });
    const type = response.headers.get('content-type') ?? '';
    return {
      status: response.status,
      type,
      body: type.includes('json') ? await response.json() : await response.text(),
    };
  }

  /** The answer validates against the document's schema for its path, method and status. */
  function expectDescribed(path: string, method: string, answer: { status: number; body: unknown }) {
    const responses = document.paths[path]?.[method]?.responses;
    expect(responses?.[String(answer.status)]).toBeDefined();
    const content = responses[String(answer.status)].content;
    const mediaType = Object.keys(content)[0];
    const validate = ajv.compile({
      $ref: pointer(
        'paths',
        path,
        method,
        'responses',
        String(answer.status),
        'content',
        mediaType,
        'schema',
      ),
    });
    const valid = validate(answer.body);
    if (!valid) throw new Error(`${method} ${path} ${answer.status}: ${ajv.errorsText(validate.errors)}`);
  }

  it('is OpenAPI 3.1 and describes every endpoint the server routes', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.info.version).toBe('1.2.3');
    expect(Object.keys(document.paths).sort()).toEqual(
      [
        '/api/v1/start',
        '/api/v1/pause',
        '/api/v1/resume',
        '/api/v1/commit',
        '/api/v1/reverse',
        '/api/v1/reset',
        '/api/v1/progress',
        '/api/v1/verification',
        '/api/v1/openapi.json',
        '/metrics',
      ].sort(),
    );
  });

  it('describes every success', async () => {
    sync.failure = null;
    const start = await call('POST', '/api/v1/start', '{"source":"cluster0","destination":"cluster1"}');
    expect(start.status).toBe(200);
    expectDescribed('/api/v1/start', 'post', start);
    for (const command of ['pause', 'resume', 'commit', 'reverse', 'reset']) {
      const answer = await call('POST', `/api/v1/${command}`, '{}');
      expect(answer.status).toBe(200);
      expectDescribed(`/api/v1/${command}`, 'post', answer);
    }
    for (const progress of [
      idleProgress(),
      busyProgress(),
      { ...idleProgress(), state: 'INITIALIZING' as const },
    ]) {
      sync.current = progress;
      expectDescribed('/api/v1/progress', 'get', await call('GET', '/api/v1/progress'));
      expectDescribed('/api/v1/verification', 'get', await call('GET', '/api/v1/verification'));
    }
    const metrics = await call('GET', '/metrics');
    expect(metrics.type).toMatch(/^text\/plain/);
    expectDescribed('/metrics', 'get', metrics);
  });

  it('describes every error shape', async () => {
    const cases: Array<[string, string, string | undefined, unknown, number]> = [
      ['/api/v1/start', 'POST', '{"source":', null, 400],
      ['/api/v1/start', 'POST', '{"source":"cluster0","destination":"cluster1","x":1}', null, 400],
      ['/api/v1/commit', 'POST', '{"force":true}', null, 400],
      ['/api/v1/commit', 'POST', '{}', new SyncCommandError('NotCommittable', 'no'), 409],
      ['/api/v1/pause', 'POST', '{}', new SyncCommandError('InvalidStateTransition', 'no'), 409],
      ['/api/v1/reverse', 'POST', '{}', new SyncCommandError('PreconditionFailed', 'no'), 400],
      [
        '/api/v1/start',
        'POST',
        '{"source":"cluster0","destination":"cluster1"}',
        new SyncCommandError('InsufficientDestinationDiskSpace', 'no'),
        400,
      ],
      ['/api/v1/reset', 'POST', '{}', new SyncCommandError('Unavailable', 'down'), 503],
      ['/api/v1/resume', 'POST', '{}', new Error('boom'), 500],
      ['/api/v1/progress', 'GET', undefined, new SyncCommandError('Unavailable', 'down'), 503],
      ['/api/v1/verification', 'GET', undefined, new Error('boom'), 500],
    ];
    for (const [path, method, body, failure, status] of cases) {
      sync.failure = failure;
      const answer = await call(method, path, body);
      expect({ path, status: answer.status }).toEqual({ path, status });
      expectDescribed(path, method.toLowerCase(), answer);
    }
    sync.failure = null;
    const errorSchema = ajv.compile({ $ref: pointer('components', 'schemas', 'Error') });
    for (const [method, path, status] of [
      ['GET', '/api/v1/start', 405],
      ['POST', '/api/v1/progress', 405],
      ['GET', '/api/v1/nothing', 404],
    ] as const) {
      const answer = await call(method, path, method === 'POST' ? '{}' : undefined);
      expect(answer.status).toBe(status);
      expect(errorSchema(answer.body)).toBe(true);
      expect(
        document.paths[path] === undefined || document.paths[path][method.toLowerCase()] === undefined,
      ).toBe(true);
    }
  });

  it('accepts exactly the /start bodies the server accepts', async () => {
    const validate = ajv.compile({
      $ref: pointer('paths', '/api/v1/start', 'post', 'requestBody', 'content', 'application/json', 'schema'),
    });
    const bodies: unknown[] = [
      { source: 'cluster0', destination: 'cluster1' },
      { source: 'cluster1', destination: 'cluster0', reversible: true, enableUserWriteBlocking: true },
      {
        source: 'cluster0',
        destination: 'cluster1',
        enableUserWriteBlocking: 'sourceAndDestination',
        buildIndexes: 'never',
      },
      {
        source: 'cluster0',
        destination: 'cluster1',
        includeNamespaces: [{ database: 'a', collections: ['b'] }],
      },
      {
        source: 'cluster0',
        destination: 'cluster1',
        copyInNaturalOrder: [{ database: 'a', collections: ['b'] }],
      },
      { source: 'cluster0', destination: 'cluster1', skipDiskSpaceCheck: true, detectRandomId: false },
      { source: 'cluster0', destination: 'cluster1', verification: { enabled: false } },
      { source: 'cluster0' },
      { source: 'cluster2', destination: 'cluster1' },
      { source: 'cluster0', destination: 'cluster1', reversible: 'yes' },
      { source: 'cluster0', destination: 'cluster1', unknown: 1 },
      { source: 'cluster0', destination: 'cluster1', buildIndexes: 'sometimes' },
      { source: 'cluster0', destination: 'cluster1', verification: { enabled: true, extra: 1 } },
      {
        source: 'cluster0',
        destination: 'cluster1',
        includeNamespaces: [{ database: '', collections: ['b'] }],
      },
      [],
    ];
    for (const body of bodies) {
      const answer = await call('POST', '/api/v1/start', JSON.stringify(body));
      expect({ body, described: validate(body) }).toEqual({ body, described: answer.status === 200 });
    }
  });
});
