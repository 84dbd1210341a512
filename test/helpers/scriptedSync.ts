// A SyncService whose next answer a test decides: the REST API's tests run against it.
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
