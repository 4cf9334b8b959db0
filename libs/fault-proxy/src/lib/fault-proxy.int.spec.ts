import * as net from 'node:net';
import { FaultProxy } from './fault-proxy';
import { startControlServer, type ControlServer } from './control-api';
import { FaultProxyClient } from './fault-proxy.client';

/** An echo server on a free loopback port, counting the connections it has open. */
async function echoServer(): Promise<{ port: number; open: () => number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as net.AddressInfo).port,
    open: () => sockets.size,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Sends `bytes` and resolves with the time until all of them came back. */
function roundTrip(socket: net.Socket, bytes: Buffer): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received >= bytes.length) {
        socket.off('data', onData);
        resolve(Date.now() - started);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(bytes);
  });
}

async function until(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('FaultProxy (real sockets on loopback)', () => {
  let echo: Awaited<ReturnType<typeof echoServer>>;
  let proxy: FaultProxy;
  let control: ControlServer;
  let client: FaultProxyClient;
  let port: number;
  const sockets: net.Socket[] = [];
  const open = async () => {
    const s = await connect(port);
    s.on('error', () => undefined);
    sockets.push(s);
    return s;
  };

  beforeEach(async () => {
    echo = await echoServer();
    proxy = new FaultProxy();
    port = (await proxy.addLink({ name: 'region-2', listenPort: 0, targetHost: '127.0.0.1', targetPort: echo.port })).listen.port;
    control = await startControlServer(proxy, { port: 0 });
    client = new FaultProxyClient(control.url);
  });

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await control.close();
    await proxy.close();
    await echo.close();
  });

  it('forwards bytes both ways and counts them', async () => {
    const socket = await open();
    const payload = Buffer.alloc(200_000, 7);
    await roundTrip(socket, payload);
    const status = await client.link('region-2');
    expect(status).toMatchObject({ name: 'region-2', cut: false, openConnections: 1, acceptedConnections: 1, bytesToTarget: 200_000, bytesFromTarget: 200_000 });
    expect(status.target).toEqual({ host: '127.0.0.1', port: echo.port });
  });

  it('a cut resets open connections on both sides and refuses new ones until healed', async () => {
    const socket = await open();
    await roundTrip(socket, Buffer.from('hello'));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const status = await client.cut('region-2');
    expect(status).toMatchObject({ cut: true, openConnections: 0, resetConnections: 1 });
    await closed;
    await until(() => echo.open() === 0);

    // A new connection is accepted by the kernel, then reset at once: nothing reaches the target.
    const refused = net.connect({ port, host: '127.0.0.1' });
    sockets.push(refused);
    const error = await new Promise<unknown>((resolve) => {
      refused.once('error', resolve);
      refused.once('close', () => resolve(undefined));
    });
    expect(String(error ?? 'closed')).toMatch(/ECONNRESET|closed/);
    expect(echo.open()).toBe(0);
    expect((await client.link('region-2')).resetConnections).toBe(2);

    await client.heal('region-2');
    const again = await open();
    await roundTrip(again, Buffer.from('back'));
    expect((await client.link('region-2')).openConnections).toBe(1);
  });

  it('latency holds each direction back, in order', async () => {
    const socket = await open();
    expect(await roundTrip(socket, Buffer.from('warm'))).toBeLessThan(100);
    await client.latency('region-2', 150);
    const elapsed = await roundTrip(socket, Buffer.from('slow'));
    // Once on the way there, once on the way back.
    expect(elapsed).toBeGreaterThanOrEqual(295);
    expect(elapsed).toBeLessThan(1_500);
    // Many small writes arrive whole and in order.
    const text = Array.from({ length: 50 }, (_, i) => `<${i}>`).join('');
    let echoed = '';
    socket.on('data', (chunk: Buffer) => (echoed += String(chunk)));
    for (const piece of text.match(/<\d+>/g)!) socket.write(piece);
    await until(() => echoed.length >= text.length);
    expect(echoed).toBe(text);
    await client.latency('region-2', 0);
    expect(await roundTrip(socket, Buffer.from('fast'))).toBeLessThan(100);
  });

  it('throttle paces the bytes to the rate', async () => {
    const socket = await open();
    await client.throttle('region-2', 100_000);
    // 50 KB at 100 KB/s takes about half a second each way (the echo is paced both ways, overlapping).
    const elapsed = await roundTrip(socket, Buffer.alloc(50_000, 1));
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(2_000);
    await client.reset('region-2');
    expect(await roundTrip(socket, Buffer.alloc(50_000, 1))).toBeLessThan(200);
  });

  it('a connection to a target that is down is closed, and the proxy keeps serving', async () => {
    await echo.close();
    const socket = await open();
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect((await client.link('region-2')).openConnections).toBe(0);
  });

  it('the control API refuses bad requests with a code', async () => {
    await expect(client.cut('nope')).rejects.toThrow(/404 no link named "nope"/);
    await expect(client.latency('region-2', -1)).rejects.toThrow(/400 latency must be/);
    await expect(client.throttle('region-2', 1.5)).rejects.toThrow(/400 bytesPerSecond/);
    const res = await fetch(`${control.url}/links/region-2/latency`, { method: 'POST', body: 'not json' });
    expect(res.status).toBe(400);
    expect((await fetch(`${control.url}/whatever`)).status).toBe(404);
    expect(await client.links()).toHaveLength(1);
  });

  it('proxies loopback only unless told otherwise', async () => {
    await expect(proxy.addLink({ name: 'out', listenPort: 0, targetHost: '10.0.0.1', targetPort: 80 })).rejects.toThrow(/not a loopback address/);
    await expect(proxy.addLink({ name: 'wide', listenHost: '0.0.0.0', listenPort: 0, targetHost: '127.0.0.1', targetPort: 80 })).rejects.toThrow(/not a loopback address/);
    await expect(startControlServer(proxy, { host: '0.0.0.0', port: 0 })).rejects.toThrow(/loopback only/);
    await expect(proxy.addLink({ name: 'region-2', listenPort: 0, targetHost: '127.0.0.1', targetPort: 80 })).rejects.toThrow(/exists already/);
  });
});
