import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { FaultProxy, startControlServer, type ControlServer } from '@cairn/fault-proxy';
import { runCli } from '../cli';
import type { CliIo } from './context';

/** `cairn links` against a real fault proxy (in this process) with one link to a real listener. */
describe('cairn links', () => {
  let target: net.Server;
  let proxy: FaultProxy;
  let control: ControlServer;
  let held: net.Socket;
  // An empty profile of its own, so the developer's .cairn/profile.json plays no part.
  const dir = mkdtempSync(path.join(tmpdir(), 'cairn-links-'));
  const profile = path.join(dir, 'profile.json');
  writeFileSync(profile, '{}\n');

  async function cairn(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdout.on('data', (d: Buffer) => (out += String(d)));
    stderr.on('data', (d: Buffer) => (err += String(d)));
    const io: CliIo = { env: {}, stdout, stderr };
    const code = await runCli(['--profile', profile, ...argv], io).catch(() => -1);
    return { code, out, err };
  }

  beforeAll(async () => {
    target = net.createServer((s) => s.on('error', () => undefined).pipe(s));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
    proxy = new FaultProxy();
    const link = await proxy.addLink({ name: 'region-2', listenPort: 0, targetHost: '127.0.0.1', targetPort: (target.address() as net.AddressInfo).port });
    control = await startControlServer(proxy, { port: 0 });
    held = net.connect({ port: link.listen.port, host: '127.0.0.1' });
    held.on('error', () => undefined);
    await new Promise((r) => held.once('connect', r));
    await new Promise((r) => setTimeout(r, 50));
  });

  afterAll(async () => {
    held.destroy();
    await control.close();
    await proxy.close();
    await new Promise((r) => target.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists, cuts, heals, delays and throttles a link', async () => {
    const list = await cairn('links', '--proxy', control.url);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/region-2\s+ok\s+-\s+-\s+1\b/);

    const cut = await cairn('--json', 'links', 'cut', 'region-2', '--proxy', control.url);
    expect(cut.code).toBe(0);
    expect(JSON.parse(cut.out)).toMatchObject({ name: 'region-2', cut: true, openConnections: 0, resetConnections: 1 });
    expect(held.destroyed || (await new Promise((r) => held.once('close', r)), true)).toBe(true);

    expect((await cairn('links', 'heal', 'region-2', '--proxy', control.url)).out).toContain('link region-2: connected');
    expect((await cairn('links', 'latency', 'region-2', '150', '--proxy', control.url)).out).toContain('+150 ms');
    expect(proxy.status('region-2')).toMatchObject({ cut: false, latencyMs: 150 });
    expect((await cairn('links', 'throttle', 'region-2', '65536', '--proxy', control.url)).code).toBe(0);
    expect(proxy.status('region-2').bytesPerSecond).toBe(65536);
    expect((await cairn('links', 'reset', '--proxy', control.url)).code).toBe(0);
    expect(proxy.status('region-2')).toMatchObject({ cut: false, latencyMs: 0, bytesPerSecond: 0 });
  });

  it('exits 1 for an unknown link, 2 for a bad number, 4 when no proxy answers', async () => {
    const unknown = await cairn('links', 'cut', 'region-9', '--proxy', control.url);
    expect([unknown.code, unknown.err]).toEqual([1, expect.stringContaining('no link named "region-9"')]);
    expect((await cairn('links', 'latency', 'region-2', 'soon', '--proxy', control.url)).code).toBe(2);
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const down = await cairn('links', '--proxy', `http://127.0.0.1:${port}`);
    expect([down.code, down.err]).toEqual([4, expect.stringContaining('does not answer')]);
  });
});
