export interface MessagingConfig {
  /** nats://host:port, comma-separated for a cluster. */
  readonly natsUrl: string;
  /** CAIRN_NS: prefixes every stream, consumer and subject. */
  readonly namespace: string;
  readonly region: string;
  readonly serviceName: string;
  readonly instance: string;
  /** JetStream replicas for provisioned streams: 1 in development, 3 in production. */
  readonly streamReplicas?: number;
  /**
   * How the connection proves who it is, where the server asks (see docs/security.md): a user and
   * password (CAIRN_NATS_USER, CAIRN_NATS_PASSWORD), a token (CAIRN_NATS_TOKEN), a .creds file
   * holding a user JWT and its nkey seed (CAIRN_NATS_CREDS_FILE) or an nkey seed file
   * (CAIRN_NATS_NKEY_SEED_FILE). At most one of them; files are read again on every (re)connect.
   */
  readonly natsUser?: string;
  readonly natsPassword?: string;
  readonly natsToken?: string;
  readonly natsCredsFile?: string;
  readonly natsNkeySeedFile?: string;
  /**
   * TLS: any of these makes the connection require it. A CA to check the server against
   * (CAIRN_NATS_TLS_CA_FILE), and a client certificate with its key for servers that verify
   * clients (CAIRN_NATS_TLS_CERT_FILE, CAIRN_NATS_TLS_KEY_FILE; both or neither).
   */
  readonly natsTlsCaFile?: string;
  readonly natsTlsCertFile?: string;
  readonly natsTlsKeyFile?: string;
}

export const MESSAGING_CONFIG = Symbol('MESSAGING_CONFIG');

export const DEFAULT_RPC_TIMEOUT_MS = 5_000;
export const RECONNECT_WAIT_MS = 1_000;
export const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;
