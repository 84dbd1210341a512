// Handshake, server-information and administration commands.
import { type Document, Int32, Long } from 'bson';
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

function getParameter(ctx: CommandContext): Document {
  const { command } = ctx;
  const reply: Document = {};
  const all =
    command.getParameter === '*' ||
    (typeof command.getParameter === 'object' && (command.getParameter as Document).allParameters);
  if (all || command.featureCompatibilityVersion !== undefined) {
    reply.featureCompatibilityVersion = { version: featureCompatibilityVersion(ctx) };
  }
  if (all || command.authenticationMechanisms !== undefined) {
    reply.authenticationMechanisms = ['SCRAM-SHA-1', 'SCRAM-SHA-256'];
  }
  if (Object.keys(reply).length === 0 && !all) {
    throw new CommandError(ErrorCodes.InvalidOptions, 'no option found to get');
  }
  return { ...reply, ok: 1 };
}

function serverStatus(ctx: CommandContext): Document {
  const { engine } = ctx;
  const memory = process.memoryUsage();
  return {
    host: engine.options.hostAndPort,
    version: engine.versionInfo.version,
    process: 'mongod',
    pid: Long.fromNumber(process.pid),
    uptime: (Date.now() - engine.startedAt.getTime()) / 1000,
    uptimeMillis: Long.fromNumber(Date.now() - engine.startedAt.getTime()),
    localTime: new Date(),
    connections: { current: 0, available: 1000 },
    mem: {
      bits: 64,
      resident: Math.round(memory.rss / 1048576),
      virtual: Math.round(memory.heapTotal / 1048576),
    },
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
  if (ctx.engine.options.version === '5.0')
    throw new CommandError(ErrorCodes.CommandNotFound, "no such command: 'setUserWriteBlockMode'");
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
  currentOp: () => ({ inprog: [], ok: 1 }),
  fsync: () => ({ numFiles: 1, ok: 1 }),
  logRotate: () => ({ ok: 1 }),
};
