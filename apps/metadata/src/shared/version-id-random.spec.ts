import { versionIdRandomHex } from './metadata-command-context';

describe('versionIdRandomHex', () => {
  it('gives 6 random bytes as 12 hex characters, never the same twice across several pool refills', () => {
    const seen = new Set<string>();
    // 256 ids per pool: 2,000 ids span eight refills.
    for (let i = 0; i < 2_000; i++) {
      const hex = versionIdRandomHex();
      expect(hex).toMatch(/^[0-9a-f]{12}$/);
      seen.add(hex);
    }
    expect(seen.size).toBe(2_000);
  });
});
