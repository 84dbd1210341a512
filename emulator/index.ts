// Programmatic entry point: start an emulated MongoDB replica-set primary on a TCP port.
import { Engine, SERVER_VERSIONS, type ServerVersion } from './src/engine';
import { builtinCommands } from './src/commands';
import { WireServer } from './src/server';

export { SERVER_VERSIONS, type ServerVersion } from './src/engine';

export interface EmulatorOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; clients must use the same host name in their connection string. */
  host?: string;
  /** Replica set name reported by hello (default rs0). */
  replSet?: string;
  /** Emulated server version (default 8.0). */
  version?: ServerVersion;
  /** Enable authentication with this root user. */
  auth?: { rootUser: string; rootPassword: string };
  /** Size of the change history (oplog) in MB (default 256). */
  oplogSizeMB?: number;
  /** Emulator-only test hook: the data volume's size dbStats reports, in MB (default: unknown, 0). */
  testFilesystemSizeMB?: number;
}

export interface RunningEmulator {
  /** A connection string for the driver (with credentials when auth is on). */
  uri: string;
  port: number;
  host: string;
  engine: Engine;
  stop(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const host = options.host ?? '127.0.0.1';
  const version = options.version ?? '8.0';
  if (!SERVER_VERSIONS[version])
    throw new Error(
      `unsupported version ${version}; choose one of ${Object.keys(SERVER_VERSIONS).join(', ')}`,
    );
  const replSet = options.replSet ?? 'rs0';
  const oplogSizeMB = options.oplogSizeMB ?? 256;
  if (!(oplogSizeMB > 0)) throw new Error('oplogSizeMB must be a positive number');
  const engine = new Engine({
    hostAndPort: '', // known once the port is bound (port 0 picks one)
    replSetName: replSet,
    version,
    auth: {
      enabled: options.auth !== undefined,
      rootUser: options.auth?.rootUser,
      rootPassword: options.auth?.rootPassword,
    },
    oplogSizeBytes: Math.round(oplogSizeMB * 1024 * 1024),
    testFilesystemSizeBytes:
      options.testFilesystemSizeMB === undefined
        ? undefined
        : Math.round(options.testFilesystemSizeMB * 1024 * 1024),
  });
  engine.registerCommands(builtinCommands);
  engine.registerCommands(engine.auth.commands);
  const server = new WireServer(engine);
  const port = await server.listen(options.port ?? 0, host);
  engine.options.hostAndPort = `${host}:${port}`;
  const credentials = options.auth
    ? `${encodeURIComponent(options.auth.rootUser)}:${encodeURIComponent(options.auth.rootPassword)}@`
    : '';
  const uri = `mongodb://${credentials}${host}:${port}/?replicaSet=${encodeURIComponent(replSet)}`;
  return { uri, port, host, engine, stop: () => server.close() };
}
