import { readFileSync } from 'node:fs';
import path from 'node:path';
import { S3_OPERATIONS } from './s3-operations';

const README = path.join(__dirname, '../../../../../README.md');

/** The README's "S3 API support" table: each row's operations and its status. */
function supportTable(): { operations: string[]; status: string }[] {
  const text = readFileSync(README, 'utf8');
  const lines = text.slice(text.indexOf('### S3 API support')).split('\n');
  const header = lines.findIndex((line) => line.startsWith('| Operation | Status |'));
  const table: { operations: string[]; status: string }[] = [];
  // The rows: after the header and its |---| line, up to the first line that is not a row.
  for (const row of lines.slice(header + 2)) {
    if (!row.startsWith('| ')) break;
    const [operations, status] = row.slice(2, -2).split(' | ');
    table.push({ operations: operations.split(', ').map((o) => o.replace(/ \(.*\)$/, '').trim()), status: status.trim() });
  }
  return table;
}

describe("README's S3 API support table", () => {
  const table = supportTable();

  it('gives every status as supported, partial (with how) or not supported', () => {
    expect(table.length).toBeGreaterThan(30);
    for (const row of table) expect(row.status).toMatch(/^(supported|partial: .+|not supported)/);
  });

  it.each(S3_OPERATIONS)('lists %s, which the gateway routes, as supported or partial', (operation) => {
    const row = table.find((r) => r.operations.includes(operation));
    expect(row).toBeDefined();
    expect(row!.status).not.toMatch(/^not supported/);
  });

  it('marks no operation the gateway routes as not supported', () => {
    const routed = new Set<string>(S3_OPERATIONS);
    for (const row of table.filter((r) => r.status.startsWith('not supported'))) {
      for (const operation of row.operations) expect(routed.has(operation)).toBe(false);
    }
  });
});
