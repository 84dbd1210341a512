// The service's configuration: command-line flags (mongosync's plus ours), optionally a YAML file
// whose keys are the flag names without dashes; flags win over the file.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseHotDocId } from './activities/hotDocuments';

export const VERBOSITY_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL', 'PANIC'] as const;
export type Verbosity = (typeof VERBOSITY_LEVELS)[number];

export interface ServiceConfig {
  cluster0: string;
  cluster1: string;
  port: number;
  bind: string;
  id: string;
  /** host:port of a Temporal frontend; null means: run the dev server in-process. */
  temporalAddress: string | null;
  temporalNamespace: string;
  taskQueue: string;
  /** Where the dev server keeps its SQLite database. */
  dataDir: string;
  /** Directory of mongosync.log; null logs to stdout. */
  logPath: string | null;
  verbosity: Verbosity;
  /** mongosync's `--disableVerification`: a /start without `verification` runs without the verifier. */
  disableVerification: boolean;
  /** mongosync's `--loadLevel` 1-4 (default 3): how hard a new sync works the clusters. */
  loadLevel: LoadLevel;
  /** mongosync's `--createIndexesBatchSize`: indexes per createIndexes command (0: all at once). */
  createIndexesBatchSize: number;
  /** TLS to the Temporal frontend: client certificate and key (mTLS), CA; all optional. */
  temporalTlsCert: string | null;
  temporalTlsKey: string | null;
  temporalTlsCa: string | null;
  /** TLS with the system's CAs and no client certificate (Temporal Cloud with an API key). */
  temporalTls: boolean;
  /** An API key for the Temporal frontend (Temporal Cloud); the TEMPORAL_API_KEY variable keeps it out of `ps`. */
  temporalApiKey: string | null;
  /** mongosync's `--acceptDisclaimer` and `--disableTelemetry`: accepted; ours sends nothing anywhere. */
  acceptDisclaimer: boolean;
  disableTelemetry: boolean;
  /** mongosync's `--hotDocIDs`: `_id`s (canonical Extended JSON) whose events get a lane of their own. */
  hotDocIds: string[];
  /** mongosync's `--metricsLoggingFilepath`: the metrics log file; null: metrics/ under the working directory. */
  metricsLoggingFilepath: string | null;
  /** mongosync's `--disableMetricsLogging`. */
  disableMetricsLogging: boolean;
}

export const LOAD_LEVELS = [1, 2, 3, 4] as const;
export type LoadLevel = (typeof LOAD_LEVELS)[number];

/**
 * What `--loadLevel` sets for a new sync: partitions copied at once, documents per copy batch, and
 * partitions the verifier hashes at once. Level 3 is the default tuning; 1 and 2 spare busy
 * production clusters, 4 uses clusters with room to spare.
 */
export const LOAD_LEVEL_TUNING: Record<
  LoadLevel,
  { copyConcurrency: number; copyBatchDocuments: number; verifyConcurrency: number }
> = {
  1: { copyConcurrency: 2, copyBatchDocuments: 250, verifyConcurrency: 1 },
  2: { copyConcurrency: 4, copyBatchDocuments: 500, verifyConcurrency: 2 },
  3: { copyConcurrency: 8, copyBatchDocuments: 1000, verifyConcurrency: 4 },
  4: { copyConcurrency: 16, copyBatchDocuments: 2000, verifyConcurrency: 8 },
};

