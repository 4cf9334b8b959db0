import { Controller, Get, Logger, Post, Req } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { ClusterKeys } from '@cairn/protocol';
import { startService, type RunningService } from '../bootstrap';
import { BaseServiceConfig } from '../config/service-config';
import { ClusterCredentials } from '../security/cluster-credentials';
import { Access } from '../security/route-access';
import { ServiceKitModule } from '../service-kit.module';
import { stopTestService, testServiceNamespace } from '../testing/test-service.spec-helper';

/**
 * Careless code: logs the credentials a request came with, as text. Text is masked by shape
 * (bearer and operator tokens, signatures, URL passwords, presigned parameters); a value with no
 * recognisable shape (a cookie) is masked only when logged as a field named for it.
 */
@Controller('probe')
class CarelessController {
  private readonly logger = new Logger('Careless');

  @Get()
  @Access('operator')
  read(@Req() req: IncomingMessage) {
    this.logger.log(`GET with authorization ${req.headers.authorization}`);
    this.logger.debug(`presigned URL ${req.url}`);
    return { ok: true };
  }

  @Post()
  write(@Req() req: IncomingMessage) {
    this.logger.warn(`POST with authorization ${req.headers.authorization}`);
    return { ok: true };
  }
}

describe('secrets in the logs of a service (debug level, stdout captured)', () => {
  const namespace = testServiceNamespace();
  const clusterSecret = process.env['CAIRN_CLUSTER_SECRET']!;
  const credentials = new ClusterCredentials(new ClusterKeys(clusterSecret), 'test/runner', 30_000);
  const operatorToken = credentials.mintOperatorToken({ role: 'admin', label: 'redaction-test' }).token;
  const natsPassword = 'nats-password-that-must-not-show';
  const cookie = 'session=cookie-value-that-must-not-show';
  const securityToken = 'FwoGZXIvYXdzEsecurity-token-that-must-not-show';
  const signature = 'a'.repeat(64);
  const sent: string[] = [];
  let output = '';
  let running: RunningService<BaseServiceConfig>;

  beforeAll(async () => {
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      output += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return true;
    });
    running = await startService(
      {
        service: 'redaction',
        description: 'test service',
        configClass: BaseServiceConfig,
        defaultPort: 0,
        module: (config, identity) => ({ module: class RedactionTestModule {}, imports: [ServiceKitModule.forRoot({ identity, config })], controllers: [CarelessController] }),
      },
      {
        ...process.env,
        CAIRN_NS: namespace,
        CAIRN_HTTP_PORT: '0',
        CAIRN_HTTP_HOST: '127.0.0.1',
        CAIRN_LOG_LEVEL: 'debug',
        // A password in the URL (the server does not ask for one; it is only logged at start).
        CAIRN_NATS_URL: (process.env['CAIRN_NATS_URL'] ?? 'nats://127.0.0.1:4222').replace('nats://', `nats://cairn:${natsPassword}@`),
      },
    );
  });

  afterAll(async () => {
    try {
      await stopTestService(namespace, running);
    } finally {
      jest.restoreAllMocks();
    }
  });

  it('logs requests at debug, but none of the credentials they carried', async () => {
    const bearer = `Bearer ${operatorToken}`;
    sent.push(bearer, operatorToken);
    const presigned = `/probe?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=${signature}&X-Amz-Security-Token=${encodeURIComponent(securityToken)}`;
    const asOperator = await fetch(`${running.url}${presigned}`, { headers: { authorization: bearer, cookie, 'x-amz-security-token': securityToken } });
    expect(asOperator.status).toBe(200);

    const body = JSON.stringify({ hello: 'world' });
    const signed = credentials.signHttp({ method: 'POST', pathAndQuery: '/probe', headers: { 'content-type': 'application/json' }, body });
    sent.push(signed['authorization']);
    const asService = await fetch(`${running.url}/probe`, { method: 'POST', headers: { 'content-type': 'application/json', ...signed }, body });
    expect(asService.status).toBe(201);

    const forged = 'Bearer cairn-op.v1.eyJmb3JnZWQiOnRydWV9.Zm9yZ2VkLW1hYw';
    sent.push(forged);
    expect((await fetch(`${running.url}/probe`, { headers: { authorization: forged } })).status).toBe(401);

    // Careless structured logging of the whole config and of request headers.
    running.logger.info({ config: running.config }, 'started with this config');
    running.logger.debug({ headers: { authorization: bearer, cookie, 'x-amz-security-token': securityToken } }, 'request headers');
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(output).toContain('"msg":"request completed"');
    expect(output).toContain('GET with authorization');
    expect(output).toContain('presigned URL /probe?');
    expect(output).toContain('"msg":"started with this config"');
    for (const secret of [clusterSecret, natsPassword, cookie, securityToken, encodeURIComponent(securityToken), signature, ...sent]) {
      expect(output).not.toContain(secret);
    }
    // Signatures are masked, not just absent: the line says so.
    expect(output).toContain('Signature=[redacted]');
    expect(output).toContain('"CAIRN_CLUSTER_SECRET":"[redacted]"');
    expect(output).toContain(`nats://cairn:[redacted]@`);
  });
});
