import { formatDuration, parseDuration, parseDurationMs } from './duration';
import { CliError } from './exit-codes';
import { formatBytes, formatPercent, formatRate, renderFields, renderTable } from './format';
import { readTokenClaims } from './operator-token';

describe('durations', () => {
  it.each([
    ['90', 90],
    ['90s', 90],
    ['15m', 900],
    ['12h', 43_200],
    ['30d', 2_592_000],
    ['1h30m', 5_400],
  ])('parses %s as %d seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it('takes milliseconds where a wait may be short, not where whole seconds are meant', () => {
    expect(parseDurationMs('250ms')).toBe(250);
    expect(parseDurationMs('1m30s')).toBe(90_000);
    expect(() => parseDuration('1500ms')).toThrow(/whole seconds/);
  });

  it.each(['', 'h', '12x', '1.5h', '-5m', '0', '12h junk', '5y'])('refuses %j as a usage error', (text) => {
    expect(() => parseDuration(text)).toThrow(CliError);
  });

  it('formats seconds for ETAs', () => {
    expect(formatDuration(null)).toBe('-');
    expect(formatDuration(44.6)).toBe('45s');
    expect(formatDuration(185)).toBe('3m 05s');
    expect(formatDuration(7_260)).toBe('2h 01m');
    expect(formatDuration(4 * 86_400 + 3 * 3600)).toBe('4d 03h');
  });
});

describe('formatting', () => {
  it('bytes, rates and percentages', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(4 * 1024 ** 3)).toBe('4.0 GiB');
    expect(formatRate(4 * 1024 * 1024, 'bytes')).toBe('4.0 MiB/s');
    expect(formatRate(2.5, 'items')).toBe('2.5 chunks/s');
    expect(formatRate(null, 'bytes')).toBe('-');
    expect(formatPercent(0.4567)).toBe('45.7%');
    expect(formatPercent(1.2)).toBe('100.0%');
  });

  it('renders a table with upper-case headers, padded columns and right-aligned numbers', () => {
    const table = renderTable(
      ['node', 'weight', 'draining'],
      [
        ['storage-1', 1, false],
        ['s2', 100, true],
      ],
    );
    expect(table.split('\n')).toEqual(['NODE       WEIGHT  DRAINING', 'storage-1       1  no', 's2            100  yes']);
    expect(renderTable(['a'], [], '(no buckets)')).toBe('(no buckets)');
    // A column with no number in it is text, even when every cell is empty.
    expect(renderTable(['key', 'revoked'], [['AKIA', null]])).toBe('KEY   REVOKED\nAKIA  -');
    expect(renderFields([['role', 'admin'], ['label', null]])).toBe('role:   admin\nlabel:  -');
  });
});

describe('operator token claims', () => {
  it('reads the claims of a token without its key, and nothing from anything else', () => {
    const claims = { id: 'abc', role: 'read-only', label: 'x', issuedAtMs: 1, expiresAtMs: 2 };
    const token = `cairn-op.v1.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.mac`;
    expect(readTokenClaims(token)).toEqual(claims);
    expect(readTokenClaims('Bearer nonsense')).toBeNull();
    expect(readTokenClaims('cairn-op.v1.!!!.mac')).toBeNull();
  });
});
