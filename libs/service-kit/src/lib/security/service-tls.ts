import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { ConfigError, type BaseServiceConfig } from '../config/service-config';

type TlsConfig = Pick<BaseServiceConfig, 'CAIRN_TLS_CERT_FILE' | 'CAIRN_TLS_KEY_FILE' | 'CAIRN_TLS_CA_FILE'>;

function readPem(variable: keyof TlsConfig, file: string): Buffer {
  try {
    const pem = readFileSync(file);
    if (!pem.toString('utf8').includes('-----BEGIN ')) throw new Error('not a PEM file');
    return pem;
  } catch (error) {
    throw new ConfigError([`${variable} is "${file}": cannot be read as PEM (${(error as Error).message})`]);
  }
}

/** The certificate and key this service serves HTTPS with, or undefined for plain HTTP. */
export function httpsServerOptions(config: TlsConfig): { readonly cert: Buffer; readonly key: Buffer } | undefined {
  const { CAIRN_TLS_CERT_FILE: certFile, CAIRN_TLS_KEY_FILE: keyFile } = config;
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) {
    throw new ConfigError([`${certFile ? 'CAIRN_TLS_KEY_FILE' : 'CAIRN_TLS_CERT_FILE'} is missing: HTTPS needs both CAIRN_TLS_CERT_FILE and CAIRN_TLS_KEY_FILE`]);
  }
  return { cert: readPem('CAIRN_TLS_CERT_FILE', certFile), key: readPem('CAIRN_TLS_KEY_FILE', keyFile) };
}

/**
 * What an internal HTTP client trusts: the system's CAs plus CAIRN_TLS_CA_FILE (a cluster's own
 * CA), for undici's `connect` option. Undefined when no CA is configured (the defaults apply).
 */
export function internalTlsTrust(config: TlsConfig): { readonly ca: (string | Buffer)[] } | undefined {
  if (!config.CAIRN_TLS_CA_FILE) return undefined;
  return { ca: [...rootCertificates, readPem('CAIRN_TLS_CA_FILE', config.CAIRN_TLS_CA_FILE)] };
}
