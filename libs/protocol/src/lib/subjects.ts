/**
 * Every NATS subject, stream and durable name in one place, all under the namespace CAIRN_NS so
 * that parallel test runs never share them. The empty namespace (production default) adds no
 * prefix: subjects read exactly as docs/architecture.md writes them.
 */
/**
 * META: namespace events. CLUSTER: membership, health, jobs. DLQ: messages parked after their last
 * delivery. CHANGES: the users' change feed, derived from META (docs/change-feed.md).
 */
export const StreamKinds = ['META', 'CLUSTER', 'DLQ', 'CHANGES'] as const;
export type StreamKind = (typeof StreamKinds)[number];

const NAMESPACE_PATTERN = /^[A-Za-z0-9_-]{0,32}$/;

export function assertNamespace(ns: string): void {
  if (!NAMESPACE_PATTERN.test(ns)) {
    throw new Error(`namespace "${ns}" must be 0-32 characters of letters, digits, "_" or "-"`);
  }
}

/** Bucket names may hold dots, which NATS reads as token separators; "_" never occurs in one. */
export function bucketToken(bucket: string): string {
  return bucket.replaceAll('.', '_');
}

/** The bucket a subject token names (bucketToken undone). */
export function bucketOfToken(token: string): string {
  return token.replaceAll('_', '.');
}

export function subjectsFor(ns: string) {
  assertNamespace(ns);
  const p = (s: string) => (ns ? `${ns}.${s}` : s);
  return {
    namespace: ns,
    prefix: p,
    streamName: (kind: StreamKind) => (ns ? `${ns}_${kind}` : kind),
    /** The subjects a stream captures. */
    streamSubjects: (kind: StreamKind) => [p(`${kind.toLowerCase()}.>`)],
    durableName: (consumer: string) => (ns ? `${ns}_${consumer}` : consumer).replace(/[^A-Za-z0-9_-]/g, '_'),
    bucket: (bucket: string) => p(`meta.bucket.${bucketToken(bucket)}`),
    /** Every bucket's events (bucket() of each name). */
    bucketWildcard: () => p('meta.bucket.>'),
    object: (bucket: string, keyId: string) => p(`meta.object.${bucketToken(bucket)}.${keyId}`),
    upload: (bucket: string, uploadId: string) => p(`meta.upload.${bucketToken(bucket)}.${uploadId}`),
    accessKey: (accessKeyId: string) => p(`meta.accesskey.${accessKeyId}`),
    accessKeyWildcard: () => p('meta.accesskey.>'),
    /** A user's events (UserCreated), by user name. */
    user: (user: string) => p(`meta.user.${user}`),
    userWildcard: () => p('meta.user.>'),
    node: (nodeId: string) => p(`cluster.node.${nodeId}`),
    chunkHealth: (hash: string) => p(`cluster.chunk.${hash}`),
    instanceHealth: (region: string, service: string, instance: string) => p(`cluster.health.${region}.${service}.${instance}`),
    /** Disaster-recovery drill reports (DrillReported), oldest first. */
    drills: () => p('cluster.drill'),
    /** Where a message that exhausted its deliveries is parked, with the error that stopped it. */
    deadLetter: (kind: StreamKind, consumer: string) => p(`dlq.${kind.toLowerCase()}.${consumer.replace(/[^A-Za-z0-9_-]/g, '_')}`),
    rpc: (service: string, pattern: string) => p(`rpc.${service}.${pattern}`),
    heartbeat: (region: string, service: string, instance: string) => p(`hb.${region}.${service}.${instance}`),
    heartbeatWildcard: () => p('hb.>'),
    raft: (group: string, node: string) => p(`raft.${group}.${node}`),
  };
}

export type Subjects = ReturnType<typeof subjectsFor>;
