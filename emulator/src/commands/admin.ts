// Handshake, server-information and administration commands.
import { type Document, Double, Int32, Long } from 'bson';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { CommandError, ErrorCodes } from '../errors';
import type { CommandContext, CommandTable } from './context';
import { toNumber } from '../query';

function hello(ctx: CommandContext): Document {
  const appName = (ctx.command.client as Document | undefined)?.application?.name;
  if (typeof appName === 'string') ctx.conn.appName = appName;
  const { engine, command, conn } = ctx;
  const me = engine.options.hostAndPort;
  const latest = engine.latestClusterTime();
  const wall = engine.latestWallTime();
  const legacy = ctx.commandName.toLowerCase() === 'ismaster';
  // No topologyVersion: advertising it makes the driver switch to streaming (exhaust) hello.
  const reply: Document = { hosts: [me], setName: engine.options.replSetName, setVersion: 1 };
  Object.assign(reply, legacy ? { ismaster: true } : { isWritablePrimary: true });
  Object.assign(reply, {
    secondary: false,
    primary: me,
    me,
    electionId: engine.electionId,
    lastWrite: {
      opTime: { ts: latest, t: Long.fromNumber(1) },
      lastWriteDate: wall,
      majorityOpTime: { ts: latest, t: Long.fromNumber(1) },
      majorityWriteDate: wall,
    },
    maxBsonObjectSize: 16777216,
    maxMessageSizeBytes: 48000000,
    maxWriteBatchSize: 100000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: conn.id,
    minWireVersion: 0,
    maxWireVersion: engine.versionInfo.maxWireVersion,
    readOnly: false,
  });
  if (command.helloOk === true) reply.helloOk = true;
  if (typeof command.saslSupportedMechs === 'string') {
    const mechanisms = engine.auth.supportedMechanisms(command.saslSupportedMechs);
    if (mechanisms) reply.saslSupportedMechs = mechanisms;
  }
  if (command.speculativeAuthenticate && typeof command.speculativeAuthenticate === 'object') {
    const speculative = engine.auth.speculativeAuthenticate(
      conn,
      command.speculativeAuthenticate as Document,
    );
    if (speculative) reply.speculativeAuthenticate = speculative;
  }
  reply.ok = 1;
  return reply;
}

function buildInfo(ctx: CommandContext): Document {
  const version = ctx.engine.versionInfo.version;
  return {
    version,
    gitVersion: 'emulator',
    versionArray: [...version.split('.').map((part) => new Int32(Number(part))), new Int32(0)],
    bits: 64,
    maxBsonObjectSize: 16777216,
    storageEngines: ['devnull', 'inMemory', 'wiredTiger'],
    modules: [],
    javascriptEngine: 'none',
    debug: false,
    ok: 1,
  };
}

function featureCompatibilityVersion(ctx: CommandContext): string {
  return ctx.engine.options.version;
}

/** The server parameters the emulator knows, by name, with the values mongod reports by default. */
function serverParameters(ctx: CommandContext): Record<string, unknown> {
  return {
    authSchemaVersion: new Int32(5),
    authenticationMechanisms: ['SCRAM-SHA-1', 'SCRAM-SHA-256'],
    cursorTimeoutMillis: Long.fromNumber(600_000),
    featureCompatibilityVersion: { version: featureCompatibilityVersion(ctx) },
    internalQueryMaxBlockingSortMemoryUsageBytes: Long.fromNumber(104_857_600),
    localLogicalSessionTimeoutMinutes: new Int32(30),
    logLevel: new Int32(0),
    maxIndexBuildMemoryUsageMegabytes: new Int32(200),
    maxTransactionLockRequestTimeoutMillis: new Int32(5),
    notablescan: false,
    quiet: false,
    transactionLifetimeLimitSeconds: new Int32(60),
    transactionSizeLimitBytes: Long.fromString('9223372036854775807'),
  };
}

/**
 * getParameter as mongod's CmdGet runs it: admin only; `'*'` or `{allParameters: true}` returns
 * every parameter; otherwise the named parameters it knows (others are ignored), and
 * InvalidOptions when none of the names is known.
 */
function getParameter(ctx: CommandContext): Document {
  const { command } = ctx;
  if (ctx.dbName !== 'admin')
    throw new CommandError(
      ErrorCodes.Unauthorized,
      'getParameter may only be run against the admin database.',
    );
  const options = command.getParameter;
  const optionsDoc = typeof options === 'object' && options !== null ? (options as Document) : {};
  const all = options === '*' || optionsDoc.allParameters === true;
  const showDetails = optionsDoc.showDetails === true;
  const reply: Document = {};
  for (const [name, value] of Object.entries(serverParameters(ctx))) {
    if (!all && !(name in command)) continue;
    reply[name] = showDetails
      ? { value, settableAtRuntime: name !== 'authSchemaVersion', settableAtStartup: true }
      : value;
  }
  if (Object.keys(reply).length === 0)
    throw new CommandError(ErrorCodes.InvalidOptions, 'no option found to get');
  return { ...reply, ok: 1 };
}

