import { membershipSubject, subjectsFor } from '@cairn/protocol';

/** Every service that connects to NATS, each as its own NATS user. */
export const NATS_SERVICE_USERS = ['access', 'metadata', 'storage', 'lock-manager', 'scheduler', 'monitoring', 'sync'] as const;
export type NatsServiceUser = (typeof NATS_SERVICE_USERS)[number];

/** A NATS user's subject permissions, as nats-server's `permissions` block takes them. */
export interface NatsUserPermissions {
  readonly publish: { readonly allow: readonly string[]; readonly deny: readonly string[] };
  readonly subscribe: { readonly allow: readonly string[] };
  /** May answer requests it received (on the requester's reply subject), without publish rights on `_INBOX.>`. */
  readonly allowResponses: boolean;
}

/** Replies of every request (RPC, JetStream API, pull consumers' batches) come to the client's inbox. */
const INBOX = '_INBOX.>';
/** The JetStream API: stream provisioning (every service runs it at start), consumers, message gets, publish acks. */
const JS_API = '$JS.API.>';
/**
 * What no service does, so none may: events are the source of truth, and losing them takes an
 * operator (the admin user), not a compromised service.
 */
export const JS_API_DENIED: readonly string[] = [
  '$JS.API.STREAM.DELETE.>',
  '$JS.API.STREAM.PURGE.>',
  '$JS.API.STREAM.MSG.DELETE.>',
  '$JS.API.STREAM.SNAPSHOT.>',
  '$JS.API.STREAM.RESTORE.>',
  '$JS.API.STREAM.PEER.REMOVE.>',
  '$JS.API.STREAM.LEADER.STEPDOWN.>',
  '$JS.API.CONSUMER.LEADER.STEPDOWN.>',
  '$JS.API.META.>',
  '$JS.API.SERVER.>',
  '$JS.API.ACCOUNT.>',
];

/**
 * Least-privilege subject permissions for each service of a namespace (CAIRN_NS; '' in
 * production), from what the code publishes and subscribes to:
 *
 * - every service: its own heartbeat `hb.<region>.<service>.<instance>`, the JetStream API (minus
 *   JS_API_DENIED) and its inbox;
 * - access: metadata RPC, chunk-health events (under-replicated writes), META read by ordered consumers;
 * - metadata: answers `rpc.metadata.>`, appends `meta.>` and `cluster.membership`, acks its durable
 *   consumers on META and CLUSTER, parks dead letters;
 * - storage: metadata RPC (join, node list), chunk-health events (corruption found);
 * - lock-manager: answers `rpc.lock-manager.>` and forwards to the leader's per-instance subject,
 *   Raft on `raft.>`;
 * - scheduler: answers `rpc.scheduler.>` (the jobs summary), metadata and lock-manager RPC,
 *   chunk-health events (repairs), acks its CLUSTER consumers, dead letters;
 * - monitoring: every heartbeat, instance-health events, its leader lease (lock-manager RPC),
 *   membership (metadata RPC) and jobs (scheduler RPC) for the dashboard;
 * - sync: answers `rpc.sync.>` and the federation's `fed.>` requests (other regions' syncs ask for
 *   chunk ranges, anti-entropy nodes, forwarded writes) and sends its own; metadata RPC (apply
 *   other regions' changes, leaves, buckets) and lock-manager RPC (the anti-entropy lease);
 *   chunk-health events (pulled chunks that missed a replica); the users' change feed
 *   `changes.>`; acks of its durable consumers — on META and on each peer's sourced copy of META
 *   (one stream per peer, so `$JS.ACK.>`); its back-fill marks in a key-value bucket; dead letters.
 *
 * Every caller of a service's RPC may also subscribe to `rpc.<service>.request-pieces.>` and
 * answer what comes there (allow_responses), and the service may publish there: the pieces of a
 * request too large for one message, which the responder fetches from its caller. Federation
 * requests do the same under `fed.>`, which sync has both ways.
 */
export function natsServicePermissions(namespace: string): Record<NatsServiceUser, NatsUserPermissions> {
  const s = subjectsFor(namespace);
  const ack = (stream: 'META' | 'CLUSTER') => `$JS.ACK.${s.streamName(stream)}.>`;
  type Rpc = 'metadata' | 'lock-manager' | 'scheduler' | 'sync';
  /**
   * A request too large for one NATS message is held by its caller and fetched by the responder
   * from `rpc.<service>.request-pieces.<id>` (large-replies.ts): the caller subscribes there and
   * answers the fetches (allow_responses), the responder publishes there.
   */
  const requestPieces = (service: Rpc) => s.rpc(service, 'request-pieces.>');
  const user = (service: NatsServiceUser, parts: { publish?: string[]; subscribe?: string[]; responds?: boolean; calls?: Rpc[]; answers?: Rpc }): NatsUserPermissions => {
    const calls = parts.calls ?? [];
    const answers = parts.answers ? [parts.answers] : [];
    return {
      publish: {
        allow: [s.heartbeat('*', service, '*'), JS_API, ...calls.map((rpc) => s.rpc(rpc, '>')), ...answers.filter((rpc) => !calls.includes(rpc)).map(requestPieces), ...(parts.publish ?? [])],
        deny: JS_API_DENIED,
      },
      subscribe: { allow: [INBOX, ...answers.map((rpc) => s.rpc(rpc, '>')), ...calls.filter((rpc) => !answers.includes(rpc)).map(requestPieces), ...(parts.subscribe ?? [])] },
      allowResponses: (parts.responds ?? false) || calls.length > 0 || answers.length > 0,
    };
  };
  const chunkHealth = s.chunkHealth('*');
  const deadLetters = s.prefix('dlq.>');
  return {
    access: user('access', { calls: ['metadata'], publish: [chunkHealth] }),
    metadata: user('metadata', {
      answers: 'metadata',
      publish: [s.prefix('meta.>'), membershipSubject(namespace), deadLetters, ack('META'), ack('CLUSTER')],
    }),
    storage: user('storage', { calls: ['metadata'], publish: [chunkHealth] }),
    // Forwards to the leader's per-instance subject, under its own RPC subjects.
    'lock-manager': user('lock-manager', { answers: 'lock-manager', calls: ['lock-manager'], publish: [s.prefix('raft.>')], subscribe: [s.prefix('raft.>')] }),
    scheduler: user('scheduler', { answers: 'scheduler', calls: ['metadata', 'lock-manager'], publish: [chunkHealth, deadLetters, ack('CLUSTER')] }),
    monitoring: user('monitoring', { calls: ['lock-manager', 'metadata', 'scheduler'], publish: [s.prefix('cluster.health.>')], subscribe: [s.heartbeatWildcard()] }),
    sync: user('sync', {
      answers: 'sync',
      calls: ['metadata', 'lock-manager'],
      publish: [chunkHealth, deadLetters, s.prefix('changes.>'), s.prefix('fed.>'), '$JS.ACK.>', `$KV.${s.durableName('sync-backfill')}.>`],
      subscribe: [s.prefix('fed.>')],
    }),
  };
}

