// The REST API (mongosync's /api/v1), an Express shim over a SyncService.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { SyncErrorName } from '../workflows/messages';
import type { VerificationLogEntry } from '../activities/verifierReport';
import type { ClusterName, OplogWindow } from '../domain';
import { oplogEstimate } from './oplogEstimate';
import { openApiDocument } from './openapi';
import { progressResponse, type ClusterHosts } from './progressResponse';
import { InvalidRequestError, parseEmptyRequest, parseJsonBody, parseStartRequest } from './startRequest';
import { SyncCommandError, type ArgumentlessCommand, type SyncService } from './syncClient';

/** The first mismatches GET /api/v1/verification lists. */
const VERIFICATION_LOG_LIMIT = 100;

export interface ApiServerOptions {
  sync: SyncService;
  /** Redacted host lists of the clusters, for directionMapping. */
  clusterHosts: ClusterHosts;
  logger: Logger;
  /** Whether a /start without `verification` runs the verifier (false with --disableVerification). */
  verificationByDefault?: boolean;
  /** The service's version, for the OpenAPI document. */
  version?: string;
  /** The Prometheus metrics (GET /metrics, outside /api/v1 as mongosync's). */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /** The source's oplog window, for estimatedOplogTimeRemaining (cached by the caller). */
  oplogWindow?: (cluster: ClusterName) => OplogWindow | null;
  /** The verifier's mismatch log on a cluster (GET /api/v1/verification). */
  verificationLog?: (destination: ClusterName, limit: number) => Promise<VerificationLogEntry[]>;
  port?: number;
  host?: string;
}

export interface ApiServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const BODY_LIMIT = '1mb';
/** mongosync's commands, and `reset` (ours: ends a sync so the next /start begins a new one). */
const ARGUMENTLESS_COMMANDS: readonly ArgumentlessCommand[] = [
  'pause',
  'resume',
  'commit',
  'reverse',
  'reset',
];

const HTTP_STATUS: Record<SyncErrorName, number> = {
  InvalidRequest: 400,
  PreconditionFailed: 400,
  InvalidStateTransition: 409,
  NotCommittable: 409,
  InsufficientDestinationDiskSpace: 400,
  Unavailable: 503,
  InternalError: 500,
};

function sendError(
  res: Response,
  error: SyncErrorName,
  errorDescription: string,
  status = HTTP_STATUS[error],
): void {
  res.status(status).json({ success: false, error, errorDescription });
}

/** A request body that could not be read; `type` is body-parser's name for why, when it gives one. */
class BodyReadError extends Error {
  readonly type: string | undefined;
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.type = (cause as { type?: string } | null)?.type;
  }
}

function asCommandError(err: unknown): SyncCommandError {
  if (err instanceof SyncCommandError) return err;
  if (err instanceof InvalidRequestError) return new SyncCommandError('InvalidRequest', err.message);
  return new SyncCommandError('InternalError', err instanceof Error ? err.message : String(err));
}

