import { replicationFactorDisagreement } from './replication-factor-agreement';

describe('replicationFactorDisagreement', () => {
  it('lets the sweep act when metadata reckoned copies at the scheduler’s factor, or names none (older than the setting)', () => {
    expect(replicationFactorDisagreement(3, 3)).toBeNull();
    expect(replicationFactorDisagreement(1, 1)).toBeNull();
    expect(replicationFactorDisagreement(undefined, 1)).toBeNull();
  });

  it('stops it, naming both values and the setting, when they differ either way', () => {
    expect(replicationFactorDisagreement(1, 3)).toBe('metadata keeps chunks at replication factor 1, this scheduler has CAIRN_REPLICATION_FACTOR=3: give every service of the region the same value');
    expect(replicationFactorDisagreement(3, 1)).toMatch(/replication factor 3, .*CAIRN_REPLICATION_FACTOR=1/);
  });
});
