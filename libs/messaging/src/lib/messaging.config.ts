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
}

export const MESSAGING_CONFIG = Symbol('MESSAGING_CONFIG');

export const DEFAULT_RPC_TIMEOUT_MS = 5_000;
export const RECONNECT_WAIT_MS = 1_000;
export const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;