export class ConfigError extends Error {
  constructor(
    message: string,
    /** Help or version text the user asked for, to print instead of an error. */
    readonly requestedOutput?: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

const DEFAULT_ID = 'coordinator';

const mongoUri = z
  .string()
  .regex(
    /^mongodb(\+srv)?:\/\/[^/?]+/,
    'must be a connection string (mongodb://host:port or mongodb+srv://host)',
  );
const hostPort = z.string().regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/, 'must be host:port');

/** A switch: true on the command line, a boolean (or "true"/"false") in the YAML file. */
const yamlBoolean = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

const configSchema = z
  .object({
    cluster0: mongoUri,
    cluster1: mongoUri,
    port: z.coerce.number().int().min(0).max(65535).default(27182),
    bind: z.string().min(1).default('127.0.0.1'),
    id: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "-" or "_"')
      .default(DEFAULT_ID),
    temporalAddress: hostPort.nullable().default(null),
    temporalNamespace: z.string().min(1).default('default'),
    taskQueue: z.string().min(1).optional(),
    dataDir: z.string().min(1).default('.data/temporal'),
    logPath: z.string().min(1).nullable().default(null),
    verbosity: z
      .string()
      .transform((v) => v.toUpperCase())
      .pipe(z.enum(VERBOSITY_LEVELS))
      .default('INFO'),
    disableVerification: yamlBoolean.default(false),
    loadLevel: z.coerce
      .number()
      .int()
      .refine((level): level is LoadLevel => (LOAD_LEVELS as readonly number[]).includes(level), {
        message: 'must be 1, 2, 3 or 4',
      })
      .default(3)
      .transform((level) => level as LoadLevel),
    createIndexesBatchSize: z.coerce.number().int().min(0).max(64).default(0),
    temporalTlsCert: z.string().min(1).nullable().default(null),
    temporalTlsKey: z.string().min(1).nullable().default(null),
    temporalTlsCa: z.string().min(1).nullable().default(null),
    temporalTls: yamlBoolean.default(false),
    temporalApiKey: z.string().min(1).nullable().default(null),
    acceptDisclaimer: yamlBoolean.default(false),
    disableTelemetry: yamlBoolean.default(false),
    metricsLoggingFilepath: z.string().min(1).nullable().default(null),
    disableMetricsLogging: yamlBoolean.default(false),
    hotDocIds: z
      .array(z.unknown())
      .default([])
      .transform((values, context) => {
        const ids: string[] = [];
        for (const value of values) {
          try {
            ids.push(parseHotDocId(value));
          } catch (err) {
            context.addIssue({ code: 'custom', message: (err as Error).message });
            return z.NEVER;
          }
        }
        return [...new Set(ids)];
      }),
  })
  .strict();

type FlagKey = keyof z.input<typeof configSchema>;

const FLAGS: { flag: string; key: FlagKey; arg: string; description: string }[] = [
  { flag: 'cluster0', key: 'cluster0', arg: 'uri', description: 'connection string of cluster0' },
  { flag: 'cluster1', key: 'cluster1', arg: 'uri', description: 'connection string of cluster1' },
  { flag: 'port', key: 'port', arg: 'port', description: 'HTTP API port (default 27182)' },
  { flag: 'bind', key: 'bind', arg: 'address', description: 'HTTP API bind address (default 127.0.0.1)' },
  { flag: 'id', key: 'id', arg: 'id', description: `name of this sync (default ${DEFAULT_ID})` },
  {
    flag: 'temporal-address',
    key: 'temporalAddress',
    arg: 'host:port',
    description: 'Temporal frontend; without it a local dev server is started',
  },
  { flag: 'temporal-namespace', key: 'temporalNamespace', arg: 'name', description: 'Temporal namespace' },
  { flag: 'task-queue', key: 'taskQueue', arg: 'queue', description: 'Temporal task queue' },
  {
    flag: 'temporal-tls-cert',
    key: 'temporalTlsCert',
    arg: 'file',
    description: 'client certificate (PEM) for mTLS to Temporal',
  },
  { flag: 'temporal-tls-key', key: 'temporalTlsKey', arg: 'file', description: 'its private key (PEM)' },
  {
    flag: 'temporal-tls-ca',
    key: 'temporalTlsCa',
    arg: 'file',
    description: "CA certificate (PEM) of Temporal's frontend (default: the system's)",
  },
  {
    flag: 'temporal-api-key',
    key: 'temporalApiKey',
    arg: 'key',
    description: 'API key for Temporal Cloud (better: the TEMPORAL_API_KEY variable)',
  },
  { flag: 'data-dir', key: 'dataDir', arg: 'dir', description: 'dev server data directory' },
  {
    flag: 'logPath',
    key: 'logPath',
    arg: 'dir',
    description: 'directory for mongosync.log (default stdout)',
  },
  { flag: 'verbosity', key: 'verbosity', arg: 'level', description: VERBOSITY_LEVELS.join('|') },
  {
    flag: 'loadLevel',
    key: 'loadLevel',
    arg: 'level',
    description: '1-4 (default 3): partitions copied and hashed at once, and copy batch size, of a new sync',
  },
  {
    flag: 'metricsLoggingFilepath',
    key: 'metricsLoggingFilepath',
    arg: 'file',
    description: 'metrics log file (default metrics/mongosync-metrics.log in the working directory)',
  },
  {
    flag: 'createIndexesBatchSize',
    key: 'createIndexesBatchSize',
    arg: 'n',
    description: 'indexes per createIndexes command during the copy (default 0: all at once)',
  },
];

/** Flags given once per value (mongosync's spelling); in the YAML file, a list. */
const REPEATABLE: { flag: string; key: FlagKey; arg: string; description: string }[] = [
  {
    flag: 'hotDocIDs',
    key: 'hotDocIds',
    arg: 'id',
    description:
      '_id (Extended JSON, or a plain string) of a document updated very often; its events get their own lane. Repeatable',
  },
];

/** Flags without a value (mongosync's spelling). */
const SWITCHES: { flag: string; key: FlagKey; description: string }[] = [
  {
    flag: 'disableVerification',
    key: 'disableVerification',
    description: 'run syncs without the embedded verifier unless /start asks for it',
  },
  { flag: 'temporal-tls', key: 'temporalTls', description: "TLS to Temporal with the system's CAs" },
  { flag: 'disableMetricsLogging', key: 'disableMetricsLogging', description: 'write no metrics log' },
  { flag: 'acceptDisclaimer', key: 'acceptDisclaimer', description: "accepted, as mongosync's" },
  {
    flag: 'disableTelemetry',
    key: 'disableTelemetry',
    description: 'accepted; this service never sends telemetry anywhere',
  },
];

/** YAML keys are the flag names without dashes; camelCase spellings are accepted too. */
function keyForYaml(name: string): FlagKey | undefined {
  const normalized = name.replace(/-/g, '').toLowerCase();
  return [...FLAGS, ...REPEATABLE, ...SWITCHES].find(
    (f) => f.flag.replace(/-/g, '').toLowerCase() === normalized,
  )?.key;
}

function readYamlConfig(path: string): Partial<Record<FlagKey, unknown>> {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must be a YAML mapping of option names to values`);
  }
  const values: Partial<Record<FlagKey, unknown>> = {};
  for (const [name, value] of Object.entries(parsed)) {
    const key = keyForYaml(name);
    if (!key) throw new ConfigError(`config file ${path}: unknown option "${name}"`);
    if (REPEATABLE.some((f) => f.key === key)) values[key] = Array.isArray(value) ? value : [value];
    else values[key] = typeof value === 'number' ? String(value) : value;
  }
  return values;
}

export interface ParseOptions {
  programName?: string;
  requireTemporalAddress?: boolean;
}

/** Parses user arguments (without `node` and the script). Throws ConfigError with a clear message. */
export function parseServiceConfig(args: string[], options: ParseOptions = {}): ServiceConfig {
  const program = new Command(options.programName ?? 'mongosync')
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} })
    .allowExcessArguments(false)
    .option('--config <file>', 'YAML file with these options (keys = flag names without dashes)');
  for (const { flag, arg, description } of FLAGS) program.option(`--${flag} <${arg}>`, description);
  for (const { flag, arg, description } of REPEATABLE)
    program.option(`--${flag} <${arg}>`, description, (value: string, previous: string[] = []) => [
      ...previous,
      value,
    ]);
  for (const { flag, description } of SWITCHES) program.option(`--${flag}`, description);

  try {
    program.parse(args, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help') {
        throw new ConfigError('help requested', program.helpInformation());
      }
      throw new ConfigError(err.message.replace(/^error: /, ''));
    }
    throw err;
  }
  const flags = program.opts<Record<string, unknown>>();
  const fromFile = typeof flags.config === 'string' ? readYamlConfig(flags.config) : {};
  const fromFlags: Partial<Record<FlagKey, unknown>> = {};
  for (const { flag, key } of FLAGS) {
    const value = flags[program.options.find((o) => o.long === `--${flag}`)!.attributeName()];
    if (value !== undefined) fromFlags[key] = value;
  }
  for (const { flag, key } of REPEATABLE) {
    const value = flags[program.options.find((o) => o.long === `--${flag}`)!.attributeName()];
    if (value !== undefined) fromFlags[key] = value;
  }
  for (const { flag, key } of SWITCHES) {
    if (flags[program.options.find((o) => o.long === `--${flag}`)!.attributeName()] === true)
      fromFlags[key] = true;
  }
  const fromEnvironment: Partial<Record<FlagKey, unknown>> = {};
  if (process.env.TEMPORAL_API_KEY) fromEnvironment.temporalApiKey = process.env.TEMPORAL_API_KEY;
  const result = configSchema.safeParse({ ...fromEnvironment, ...fromFile, ...fromFlags });
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      const flag = [...FLAGS, ...REPEATABLE].find((f) => f.key === key)?.flag ?? key;
      return issue.code === 'invalid_type' && issue.input === undefined
        ? `--${flag} is required`
        : `--${flag}: ${issue.message}`;
    });
    throw new ConfigError(problems.join('; '));
  }
  const parsed = result.data;
  if (options.requireTemporalAddress && !parsed.temporalAddress) {
    throw new ConfigError('--temporal-address is required');
  }
  if ((parsed.temporalTlsCert === null) !== (parsed.temporalTlsKey === null)) {
    throw new ConfigError(
      '--temporal-tls-cert and --temporal-tls-key go together (a client certificate and its key)',
    );
  }
  if (redactConnectionString(parsed.cluster0) === redactConnectionString(parsed.cluster1)) {
    throw new ConfigError('--cluster0 and --cluster1 must be different clusters');
  }
  const fingerprint = clusterFingerprint(parsed.cluster0, parsed.cluster1);
  return { ...parsed, taskQueue: parsed.taskQueue ?? `mongosync-${parsed.id}-${fingerprint}` };
}

/** A connection string reduced to `host:port[,host:port]`: no scheme, credentials, database or options. */
export function redactConnectionString(uri: string): string {
  const withoutScheme = uri.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//, '');
  const authority = withoutScheme.split(/[/?#]/, 1)[0];
  const hosts = authority.slice(authority.lastIndexOf('@') + 1);
  const srv = /^mongodb\+srv:/i.test(uri);
  return hosts
    .split(',')
    .filter((h) => h.length > 0)
    .map((host) => {
      const lower = host.toLowerCase();
      const hasPort = lower.startsWith('[') ? /\]:\d+$/.test(lower) : lower.includes(':');
      return hasPort || srv ? lower : `${lower}:27017`;
    })
    .join(',');
}

/** A short, stable hash of which hosts cluster0 and cluster1 are: a sync belongs to its clusters. */
export function clusterFingerprint(cluster0: string, cluster1: string): string {
  const identity = `cluster0=${redactConnectionString(cluster0)}|cluster1=${redactConnectionString(cluster1)}`;
  return createHash('sha256').update(identity).digest('hex').slice(0, 12);
}

/** One workflow per sync id and cluster pair, so a new pair of clusters starts IDLE. */
export function syncWorkflowId(config: Pick<ServiceConfig, 'id' | 'cluster0' | 'cluster1'>): string {
  return `mongosync-${config.id}-${clusterFingerprint(config.cluster0, config.cluster1)}`;
}

/** For entry points: the parsed config, or the message printed and the process ended. */
export function loadConfigOrExit(args: string[], options: ParseOptions = {}): ServiceConfig {
  try {
    return parseServiceConfig(args, options);
  } catch (err) {
    if (err instanceof ConfigError && err.requestedOutput !== undefined) {
      process.stdout.write(err.requestedOutput);
      process.exit(0);
    }
    process.stderr.write(`${options.programName ?? 'mongosync'}: ${(err as Error).message}\n`);
    process.exit(2);
  }
}
