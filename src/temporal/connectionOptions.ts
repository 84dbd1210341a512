// How the service reaches a Temporal frontend: plain (a dev server), TLS with a client
// certificate (a self-hosted cluster with mTLS, Temporal Cloud's certificates), or TLS with an
// API key (Temporal Cloud). The same options serve the client and the worker's connection.
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { ConfigError, type ServiceConfig } from '../config';

export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError(`cannot read the ${what} ${file}: ${(err as Error).message}`);
  }
}

type TlsSettings = Pick<
  ServiceConfig,
  'temporalTlsCert' | 'temporalTlsKey' | 'temporalTlsCa' | 'temporalTls' | 'temporalApiKey'
>;

export function temporalConnectionOptions(address: string, config: TlsSettings): TemporalConnectionOptions {
  const options: TemporalConnectionOptions = { address };
  const tls: TLSConfig = {};
  if (config.temporalTlsCert && config.temporalTlsKey) {
    tls.clientCertPair = {
      crt: readPem(config.temporalTlsCert, 'client certificate'),
      key: readPem(config.temporalTlsKey, 'client key'),
    };
  }
  if (config.temporalTlsCa) tls.serverRootCACertificate = readPem(config.temporalTlsCa, 'CA certificate');
  if (Object.keys(tls).length > 0) options.tls = tls;
  // An API key travels only over TLS (Temporal Cloud).
  else if (config.temporalTls || config.temporalApiKey) options.tls = true;
  if (config.temporalApiKey) options.apiKey = config.temporalApiKey;
  return options;
}