/** Virtual memory size of this process in bytes (Linux /proc), or undefined elsewhere. */
function virtualMemoryBytes(): number | undefined {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const match = /^VmSize:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** serverStatus's top-level fields and sections with the BSON types mongod gives them. */
function serverStatus(ctx: CommandContext): Document {
  const { engine } = ctx;
  const rss = process.memoryUsage.rss();
  const uptimeMillis = Date.now() - engine.startedAt.getTime();
  return {
    host: engine.options.hostAndPort,
    version: engine.versionInfo.version,
    process: 'mongod',
    pid: Long.fromNumber(process.pid),
    // mongod: a Double holding whole seconds; uptimeMillis and uptimeEstimate are Int64.
    uptime: new Double(Math.floor(uptimeMillis / 1000)),
    uptimeMillis: Long.fromNumber(uptimeMillis),
    uptimeEstimate: Long.fromNumber(Math.floor(uptimeMillis / 1000)),
    localTime: new Date(),
    connections: engine.counters.connections(),
    mem: {
      bits: new Int32(64),
      resident: new Int32(Math.round(rss / 1048576)),
      virtual: new Int32(Math.round((virtualMemoryBytes() ?? rss) / 1048576)),
      supported: true,
    },
    opcounters: engine.counters.opcounters(),
    repl: {
      setName: engine.options.replSetName,
      isWritablePrimary: true,
      primary: engine.options.hostAndPort,
      me: engine.options.hostAndPort,
    },
    storageEngine: { name: 'wiredTiger', supportsCommittedReads: true },
    ok: 1,
  };
}

function replSetGetStatus(ctx: CommandContext): Document {
  const { engine } = ctx;
  const optime = { ts: engine.latestClusterTime(), t: Long.fromNumber(1) };
  return {
    set: engine.options.replSetName,
    date: new Date(),
    myState: 1,
    term: Long.fromNumber(1),
    members: [
      {
        _id: 0,
        name: engine.options.hostAndPort,
        health: 1,
        state: 1,
        stateStr: 'PRIMARY',
        optime,
        optimeDate: engine.latestWallTime(),
        self: true,
      },
    ],
    optimes: { lastCommittedOpTime: optime, appliedOpTime: optime, durableOpTime: optime },
    ok: 1,
  };
}

function replSetGetConfig(ctx: CommandContext): Document {
  return {
    config: {
      _id: ctx.engine.options.replSetName,
      version: 1,
      term: 1,
      members: [{ _id: 0, host: ctx.engine.options.hostAndPort, arbiterOnly: false, priority: 1, votes: 1 }],
      settings: {},
    },
    ok: 1,
  };
}

function replSetResizeOplog(ctx: CommandContext): Document {
  const size = toNumber(ctx.command.size);
  if (size === undefined || !(size >= 0))
    throw new CommandError(ErrorCodes.InvalidOptions, "'size' must be a number");
  // Real mongod enforces ≥ 990 MB; the emulator accepts any size so history loss can be tested.
  ctx.engine.oplog.resize(Math.round(size * 1024 * 1024));
  return { ok: 1 };
}

function setUserWriteBlockMode(ctx: CommandContext): Document {
  if (ctx.dbName !== 'admin')
    throw new CommandError(
      ErrorCodes.Unauthorized,
      'setUserWriteBlockMode may only be run against the admin database.',
    );
  if (typeof ctx.command.global !== 'boolean') {
    throw new CommandError(
      ErrorCodes.TypeMismatch,
      "BSON field 'setUserWriteBlockMode.global' is missing but a required field",
    );
  }
  ctx.engine.writeBlocked = ctx.command.global;
  return { ok: 1 };
}

function appendOplogNote(ctx: CommandContext): Document {
  if (!ctx.command.data || typeof ctx.command.data !== 'object') {
    throw new CommandError(ErrorCodes.NoSuchKey, "appendOplogNote requires a 'data' field");
  }
  ctx.engine.recordWrite(ctx, { op: 'noop', db: 'admin', size: 64 });
  return { ok: 1 };
}

function hostInfo(): Document {
  return {
    system: {
      currentTime: new Date(),
      hostname: os.hostname(),
      cpuAddrSize: 64,
      numCores: os.cpus().length,
      memSizeMB: Math.round(os.totalmem() / 1048576),
    },
    os: { type: os.type(), name: os.platform(), version: os.release() },
    extra: {},
    ok: 1,
  };
}

function endSessions(ctx: CommandContext): Document {
  const ids = (ctx.command.endSessions as Document[] | undefined) ?? [];
  for (const lsid of ids) {
    ctx.engine.sessions.end(lsid, (txn) => ctx.engine.abortTransaction(txn));
  }
  return { ok: 1 };
}

export const adminCommands: CommandTable = {
  hello,
  isMaster: hello,
  ismaster: hello,
  ping: () => ({ ok: 1 }),
  buildInfo,
  buildinfo: buildInfo,
  getParameter,
  serverStatus,
  replSetGetStatus,
  replSetGetConfig,
  replSetResizeOplog,
  setUserWriteBlockMode,
  appendOplogNote,
  hostInfo,
  endSessions,
  killAllSessions: () => ({ ok: 1 }),
  refreshSessions: () => ({ ok: 1 }),
  whatsmyuri: (ctx) => ({ you: ctx.conn.remoteAddress, ok: 1 }),
  getCmdLineOpts: (ctx) => ({
    argv: ['mongod'],
    parsed: { replication: { replSet: ctx.engine.options.replSetName } },
    ok: 1,
  }),
  getLog: () => ({ totalLinesWritten: 0, log: [], ok: 1 }),
  getDefaultRWConcern: () => ({
    defaultReadConcern: { level: 'local' },
    defaultWriteConcern: { w: 'majority', wtimeout: 0 },
    ok: 1,
  }),
  listCommands: (ctx) => ({
    commands: Object.fromEntries(ctx.engine.commandNames().map((name) => [name, {}])),
    ok: 1,
  }),
  configureFailPoint: (ctx) => ctx.engine.failPoints.configure(ctx.command),
  getClusterParameter: () => ({ clusterParameters: [], ok: 1 }),
  fsync: () => ({ numFiles: 1, ok: 1 }),
  logRotate: () => ({ ok: 1 }),
};
