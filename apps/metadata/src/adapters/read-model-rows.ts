/** One row as the Postgres driver answers a raw query: bigint as text, timestamptz as Date, jsonb parsed. */
export type Row = Record<string, unknown>;

/** A timestamptz column (a Date, or text) as ISO-8601 UTC. */
export function toIso(value: unknown): string {
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
}