/** The variable nats-server reads a service's password from: CAIRN_NATS_PASSWORD_LOCK_MANAGER for lock-manager. */
export function natsPasswordVariable(user: NatsServiceUser | 'admin'): string {
  return `CAIRN_NATS_PASSWORD_${user.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

function list(subjects: readonly string[]): string {
  return `[${subjects.map((subject) => JSON.stringify(subject)).join(', ')}]`;
}

function userBlock(name: string, permissions: NatsUserPermissions | 'all'): string {
  const password = `$${natsPasswordVariable(name as NatsServiceUser)}`;
  if (permissions === 'all') return `    { user: "${name}", password: ${password} }`;
  return [
    `    {`,
    `      user: "${name}", password: ${password}`,
    `      permissions: {`,
    `        publish: { allow: ${list(permissions.publish.allow)}, deny: ${permissions.publish.deny === JS_API_DENIED ? '$JS_API_DENIED' : list(permissions.publish.deny)} }`,
    `        subscribe: { allow: ${list(permissions.subscribe.allow)} }`,
    ...(permissions.allowResponses ? [`        allow_responses: true`] : []),
    `      }`,
    `    }`,
  ].join('\n');
}

/**
 * The `authorization` block of a nats-server config: one user per service with the permissions
 * above, and an `admin` user with every right (operators, backups, stream clean-up). Passwords are
 * not in the file: nats-server reads `$CAIRN_NATS_PASSWORD_<USER>` from its environment (a bcrypt
 * hash works there as well as the password itself).
 */
export function natsServerAuthorization(namespace: string): string {
  const permissions = natsServicePermissions(namespace);
  const users = [...NATS_SERVICE_USERS.map((name) => userBlock(name, permissions[name])), userBlock('admin', 'all')];
  return [`JS_API_DENIED: ${list(JS_API_DENIED)}`, '', 'authorization {', '  users: [', users.join('\n'), '  ]', '}', ''].join('\n');
}

/**
 * nats-server's largest message (its default is 1 MB). A completed multipart upload's events carry
 * every chunk of the object (~110 bytes each, and ~80 per part): 1 MB holds ~5,000 parts of one
 * 8 MiB chunk (~39 GiB) or ~7,800 chunks in larger parts (~61 GiB), short of S3's 10,000 parts;
 * 8 MB holds 10,000 parts of 8 MiB (78 GiB) or ~64,000 chunks (~500 GiB). Past it a completion is
 * refused with EntityTooLarge. Every nats-server configuration Cairn writes sets it; nats-server
 * warns against more than 8 MB.
 */
export const NATS_MAX_PAYLOAD_SETTING = 'max_payload: 8MB';

/** The whole of docker/nats/nats-server.conf (docker/nats/generate-config.ts prints it; a spec checks the two agree). */
export function natsServerConfigFile(namespace = ''): string {
  const variables = ['admin', ...NATS_SERVICE_USERS].map((user) => natsPasswordVariable(user as NatsServiceUser)).join(', ');
  return [
    '# nats-server configuration for a Cairn region: one user per service, each allowed only the',
    '# subjects that service publishes and subscribes to (docs/security.md).',
    '#',
    '# GENERATED from libs/messaging/src/lib/nats-auth-permissions.ts; do not edit by hand. After a',
    '# change there: node -r @swc-node/register docker/nats/generate-config.ts > docker/nats/nats-server.conf',
    '#',
    '# Passwords are not in this file: nats-server reads them from its environment',
    `# (${variables}).`,
    '# A bcrypt hash (nats server passwd) may stand in for each password there. Each service gets',
    '# CAIRN_NATS_USER=<its name> and CAIRN_NATS_PASSWORD=<that password>.',
    '# Run with: nats-server -c nats-server.conf -js -sd /data  (add TLS with a tls { } block).',
    ...(namespace ? [`# Subjects are those of CAIRN_NS=${namespace}.`] : []),
    '',
    '# The events of a very large object carry every chunk of it (NATS_MAX_PAYLOAD_SETTING).',
    NATS_MAX_PAYLOAD_SETTING,
    '',
    natsServerAuthorization(namespace),
  ].join('\n');
}
