import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseServiceConfig } from '../../../src/config';
import { temporalConnectionOptions } from '../../../src/temporal/connectionOptions';

const clusters = ['--cluster0', 'mongodb://a:1', '--cluster1', 'mongodb://b:2'];
const address = 'frontend.example:7233';

function pemFiles(): { cert: string; key: string; ca: string } {
  const dir = mkdtempSync(join(tmpdir(), 'temporal-tls-'));
  const files = { cert: join(dir, 'client.pem'), key: join(dir, 'client.key'), ca: join(dir, 'ca.pem') };
  writeFileSync(files.cert, 'CERT');
  writeFileSync(files.key, 'KEY');
  writeFileSync(files.ca, 'CA');
  return files;
}

describe('Temporal connection options', () => {
  it('connects in plain gRPC without TLS flags', () => {
    expect(temporalConnectionOptions(address, parseServiceConfig(clusters))).toEqual({ address });
  });

  it('builds mTLS from a client certificate, its key and a CA', () => {
    const files = pemFiles();
    const config = parseServiceConfig([
      ...clusters,
      ...['--temporal-tls-cert', files.cert, '--temporal-tls-key', files.key, '--temporal-tls-ca', files.ca],
    ]);
    expect(temporalConnectionOptions(address, config)).toEqual({
      address,
      tls: {
        clientCertPair: { crt: Buffer.from('CERT'), key: Buffer.from('KEY') },
        serverRootCACertificate: Buffer.from('CA'),
      },
    });
  });

  it('sends an API key over TLS with the system CAs, from the flag or TEMPORAL_API_KEY', () => {
    const flagged = parseServiceConfig([...clusters, '--temporal-api-key', 'k1']);
    expect(temporalConnectionOptions(address, flagged)).toEqual({ address, tls: true, apiKey: 'k1' });
    process.env.TEMPORAL_API_KEY = 'k2';
    try {
      const fromEnvironment = parseServiceConfig(clusters);
      expect(temporalConnectionOptions(address, fromEnvironment)).toEqual({
        address,
        tls: true,
        apiKey: 'k2',
      });
      // The flag wins over the variable.
      expect(parseServiceConfig([...clusters, '--temporal-api-key', 'k3']).temporalApiKey).toBe('k3');
    } finally {
      delete process.env.TEMPORAL_API_KEY;
    }
    expect(temporalConnectionOptions(address, parseServiceConfig([...clusters, '--temporal-tls']))).toEqual({
      address,
      tls: true,
    });
  });

  it('refuses a certificate without its key, and files it cannot read', () => {
    const files = pemFiles();
    expect(() => parseServiceConfig([...clusters, '--temporal-tls-cert', files.cert])).toThrow(
      /--temporal-tls-cert and --temporal-tls-key go together/,
    );
    const config = parseServiceConfig([
      ...clusters,
      ...['--temporal-tls-cert', files.cert, '--temporal-tls-key', '/nonexistent/client.key'],
    ]);
    expect(() => temporalConnectionOptions(address, config)).toThrow(ConfigError);
    expect(() => temporalConnectionOptions(address, config)).toThrow(
      /cannot read the client key \/nonexistent/,
    );
  });
});
