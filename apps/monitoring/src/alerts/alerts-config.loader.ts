import { readFileSync } from 'node:fs';
import { ConfigError } from '@cairn/service-kit';
import { DEFAULT_ALERT_RULES, parseAlertsConfig, type AlertsConfig } from '../domain/alert-rules-file';
import type { MonitoringConfig } from '../monitoring.config';

/** Nest token of the AlertsConfig read at start. */
export const ALERTS_CONFIG = Symbol('ALERTS_CONFIG');

/** Largest rules file read. */
export const RULES_FILE_MAX_BYTES = 1024 * 1024;

/**
 * The rules and webhooks: CAIRN_ALERT_RULES_FILE's, or the built-in rules (and no webhook) when it
 * is unset. A file that cannot be read or has any problem stops the start with a ConfigError that
 * names the variable, the file and each problem.
 */
export function loadAlertsConfig(config: Pick<MonitoringConfig, 'CAIRN_ALERT_RULES_FILE'>, env: Readonly<Record<string, string | undefined>> = process.env): AlertsConfig {
  const file = config.CAIRN_ALERT_RULES_FILE;
  if (!file) return { rules: DEFAULT_ALERT_RULES, webhooks: [] };
  const where = `CAIRN_ALERT_RULES_FILE is "${file}"`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`${where}: cannot be read (${(error as Error).message})`]);
  }
  if (Buffer.byteLength(text) > RULES_FILE_MAX_BYTES) throw new ConfigError([`${where}: larger than ${RULES_FILE_MAX_BYTES} bytes`]);
  const result = parseAlertsConfig(text, env);
  if (!result.ok) throw new ConfigError(result.problems.map((p) => `${where}: ${p}`));
  return result.config;
}
