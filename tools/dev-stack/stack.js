// The processes of one region on one machine: the single source for `npm start`, the end-to-end
// test stack and the docs. Ports follow docs/architecture.md §7 (a second region adds 1000).
'use strict';

const DEV_ROOT_ACCESS_KEY = 'CAIRNDEVROOTACCESSKY';
const DEV_ROOT_SECRET_KEY = 'cairn-dev-secret-key-change-me-0000000000';

/**
 * @param {{ region?: string, portOffset?: number, dataRoot: string, namespace?: string,
 *           tls?: { certFile: string, keyFile: string }, syncPeers?: string[], keyringFile?: string }} options
 *   tls: the S3 endpoint serves HTTPS with it; syncPeers: every region of the federation (sync replicates with the others);
 *   keyringFile: the master keyring (default the region's own; regions that replicate encrypted buckets share one)
 */
function regionProcesses({ region = 'region-1', portOffset = 0, dataRoot, namespace = '', tls, syncPeers, keyringFile = `${dataRoot}/${region}/keyring.json` } = {}) {
  const port = (p) => String(p + portOffset);
  const common = { CAIRN_REGION: region, CAIRN_NS: namespace };
  const one = (service, httpPort, extra = {}) => ({
    name: service,
    service,
    env: { ...common, CAIRN_INSTANCE: service, CAIRN_HTTP_PORT: port(httpPort), ...extra },
  });
  const many = (service, firstPort, count, extra = () => ({})) =>
    Array.from({ length: count }, (_, i) => {
      const instance = `${service}-${i + 1}`;
      return {
        name: instance,
        service,
        env: { ...common, CAIRN_INSTANCE: instance, CAIRN_HTTP_PORT: port(firstPort + i), ...extra(instance, i) },
      };
    });
  return [
    // Metadata seals access-key secrets under the same keyring's master key (docs/encryption.md).
    one('metadata', 9100, { CAIRN_ROOT_ACCESS_KEY: DEV_ROOT_ACCESS_KEY, CAIRN_ROOT_SECRET_KEY: DEV_ROOT_SECRET_KEY, CAIRN_MASTER_KEY_FILE: keyringFile, CAIRN_MASTER_KEY_CREATE: 'true' }),
    ...many('storage', 9201, 3, (instance) => ({ CAIRN_DATA_DIR: `${dataRoot}/${region}/${instance}` })),
    ...many('lock-manager', 9401, 3, (instance) => ({
      CAIRN_DATA_DIR: `${dataRoot}/${region}/${instance}`,
      CAIRN_RAFT_PEERS: 'lock-manager-1,lock-manager-2,lock-manager-3',
    })),
    // The keyring (docs/encryption.md): created 0600 on first start, kept outside the event log.
    one('access', 9000, {
      CAIRN_MASTER_KEY_FILE: keyringFile,
      CAIRN_MASTER_KEY_CREATE: 'true',
      ...(tls ? { CAIRN_TLS_CERT_FILE: tls.certFile, CAIRN_TLS_KEY_FILE: tls.keyFile } : {}),
    }),
    one('sync', 9300, syncPeers && syncPeers.length > 1 ? { CAIRN_SYNC_PEERS: syncPeers.join(','), CAIRN_CONTROL_DIR: `${dataRoot}/${region}/sync-control` } : {}),
    one('scheduler', 9500),
    one('monitoring', 9600),
  ];
}

module.exports = { regionProcesses, DEV_ROOT_ACCESS_KEY, DEV_ROOT_SECRET_KEY };
