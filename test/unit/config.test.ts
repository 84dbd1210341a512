import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_BATCH_DOCUMENTS } from '../../src/activities/copy';
import {
  ConfigError,
  LOAD_LEVELS,
  LOAD_LEVEL_TUNING,
  clusterFingerprint,
  parseServiceConfig,
  redactConnectionString,
  syncWorkflowId,
} from '../../src/config';
import { DEFAULT_TUNING } from '../../src/workflows/state';

const clusters = ['--cluster0', 'mongodb://a:1', '--cluster1', 'mongodb://b:2'];

function configError(args: string[]): string {
  try {
    parseServiceConfig(args);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('parseServiceConfig', () => {
  it('fills the defaults', () => {
    const config = parseServiceConfig(clusters);
    expect(config).toEqual({
      cluster0: 'mongodb://a:1',
      cluster1: 'mongodb://b:2',
      port: 27182,
      bind: '127.0.0.1',
      id: 'coordinator',
      temporalAddress: null,
      temporalNamespace: 'default',
      taskQueue: `mongosync-coordinator-${clusterFingerprint('mongodb://a:1', 'mongodb://b:2')}`,
      dataDir: '.data/temporal',
      logPath: null,
      verbosity: 'INFO',
      disableVerification: false,
      loadLevel: 3,
      createIndexesBatchSize: 0,
      temporalTlsCert: null,
      temporalTlsKey: null,
      temporalTlsCa: null,
      temporalTls: false,
      temporalApiKey: null,
      acceptDisclaimer: false,
      disableTelemetry: false,
      hotDocIds: [],
      metricsLoggingFilepath: null,
      disableMetricsLogging: false,
    });
  });

  it('reads every flag', () => {
    const config = parseServiceConfig([
      ...clusters,
      '--port',
      '9000',
      '--bind',
      '0.0.0.0',
      '--id',
      'east',
      '--temporal-address',
      'localhost:7233',
      '--temporal-namespace',
      'sync',
      '--task-queue',
      'q1',
      '--data-dir',
      'data/d',
      '--logPath',
      'data/logs',
      '--verbosity',
      'debug',
    ]);
    expect(config).toMatchObject({
      port: 9000,
      bind: '0.0.0.0',
      id: 'east',
      temporalAddress: 'localhost:7233',
      temporalNamespace: 'sync',
      taskQueue: 'q1',
      dataDir: 'data/d',
      logPath: 'data/logs',
      verbosity: 'DEBUG',
    });
  });

  it('reads a YAML file whose keys are flag names, and lets flags win', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mongosync-config-'));
    const file = join(dir, 'mongosync.yaml');
    writeFileSync(
      file,
      'cluster0: mongodb://a:1\ncluster1: mongodb://b:2\nport: 9100\nverbosity: WARN\ntemporal-address: t:7233\n',
    );
    expect(parseServiceConfig(['--config', file])).toMatchObject({
      port: 9100,
      verbosity: 'WARN',
      temporalAddress: 't:7233',
    });
    expect(parseServiceConfig(['--config', file, '--port', '9200']).port).toBe(9200);
    writeFileSync(file, 'cluster0: mongodb://a:1\nclusterX: 1\n');
    expect(configError(['--config', file])).toMatch(/unknown option "clusterX"/);
    writeFileSync(file, '- a\n- b\n');
    expect(configError(['--config', file])).toMatch(/YAML mapping/);
    expect(configError(['--config', join(dir, 'missing.yaml')])).toMatch(/cannot read config file/);
  });

  it.each([
    [[], /--cluster0 is required; --cluster1 is required/],
    [['--cluster0', 'mongodb://a:1'], /--cluster1 is required/],
    [['--cluster0', 'http://a', '--cluster1', 'mongodb://b:2'], /--cluster0: must be a connection string/],
    [[...clusters, '--port', 'abc'], /--port/],
    [[...clusters, '--port', '70000'], /--port/],
    [[...clusters, '--verbosity', 'LOUD'], /--verbosity/],
    [[...clusters, '--id', 'no spaces'], /--id/],
    [[...clusters, '--temporal-address', 'nohost'], /--temporal-address: must be host:port/],
    [[...clusters, '--frobnicate'], /unknown option '--frobnicate'/],
    [[...clusters, 'extra'], /too many arguments|excess|unexpected/i],
    [['--cluster0', 'mongodb://a:1', '--cluster1', 'mongodb://u:p@a:1'], /must be different clusters/],
  ])('rejects %p', (args, message) => {
    expect(configError(args as string[])).toMatch(message);
  });

  it('requires --temporal-address when asked to', () => {
    expect(() => parseServiceConfig(clusters, { requireTemporalAddress: true })).toThrow(
      /--temporal-address is required/,
    );
  });

  it('reports --help as requested output', () => {
    try {
      parseServiceConfig(['--help']);
      throw new Error('expected help');
    } catch (err) {
      expect((err as ConfigError).requestedOutput).toContain('--cluster0');
    }
  });
});

describe('redactConnectionString', () => {
  it.each([
    ['mongodb://user:p%40ss@db0.example:27017/admin?replicaSet=rs0&authSource=admin', 'db0.example:27017'],
    ['mongodb://u:p@h1:1,h2:2,h3/?replicaSet=rs', 'h1:1,h2:2,h3:27017'],
    ['mongodb://localhost', 'localhost:27017'],
    ['mongodb://[::1]:27019/?directConnection=true', '[::1]:27019'],
    ['mongodb+srv://u:secret@Cluster0.Example.net/db', 'cluster0.example.net'],
    ['mongodb://us@r:pa:ss@host:5', 'host:5'],
  ])('%s → %s', (uri, redacted) => {
    expect(redactConnectionString(uri)).toBe(redacted);
    expect(redactConnectionString(uri)).not.toMatch(/secret|user|pa:ss/);
  });

  it('makes workflow ids that depend on the clusters but not on credentials', () => {
    const a = syncWorkflowId({ id: 'x', cluster0: 'mongodb://u:p@h:1', cluster1: 'mongodb://h:2' });
    expect(a).toMatch(/^mongosync-x-[0-9a-f]{12}$/);
    expect(syncWorkflowId({ id: 'x', cluster0: 'mongodb://other:pw@h:1', cluster1: 'mongodb://h:2' })).toBe(
      a,
    );
    expect(syncWorkflowId({ id: 'x', cluster0: 'mongodb://h:2', cluster1: 'mongodb://h:1' })).not.toBe(a);
  });
});

describe('--disableVerification', () => {
  const clusters = ['--cluster0', 'mongodb://a:1', '--cluster1', 'mongodb://b:2'];

  it('is a switch, and a YAML key', () => {
    expect(parseServiceConfig(clusters).disableVerification).toBe(false);
    expect(parseServiceConfig([...clusters, '--disableVerification']).disableVerification).toBe(true);
  });
});

describe('mongosync 1.20+ flags', () => {
  it('reads --loadLevel 1-4 and refuses anything else', () => {
    expect(parseServiceConfig([...clusters, '--loadLevel', '1']).loadLevel).toBe(1);
    expect(parseServiceConfig([...clusters, '--loadLevel', '4']).loadLevel).toBe(4);
    expect(configError([...clusters, '--loadLevel', '5'])).toMatch(/--loadLevel: must be 1, 2, 3 or 4/);
    expect(configError([...clusters, '--loadLevel', 'high'])).toMatch(/--loadLevel/);
  });

  it('maps each load level to the concurrency and copy batches of a new sync, level 3 being the default tuning', () => {
    expect(LOAD_LEVEL_TUNING[3]).toEqual({
      copyConcurrency: DEFAULT_TUNING.copyConcurrency,
      copyBatchDocuments: DEFAULT_BATCH_DOCUMENTS,
      verifyConcurrency: DEFAULT_TUNING.verifyConcurrency,
    });
    for (const setting of ['copyConcurrency', 'copyBatchDocuments', 'verifyConcurrency'] as const) {
      const levels = LOAD_LEVELS.map((level) => LOAD_LEVEL_TUNING[level][setting]);
      expect([...levels].sort((a, b) => a - b)).toEqual(levels);
    }
  });

  it('reads --createIndexesBatchSize, --acceptDisclaimer and --disableTelemetry, as flags and YAML keys', () => {
    const config = parseServiceConfig([
      ...clusters,
      '--createIndexesBatchSize',
      '2',
      '--acceptDisclaimer',
      '--disableTelemetry',
    ]);
    expect(config).toMatchObject({
      createIndexesBatchSize: 2,
      acceptDisclaimer: true,
      disableTelemetry: true,
    });
    expect(configError([...clusters, '--createIndexesBatchSize', '-1'])).toMatch(/--createIndexesBatchSize/);
    const dir = mkdtempSync(join(tmpdir(), 'mongosync-flags-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      'loadLevel: 2\ncreateIndexesBatchSize: 3\nacceptDisclaimer: true\ndisableTelemetry: true\n',
    );
    expect(parseServiceConfig([...clusters, '--config', file])).toMatchObject({
      loadLevel: 2,
      createIndexesBatchSize: 3,
      acceptDisclaimer: true,
      disableTelemetry: true,
    });
  });

  it('reads --hotDocIDs, repeated, as Extended JSON or plain strings, and as a YAML list', () => {
    const config = parseServiceConfig([
      ...clusters,
      '--hotDocIDs',
      'counter',
      '--hotDocIDs',
      '{"$oid":"5f1d7f3e9d1b2c3a4b5c6d7e"}',
      '--hotDocIDs',
      '42',
      '--hotDocIDs',
      '"counter"',
    ]);
    // The plain string and its JSON spelling are one _id.
    expect(config.hotDocIds).toEqual([
      '"counter"',
      '{"$oid":"5f1d7f3e9d1b2c3a4b5c6d7e"}',
      '{"$numberInt":"42"}',
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'mongosync-hot-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'hotDocIDs:\n  - sequence\n  - 7\n  - {$oid: "5f1d7f3e9d1b2c3a4b5c6d7e"}\n');
    expect(parseServiceConfig([...clusters, '--config', file]).hotDocIds).toEqual([
      '"sequence"',
      '{"$numberInt":"7"}',
      '{"$oid":"5f1d7f3e9d1b2c3a4b5c6d7e"}',
    ]);
    writeFileSync(file, 'hotDocIDs: single\n');
    expect(parseServiceConfig([...clusters, '--config', file]).hotDocIds).toEqual(['"single"']);
    // Flags win over the file.
    expect(parseServiceConfig([...clusters, '--config', file, '--hotDocIDs', 'x']).hotDocIds).toEqual([
      '"x"',
    ]);
  });

  it('refuses a --hotDocIDs value that cannot be an _id, naming the flag', () => {
    expect(configError([...clusters, '--hotDocIDs', '[1, 2]'])).toMatch(/^--hotDocIDs: .*cannot be an array/);
    expect(configError([...clusters, '--hotDocIDs', '{"$oid":"nothex"}'])).toMatch(/^--hotDocIDs: /);
    expect(configError([...clusters, '--hotDocIDs', '{"$bogus":1}'])).toMatch(
      /^--hotDocIDs: .*Extended JSON/,
    );
    expect(configError([...clusters, '--hotDocIDs'])).toMatch(/--hotDocIDs <id>/);
  });

  it('reads --metricsLoggingFilepath and --disableMetricsLogging, as flags and YAML keys', () => {
    expect(
      parseServiceConfig([
        ...clusters,
        '--metricsLoggingFilepath',
        '/var/log/m.log',
        '--disableMetricsLogging',
      ]),
    ).toMatchObject({ metricsLoggingFilepath: '/var/log/m.log', disableMetricsLogging: true });
    const dir = mkdtempSync(join(tmpdir(), 'mongosync-metrics-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'metricsLoggingFilepath: m.log\ndisableMetricsLogging: false\n');
    expect(parseServiceConfig([...clusters, '--config', file])).toMatchObject({
      metricsLoggingFilepath: 'm.log',
      disableMetricsLogging: false,
    });
    expect(configError([...clusters, '--metricsLoggingFilepath', ''])).toMatch(/--metricsLoggingFilepath/);
  });
});
