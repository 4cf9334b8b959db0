import { accessSync, constants, readFileSync } from 'node:fs';
import { credsAuthenticator, nkeyAuthenticator, type ConnectionOptions } from 'nats';
import type { MessagingConfig } from './messaging.config';

/** The environment variable behind each security field of MessagingConfig: problems name what to fix. */
export const NATS_SECURITY_VARIABLES = {
  natsUser: 'CAIRN_NATS_USER',
  natsPassword: 'CAIRN_NATS_PASSWORD',
  natsToken: 'CAIRN_NATS_TOKEN',
  natsCredsFile: 'CAIRN_NATS_CREDS_FILE',
  natsNkeySeedFile: 'CAIRN_NATS_NKEY_SEED_FILE',
  natsTlsCaFile: 'CAIRN_NATS_TLS_CA_FILE',
  natsTlsCertFile: 'CAIRN_NATS_TLS_CERT_FILE',
  natsTlsKeyFile: 'CAIRN_NATS_TLS_KEY_FILE',
} as const;

type NatsSecurityField = keyof typeof NATS_SECURITY_VARIABLES;
type NatsSecuritySettings = Pick<MessagingConfig, NatsSecurityField | 'natsUrl'>;

const FILE_FIELDS = ['natsCredsFile', 'natsNkeySeedFile', 'natsTlsCaFile', 'natsTlsCertFile', 'natsTlsKeyFile'] as const;
const CREDS_JWT_MARKER = '-----BEGIN NATS USER JWT-----';
const CREDS_SEED_MARKER = '-----BEGIN USER NKEY SEED-----';
/** A user nkey seed is base32 and starts with "SU". */
const USER_SEED_PATTERN = /^SU[A-Z2-7]{20,}$/;
/** user[:password]@ in a nats:// URL. */
const URL_CREDENTIALS = /^[a-z]+:\/\/[^/@,\s]+@/i;

function given(settings: NatsSecuritySettings, field: NatsSecurityField): boolean {
  const value = settings[field];
  return value !== undefined && value !== '';
}

/** The ways of authenticating that are set, by the variables that set them. */
function authMethods(settings: NatsSecuritySettings): string[] {
  const v = NATS_SECURITY_VARIABLES;
  const methods: string[] = [];
  if (given(settings, 'natsUser') || given(settings, 'natsPassword')) methods.push(`${v.natsUser}/${v.natsPassword}`);
  if (given(settings, 'natsToken')) methods.push(v.natsToken);
  if (given(settings, 'natsCredsFile')) methods.push(v.natsCredsFile);
  if (given(settings, 'natsNkeySeedFile')) methods.push(v.natsNkeySeedFile);
  return methods;
}

function readable(path: string): string | undefined {
  try {
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
}

/**
 * What is wrong with a connection's security settings, one line per problem, each naming the
 * variable to fix in the form config validation uses (`VAR is "value": reason`). Secret values
 * (the password, the token, file contents) are never repeated.
 */
export function natsSecurityProblems(settings: NatsSecuritySettings): string[] {
  const v = NATS_SECURITY_VARIABLES;
  const problems: string[] = [];
  if (given(settings, 'natsUser') && !given(settings, 'natsPassword')) problems.push(`${v.natsPassword} is missing: ${v.natsUser} is set and needs it`);
  if (given(settings, 'natsPassword') && !given(settings, 'natsUser')) problems.push(`${v.natsUser} is missing: ${v.natsPassword} is set and needs it`);
  const methods = authMethods(settings);
  if (methods.length > 1) problems.push(`${methods.join(' and ')} are all set: choose one way to authenticate to NATS`);
  if (methods.length > 0 && URL_CREDENTIALS.test(settings.natsUrl.split(',')[0].trim())) {
    problems.push(`CAIRN_NATS_URL carries credentials (user@ or user:password@) and ${methods[0]} is set too: give them in one place`);
  }
  if (given(settings, 'natsTlsCertFile') && !given(settings, 'natsTlsKeyFile')) problems.push(`${v.natsTlsKeyFile} is missing: ${v.natsTlsCertFile} is set, and a client certificate needs its key`);
  if (given(settings, 'natsTlsKeyFile') && !given(settings, 'natsTlsCertFile')) problems.push(`${v.natsTlsCertFile} is missing: ${v.natsTlsKeyFile} is set, and a key needs its client certificate`);
  for (const field of FILE_FIELDS) {
    const path = settings[field];
    if (!path) continue;
    const failure = readable(path);
    if (failure) {
      problems.push(`${v[field]} is "${path}": cannot be read (${failure})`);
      continue;
    }
    if (field === 'natsNkeySeedFile' && !USER_SEED_PATTERN.test(readFileSync(path, 'utf8').trim())) {
      problems.push(`${v[field]} is "${path}": does not hold a user nkey seed (one line starting with "SU")`);
    }
    if (field === 'natsCredsFile') {
      const text = readFileSync(path, 'utf8');
      if (!text.includes(CREDS_JWT_MARKER) || !text.includes(CREDS_SEED_MARKER)) {
        problems.push(`${v[field]} is "${path}": not a NATS .creds file (a user JWT and its nkey seed, as \`nsc generate creds\` writes it)`);
      }
    }
  }
  return problems;
}

export type NatsSecurityOptions = Pick<ConnectionOptions, 'user' | 'pass' | 'token' | 'authenticator' | 'tls'>;

/**
 * The nats.js options for a connection's credentials and TLS. Files are read when the client
 * authenticates or upgrades to TLS, so a rotated .creds file or certificate is picked up at the
 * next reconnect. Throws on settings natsSecurityProblems would report.
 */
export function natsSecurityOptions(settings: NatsSecuritySettings): NatsSecurityOptions {
  const methods = authMethods(settings);
  if (methods.length > 1) throw new Error(`${methods.join(' and ')} are all set: choose one way to authenticate to NATS`);
  const options: { -readonly [K in keyof NatsSecurityOptions]: NatsSecurityOptions[K] } = {};
  if (given(settings, 'natsUser') || given(settings, 'natsPassword')) {
    if (!given(settings, 'natsUser') || !given(settings, 'natsPassword')) throw new Error(`${NATS_SECURITY_VARIABLES.natsUser} and ${NATS_SECURITY_VARIABLES.natsPassword} go together`);
    options.user = settings.natsUser;
    options.pass = settings.natsPassword;
  }
  if (given(settings, 'natsToken')) options.token = settings.natsToken;
  const credsFile = settings.natsCredsFile;
  if (credsFile) options.authenticator = credsAuthenticator(() => readFileSync(credsFile));
  const seedFile = settings.natsNkeySeedFile;
  if (seedFile) options.authenticator = nkeyAuthenticator(() => new TextEncoder().encode(readFileSync(seedFile, 'utf8').trim()));
  if (given(settings, 'natsTlsCaFile') || given(settings, 'natsTlsCertFile') || given(settings, 'natsTlsKeyFile')) {
    if (given(settings, 'natsTlsCertFile') !== given(settings, 'natsTlsKeyFile')) {
      throw new Error(`${NATS_SECURITY_VARIABLES.natsTlsCertFile} and ${NATS_SECURITY_VARIABLES.natsTlsKeyFile} go together`);
    }
    options.tls = {
      ...(settings.natsTlsCaFile ? { caFile: settings.natsTlsCaFile } : {}),
      ...(settings.natsTlsCertFile ? { certFile: settings.natsTlsCertFile, keyFile: settings.natsTlsKeyFile } : {}),
    };
  }
  return options;
}