export function createApiApp(options: ApiServerOptions): express.Express {
  const { sync, clusterHosts, logger } = options;
  const app = express();
  app.disable('x-powered-by');
  // Parse every body as JSON ourselves: curl's `--data '{ }'` is labelled form-urlencoded.
  const readBody = express.text({ type: () => true, limit: BODY_LIMIT });
  // Whatever fails while the body is read (size, charset, a Content-Encoding its bytes do not
  // match) is the request's fault, not the server's.
  app.use((req, res, next) =>
    readBody(req, res, (err?: unknown) => next(err === undefined ? undefined : new BodyReadError(err))),
  );

  const respond = async (
    req: Request,
    res: Response,
    command: string,
    run: (body: unknown) => Promise<void>,
  ) => {
    try {
      await run(parseJsonBody(req.body));
      logger.info({ command }, `${command} accepted`);
      res.json({ success: true });
    } catch (err) {
      const failure = asCommandError(err);
      logger[failure.errorName === 'InternalError' ? 'error' : 'warn'](
        { command, error: failure.errorName },
        `${command} rejected: ${failure.message}`,
      );
      sendError(res, failure.errorName, failure.message);
    }
  };

  app.post('/api/v1/start', (req, res) =>
    respond(req, res, 'start', (body) =>
      sync.start(parseStartRequest(body, options.verificationByDefault ?? true)),
    ),
  );
  for (const command of ARGUMENTLESS_COMMANDS) {
    app.post(`/api/v1/${command}`, (req, res) =>
      respond(req, res, command, (body) => {
        parseEmptyRequest(body);
        return sync.command(command);
      }),
    );
  }
  app.get('/api/v1/verification', async (_req, res) => {
    try {
      const progress = await sync.progress();
      const verification = progress.verification;
      const destination = progress.direction?.destination;
      const mismatches =
        verification && destination && options.verificationLog
          ? await options.verificationLog(destination, VERIFICATION_LOG_LIMIT)
          : [];
      res.json({
        success: true,
        verification: verification
          ? {
              enabled: true,
              source: verification.source,
              destination: verification.destination,
              mismatchesFound: verification.mismatchesFound,
              mismatchesRepaired: verification.mismatchesRepaired,
              uniqueConflicts: verification.uniqueConflicts,
              mismatches,
            }
          : { enabled: false, mismatches: [] },
      });
    } catch (err) {
      const failure = asCommandError(err);
      sendError(res, failure.errorName, failure.message);
    }
  });
  app.get('/api/v1/progress', async (_req, res) => {
    try {
      const progress = await sync.progress();
      const response = progressResponse(progress, clusterHosts);
      if (options.oplogWindow && progress.direction && progress.resumePoint) {
        const estimate = oplogEstimate(progress, options.oplogWindow(progress.direction.source));
        response.estimatedOplogTimeRemaining = estimate.estimatedOplogTimeRemaining;
        if (estimate.warning)
          response.warnings = [...((response.warnings as string[] | undefined) ?? []), estimate.warning];
      }
      res.json({ success: true, progress: response });
    } catch (err) {
      const failure = asCommandError(err);
      logger.warn({ error: failure.errorName }, `progress failed: ${failure.message}`);
      sendError(res, failure.errorName, failure.message);
    }
  });
  const openApi = openApiDocument(options.version ?? '0.0.0');
  app.get('/api/v1/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  if (options.metrics) {
    const metrics = options.metrics;
    app.get('/metrics', async (_req, res) => {
      try {
        const { contentType, body } = await metrics();
        res.type(contentType).send(body);
      } catch (err) {
        const failure = asCommandError(err);
        sendError(res, failure.errorName, failure.message);
      }
    });
  }
  const knownRoutes = new Map<string, string>([
    ['/api/v1/progress', 'GET'],
    ['/api/v1/verification', 'GET'],
    ['/api/v1/openapi.json', 'GET'],
    ['/metrics', 'GET'],
    ['/api/v1/start', 'POST'],
    ...ARGUMENTLESS_COMMANDS.map((c): [string, string] => [`/api/v1/${c}`, 'POST']),
  ]);
  app.use((req, res) => {
    const method = knownRoutes.get(req.path);
    if (method) sendError(res, 'InvalidRequest', `${req.path} takes ${method}, not ${req.method}`, 405);
    else sendError(res, 'InvalidRequest', `no such endpoint: ${req.method} ${req.path}`, 404);
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof BodyReadError) {
      if (err.type === 'entity.too.large')
        sendError(res, 'InvalidRequest', `request body exceeds ${BODY_LIMIT}`);
      else sendError(res, 'InvalidRequest', `cannot read request body: ${err.message}`);
    } else {
      logger.error({ err }, 'unexpected API error');
      sendError(res, 'InternalError', err instanceof Error ? err.message : String(err));
    }
  });
  return app;
}

/**
 * Idle kept-alive connections stay open this long. Node's default (5 s) races clients that keep
 * idle connections longer (Python sessions, Go's 90 s): a request sent as the server closes the
 * connection gets no answer at all.
 */
const KEEP_ALIVE_TIMEOUT_MS = 120_000;

const CLIENT_ERROR_STATUS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout'],
};

/**
 * A request Node cannot parse (bad framing, invalid characters, headers too large, too slow) is
 * answered in the contract's error shape, not Node's bare 400, and its connection closed: after
 * a framing error nothing later on it can be read reliably.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, reason] = CLIENT_ERROR_STATUS[err.code ?? ''] ?? [400, 'Bad Request'];
  const body = JSON.stringify({
    success: false,
    error: 'InvalidRequest',
    errorDescription: `malformed HTTP request: ${err.message}${err.code ? ` (${err.code})` : ''}`,
  });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Starts the API; port 0 picks a free port (tests). */
export function createApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const app = createApiApp(options);
  const host = options.host ?? '127.0.0.1';
  return new Promise((resolveServer, reject) => {
    const server = app.listen(options.port ?? 27182, host, (err?: Error) => {
      if (err) {
        reject(err);
        return;
      }
      server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
      // Headers of a request on a kept-alive connection are awaited longer than it stays idle.
      server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
      server.on('clientError', answerClientError);
      const { port } = server.address() as AddressInfo;
      const urlHost = host.includes(':') ? `[${host}]` : host;
      resolveServer({
        url: `http://${urlHost}:${port}`,
        server,
        close: () =>
          new Promise<void>((resolveClose) => {
            server.closeAllConnections();
            server.close(() => resolveClose());
          }),
      });
    });
    server.once('error', reject);
  });
}
