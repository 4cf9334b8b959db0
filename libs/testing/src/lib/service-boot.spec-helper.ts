import { connect, headers as natsHeaders, JSONCodec } from 'nats';
import { ClusterKeys, MESSAGE_AUTH_HEADER, subjectsFor, type Heartbeat } from '@cairn/protocol';
import { ClusterCredentials, ConfigError, startService, type BaseServiceConfig, type RunningService, type ServiceDefinition } from '@cairn/service-kit';
import { testClusterCredentials, testOperatorToken } from './cluster-auth.spec-helper';
import { dropNamespace, eventually, TEST_NATS_URL, testNamespace, UNREACHABLE_NATS_URL } from './namespaces';

/** The only routes any service answers without a credential: the probes of a load balancer or an orchestrator. */
const PUBLIC_ROUTES = new Set(['GET /health', 'GET /health/live']);

/** Credentials of some other cluster: right shape, wrong secret. */
function strangerCredentials(): ClusterCredentials {
  return new ClusterCredentials(new ClusterKeys('not-this-cluster-secret-at-all-0000000000'), 'scheduler/intruder', 30_000);
}

/** Names of readiness checks: nats, postgres, redis, or a service's own (disk). */
type Dependency = string;

export interface BootSpecOptions {
  readonly dependencies: readonly Dependency[];
  readonly env?: Record<string, string>;
  /** A variable of this service and a value it must refuse. */
  readonly badValue?: { readonly variable: string; readonly value: string };
}

/** Starts a service on an ephemeral port in a private namespace. */
export async function bootForTest<C extends BaseServiceConfig>(
  definition: ServiceDefinition<C>,
  namespace: string,
  env: Record<string, string> = {},
): Promise<RunningService<C>> {
  return startService(definition, {
    ...process.env,
    CAIRN_NS: namespace,
    CAIRN_HTTP_PORT: '0',
    CAIRN_HTTP_HOST: '127.0.0.1',
    CAIRN_LOG_LEVEL: 'warn',
    CAIRN_INSTANCE: `${definition.service}-test`,
    ...env,
  });
}

/**
 * The tests every service owes (issue: workspace): it boots against the real dependencies and says
 * so on /health, serves /metrics and /docs, sends heartbeats, reports unhealthy — without crashing —
 * when NATS is unreachable, and refuses bad configuration naming the variable.
 */
