// The REST API under hostile input: requests generated with fast-check (methods, paths, headers,
// encodings and bodies of every kind: valid, unknown fields, wrong types, deep nesting, huge,
// invalid UTF-8, wrongly compressed), sent over kept-alive connections and fresh ones, in each
// state a sync shows. Every request is answered; errors come in the contract's shape; nothing but
// a valid command reaches the sync; a malformed or slow request disturbs no other connection.
import { Agent, request, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { ApiServer } from '../../../src/api/server';
import type { SyncStatus, WorkflowProgress } from '../../../src/workflows/messages';
import { idleProgress } from '../../../src/workflows/progress';
import { NO_METRICS, ScriptedSync, startScriptedApi } from '../../helpers/scriptedSync';

jest.setTimeout(300_000);

const ERROR_NAMES = [
  'InvalidRequest',
  'PreconditionFailed',
  'InvalidStateTransition',
  'NotCommittable',
  'InsufficientDestinationDiskSpace',
  'Unavailable',
  'InternalError',
];
const COMMANDS = ['start', 'pause', 'resume', 'commit', 'reverse', 'reset'];
const KNOWN_PATHS = [
  ...COMMANDS.map((c) => `/api/v1/${c}`),
  '/api/v1/progress',
  '/api/v1/verification',
  '/api/v1/openapi.json',
  '/metrics',
];
const HUGE = 'x'.repeat(1_200_000);

interface FuzzRequest {
  method: string;
  path: string;
  headers: OutgoingHttpHeaders;
  body: Buffer | undefined;
  keepAlive: boolean;
}

const validStart = fc.record(
  {
    source: fc.constantFrom('cluster0', 'cluster1', 'cluster2', '', 0),
    destination: fc.constantFrom('cluster0', 'cluster1', null),
    reversible: fc.oneof(fc.boolean(), fc.constant('yes')),
    enableUserWriteBlocking: fc.oneof(fc.boolean(), fc.constant(1)),
    buildIndexes: fc.constantFrom('afterDataCopy', 'beforeDataCopy', 'never', 'excludeHashed', 'sometimes'),
    includeNamespaces: fc.array(fc.record({ database: fc.string(), collections: fc.array(fc.string()) })),
    verification: fc.record({ enabled: fc.oneof(fc.boolean(), fc.string()) }),
    copyInNaturalOrder: fc.jsonValue(),
    unknownField: fc.jsonValue(),
  },
  { requiredKeys: [] },
);

const textBody = fc.oneof(
  { weight: 4, arbitrary: validStart.map((v) => JSON.stringify(v)) },
  { weight: 3, arbitrary: fc.json() },
  {
    weight: 2,
    arbitrary: fc.constantFrom('', '{}', 'null', '[]', '{"source":"cluster0","destination":"cluster1"}'),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1_000, max: 200_000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1_000, max: 50_000 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
  },
  { weight: 1, arbitrary: fc.constant(`{"source":"${HUGE}"}`) },
);
const body = fc.oneof(
  { weight: 6, arbitrary: textBody.map((t) => Buffer.from(t, 'utf8')) },
  // Bytes that are not UTF-8.
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 2, arbitrary: fc.constant(undefined) },
);

const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
    path: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...KNOWN_PATHS) },
      { weight: 1, arbitrary: fc.webPath() },
      { weight: 1, arbitrary: fc.constantFrom(...KNOWN_PATHS).map((p) => `${p}?x=%zz&y=${'q'.repeat(50)}`) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          '/api/v1/%',
          '/api/v1/%00',
          '/api/v1//start',
          '/API/V1/START',
          '/',
          '/api/v2/progress',
        ),
      },
      { weight: 1, arbitrary: fc.constant(`/api/v1/${'a'.repeat(6000)}`) },
    ),
    contentType: fc.constantFrom(
      undefined,
      'application/json',
      'application/x-www-form-urlencoded',
      'text/plain',
      'application/json; charset=utf-16',
      'application/json; charset=bogus',
      'multipart/form-data; boundary=x',
    ),
    encoding: fc.constantFrom(
      undefined,
      undefined,
      undefined,
      'gzip',
      'gzip-valid',
      'deflate',
      'br',
      'bogus',
    ),
    body,
    keepAlive: fc.boolean(),
  })
  .map(({ method, path, contentType, encoding, body: payload, keepAlive }) => {
    const headers: OutgoingHttpHeaders = {};
    if (contentType) headers['content-type'] = contentType;
    let bytes = payload;
    if (encoding === 'gzip-valid' && bytes) {
      bytes = gzipSync(bytes);
      headers['content-encoding'] = 'gzip';
    } else if (encoding && encoding !== 'gzip-valid') headers['content-encoding'] = encoding;
    if (bytes) headers['content-length'] = bytes.length;
    return { method, path, headers, body: bytes, keepAlive };
  });

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

