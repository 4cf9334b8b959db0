import type { DataSource } from 'typeorm';

/**
 * A listing's statements over `table` stay few, and each walk among them goes through the index,
 * sorts nothing, and reads no row beneath a listed prefix (each probe stops at the first row past
 * the previous prefix).
 */
export async function expectBoundedWalks(dataSource: DataSource, statements: readonly { sql: string; params: unknown[] }[], table: string): Promise<void> {
  const listing = statements.filter((s) => s.sql.includes(table));
  // A round trip per common prefix made a page of 1,000 folders cost over a second.
  expect(listing.length).toBeLessThanOrEqual(8);
  const walks = listing.filter((s) => s.sql.includes('WITH RECURSIVE'));
  expect(walks.length).toBeGreaterThan(0);
  for (const walk of walks) {
    const [row] = await dataSource.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${walk.sql}`, walk.params);
    const plan = JSON.stringify(row['QUERY PLAN']);
    expect(plan).not.toContain('Seq Scan');
    expect(plan).not.toContain('Sort');
    const rowsRead = [...plan.matchAll(new RegExp(`"Relation Name":"${table}".*?"Actual Rows":(\\d+).*?"Actual Loops":(\\d+)`, 'g'))].reduce((sum, m) => sum + Number(m[1]) * Number(m[2]), 0);
    expect(rowsRead).toBeLessThanOrEqual(Number(walk.params[2]) + 1);
  }
}
