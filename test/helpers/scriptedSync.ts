// A SyncService whose next answer a test decides: the REST API's tests run against it.
import pino from 'pino';
import { createApiServer, type ApiServer, type ApiServerOptions } from '../../src/api/server';
import type { ArgumentlessCommand, SyncService } from '../../src/api/syncClient';
import type { StartRequest, WorkflowProgress } from '../../src/workflows/messages';
import { idleProgress } from '../../src/workflows/progress';

export class ScriptedSync implements SyncService {
  failure: unknown = null;
  current: WorkflowProgress = idleProgress();
  readonly calls: string[] = [];
  lastStart: StartRequest | null = null;

  async start(request: StartRequest) {
    this.calls.push('start');
    this.lastStart = request;
    if (this.failure) throw this.failure;
  }
  async command(command: ArgumentlessCommand) {
    this.calls.push(command);
    if (this.failure) throw this.failure;
  }
  async progress() {
    if (this.failure) throw this.failure;
    return this.current;
  }
}

/** The REST API over `sync` on a free port, quiet, with the test clusters' hosts; `extra` adds options. */
export function startScriptedApi(
  sync: ScriptedSync,
  extra: Partial<ApiServerOptions> = {},
): Promise<ApiServer> {
  return createApiServer({
    sync,
    clusterHosts: { cluster0: 'db0:27017', cluster1: 'db1:27018' },
    logger: pino({ level: 'silent' }),
    port: 0,
    ...extra,
  });
}

/** A /metrics answer for APIs that need one. */
export const NO_METRICS = async () => ({
  contentType: 'text/plain; version=0.0.4; charset=utf-8',
  body: '# none\n',
});
