import { BaseServiceConfig } from '@cairn/service-kit';
import { Type } from 'class-transformer';
import { IsInt, IsNumber, IsOptional, IsString, Max, Min, registerDecorator, type ValidationArguments } from 'class-validator';
import { DEFAULT_FAILURE_THRESHOLDS, type FailureThresholds } from './domain/failure-verdict';

const MINUTE_MS = 60_000;

/** The property must be greater than another property of the same object. */
function IsGreaterThan(other: string) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isGreaterThan',
      target: target.constructor,
      propertyName,
      constraints: [other],
      options: { message: `must be greater than ${other}` },
      validator: {
        validate: (value: unknown, args: ValidationArguments) => typeof value === 'number' && value > Number((args.object as Record<string, unknown>)[other]),
      },
    });
}

/**
 * Failure detection (docs/architecture.md §6). Services send a heartbeat every second; with the
 * defaults an instance is suspected after 2 s of silence and declared down after at most 3 s
 * (about three missed heartbeats), or earlier once the phi-accrual detector is sure (phi ≥ 8,
 * which for a regular sender comes at about 2.6 s). A verdict is checked every 500 ms.
 */
export class MonitoringConfig extends BaseServiceConfig {
  /** How often each instance's verdict is re-evaluated. */
  @Type(() => Number)
  @IsInt()
  @Min(50)
  @Max(MINUTE_MS)
  CAIRN_FAILURE_CHECK_INTERVAL_MS = 500;

  /** Silent this long: suspected (NodeSuspected), whatever phi says. Nothing acts on a suspicion. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(10 * MINUTE_MS)
  CAIRN_FAILURE_SUSPECT_AFTER_MS = DEFAULT_FAILURE_THRESHOLDS.suspectAfterMs;

  /**
   * Silent this long: down (NodeDown), whatever phi says; the longest detection can take. phi may
   * decide earlier, never before CAIRN_FAILURE_SUSPECT_AFTER_MS.
   */
  @Type(() => Number)
  @IsInt()
  @IsGreaterThan('CAIRN_FAILURE_SUSPECT_AFTER_MS')
  @Max(60 * MINUTE_MS)
  CAIRN_FAILURE_DOWN_AFTER_MS = DEFAULT_FAILURE_THRESHOLDS.downAfterMs;

  /** phi at which an instance is suspected (phi = -log10 of the chance that a heartbeat this late is merely late). */
  @Type(() => Number)
  @IsNumber()
  @Min(0.5)
  @Max(100)
  CAIRN_FAILURE_SUSPECT_PHI = DEFAULT_FAILURE_THRESHOLDS.suspectPhi;

  /** phi at which an instance is down, once it has been silent for CAIRN_FAILURE_SUSPECT_AFTER_MS. */
  @Type(() => Number)
  @IsNumber()
  @IsGreaterThan('CAIRN_FAILURE_SUSPECT_PHI')
  @Max(100)
  CAIRN_FAILURE_DOWN_PHI = DEFAULT_FAILURE_THRESHOLDS.downPhi;

  /**
   * Alerts (docs/alerts.md): a YAML file of rules and webhooks, checked at start. Unset: the
   * built-in rules, listed at GET /alerts/rules, and no webhooks.
   */
  @IsOptional()
  @IsString()
  CAIRN_ALERT_RULES_FILE?: string;

  /** How often the alert rules are evaluated against the region's figures. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(MINUTE_MS)
  CAIRN_ALERT_EVALUATE_INTERVAL_MS = 1_000;

  /** How often every live instance's /metrics (and the scheduler's jobs) is read for the region's figures. */
  @Type(() => Number)
  @IsInt()
  @Min(200)
  @Max(10 * MINUTE_MS)
  CAIRN_FIGURES_SCRAPE_INTERVAL_MS = 5_000;

  /** Request rates, error ratios and p99 latencies are measured over this window. */
  @Type(() => Number)
  @IsInt()
  @IsGreaterThan('CAIRN_FIGURES_SCRAPE_INTERVAL_MS')
  @Max(60 * MINUTE_MS)
  CAIRN_FIGURES_RATE_WINDOW_MS = MINUTE_MS;
}

export function failureThresholdsOf(config: MonitoringConfig): FailureThresholds {
  return {
    suspectAfterMs: config.CAIRN_FAILURE_SUSPECT_AFTER_MS,
    downAfterMs: config.CAIRN_FAILURE_DOWN_AFTER_MS,
    suspectPhi: config.CAIRN_FAILURE_SUSPECT_PHI,
    downPhi: config.CAIRN_FAILURE_DOWN_PHI,
  };
}