export function describeServiceBoot<C extends BaseServiceConfig>(definition: ServiceDefinition<C>, options: BootSpecOptions): void {
  describe(`${definition.service} service boot`, () => {
    const namespace = testNamespace();
    let running: RunningService<C>;

    beforeAll(async () => {
      running = await bootForTest(definition, namespace, options.env);
    });
    afterAll(async () => {
      await running?.close();
      await dropNamespace(namespace);
    });

    it('answers /health with 200 once every dependency is up, and names them', async () => {
      const body = await eventually(async () => {
        const res = await fetch(`${running.url}/health`);
        return res.status === 200 ? ((await res.json()) as { status: string; details: Record<string, { status: string }> }) : undefined;
      }, 15_000);
      expect(body.status).toBe('ok');
      expect(Object.keys(body.details).sort()).toEqual([...options.dependencies].sort());
      for (const dep of options.dependencies) expect(body.details[dep].status).toBe('up');
    });

    it('serves Prometheus metrics with process metrics and the HTTP duration histogram, to an operator token only', async () => {
      await fetch(`${running.url}/health/live`);
      expect((await fetch(`${running.url}/metrics`)).status).toBe(401);
      const text = await (await fetch(`${running.url}/metrics`, { headers: { authorization: `Bearer ${testOperatorToken('read-only')}` } })).text();
      expect(text).toContain('process_cpu_user_seconds_total');
      expect(text).toMatch(/http_request_duration_seconds_bucket\{.*route="\/health\/live"/);
    });

    it('serves OpenAPI docs and echoes request ids', async () => {
      const res = await fetch(`${running.url}/docs/json`, { headers: { 'x-request-id': 'probe-123' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toBe('probe-123');
      const doc = (await res.json()) as { paths: Record<string, unknown>; info: { title: string } };
      expect(doc.info.title).toBe(`Cairn ${definition.service}`);
      expect(doc.paths['/health']).toBeDefined();
    });

    it('publishes a heartbeat on hb.<region>.<service>.<instance> every second', async () => {
      const nc = await connect({ servers: TEST_NATS_URL });
      try {
        const subject = subjectsFor(namespace).heartbeat(running.identity.region, definition.service, running.identity.instance);
        const sub = nc.subscribe(subject, { max: 2, timeout: 5_000 });
        const beats: Heartbeat[] = [];
        const verifier = testClusterCredentials('monitoring/test');
        for await (const m of sub) {
          // Signed by the instance itself: a forged heartbeat cannot hide a dead node.
          expect(verifier.verify(m.headers?.get(MESSAGE_AUTH_HEADER), m.subject, m.data)).toMatchObject({ ok: true, caller: `${definition.service}/${running.identity.instance}` });
          beats.push(JSONCodec<Heartbeat>().decode(m.data));
        }
        expect(beats).toHaveLength(2);
        expect(beats[0]).toMatchObject({ service: definition.service, instance: running.identity.instance, version: expect.any(String) });
        expect(beats[0].load.rssBytes).toBeGreaterThan(0);
        const gapMs = Date.parse(beats[1].sentAt) - Date.parse(beats[0].sentAt);
        expect(gapMs).toBeGreaterThanOrEqual(700);
        expect(gapMs).toBeLessThanOrEqual(1_500);
      } finally {
        await nc.close();
      }
    });

    it('refuses an unauthenticated and a wrongly-authenticated call to every route it serves, HTTP and NATS', async () => {
      // The routes come from the service's own tables (its OpenAPI document and its transport's
      // handlers), so a route added later is covered without touching this test.
      const doc = (await (await fetch(`${running.url}/docs/json`)).json()) as { paths: Record<string, Record<string, unknown>> };
      const stranger = strangerCredentials();
      const forgedToken = stranger.mintOperatorToken({ role: 'admin' }).token;
      const open: string[] = [];
      let checked = 0;
      for (const [template, operations] of Object.entries(doc.paths)) {
        const path = template.replace(/\{[^}]+\}/g, 'probe');
        for (const method of Object.keys(operations).map((m) => m.toUpperCase())) {
          if (PUBLIC_ROUTES.has(`${method} ${template}`)) continue;
          const body = ['POST', 'PUT', 'PATCH'].includes(method) ? '{}' : undefined;
          const headers: Record<string, string> = body ? { 'content-type': 'application/json' } : {};
          const attempts: Record<string, string>[] = [
            {},
            { ...stranger.signHttp({ method, pathAndQuery: path, headers, body }) },
            { authorization: `Bearer ${forgedToken}` },
            { authorization: 'Bearer not-a-token' },
          ];
          for (const extra of attempts) {
            const res = await fetch(`${running.url}${path}`, { method, headers: { ...headers, ...extra }, body });
            await res.arrayBuffer();
            if (res.status !== 401) open.push(`${method} ${template} answered ${res.status} to ${Object.keys(extra).length ? 'a wrong credential' : 'no credential'}`);
            checked += 1;
          }
        }
      }
      expect(open).toEqual([]);
      expect(checked).toBeGreaterThan(0);

      const patterns = [...running.transport.getHandlers().entries()].filter(([, handler]) => !handler.isEventHandler).map(([pattern]) => pattern);
      const nc = await connect({ servers: TEST_NATS_URL });
      try {
        for (const pattern of patterns) {
          const subject = subjectsFor(namespace).prefix(`rpc.${pattern}`);
          const data = new TextEncoder().encode('{}');
          const forged = natsHeaders();
          forged.set(MESSAGE_AUTH_HEADER, stranger.sign(subject, data));
          for (const options of [{ timeout: 5_000 }, { timeout: 5_000, headers: forged }]) {
            const reply = JSONCodec<{ ok: boolean; error?: { code: string } }>().decode((await nc.request(subject, data, options)).data);
            expect({ pattern, reply }).toEqual({ pattern, reply: { ok: false, error: expect.objectContaining({ code: 'UNAUTHENTICATED' }) } });
          }
        }
      } finally {
        await nc.close();
      }
    });

    it('stays up and reports unhealthy, naming NATS, when NATS is unreachable', async () => {
      const isolated = await bootForTest(definition, `${namespace}x`, { ...options.env, CAIRN_NATS_URL: UNREACHABLE_NATS_URL });
      try {
        const res = await fetch(`${isolated.url}/health`);
        expect(res.status).toBe(503);
        const body = (await res.json()) as { error: Record<string, { status: string }> };
        expect(body.error['nats'].status).toBe('down');
        expect((await fetch(`${isolated.url}/health/live`)).status).toBe(200);
      } finally {
        await isolated.close();
      }
    });

    it('refuses to start without a cluster secret, or with a short one, naming the variable', async () => {
      const env: Record<string, string | undefined> = { ...process.env, ...options.env, CAIRN_NS: namespace, CAIRN_HTTP_PORT: '0' };
      delete env['CAIRN_CLUSTER_SECRET'];
      await expect(startService(definition, env)).rejects.toThrow(/CAIRN_CLUSTER_SECRET is missing/);
      await expect(startService(definition, { ...env, CAIRN_CLUSTER_SECRET: 'too-short' })).rejects.toThrow(/CAIRN_CLUSTER_SECRET is set: must be at least 32 characters/);
    });

    it('refuses bad configuration with a message naming the variable', async () => {
      const bad = options.badValue ?? { variable: 'CAIRN_HTTP_PORT', value: 'not-a-port' };
      const attempt = startService(definition, { ...process.env, CAIRN_NS: namespace, [bad.variable]: bad.value });
      await expect(attempt).rejects.toBeInstanceOf(ConfigError);
      await expect(attempt).rejects.toThrow(new RegExp(`${bad.variable} is "${bad.value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`));
    });
  });
}
