/**
 * A reader of the Prometheus text exposition format (version 0.0.4), enough for what Cairn's
 * services serve with prom-client: `name{label="value",…} value [timestamp]` lines, `#` comments,
 * label values with \\, \" and \n escapes, NaN and ±Inf. Lines it cannot read are counted and
 * skipped, never fatal: one odd metric must not hide the others.
 */

export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface ParsedMetrics {
  readonly samples: readonly PromSample[];
  readonly skippedLines: number;
}

/** A scrape larger than this is not read (a service gone wrong must not take monitoring's memory). */
export const SCRAPE_MAX_BYTES = 8 * 1024 * 1024;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(text: string): number | null {
  switch (text) {
    case 'NaN':
      return NaN;
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
  }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return null;
  return Number(text);
}

/** Reads one sample line; null when it is not one. */
export function parseSampleLine(line: string): PromSample | null {
  const nameMatch = NAME.exec(line);
  if (!nameMatch) return null;
  const name = nameMatch[0];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ' || line[i] === ',') i++;
      if (line[i] === '}') {
        i++;
        break;
      }
      const labelMatch = LABEL_NAME.exec(line.slice(i));
      if (!labelMatch) return null;
      i += labelMatch[0].length;
      while (line[i] === ' ') i++;
      if (line[i] !== '=') return null;
      i++;
      while (line[i] === ' ') i++;
      if (line[i] !== '"') return null;
      i++;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) return null;
        if (c === '"') break;
        if (c === '\\') {
          const next = line[i + 1];
          value += next === 'n' ? '\n' : next === undefined ? '' : next;
          i += 2;
          continue;
        }
        value += c;
        i++;
      }
      i++;
      labels[labelMatch[0]] = value;
    }
  }
  const rest = line.slice(i).trim().split(/\s+/);
  if (rest.length < 1 || rest.length > 2 || rest[0] === '') return null;
  const value = parseValue(rest[0]);
  if (value === null) return null;
  return { name, labels, value };
}

export function parsePrometheusText(text: string): ParsedMetrics {
  const samples: PromSample[] = [];
  let skippedLines = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const sample = parseSampleLine(line);
    if (sample) samples.push(sample);
    else skippedLines++;
  }
  return { samples, skippedLines };
}
