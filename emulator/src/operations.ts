// Operations in progress, for currentOp and killOp: every command is registered while it runs,
// and killOp interrupts it (its reply becomes mongod's Interrupted error at once).
import { type Document, Int32, Long } from 'bson';
import type { CommandContext, CommandTable, ConnectionState } from './commands/context';
import type { Engine } from './engine';
import { CommandError } from './errors';

export const INTERRUPTED = 11601;

export interface RunningOperation {
  readonly opid: number;
  readonly conn: ConnectionState;
  readonly dbName: string;
  readonly commandName: string;
  readonly command: Document;
  readonly startedAt: number;
  /** Rejects with Interrupted when the operation is killed. */
  readonly killed: Promise<never>;
  kill(): void;
}

/** The `op` field currentOp reports for a command. */
function opType(commandName: string): string {
  switch (commandName.toLowerCase()) {
    case 'find':
      return 'query';
    case 'getmore':
      return 'getmore';
    case 'insert':
      return 'insert';
    case 'update':
      return 'update';
    case 'delete':
      return 'remove';
    default:
      return 'command';
  }
}

function namespaceOf(op: RunningOperation): string {
  const target = op.command[op.commandName];
  if (op.commandName.toLowerCase() === 'getmore' && typeof op.command.collection === 'string')
    return `${op.dbName}.${op.command.collection}`;
  return typeof target === 'string' ? `${op.dbName}.${target}` : `${op.dbName}.$cmd`;
}

/** The command as currentOp shows it: without the driver's envelope fields. */
function shownCommand(command: Document): Document {
  const out: Document = {};
  for (const [key, value] of Object.entries(command)) {
    if (key === '$clusterTime' || key === 'signature') continue;
    out[key] = value;
  }
  return out;
}

export class OperationRegistry {
  private readonly running = new Map<number, RunningOperation>();
  private nextOpid = 1;

  begin(conn: ConnectionState, dbName: string, commandName: string, command: Document): RunningOperation {
    let kill: () => void = () => undefined;
    const killed = new Promise<never>((_, reject) => {
      kill = () =>
        reject(new CommandError(INTERRUPTED, 'operation was interrupted', { codeName: 'Interrupted' }));
    });
    killed.catch(() => undefined);
    const op: RunningOperation = {
      opid: this.nextOpid++,
      conn,
      dbName,
      commandName,
      command,
      startedAt: Date.now(),
      killed,
      kill,
    };
    this.running.set(op.opid, op);
    return op;
  }

  end(op: RunningOperation): void {
    this.running.delete(op.opid);
  }

  /** Kills a running operation and returns it; undefined when no such operation is running. */
  kill(opid: number): RunningOperation | undefined {
    const op = this.running.get(opid);
    op?.kill();
    return op;
  }

  /** currentOp documents of the operations in progress, oldest first. */
  describe(host: string): Document[] {
    const now = Date.now();
    return [...this.running.values()].map((op) => {
      const micros = (now - op.startedAt) * 1000;
      const doc: Document = {
        type: 'op',
        host,
        desc: `conn${op.conn.id}`,
        connectionId: new Int32(op.conn.id),
        client: op.conn.remoteAddress,
      };
      if (op.conn.appName !== undefined) doc.appName = op.conn.appName;
      Object.assign(doc, {
        active: true,
        currentOpTime: new Date(now).toISOString(),
        opid: new Int32(op.opid),
        secs_running: Long.fromNumber(Math.floor(micros / 1_000_000)),
        microsecs_running: Long.fromNumber(micros),
        op: opType(op.commandName),
        ns: namespaceOf(op),
        command: shownCommand(op.command),
        numYields: new Int32(0),
        locks: {},
        waitingForLock: false,
        lockStats: {},
      });
      if (op.command.lsid !== undefined) doc.lsid = op.command.lsid;
      return doc;
    });
  }
}

const registries = new WeakMap<Engine, OperationRegistry>();

/** The operations in progress on an emulator. */
export function operationsOf(engine: Engine): OperationRegistry {
  let registry = registries.get(engine);
  if (!registry) {
    registry = new OperationRegistry();
    registries.set(engine, registry);
  }
  return registry;
}

/** Handlers that register themselves as operations in progress while they run, and can be killed. */
export function trackOperations(table: CommandTable): CommandTable {
  const tracked: CommandTable = {};
  for (const [name, handler] of Object.entries(table)) {
    tracked[name] = async (ctx: CommandContext) => {
      const registry = operationsOf(ctx.engine);
      const op = registry.begin(ctx.conn, ctx.dbName, ctx.commandName, ctx.command);
      try {
        return await Promise.race([handler(ctx), op.killed]);
      } finally {
        registry.end(op);
      }
    };
  }
  return tracked;
}
