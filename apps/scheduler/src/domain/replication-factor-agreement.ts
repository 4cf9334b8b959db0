/**
 * Why the sweep must not act on metadata's chunk references, or null: metadata reckoned each
 * chunk's copies at another region replication factor than this scheduler was given. Acting
 * on them could trim copies the gateway was told to keep, so the sweep stops until every service
 * of the region has the same CAIRN_REPLICATION_FACTOR. A metadata older than the setting names
 * none: there is nothing to compare.
 */
export function replicationFactorDisagreement(metadataFactor: number | undefined, schedulerFactor: number): string | null {
  if (metadataFactor === undefined || metadataFactor === schedulerFactor) return null;
  return `metadata keeps chunks at replication factor ${metadataFactor}, this scheduler has CAIRN_REPLICATION_FACTOR=${schedulerFactor}: give every service of the region the same value`;
}
