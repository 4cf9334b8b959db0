import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { deleteNamespaceStreams, NatsConnectionManager } from '@cairn/messaging';

const REPO_ROOT = path.resolve(__dirname, '../../../..');

describe('a service on SIGTERM', () => {
  const namespace = `t${randomBytes(5).toString('hex')}`;
  afterAll(async () => {
    const nats = new NatsConnectionManager({ natsUrl: 'nats://127.0.0.1:4222', namespace, region: 'test', serviceName: 'cleanup', instance: 'cleanup' });
    await deleteNamespaceStreams(await nats.jetstreamManager(), namespace);
    await nats.close();
  });

  it('finishes the request in flight, drains and exits 0', async () => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'libs/service-kit/src/test/slow-service.main.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, CAIRN_NS: namespace, CAIRN_HTTP_HOST: '127.0.0.1', CAIRN_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (d) => (output += d));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        output += d;
        const m = /"url":"(http:\/\/[^"]+)"/.exec(output);
        if (m) resolve(m[1]);
      });
      child.once('exit', () => reject(new Error(`exited early: ${output}`)));
    });

    const inFlight = fetch(`${url}/slow`);
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGTERM');

    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ finished: true });
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(output).toContain('shutting down');
  }, 20_000);
});
