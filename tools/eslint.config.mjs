import base from '../eslint.config.mjs';

/**
 * The benchmarks boot services and so import app internals, which the module boundaries forbid
 * everywhere else: the metadata bench runs MetadataService in-process, the locks bench the
 * lock-manager's test cluster, the repair bench the scheduler's end-to-end region (every service
 * as a real process), the anti-entropy bench sync's anti-entropy between two regions, the regions bench two whole
 * regions replicating. Exactly
 * these imports are allowed, here only; anything else tools imports goes through the libraries'
 * public entry points under the usual constraints.
 */
const APP_INTERNALS_USED_BY_BENCHES = [
  '../../apps/metadata/src/service',
  '../../apps/lock-manager/src/testing/lock-manager-cluster.fixture',
  '../../apps/scheduler/src/testing/region.e2e-helper',
  // The anti-entropy bench runs sync's anti-entropy in-process against two regions.
  '../../apps/sync/src/anti-entropy/anti-entropy.service',
  '../../apps/sync/src/anti-entropy/replica-chunks.port',
  '../../apps/sync/src/anti-entropy/replica-trees',
  // The regions and failover benches run whole regions as the replication and failover e2e tests do;
  // the failover bench prints its median drill as the CLI does.
  '../../apps/sync/src/testing/federation.e2e-helper',
  '../../apps/cli/src/domain/drill-report',
  // The tiering bench streams generated bodies as the storage-classes e2e test does.
  '../../apps/scheduler/src/testing/generated-body.e2e-helper',
  // The backup bench drives the CLI in-process and reads the backup's manifest and report.
  '../../apps/cli/src/cli',
  '../../apps/cli/src/domain/backup-views',
  '../../apps/scheduler/src/backup/backup-format',
  '../../apps/scheduler/src/backup/backup.runner',
  // and the report of its point-in-time restore from the backup.
  '../../apps/scheduler/src/point-in-time/restore.queue',
];

const RULE = '@nx/enforce-module-boundaries';
const boundaries = base.find((config) => config.rules?.[RULE]);
const [level, options] = boundaries.rules[RULE];

export default [...base, { files: ['**/*.ts'], rules: { [RULE]: [level, { ...options, allow: [...options.allow, ...APP_INTERNALS_USED_BY_BENCHES] }] } }];
