import { usageError } from './exit-codes';

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };
/** Longer than any token or wait the CLI deals in; a typo, not a request. */
export const DURATION_MAX_SECONDS = 10 * 366 * 86_400;

/** "90", "90s", "15m", "12h", "30d", "1h30m" → seconds. Throws a usage error otherwise. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return checked(Number(trimmed), text);
  const parts = [...trimmed.matchAll(/(\d+)([smhd])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== trimmed) {
    throw usageError(`"${text}" is not a duration (use e.g. 90s, 15m, 12h, 30d or 1h30m)`);
  }
  return checked(
    parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_SECONDS[p[2]!]!, 0),
    text,
  );
}

function checked(seconds: number, text: string): number {
  if (!Number.isSafeInteger(seconds) || seconds <= 0 || seconds > DURATION_MAX_SECONDS) throw usageError(`duration "${text}" is out of range`);
  return seconds;
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
