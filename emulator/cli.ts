// `npm run emulator -- --port 28017 [--replSet rs0] [--version 7.0] [--auth --root-user U
// --root-password P] [--oplog-size-mb N]`: runs one emulated replica-set primary until SIGINT/SIGTERM.
import { Command, InvalidArgumentError } from 'commander';
import { SERVER_VERSIONS, startEmulator, type ServerVersion } from './index';

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('must be an integer from 0 to 65535.');
  return port;
}

function parseVersion(value: string): ServerVersion {
  if (!(value in SERVER_VERSIONS))
    throw new InvalidArgumentError(`must be one of ${Object.keys(SERVER_VERSIONS).join(', ')}.`);
  return value as ServerVersion;
}

function parseSize(value: string): number {
  const size = Number(value);
  if (!Number.isFinite(size) || size <= 0)
    throw new InvalidArgumentError('must be a positive number of megabytes.');
  return size;
}

async function main(): Promise<void> {
  const program = new Command()
    .name('emulator')
    .description('A MongoDB-compatible replica-set primary for tests, benchmarks and the demo')
    .option('--port <port>', 'TCP port (0 picks a free one)', parsePort, 28017)
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--replSet <name>', 'replica set name', 'rs0')
    .option('--version <version>', 'emulated server version', parseVersion, '8.0' as ServerVersion)
    .option('--auth', 'require authentication (with --root-user and --root-password)', false)
    .option('--root-user <user>', 'root user created at start when --auth is given')
    .option('--root-password <password>', 'password of the root user')
    .option('--oplog-size-mb <mb>', 'size of the change history', parseSize, 256)
    .option(
      '--test-filesystem-size-mb <mb>',
      'emulator-only test hook: the data volume size dbStats reports (default: unknown)',
      parseSize,
    )
    .showHelpAfterError()
    .parse();
  const options = program.opts<{
    port: number;
    host: string;
    replSet: string;
    version: ServerVersion;
    auth: boolean;
    rootUser?: string;
    rootPassword?: string;
    oplogSizeMb: number;
    testFilesystemSizeMb?: number;
  }>();
  if (options.auth && (!options.rootUser || !options.rootPassword)) {
    program.error('error: --auth needs --root-user and --root-password');
  }
  if (!options.auth && (options.rootUser || options.rootPassword)) {
    program.error('error: --root-user and --root-password are only used with --auth');
  }
  const emulator = await startEmulator({
    port: options.port,
    host: options.host,
    replSet: options.replSet,
    version: options.version,
    auth: options.auth ? { rootUser: options.rootUser!, rootPassword: options.rootPassword! } : undefined,
    oplogSizeMB: options.oplogSizeMb,
    testFilesystemSizeMB: options.testFilesystemSizeMb,
  });
  const shown = emulator.uri.replace(/\/\/[^@]*@/, `//${options.rootUser ?? ''}:****@`);
  console.log(`emulator ready: ${options.auth ? shown : emulator.uri}`);
  const shutdown = () => {
    void emulator.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error(`emulator: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