function send(api: ApiServer, agent: Agent, r: FuzzRequest): Promise<Answer> {
  const url = new URL(api.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: r.method,
        path: r.path,
        headers: r.keepAlive ? r.headers : { ...r.headers, connection: 'close' },
        agent: r.keepAlive ? agent : false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', (err) =>
      reject(new Error(`no answer to ${r.method} ${r.path.slice(0, 80)}: ${err.message}`)),
    );
    req.end(r.body);
  });
}

function progressIn(state: SyncStatus): WorkflowProgress {
  const base = idleProgress();
  if (state === 'IDLE') return base;
  return { ...base, state, direction: { source: 'cluster0', destination: 'cluster1' } } as WorkflowProgress;
}

describe.each(['IDLE', 'RUNNING', 'PAUSED', 'COMMITTED'] as const)(
  'the REST API fuzzed while %s',
  (state) => {
    let api: ApiServer;
    let sync: ScriptedSync;
    let agent: Agent;

    beforeAll(async () => {
      sync = new ScriptedSync();
      sync.current = progressIn(state);
      api = await startScriptedApi(sync, { metrics: NO_METRICS });
      agent = new Agent({ keepAlive: true, maxSockets: 4 });
    });
    afterAll(async () => {
      agent.destroy();
      await api.close();
    });

    test('2,000 generated requests: each answered, errors in the contract’s shape, only valid commands reach the sync', async () => {
      let requests = 0;
      await fc.assert(
        fc.asyncProperty(fuzzRequest, async (r) => {
          requests += 1;
          const callsBefore = sync.calls.length;
          const answer = await send(api, agent, r);
          expect(answer.status).toBeGreaterThanOrEqual(200);
          expect(answer.status).toBeLessThan(500);
          const reached = sync.calls.length - callsBefore;
          if (answer.status === 200) {
            if (r.method === 'POST') expect(reached).toBe(1);
            return;
          }
          // A refused request changed nothing: it never reached the sync.
          expect(reached).toBe(0);
          if (r.method === 'HEAD') return;
          expect(answer.headers['content-type']).toMatch(/^application\/json/);
          const reply = JSON.parse(answer.text) as Record<string, unknown>;
          expect(reply).toEqual({
            success: false,
            error: expect.any(String),
            errorDescription: expect.any(String),
          });
          expect(ERROR_NAMES).toContain(reply.error);
          expect((reply.errorDescription as string).length).toBeGreaterThan(0);
        }),
        { numRuns: 2000 },
      );
      expect(requests).toBeGreaterThanOrEqual(2000);
      // Still serving, over a kept-alive connection too.
      const progress = await send(api, agent, {
        method: 'GET',
        path: '/api/v1/progress',
        headers: {},
        body: undefined,
        keepAlive: true,
      });
      expect(JSON.parse(progress.text)).toMatchObject({ success: true, progress: { state } });
    });
  },
);

describe('malformed and slow requests on their own connections', () => {
  let api: ApiServer;
  let sync: ScriptedSync;

  beforeAll(async () => {
    sync = new ScriptedSync();
    api = await startScriptedApi(sync);
  });
  afterAll(() => api.close());

  /** Writes raw bytes on a fresh connection and returns everything the server sent until it closed. */
  function raw(chunks: (string | Buffer)[], delayMs = 0): Promise<string> {
    const url = new URL(api.url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname);
      let received = '';
      socket.on('data', (data) => (received += data.toString('utf8')));
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
      socket.once('connect', async () => {
        for (const chunk of chunks) {
          socket.write(chunk);
          if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
        }
      });
    });
  }

  test.each([
    ['an invalid method', 'FOO\u0001 /api/v1/progress HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a wrong Content-Length', 'POST /api/v1/commit HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}'],
    [
      'both Content-Length and chunked',
      'POST /api/v1/commit HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}',
    ],
    [
      'a broken chunk',
      'POST /api/v1/commit HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
    ],
    ['headers too large', `GET /api/v1/progress HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`],
    ['not HTTP at all', '\u0000\u0001\u0002\u0003 garbage\r\n\r\n'],
  ])('%s is answered in the contract’s shape and its connection closed', async (_name, bytes) => {
    const answer = await raw([bytes]);
    const [head, bodyText] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 4\d\d /);
    expect(head).toMatch(/Connection: close/i);
    expect(JSON.parse(bodyText)).toMatchObject({ success: false, error: 'InvalidRequest' });
    expect(sync.calls).toEqual([]);
  });

  test('a kept-alive connection idle longer than Node’s default 5 s is still open for the next request', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const url = new URL(api.url);
    const get = () =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const req = request(
          { host: url.hostname, port: url.port, path: '/api/v1/progress', agent },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    expect(await get()).toEqual({ status: 200, reused: false });
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect(await get()).toEqual({ status: 200, reused: true });
    agent.destroy();
  });

  test('a client trickling its request is answered, and others are served meanwhile', async () => {
    const body = '{}';
    const request = `POST /api/v1/pause HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
    const slow = raw(request.split(''), 20);
    for (let n = 0; n < 20; n++) {
      const response = await fetch(`${api.url}/api/v1/progress`);
      expect(response.status).toBe(200);
    }
    const answer = await slow;
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('{"success":true}');
  });
});
