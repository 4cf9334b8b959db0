import { usageError } from './exit-codes';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** Longer than any token or wait the CLI deals in; a typo, not a request. */
export const DURATION_MAX_SECONDS = 10 * 366 * 86_400;

/** "250ms", "90" (seconds), "90s", "15m", "12h", "30d", "1h30m" → milliseconds. Throws a usage error otherwise. */
export function parseDurationMs(text: string): number {
  const trimmed = text.trim();
  const parts = /^\d+$/.test(trimmed) ? [[trimmed, trimmed, 's']] : [...trimmed.matchAll(/(\d+)(ms|[smhd])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== trimmed) {
    throw usageError(`"${text}" is not a duration (use e.g. 90s, 15m, 12h, 30d or 1h30m)`);
  }
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]!]!, 0);
  if (!Number.isSafeInteger(ms) || ms <= 0 || ms > DURATION_MAX_SECONDS * 1000) throw usageError(`duration "${text}" is out of range`);
  return ms;
}

/** A duration in whole seconds (token lifetimes): as parseDurationMs, refusing fractions of a second. */
export function parseDuration(text: string): number {
  const ms = parseDurationMs(text);
  if (ms % 1000 !== 0) throw usageError(`duration "${text}" must be whole seconds`);
  return ms / 1000;
}

/** Seconds as a short human duration: "45s", "3m 05s", "2h 01m", "4d 03h". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '-';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d ${pad(Math.floor((s % 86_400) / 3600))}h`;
}
