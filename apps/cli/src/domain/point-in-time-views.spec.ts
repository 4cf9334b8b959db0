import { momentArg } from './point-in-time-views';

describe('moments on the command line', () => {
  const now = Date.parse('2026-12-02T16:00:00Z');
  it('takes ISO instants with a zone', () => {
    expect(momentArg('--at', '2026-12-02T15:30:00Z', now)).toBe('2026-12-02T15:30:00.000Z');
    expect(momentArg('--at', '2026-12-02T16:30:00+01:00', now)).toBe('2026-12-02T15:30:00.000Z');
  });
  it('takes a time ago', () => {
    expect(momentArg('--at', '10m', now)).toBe('2026-12-02T15:50:00.000Z');
    expect(momentArg('--at', '1h30m ago', now)).toBe('2026-12-02T14:30:00.000Z');
  });
  it('refuses anything else as a usage error', () => {
    for (const bad of ['yesterday', '2026-12-02T15:30:00', '10 minutes', '']) expect(() => momentArg('--at', bad, now)).toThrow(/--at must be/);
  });
});
