import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Access } from '@cairn/service-kit';
import { alertView } from '../domain/alert-delivery';
import { UNIT_OF_KIND } from '../domain/alert-rules';
import { AlertEvaluator } from './alert-evaluator.service';
import { AlertsQueryDto } from './alerts.request.dto';
import { WebhookDeliveryService } from './webhook-delivery.service';

/** A webhook URL may carry a token in its path or query: only its origin is shown. */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid)';
  }
}

@ApiTags('alerts')
@ApiBearerAuth()
@Access('operator')
@Controller('alerts')
export class AlertsController {
  constructor(
    private readonly evaluator: AlertEvaluator,
    private readonly webhooks: WebhookDeliveryService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Alerts firing and pending, then those resolved in the last hour (newest first), with labels, value and since when' })
  list(@Query() query: AlertsQueryDto) {
    const alerts = this.evaluator.list().filter((a) => !query.state || a.state === query.state);
    return { leader: this.evaluator.leading, alerts: alerts.map(alertView) };
  }

  @Get('rules')
  @ApiOperation({ summary: 'The alert rules in force (from CAIRN_ALERT_RULES_FILE or built in), each with its health, and the webhooks (origin only)' })
  rules() {
    const status = this.evaluator.engineState.rules;
    return {
      rules: this.evaluator.alertsConfig.rules.map((r) => {
        const s = status.get(r.name);
        return {
          name: r.name,
          kind: r.kind,
          threshold: r.threshold,
          unit: UNIT_OF_KIND[r.kind],
          forMs: r.forMs,
          severity: r.severity,
          services: r.services,
          labels: r.labels,
          ...(r.summary ? { summary: r.summary } : {}),
          health: s?.health ?? 'no-data',
          lastEvaluatedAt: s ? new Date(s.lastEvaluatedAtMs).toISOString() : null,
        };
      }),
      webhooks: this.evaluator.alertsConfig.webhooks.map((w) => ({
        name: w.name,
        origin: originOf(w.url),
        signed: w.secret !== null,
        timeoutMs: w.timeoutMs,
        retry: w.retry,
        send: [...(w.sendFiring ? ['firing'] : []), ...(w.sendResolved ? ['resolved'] : [])],
        minSeverity: w.minSeverity,
      })),
    };
  }

  @Get('deliveries')
  @ApiOperation({ summary: 'The last webhook deliveries made by this instance (newest first): attempts, last answer, state' })
  deliveries() {
    return { pending: this.webhooks.pending, deliveries: this.webhooks.deliveries() };
  }
}
