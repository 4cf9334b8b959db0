import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { keptPort } from './ports';

const ephemeralLow = (): number => Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);

describe('keptPort', () => {
  it('answers free ports below the range outgoing connections take their local ports from', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => keptPort()));
    for (const port of ports) {
      expect(port).toBeLessThan(ephemeralLow());
      expect(port).toBeGreaterThan(1_024);
    }
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(ports[0], '127.0.0.1', resolve));
    await new Promise((resolve) => server.close(resolve));
  });

  it('is needed: an outgoing connection holds its ephemeral local port, and a listener restarted there fails', async () => {
    const target = createServer((socket) => socket.on('error', () => undefined));
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const client = connect((target.address() as { port: number }).port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    try {
      const restarted = createServer();
      const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
        restarted.once('error', resolve);
        restarted.listen(client.localPort, '127.0.0.1', () => restarted.close(() => resolve(undefined)));
      });
      expect(error?.code).toBe('EADDRINUSE');
      expect(client.localPort).toBeGreaterThanOrEqual(ephemeralLow());
    } finally {
      client.destroy();
      await new Promise((resolve) => target.close(resolve));
    }
  });
});
