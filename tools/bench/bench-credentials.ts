import { ClusterKeys } from '@cairn/protocol';
import { ClusterCredentials } from '@cairn/service-kit';

const { useDevClusterSecret } = require('../dev-stack/cluster-secret') as { useDevClusterSecret: () => string };

/**
 * The benchmarks' identity: the development cluster secret (.cairn/cluster-secret, or
 * CAIRN_CLUSTER_SECRET), also put in this process's environment so the services it starts share it.
 */
export function benchCredentials(caller: string): ClusterCredentials {
  return new ClusterCredentials(new ClusterKeys(useDevClusterSecret()), caller, 30_000);
}
