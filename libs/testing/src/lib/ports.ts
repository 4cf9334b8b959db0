import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Where Linux hands out ports to outgoing connections (and to listen(0)) unless told otherwise. */
const DEFAULT_EPHEMERAL_RANGE = { low: 32_768, high: 60_999 };
/**
 * How far below the ephemeral range a kept port is drawn from. Narrow on purpose: the federation
 * tests bind fixed ports (regionsLayout with a PORT_SHIFT: sync, fault-proxy; up to about 30_100),
 * and a storage node of another project holding one of them, or binding it again after a restart,
 * would fail one of the two (apps/sync/src/testing/port-shifts.spec.ts keeps those below this band).
 */
const KEPT_PORTS_SPAN = 2_000;
const ATTEMPTS = 50;

function ephemeralRange(): { low: number; high: number } {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low > 1_024 && high >= low) return { low, high };
  } catch {
    // Not Linux, or /proc hidden: the kernel's usual range.
  }
  return DEFAULT_EPHEMERAL_RANGE;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Where keptPort() draws from: [floor, low), just below the kernel's ephemeral range. */
export function keptPortRange(): { floor: number; low: number } {
  const { low } = ephemeralRange();
  return { floor: Math.max(1_025, low - KEPT_PORTS_SPAN), low };
}

/**
 * A free port for a process that will be killed and started again on the same port (a storage
 * node keeps its address in the ring). A port from listen(0) lies in the kernel's ephemeral range,
 * where every outgoing connection also takes its local port: while the process is down, any
 * connection opened on the machine may take it, and the restart then fails with EADDRINUSE. Ports
 * just below that range are only ever taken by someone asking for them by number.
 */
export async function keptPort(): Promise<number> {
  const { floor, low } = keptPortRange();
  for (let i = 0; i < ATTEMPTS; i++) {
    const port = floor + Math.floor(Math.random() * (low - floor));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port found below the ephemeral range (${floor}..${low - 1}) in ${ATTEMPTS} tries`);
}
