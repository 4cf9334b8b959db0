import { Controller, Get, Inject, Res, ServiceUnavailableException } from '@nestjs/common';
import type { Response } from 'express';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, HealthIndicatorService, type HealthCheckResult } from '@nestjs/terminus';
import { Access } from '../security/route-access';
import { SERVICE_IDENTITY, type ServiceIdentity } from '../service-identity';
import { HEALTH_CHECK_TIMEOUT_MS, HealthRegistry, withTimeout } from './health-registry';

@ApiTags('operations')
@Access('public')
@Controller('health')
export class HealthController {
  private readonly startedAt = Date.now();

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly registry: HealthRegistry,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Readiness: 200 when every dependency answers, 503 naming the ones that do not' })
  async ready(@Res({ passthrough: true }) res: Response) {
    let result: HealthCheckResult;
    try {
      result = await this.runChecks();
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      res.status(503);
      result = error.getResponse() as HealthCheckResult;
    }
    return { ...result, service: this.identity, uptimeSeconds: this.uptimeSeconds(), ...this.registry.info() };
  }

  private runChecks(): Promise<HealthCheckResult> {
    return this.health.check(
      this.registry.entries().map(([name, check]) => async () => {
        const indicator = this.indicators.check(name);
        try {
          return indicator.up(await withTimeout(check(), HEALTH_CHECK_TIMEOUT_MS, name));
        } catch (error) {
          return indicator.down({ message: error instanceof Error ? error.message : String(error) });
        }
      }),
    );
  }

  @Get('live')
  @ApiOperation({ summary: 'Liveness: 200 while the process serves requests' })
  live() {
    return { status: 'ok', service: this.identity, uptimeSeconds: this.uptimeSeconds() };
  }

  private uptimeSeconds(): number {
    return Math.round((Date.now() - this.startedAt) / 1000);
  }
}
