import { Writable } from 'node:stream';
import type { ApiServer } from '../../../src/api/server';
import { SyncCommandError } from '../../../src/api/syncClient';
import { createLogger } from '../../../src/logger';
import { idleProgress } from '../../../src/workflows/progress';

import { ScriptedSync, startScriptedApi } from '../../helpers/scriptedSync';

describe('REST API', () => {
  let sync: ScriptedSync;
  let api: ApiServer;

  beforeEach(async () => {
    sync = new ScriptedSync();
    api = await startScriptedApi(sync);
  });
  afterEach(() => api.close());

  async function request(method: string, path: string, body?: string, contentType?: string) {
    const response = await fetch(`${api.url}${path}`, {
      method,
      body,
      headers: contentType ? { 'content-type': contentType } : {},
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  }

  it('accepts curl-style bodies labelled form-urlencoded, and no body at all', async () => {
    expect(await request('POST', '/api/v1/pause', '{ }', 'application/x-www-form-urlencoded')).toEqual({
      status: 200,
      body: { success: true },
    });
    expect(await request('POST', '/api/v1/resume')).toEqual({ status: 200, body: { success: true } });
    const start = await request(
      'POST',
      '/api/v1/start',
      '{"source":"cluster1","destination":"cluster0"}',
      'text/plain',
    );
    expect(start.status).toBe(200);
    expect(sync.lastStart?.direction).toEqual({ source: 'cluster1', destination: 'cluster0' });
    expect(sync.calls).toEqual(['pause', 'resume', 'start']);
  });

  it.each([
    ['bad JSON', '/api/v1/start', '{"source":'],
    ['an unknown field', '/api/v1/commit', '{"force":true}'],
    ['a wrong type', '/api/v1/start', '{"source":"cluster0","destination":"cluster1","reversible":1}'],
    ['a JSON array', '/api/v1/reverse', '[]'],
  ])('answers %s with 400 InvalidRequest without calling the sync', async (_name, path, body) => {
    const answer = await request('POST', path, body, 'application/json');
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      success: false,
      error: 'InvalidRequest',
      errorDescription: expect.any(String),
    });
    expect(sync.calls).toEqual([]);
  });

  it('rejects bodies over 1 MB', async () => {
    const answer = await request(
      'POST',
      '/api/v1/start',
      JSON.stringify({ pad: 'x'.repeat(1_100_000) }),
      'application/json',
    );
    expect(answer).toMatchObject({ status: 400, body: { success: false, error: 'InvalidRequest' } });
  });

  it.each([
    ['InvalidStateTransition', 409],
    ['NotCommittable', 409],
    ['PreconditionFailed', 400],
    ['InvalidRequest', 400],
    ['Unavailable', 503],
    ['InternalError', 500],
  ] as const)('maps %s to HTTP %i', async (error, status) => {
    sync.failure = new SyncCommandError(error, 'because');
    expect(await request('POST', '/api/v1/commit', '{}')).toEqual({
      status,
      body: { success: false, error, errorDescription: 'because' },
    });
  });

  it('answers unexpected errors with 500 InternalError, and progress failures too', async () => {
    sync.failure = new Error('boom');
    expect(await request('POST', '/api/v1/pause', '{}')).toMatchObject({
      status: 500,
      body: { error: 'InternalError' },
    });
    sync.failure = new SyncCommandError('Unavailable', 'temporal is down');
    expect(await request('GET', '/api/v1/progress')).toMatchObject({
      status: 503,
      body: { error: 'Unavailable' },
    });
  });

  it('answers unknown routes with 404 and wrong methods with 405, as JSON', async () => {
    expect(await request('GET', '/api/v1/nothing')).toMatchObject({ status: 404, body: { success: false } });
    expect(await request('GET', '/')).toMatchObject({ status: 404, body: { success: false } });
    expect(await request('GET', '/api/v1/start')).toMatchObject({ status: 405, body: { success: false } });
    expect(await request('POST', '/api/v1/progress', '{}')).toMatchObject({
      status: 405,
      body: { success: false },
    });
  });

  it('reports IDLE progress with every field null but state and canCommit', async () => {
    const { status, body } = await request('GET', '/api/v1/progress');
    expect(status).toBe(200);
    expect(body.success).toBe(true);
    const { state, canCommit, ...rest } = body.progress;
    expect({ state, canCommit }).toEqual({ state: 'IDLE', canCommit: false });
    expect(Object.values(rest).every((v) => v === null)).toBe(true);
    expect(Object.keys(rest).sort()).toEqual(
      [
        'canWrite',
        'ceaStage',
        'collectionCopy',
        'coordinatorID',
        'destination',
        'directionMapping',
        'estimatedOplogTimeRemaining',
        'estimatedSecondsToCEACatchup',
        'indexBuilding',
        'info',
        'lag',
        'lagTimeSeconds',
        'mongosyncID',
        'source',
        'totalEventsApplied',
        'verification',
      ].sort(),
    );
  });

  it('builds directionMapping from its own host lists and omits empty warnings', async () => {
    sync.current = {
      ...idleProgress(),
      state: 'RUNNING',
      info: 'collection copy',
      canWrite: false,
      direction: { source: 'cluster1', destination: 'cluster0' },
      mongosyncID: 'coordinator',
      clusterFingerprint: 'abc',
    };
    const { body } = await request('GET', '/api/v1/progress');
    expect(body.progress).toMatchObject({
      state: 'RUNNING',
      directionMapping: { Source: 'cluster1: db1:27018', Destination: 'cluster0: db0:27017' },
      mongosyncID: 'coordinator',
      coordinatorID: 'coordinator',
    });
    expect(body.progress).not.toHaveProperty('warnings');
    expect(body.progress).not.toHaveProperty('clusterFingerprint');
    sync.current = { ...sync.current, warnings: ['history running low'] };
    expect((await request('GET', '/api/v1/progress')).body.progress.warnings).toEqual([
      'history running low',
    ]);
  });
});

describe('logger', () => {
  it('writes one JSON object per line in mongosync shape, without credentials', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const logger = createLogger({
      mongosyncID: 'coordinator',
      verbosity: 'INFO',
      logPath: null,
      destination,
    });
    logger
      .child({ componentName: 'api' })
      .info({ uri: 'mongodb://admin:hunter2@db:27017' }, 'connecting to mongodb://admin:hunter2@db:27017');
    logger.debug('hidden at INFO');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]);
    expect(entry).toMatchObject({ level: 'info', componentName: 'api', mongosyncID: 'coordinator' });
    expect(entry.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(entry.message).toBe('connecting to mongodb://<redacted>@db:27017');
    expect(lines[0]).not.toContain('hunter2');
  });
});
